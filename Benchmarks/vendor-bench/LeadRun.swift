import Foundation
import LeadRules
import Runtime
import Stages

/// How one run sends the leads' lookups to the vendor.
enum Mode: CustomStringConvertible {
    /// One `GET` per lead.
    case single
    /// Through a ``VendorBatcher`` onto the bulk endpoint.
    case bulk(maxBatchSize: Int, maxWait: Duration)

    var description: String {
        switch self {
        case .single: "one call per lead"
        case .bulk(let size, let wait): "VendorBatcher \(size) / \(wait.milliseconds) ms"
        }
    }
}

/// One run's settings.
struct RunSettings {
    var mode: Mode
    var ratePerMinute: Double
    var burst: Int
    var leads: Int
    var inFlight: Int
    var latency: Duration
}

/// What one run measured.
struct RunFigures {
    var settings: RunSettings
    var seconds: Double
    var stub: VendorStub.Counts
    /// Lookups tried again after a rate-limit refusal (the stub's 429 or the client's limiter).
    var retries: Int
    /// Leads without an answer after ``LeadOutcome/maxAttempts``.
    var failed: Int
    /// Seconds from a lead's first try to its answer, sorted.
    var latencies: [Double]

    var leadsPerSecond: Double { Double(settings.leads) / seconds }
    var callsPerLead: Double { Double(stub.singleCalls + stub.bulkCalls + stub.rejected) / Double(settings.leads) }

    /// The nearest-rank `quantile` (0...1) of the latencies.
    func latency(_ quantile: Double) -> Double {
        guard !latencies.isEmpty else { return 0 }
        let rank = Int((quantile * Double(latencies.count)).rounded(.up)) - 1
        return latencies[min(max(rank, 0), latencies.count - 1)]
    }
}

/// One lead's lookup, tried again after rate limiting as a stage would.
struct LeadOutcome {
    static let maxAttempts = 30
    var seconds: Double
    var retries: Int
    var isAnswered: Bool

    /// Looks `handle` up through `batcher` until it is answered (a match or not found) or fails
    /// for good; a rate limit is waited out for the Retry-After the vendor or the limiter gave.
    static func lookUp(_ handle: String, through batcher: VendorBatcher) async -> LeadOutcome {
        let started = ContinuousClock.now
        var retries = 0
        for _ in 0..<maxAttempts {
            do {
                _ = try await batcher.enrich(PersonQuery(linkedinHandle: handle))
                return LeadOutcome(seconds: (ContinuousClock.now - started).seconds, retries: retries, isAnswered: true)
            } catch .notFound {
                return LeadOutcome(seconds: (ContinuousClock.now - started).seconds, retries: retries, isAnswered: true)
            } catch .rateLimited(let retryAfter) {
                retries += 1
                try? await Task.sleep(for: .seconds(max(0.05, retryAfter ?? 1)))
            } catch {
                break
            }
        }
        return LeadOutcome(seconds: (ContinuousClock.now - started).seconds, retries: retries, isAnswered: false)
    }
}

/// Runs `settings.leads` leads, `settings.inFlight` at a time, against a fresh stub and client.
func run(_ settings: RunSettings) async throws -> RunFigures {
    let stub = try VendorStub(latency: settings.latency, ratePerMinute: settings.ratePerMinute, burst: settings.burst)
    let client = ProviderHTTPClient(
        name: "stub", baseURL: stub.baseURL, credential: Secret("bench-key"), timeoutSeconds: 10,
        limiter: RateLimiter(ratePerMinute: settings.ratePerMinute, burst: settings.burst), forbidden: .credentialsRejected,
        authentication: .header("X-Api-Key"), rejection: .report, logger: Logger(service: "vendor-bench", level: .error, sink: { _ in }))
    let batcher: VendorBatcher
    switch settings.mode {
    case .single:
        batcher = VendorBatcher(vendor: StubVendor(maxBatchSize: 1, client: client))
    case .bulk(let size, let wait):
        batcher = VendorBatcher(vendor: StubVendor(maxBatchSize: size, client: client), maxWait: wait)
    }
    // 2% of the leads have no match, so both endpoints answer a 404 now and then.
    let handles = (0..<settings.leads).map { $0 % 50 == 49 ? "missing-\($0)" : "person-\($0)" }

    let started = ContinuousClock.now
    var outcomes: [LeadOutcome] = []
    await withTaskGroup(of: LeadOutcome.self) { group in
        var next = handles.makeIterator()
        for _ in 0..<settings.inFlight {
            guard let handle = next.next() else { break }
            group.addTask { await LeadOutcome.lookUp(handle, through: batcher) }
        }
        for await outcome in group {
            outcomes.append(outcome)
            if let handle = next.next() { group.addTask { await LeadOutcome.lookUp(handle, through: batcher) } }
        }
    }
    let seconds = (ContinuousClock.now - started).seconds
    return RunFigures(
        settings: settings, seconds: seconds, stub: stub.answered, retries: outcomes.map(\.retries).reduce(0, +),
        failed: outcomes.filter { !$0.isAnswered }.count, latencies: outcomes.map(\.seconds).sorted())
}

extension Duration {
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    var milliseconds: Int { Int((seconds * 1_000).rounded()) }
}
