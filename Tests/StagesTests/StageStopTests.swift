import Foundation
import LeadModel
import LeadRules
import Runtime
import Stages
import XCTest

/// A phase handler's waits end on the request's shutdown (its partition revoked, the process
/// stopping), and the request is handed back: no broker. Before, the stop never reached the
/// handler, whose waits (a rate limiter's slot up to 30 s, a simulated call) ran on to their
/// end within the drain, or past it.
final class StageStopTests: XCTestCase {
    /// A shutdown begun `delay` from now.
    private func beginning(after delay: Duration) -> GracefulShutdown {
        let stop = GracefulShutdown()
        Task {
            try? await Task.sleep(for: delay)
            stop.begin()
        }
        return stop
    }

    /// Asserts that `handle` returned nil (handed back) well before the 30 s wait was over.
    private func assertHandedBackAtOnce(_ handle: () async -> StageOutput?, file: StaticString = #filePath, line: UInt = #line) async {
        let started = ContinuousClock.now
        let output = await handle()
        XCTAssertNil(output, "answered instead of handing the request back", file: file, line: line)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(5), "the wait ran on past the stop", file: file, line: line)
    }

    private static let slow = SimulationSettings.ProviderBehavior(meanLatency: .seconds(30))

    func testAWaitForARateLimitersSlotEndsWhenTheWorksShutdownBegins() async throws {
        let limiter = RateLimiter(ratePerMinute: 1, burst: 1, maxWaitSeconds: 120)
        try await limiter.acquire()  // the burst: the next slot is a minute away
        let stop = beginning(after: .milliseconds(200))
        let started = ContinuousClock.now
        let failure = await stop.bindingCurrent { () -> ProviderError? in
            do throws(ProviderError) {
                try await limiter.acquire()
                return nil
            } catch {
                return error
            }
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(5), "the wait for the slot ran on past the stop")
        guard case .cancelled? = failure else { return XCTFail("not ended by the stop: \(String(describing: failure))") }
    }

    func testTheProfileHandlerHandsTheRequestBackWhenItsStopEndsAProvidersWait() async {
        let settings = Fixtures.simulation(linkedin: Self.slow)
        let handler = ProfileStageHandler(linkedin: SimulatedLinkedInProvider(settings: settings, now: Fixtures.clock),
                                          x: SimulatedXProvider(settings: settings), service: "test", now: Fixtures.clock)
        let stop = beginning(after: .milliseconds(200))
        await assertHandedBackAtOnce { await handler.handle(Fixtures.request(.profile), stoppingOn: stop) }
    }

    func testTheActivityHandlerHandsTheRequestBackWhenItsStopEndsTheProvidersWait() async {
        let handler = ActivityStageHandler(provider: SimulatedActivityProvider(settings: Fixtures.simulation(activity: Self.slow)),
                                           offers: { _ in Fixtures.offer() }, service: "test", now: Fixtures.clock)
        let stop = beginning(after: .milliseconds(200))
        await assertHandedBackAtOnce { await handler.handle(Fixtures.request(.activity), stoppingOn: stop) }
    }

    func testTheScoringHandlerHandsTheRequestBackWhenItsStopEndsTheSimulatedLatency() async {
        let handler = ScoringStageHandler(scorer: FixedScorer.active(), offers: { _ in Fixtures.offer() }, now: Fixtures.clock,
                                          simulatedLatency: Self.slow)
        let stop = beginning(after: .milliseconds(200))
        await assertHandedBackAtOnce { await handler.handle(Fixtures.request(.scoring, profile: Fixtures.profile()), stoppingOn: stop) }
    }

    /// A stop that does not begin changes nothing: the handler answers.
    func testAHandlerWhoseStopDoesNotBeginAnswers() async {
        let handler = ScoringStageHandler(scorer: FixedScorer.active(), offers: { _ in Fixtures.offer() }, now: Fixtures.clock,
                                          simulatedLatency: SimulationSettings.ProviderBehavior(meanLatency: .milliseconds(50)))
        let output = await handler.handle(Fixtures.request(.scoring, profile: Fixtures.profile()), stoppingOn: GracefulShutdown())
        XCTAssertEqual(output?.result.outcome, .completed)
    }
}
