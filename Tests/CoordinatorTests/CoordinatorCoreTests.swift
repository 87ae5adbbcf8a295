import Foundation
import LeadModel
import LeadModelTestSupport
import LeadRules
@testable import Coordinator
import Runtime
import Streaming
import Synchronization
import XCTest

/// The coordinator's decisions without a broker: decoded inputs in, effects out.
final class CoordinatorCoreTests: XCTestCase {
    /// Effects name their input by a string here.
    typealias Core = CoordinatorCore<String>

    /// 2025-06-15T15:06:40Z, a Sunday.
    private static let start = Date(timeIntervalSince1970: 1_750_000_000)

    private final class Clock: Sendable {
        private let date = Mutex(CoordinatorCoreTests.start)
        var now: Date { date.withLock { $0 } }
        func advance(by seconds: TimeInterval) { date.withLock { $0 += seconds } }
    }

    private struct Tables: CoordinatorTables {
        var accounts: [AccountID: AccountConfig] = ["acct-1": AccountConfig(accountID: "acct-1", updatedAt: start)]
        var offers: [OfferID: OfferConfig] = ["offer-1": OfferConfig.sample(offerID: "offer-1", accountID: "acct-1")]
        var overrides: [LeadID: LeadOverride] = [:]
        var billingEvents: [AccountID: AccountBillingEvent] = [:]
        /// Why the offers table skipped an offer's latest record, as ``KafkaTable/refusal(of:)`` says.
        var offerRefusals: [OfferID: String] = [:]
        /// Why the accounts table skipped an account's latest record.
        var accountRefusals: [AccountID: String] = [:]

        func account(_ id: AccountID) -> AccountConfig? { accounts[id] }
        func offer(_ id: OfferID) -> OfferConfig? { offers[id] }
        func offerRefusal(_ id: OfferID) -> String? { offerRefusals[id] }
        func accountRefusal(_ id: AccountID) -> String? { accountRefusals[id] }
        func override(of leadID: LeadID) -> LeadOverride? { overrides[leadID] }
        func billingEvent(of accountID: AccountID) -> AccountBillingEvent? { billingEvents[accountID] }

        mutating func setBilling(_ state: BillingState, at date: Date) {
            billingEvents["acct-1"] = AccountBillingEvent(accountID: "acct-1", state: state, reason: "test", source: "test",
                                                          occurredAt: date, eventID: "event-\(state)")
        }
    }

    private let clock = Clock()
    private var tables = Tables()

    private func core(maxRunning: Int = 2000, maxWaiting: Int = 10_000, configurationWait: Duration = .seconds(30)) -> Core {
        let settings = CoordinatorSettings(maxRunningLeads: maxRunning, maxWaitingLeads: maxWaiting, configurationWait: configurationWait)
        return Core(settings: settings, topics: Topics(), logger: Logger(service: "test", level: .error), now: { [clock] in clock.now })
    }

    /// An intent source starts at once; `.csvImport` is a standard lead, queued in the backlog.
    private func lead(_ id: String, source: LeadSource = .keywordSearch, account: AccountID = "acct-1",
                      offer: OfferID = "offer-1") -> LeadDiscovered {
        LeadDiscovered(leadID: LeadID(id), accountID: account, offerID: offer, sourceSearchID: "search-1", source: source,
                       name: "Jane Doe", linkedinURL: "https://www.linkedin.com/in/janedoe", discoveredAt: Self.start)
    }

    private func discover(_ lead: LeadDiscovered, fromBacklog: Bool = false, _ core: inout Core) -> [Core.Effect] {
        core.discovered(lead, runID: RunID("run-\(lead.leadID)"), partition: 0, fromBacklog: fromBacklog, source: lead.leadID.rawValue, tables)
    }

    /// The messages of `effects` of type `T`.
    private func messages<T>(_ effects: [Core.Effect], _ type: T.Type) -> [T] {
        effects.flatMap { effect -> [T] in
            guard case .messages(let job) = effect else { return [] }
            return job.messages.compactMap { $0.message as? T }
        }
    }

    private func requests(_ effects: [Core.Effect]) -> [PhaseRequest] { messages(effects, PhaseRequest.self) }

    /// The state records `effects` write, with the held states of running leads written after them.
    private func states(_ effects: [Core.Effect], _ core: inout Core) -> [LeadState] {
        messages(effects + core.writeHeldStates(), LeadState.self)
    }

    private func status(of leadID: LeadID, _ core: Core) -> LeadStatus? { core.leads[leadID]?.machine.state?.status }

    /// Answers every request, and the requests that follow, until the lead is ready.
    private func runToReady(_ effects: [Core.Effect], _ core: inout Core, payloads: [Phase: PhasePayload] = [:]) throws {
        var pending = requests(effects)
        while let request = pending.first {
            pending.removeFirst()
            let result = PhaseResult(answering: request, outcome: .completed, payload: payloads[request.phase] ?? .empty,
                                     finishedAt: clock.now, service: "test")
            pending += requests(core.phaseResult(result.envelope, tables))
        }
        XCTAssertEqual(status(of: try XCTUnwrap(effects.lazy.compactMap { if case .messages(let job) = $0 { job.leadID } else { nil } }.first),
                              core), .ready)
    }

    /// The lead table keeps its entries in boxes (to read them without copying a lead's state):
    /// a copy of the core, changed, must still leave the original as it was.
    func testACopiedCoreChangedLeavesTheOriginalsLeadsAsTheyWere() throws {
        var original = core()
        let effects = discover(lead("lead-1", source: .intentSearch), &original)
        let before = try XCTUnwrap(original.leads["lead-1"]?.machine.state)
        let (running, waiting) = (original.leads.running, original.leads.waiting)

        var copy = original
        try runToReady(effects, &copy)
        XCTAssertEqual(status(of: "lead-1", copy), .ready)
        XCTAssertEqual(original.leads["lead-1"]?.machine.state, before, "the original's lead has not moved")
        XCTAssertEqual(original.leads.read("lead-1") { $0.machine.state }, before)
        XCTAssertEqual(original.leads.running, running)
        XCTAssertEqual(original.leads.waiting, waiting)
        XCTAssertEqual(copy.leads.running, running - 1, "the copy's lead is no longer running")
    }

    func testAtTheRunningBoundAStandardLeadWaitsQueuedUntilARunningLeadFinishes() throws {
        var core = core(maxRunning: 1)
        let running = discover(lead("lead-0", source: .intentSearch), &core)
        let first = lead("lead-1", source: .csvImport)
        let queued = discover(first, &core)
        guard case .queueInBacklog("lead-1", let runID) = queued.first else { return XCTFail("not queued: \(queued)") }
        XCTAssertEqual(runID, "run-lead-1")
        XCTAssertEqual(core.pendingLeads["lead-1"]?.partition, 0)
        XCTAssertTrue(discover(first, &core).isEmpty, "queued once however often it is discovered")

        var admission = core.admission
        XCTAssertFalse(core.admits(partition: 0, &admission), "one lead runs: the bound")
        XCTAssertEqual(core.backlogFlow(holdingRecords: true), .pause)
        try runToReady(running, &core)
        admission = core.admission
        XCTAssertTrue(core.admits(partition: 0, &admission), "the running lead finished")
        XCTAssertEqual(core.backlogFlow(holdingRecords: false), .resume)
        let started = discover(first, fromBacklog: true, &core)
        XCTAssertEqual(requests(started).map(\.phase), [.profile])
        XCTAssertNil(core.pendingLeads["lead-1"])
    }

    func testIntentLeadsPassTheRunningBoundButPauseTheirTopicAtTwiceIt() throws {
        var core = core(maxRunning: 4)
        var started: [[Core.Effect]] = []
        for index in 0..<6 { started.append(discover(lead("lead-\(index)", source: .intentSearch), &core)) }
        XCTAssertEqual(started.map { requests($0).map(\.phase) }, Array(repeating: [.profile], count: 6),
                       "intent leads start past the running bound")
        XCTAssertEqual(core.backlogFlow(holdingRecords: false), .pause, "standard leads wait")
        XCTAssertEqual(core.discoveryFlow(), .resume, "six of eight")
        started.append(discover(lead("lead-6", source: .intentSearch), &core))
        XCTAssertEqual(core.discoveryFlow(), .keep, "seven: between three quarters and the bound")
        started.append(discover(lead("lead-7", source: .intentSearch), &core))
        XCTAssertEqual(core.leads.running, 8)
        XCTAssertEqual(core.discoveryFlow(), .pause, "eight: twice the running bound")
        try runToReady(started[0], &core)
        XCTAssertEqual(core.discoveryFlow(), .keep)
        try runToReady(started[1], &core)
        XCTAssertEqual(core.discoveryFlow(), .resume, "back to three quarters")
    }

    /// At the waiting bound an intent lead that would wait for the outreach window is queued in
    /// the backlog (pending) instead of held: `leads.discovered` keeps flowing for the other
    /// accounts. When the window opens the waiting leads start.
    func testIntentLeadsOutsideTheOutreachWindowAreQueuedAtTheWaitingBound() throws {
        var core = core(maxWaiting: 4)
        tables.accounts["acct-1"]?.outreachWindow = OutreachWindow(timeZoneID: "UTC")  // weekdays 9 to 17; it is Sunday
        for index in 0..<4 { XCTAssertTrue(requests(discover(lead("lead-\(index)", source: .intentSearch), &core)).isEmpty) }
        XCTAssertEqual(core.leads.waiting, 4)
        XCTAssertNotEqual(core.discoveryFlow(), .pause, "the bound no longer stops other accounts' leads")
        let queued = discover(lead("lead-4", source: .competitorEngagement), &core)
        XCTAssertTrue(queued.contains { if case .queueInBacklog("lead-4", _) = $0 { true } else { false } })
        XCTAssertEqual(core.leads.waiting, 4)
        XCTAssertNotNil(core.pendingLeads["lead-4"])

        clock.advance(by: try XCTUnwrap(core.timers.nextFireAt).timeIntervalSince(clock.now))  // Monday 09:00
        XCTAssertEqual(requests(core.fireDueTimers(tables)).count, 4)
        XCTAssertEqual(core.leads.waiting, 0)
        // The queued one starts from the backlog, its window open.
        XCTAssertEqual(requests(discover(lead("lead-4", source: .competitorEngagement), fromBacklog: true, &core)).map(\.phase), [.profile])
    }

    /// A lead waiting for its account's outreach window starts within a second of the window
    /// being widened to include now (the gates are checked every second), not at the opening the
    /// old window gave (Monday 09:00 for a lead deferred on Sunday).
    func testALeadWaitingForTheWindowStartsWhenTheWindowIsWidenedToNow() throws {
        var core = core()
        tables.accounts["acct-1"]?.outreachWindow = OutreachWindow(timeZoneID: "UTC")  // weekdays 9 to 17; it is Sunday
        XCTAssertTrue(requests(discover(lead("lead-1", source: .intentSearch), &core)).isEmpty)
        XCTAssertEqual(status(of: "lead-1", core), .outsideOutreachWindow)
        XCTAssertTrue(requests(core.checkGates(tables)).isEmpty, "the window is still closed")

        tables.accounts["acct-1"]?.outreachWindow = nil  // open at every hour
        clock.advance(by: 1)
        XCTAssertEqual(requests(core.checkGates(tables)).map(\.phase), [.profile])
        XCTAssertEqual(status(of: "lead-1", core), .processing)
        XCTAssertTrue(requests(core.checkGates(tables)).isEmpty, "started once")
    }

    /// At the waiting bound a billing-paused account's leads wait on the broker, pending, and
    /// other accounts' leads go on: a backlog record of the paused account is parked (the loop
    /// holds its offset), one of another account starts; once the account is active again, the
    /// parked record handed back starts its lead.
    func testAtTheWaitingBoundAPausedAccountsLeadsAreParkedAndOtherAccountsGoOn() throws {
        var core = core(maxWaiting: 2)
        tables.accounts["acct-2"] = AccountConfig(accountID: "acct-2", updatedAt: Self.start)
        tables.offers["offer-2"] = OfferConfig.sample(offerID: "offer-2", accountID: "acct-2")
        tables.setBilling(.paused, at: clock.now)  // acct-1
        for index in 0..<2 { XCTAssertTrue(requests(discover(lead("lead-\(index)", source: .csvImport), &core)).isEmpty) }
        XCTAssertEqual(core.leads.waiting, 2)
        XCTAssertEqual(core.backlogFlow(holdingRecords: false), .resume, "the backlog is read on at the waiting bound")
        XCTAssertNotEqual(core.discoveryFlow(), .pause)

        // A new lead of the paused account, even an intent one, is queued; from the backlog it is parked, still pending.
        let queued = discover(lead("lead-2"), &core)
        XCTAssertTrue(queued.contains { if case .queueInBacklog("lead-2", _) = $0 { true } else { false } })
        let parked = discover(lead("lead-2"), fromBacklog: true, &core)
        XCTAssertTrue(parked.contains { if case .park("lead-2", account: "acct-1", paid: true) = $0 { true } else { false } })
        XCTAssertEqual(core.leads.waiting, 2)
        XCTAssertNil(core.leads["lead-2"], "a parked lead is not held")
        XCTAssertNotNil(core.pendingLeads["lead-2"], "it is still pending")
        XCTAssertEqual(messages(parked, LeadState.self).map(\.status), [.pending], "its pending state is written: it may wait long")

        core.parkedLeads = 1  // as the loop counts it
        core.leadsParkedOnGates = 1

        // Another account's leads start, from discovery (a standard one too: a parked lead is not
        // ahead of it) and from the backlog.
        XCTAssertEqual(requests(discover(lead("lead-b1", source: .intentSearch, account: "acct-2", offer: "offer-2"), &core)).map(\.phase), [.profile])
        XCTAssertEqual(requests(discover(lead("lead-b3", source: .csvImport, account: "acct-2", offer: "offer-2"), &core)).map(\.phase), [.profile])
        XCTAssertEqual(requests(discover(lead("lead-b2", source: .csvImport, account: "acct-2", offer: "offer-2"), fromBacklog: true, &core))
            .map(\.phase), [.profile])

        // Active again: the held leads start, and so does the parked one when its record comes back.
        tables.setBilling(.active, at: clock.now)
        XCTAssertEqual(requests(core.checkGates(tables)).count, 2)
        XCTAssertEqual(requests(discover(lead("lead-2"), fromBacklog: true, &core)).map(\.phase), [.profile])
        XCTAssertNil(core.pendingLeads["lead-2"])
    }

    /// A command parked behind its lead is not a lead: a new standard lead does not overtake a
    /// queued one because a parked lead has a command parked behind it. Before, the records
    /// parked (the lead's and its command's) were compared with the pending leads, so one queued
    /// lead per parked command was overtaken.
    func testACommandParkedBehindItsLeadLetsNoNewLeadOvertakeAQueuedOne() throws {
        var core = core(maxWaiting: 2)
        tables.accounts["acct-2"] = AccountConfig(accountID: "acct-2", updatedAt: Self.start)
        tables.offers["offer-2"] = OfferConfig.sample(offerID: "offer-2", accountID: "acct-2")
        tables.setBilling(.paused, at: clock.now)  // acct-1
        for index in 0..<2 { _ = discover(lead("lead-\(index)", source: .csvImport), &core) }
        _ = discover(lead("lead-2"), &core)
        _ = discover(lead("lead-2"), fromBacklog: true, &core)  // parked
        let queued = discover(lead("lead-3"), &core)  // queued, its backlog record not read back yet
        XCTAssertTrue(queued.contains { if case .queueInBacklog("lead-3", _) = $0 { true } else { false } })
        core.parkedLeads = 2  // lead-2's record and a command parked behind it, as the loop counts them
        core.leadsParkedOnGates = 1

        let next = discover(lead("lead-b1", source: .csvImport, account: "acct-2", offer: "offer-2"), &core)
        XCTAssertTrue(requests(next).isEmpty, "lead-3 is queued ahead of it")
        XCTAssertTrue(next.contains { if case .queueInBacklog("lead-b1", _) = $0 { true } else { false } })
    }

    /// Parked records have a bound of their own: at it the backlog and `leads.discovered` wait on
    /// the broker, as they did at the waiting bound before parking.
    func testAtTheParkedBoundTheBacklogAndDiscoveryPause() {
        var settings = CoordinatorSettings(maxWaitingLeads: 2)
        settings.maxParkedLeads = 4
        var core = Core(settings: settings, topics: Topics(), logger: Logger(service: "test", level: .error), now: { [clock] in clock.now })
        core.parkedLeads = 4
        XCTAssertEqual(core.backlogFlow(holdingRecords: false), .pause)
        XCTAssertEqual(core.discoveryFlow(), .pause)
        var admission = core.admission
        XCTAssertFalse(core.admits(partition: 0, &admission))
        core.parkedLeads = 3
        XCTAssertEqual(core.backlogFlow(holdingRecords: false), .resume)
        XCTAssertEqual(core.discoveryFlow(), .resume)
    }

    /// Parked records between three quarters of their bound and the bound do not keep the
    /// backlog or discovery paused for another reason: parked records leave only when their
    /// account's gates open, so a pause for records held back (or for the running bound) kept
    /// every account's standard leads waiting until then.
    func testParkedRecordsBelowTheirBoundDoNotKeepAPauseForAnotherReason() throws {
        var settings = CoordinatorSettings(maxRunningLeads: 4, maxWaitingLeads: 2)
        settings.maxParkedLeads = 8
        var core = Core(settings: settings, topics: Topics(), logger: Logger(service: "test", level: .error), now: { [clock] in clock.now })
        core.parkedLeads = 7
        XCTAssertEqual(core.backlogFlow(holdingRecords: true), .pause)
        XCTAssertEqual(core.backlogFlow(holdingRecords: false), .resume, "nothing held back, both bounds have room")

        var started: [[Core.Effect]] = []
        for index in 0..<settings.maxRunningWithIntent { started.append(discover(lead("lead-\(index)", source: .intentSearch), &core)) }
        XCTAssertEqual(core.discoveryFlow(), .pause, "at the running bound with intent leads")
        for effects in started { try runToReady(effects, &core) }
        XCTAssertEqual(core.discoveryFlow(), .resume, "nothing runs; seven parked of eight")
        XCTAssertEqual(core.backlogFlow(holdingRecords: false), .resume)
    }

    /// Commands (re-enriches, found profiles) pause at the running bound with intent leads, and
    /// not at the parked records' bound: another account's paused backlog does not hold them.
    func testCommandsPauseAtTheRunningBoundOnly() throws {
        var settings = CoordinatorSettings(maxRunningLeads: 4, maxWaitingLeads: 2)
        settings.maxParkedLeads = 8
        var core = Core(settings: settings, topics: Topics(), logger: Logger(service: "test", level: .error), now: { [clock] in clock.now })
        core.parkedLeads = 8
        XCTAssertEqual(core.discoveryFlow(), .pause, "at the parked bound")
        XCTAssertEqual(core.commandsFlow(), .resume, "commands go on")
        var started: [[Core.Effect]] = []
        for index in 0..<settings.maxRunningWithIntent { started.append(discover(lead("lead-\(index)", source: .intentSearch), &core)) }
        XCTAssertEqual(core.commandsFlow(), .pause, "at the running bound with intent leads")
        for effects in started.prefix(2) { try runToReady(effects, &core) }
        XCTAssertEqual(core.commandsFlow(), .resume, "back to three quarters")
    }

    /// A backlog record that was parked gives its admission back: parked records do not use up
    /// a loop's admissions.
    func testAParkedRecordGivesItsAdmissionBack() {
        let core = core()
        var admission = core.admission
        for _ in 0..<(Coordinator.admissionsPerLoop * 2) {
            XCTAssertTrue(core.admits(partition: 0, &admission))
            core.refund(&admission)
        }
        for _ in 0..<Coordinator.admissionsPerLoop { XCTAssertTrue(core.admits(partition: 0, &admission)) }
        XCTAssertFalse(core.admits(partition: 0, &admission), "the loop's admissions are used up by records that started leads")
    }

    /// A re-enrich (or a found profile) in the backlog held back at the running bound keeps its
    /// ready lead loaded: the lead is read back from the changelog and the pool once, not again
    /// in every loop until the bound clears, and the command then runs on the lead kept. Each
    /// loop here does what the service's does: loads the lead only while it is in ``Core/finished``
    /// (counted), holds the record at the bound, keeps the held records' leads, and confirms the
    /// previous batch, which retires the leads that batch loaded.
    func testABacklogCommandHeldAtTheRunningBoundLoadsItsReadyLeadOnce() throws {
        var core = core(maxRunning: 1)
        try runToReady(discover(lead("lead-1", source: .intentSearch), &core), &core)
        core.leads.modify("lead-1") { $0.changelogOffset = 7 }  // its ready state acknowledged
        let stored = try XCTUnwrap(core.leads["lead-1"])
        core.retireReadyLeads(["lead-1"])
        XCTAssertEqual(core.finished["lead-1"]?.offset, 7)
        let running = discover(lead("lead-0", source: .intentSearch), &core)

        var loads = 0
        var unconfirmed: Set<LeadID> = []
        func loop(admitted: Bool) -> Set<LeadID> {
            var loaded: Set<LeadID> = []
            if core.finished["lead-1"] != nil {
                loads += 1
                core.finished["lead-1"] = nil
                core.leads["lead-1"] = stored
                loaded.insert("lead-1")
            }
            var admission = core.admission
            XCTAssertEqual(core.admits(partition: 0, &admission), admitted)
            let released = core.keepLoaded(forHeld: admitted ? [] : ["lead-1"])
            core.retireReadyLeads(unconfirmed)
            unconfirmed = loaded.union(released)
            return released
        }
        for _ in 0..<12 { XCTAssertTrue(loop(admitted: false).isEmpty) }
        XCTAssertEqual(loads, 1, "loaded once while held, not again every loop")
        XCTAssertEqual(core.leads["lead-1"]?.machine.state?.status, .ready)
        XCTAssertNil(core.finished["lead-1"])

        try runToReady(running, &core)
        XCTAssertEqual(loop(admitted: true), ["lead-1"], "its record handled, the lead is no longer kept for it")
        XCTAssertEqual(loads, 1)
        let request = ReEnrichRequested(leadID: "lead-1", types: [.linkedin], requestedAt: clock.now, requestedBy: "ops", requestID: "r1")
        let effects = core.reEnrich(request, runID: "run-re-1", fromBacklog: true, source: "reenrich-1", tables)
        XCTAssertEqual(requests(effects).map(\.phase), [.profile], "the command runs on the lead kept loaded")
        core.retireReadyLeads(unconfirmed)
        XCTAssertEqual(core.leads["lead-1"]?.machine.state?.status, .processing, "a running lead is not retired")
    }

    /// Makes lead-1 ready, held as its changelog position (offset 7), and starts lead-0, which
    /// holds a core of running bound 1 at its bound: a backlog command of lead-1 is held back.
    /// Returns lead-0's effects, to run it to ready and clear the bound.
    private func readyLeadBehindTheRunningBound(_ core: inout Core) throws -> [Core.Effect] {
        try runToReady(discover(lead("lead-1", source: .intentSearch), &core), &core)
        core.leads.modify("lead-1") { $0.changelogOffset = 7 }
        core.retireReadyLeads(["lead-1"])
        return discover(lead("lead-0", source: .intentSearch), &core)
    }

    /// A re-enrich in the backlog held back at the running bound whose ready lead's pool entry
    /// cannot be read (a newer writer's version, say) has that entry read once, not again in every
    /// loop until the bound clears: the failure is remembered while the record is held, and the
    /// record, handled at last, is dead-lettered with it as one handled at once would have been.
    /// Each loop here does what the service's does: reads the lead back only when the core says
    /// it needs loading (counted), finds its entry unreadable, holds the record at the bound, and
    /// keeps the held records' leads. Before: read again in each of the 12 loops.
    func testABacklogCommandHeldAtTheRunningBoundWhoseLeadsEntryCannotBeReadReadsItOnce() throws {
        var core = core(maxRunning: 1)
        let running = try readyLeadBehindTheRunningBound(&core)

        var reads = 0
        /// The reason the record is dead-lettered with when handled (admitted), nil while held.
        func loop(admitted: Bool) -> String? {
            if core.needsLoading("lead-1") {
                reads += 1
                core.poolEntryUnreadable("lead-1", reason: "unsupported version 9")  // it stays in finished
            }
            var admission = core.admission
            XCTAssertEqual(core.admits(partition: 0, &admission), admitted)
            let deadLettered = admitted ? core.unreadablePoolEntries["lead-1"] : nil
            _ = core.keepLoaded(forHeld: admitted ? [] : ["lead-1"])
            return deadLettered
        }
        for _ in 0..<12 { XCTAssertNil(loop(admitted: false)) }
        XCTAssertEqual(reads, 1, "read once while held, not again every loop")
        XCTAssertTrue(core.needsLoading("lead-1", isResult: true), "a late result (an entry written again further on) is read")

        try runToReady(running, &core)
        XCTAssertEqual(loop(admitted: true), "unsupported version 9", "handled, it is dead-lettered with the reason read")
        XCTAssertEqual(reads, 1)
        XCTAssertTrue(core.unreadablePoolEntries.isEmpty, "forgotten once its record is handled")
        XCTAssertEqual(core.finished["lead-1"]?.offset, 7, "the lead stays ready where it was")
        XCTAssertTrue(core.needsLoading("lead-1"), "a later record reads its entry again")
    }

    /// The same for a held command whose ready lead's state record cannot be read back from the
    /// changelog (not found where the lead's position says, or undecodable): read once, not
    /// again in every loop until the bound clears; the lead stays ready where it was, and a late
    /// result or a later record reads it again. Each loop does what the service's does: reads the
    /// lead back only when the core says it needs loading (counted), finds no state, holds the
    /// record at the bound, and keeps the held records' leads. Before: read again in each of the
    /// 12 loops.
    func testABacklogCommandHeldAtTheRunningBoundWhoseLeadsStateCannotBeReadReadsItOnce() throws {
        var core = core(maxRunning: 1)
        let running = try readyLeadBehindTheRunningBound(&core)

        var reads = 0
        func loop(admitted: Bool) {
            if core.needsLoading("lead-1") {
                reads += 1
                core.stateUnreadable("lead-1", reason: "not found at offset 7")  // it stays in finished
            }
            var admission = core.admission
            XCTAssertEqual(core.admits(partition: 0, &admission), admitted)
            _ = core.keepLoaded(forHeld: admitted ? [] : ["lead-1"])
        }
        for _ in 0..<12 { loop(admitted: false) }
        XCTAssertEqual(reads, 1, "read once while held, not again every loop")
        XCTAssertTrue(core.needsLoading("lead-1", isResult: true), "a late result reads it")

        try runToReady(running, &core)
        loop(admitted: true)
        XCTAssertEqual(reads, 1)
        XCTAssertTrue(core.unreadableStates.isEmpty, "forgotten once its record is handled")
        XCTAssertEqual(core.finished["lead-1"]?.offset, 7, "the lead stays ready where it was")
        XCTAssertTrue(core.needsLoading("lead-1"), "a later record reads its state again")
    }

    /// A held re-enrich or found profile of a ready lead whose state record cannot be read back,
    /// handled at last, is dead-lettered with that reason: the lead is known (ready where its
    /// position says), and the operator replays the letter once the state can be read. Before:
    /// "re-enrich of unknown lead lead-1" and "profile found for unknown lead lead-1".
    func testAHeldCommandOfAReadyLeadWhoseStateCannotBeReadIsDeadLetteredWithThatReason() throws {
        var core = core(maxRunning: 1)
        let running = try readyLeadBehindTheRunningBound(&core)
        core.stateUnreadable("lead-1", reason: "not found at offset 7 of lead.state[0]")
        _ = core.keepLoaded(forHeld: ["lead-1"])
        try runToReady(running, &core)

        let (reEnrich, found) = backlogCommands(of: "lead-1", &core)
        guard case .deadLetter("reenrich-1", let reason) = reEnrich.first, reEnrich.count == 1 else { return XCTFail("\(reEnrich)") }
        XCTAssertFalse(reason.contains("unknown lead"), reason)
        XCTAssertEqual(reason, "re-enrich of lead lead-1, whose state cannot be read back from the changelog "
                       + "(not found at offset 7 of lead.state[0]); not applied: replay once it can be")
        guard case .deadLetter("found-1", let foundReason) = found.first, found.count == 1 else { return XCTFail("\(found)") }
        XCTAssertTrue(foundReason.hasPrefix("profile found for lead lead-1, whose state cannot be read back from the changelog"),
                      foundReason)
        XCTAssertEqual(core.finished["lead-1"]?.offset, 7, "the lead stays ready where it was")
    }

    /// A backlog re-enrich or found profile of a lead that waits for its account or offer (its
    /// backlog record came first and is held by the core, not started) is dead-lettered saying
    /// so, with what the lead waits for. Before: "re-enrich of unknown lead lead-1".
    func testABacklogCommandOfALeadWaitingForItsConfigurationIsDeadLetteredSayingSo() throws {
        var core = core(configurationWait: .seconds(30))
        XCTAssertTrue(discover(lead("lead-1", account: "acct-later"), fromBacklog: true, &core).isEmpty)
        XCTAssertNotNil(core.awaitingConfiguration["lead-1"])

        let (reEnrich, found) = backlogCommands(of: "lead-1", &core)
        guard case .deadLetter("reenrich-1", let reason) = reEnrich.first, reEnrich.count == 1 else { return XCTFail("\(reEnrich)") }
        XCTAssertEqual(reason, "re-enrich of lead lead-1, which has not started: it waits for its configuration "
                       + "(unknown account 'acct-later': publish its configuration first (leadctl account put))")
        guard case .deadLetter("found-1", let foundReason) = found.first, found.count == 1 else { return XCTFail("\(found)") }
        XCTAssertTrue(foundReason.hasPrefix("profile found for lead lead-1, which has not started: it waits for its configuration"),
                      foundReason)
        XCTAssertNotNil(core.awaitingConfiguration["lead-1"], "the lead still waits")
    }

    /// What the core decides for a re-enrich (source `reenrich-1`) and then a found X profile
    /// (`found-1`) of `leadID`, both read from the backlog.
    private func backlogCommands(of leadID: LeadID, _ core: inout Core) -> (reEnrich: [Core.Effect], found: [Core.Effect]) {
        let request = ReEnrichRequested(leadID: leadID, types: [.linkedin], requestedAt: clock.now, requestedBy: "ops", requestID: "r1")
        let reEnrich = core.reEnrich(request, runID: "run-re-1", fromBacklog: true, source: "reenrich-1", tables)
        let found = ProfileFound(leadID: leadID, platform: .x, url: "https://x.com/janedoe", confidence: 0.9, foundBy: "test",
                                 foundAt: clock.now)
        return (reEnrich, core.profileFound(found, queueRunID: "run-queued", reEnrichRunID: "run-pf-1", fromBacklog: true,
                                            misaddressed: nil, source: "found-1", tables))
    }

    /// A held lead whose record started nothing once handled (its run already in the history)
    /// is ready still: released, the next confirmation retires it to its changelog offset.
    func testAKeptLeadWhoseRecordStartedNothingIsRetiredOnceReleased() throws {
        var core = core()
        try runToReady(discover(lead("lead-1", source: .intentSearch), &core), &core)
        core.leads.modify("lead-1") { $0.changelogOffset = 7 }
        XCTAssertTrue(core.keepLoaded(forHeld: ["lead-1"]).isEmpty)
        core.retireReadyLeads(["lead-1"])
        XCTAssertNotNil(core.leads["lead-1"], "kept for its held record")
        XCTAssertEqual(core.keepLoaded(forHeld: []), ["lead-1"])
        core.retireReadyLeads(["lead-1"])
        XCTAssertNil(core.leads["lead-1"])
        XCTAssertEqual(core.finished["lead-1"]?.offset, 7)
    }

    /// A queued lead is known: discovered again, even from an intent source, it starts nothing
    /// (it would run while still counted pending, and its held pending state would be written
    /// after its ready one); its backlog record starts it.
    func testAQueuedLeadDiscoveredAgainFromAnIntentSourceStartsNothing() throws {
        var core = core(maxRunning: 1)
        _ = discover(lead("lead-0", source: .intentSearch), &core)
        guard case .queueInBacklog = discover(lead("lead-1", source: .csvImport), &core).first else { return XCTFail("not queued") }
        XCTAssertTrue(discover(lead("lead-1", source: .intentSearch), &core).isEmpty)
        XCTAssertNil(core.leads["lead-1"], "not running while queued")
        XCTAssertEqual(core.pendingLeads["lead-1"]?.partition, 0)
        XCTAssertEqual(requests(discover(lead("lead-1", source: .csvImport), fromBacklog: true, &core)).map(\.phase), [.profile],
                       "its backlog record starts it")
        XCTAssertNil(core.pendingLeads["lead-1"])
    }

    func testAStandardLeadStartsAtOnceWhileThereIsRoomAndNothingQueuedAhead() throws {
        var core = core(maxRunning: 2)
        let direct = discover(lead("lead-1", source: .csvImport), &core)
        XCTAssertFalse(direct.contains { if case .queueInBacklog = $0 { true } else { false } }, "no backlog record")
        XCTAssertEqual(states(direct, &core).map(\.status), [.processing], "no pending state")
        XCTAssertEqual(requests(direct).map(\.leadID), ["lead-1"])

        _ = discover(lead("lead-2", source: .csvImport), &core)
        let atBound = discover(lead("lead-3", source: .csvImport), &core)
        guard case .queueInBacklog = atBound.first else { return XCTFail("not queued at the bound: \(atBound)") }
        try runToReady(direct, &core)
        XCTAssertLessThan(core.leads.running, 2, "there is room again")
        let behind = discover(lead("lead-4", source: .csvImport), &core)
        guard case .queueInBacklog = behind.first else {
            return XCTFail("a lead queued ahead (lead-3) must not be overtaken: \(behind)")
        }
    }

    func testAnIntentLeadStartsAtOnceAtTheRunningBound() {
        var core = core(maxRunning: 1)
        _ = discover(lead("lead-1", source: .competitorEngagement), &core)
        XCTAssertEqual(core.leads.running, 1)
        let effects = discover(lead("lead-2", source: .intentSearch), &core)
        XCTAssertFalse(effects.contains { if case .queueInBacklog = $0 { true } else { false } })
        XCTAssertEqual(requests(effects).map(\.leadID), ["lead-2"])
        XCTAssertEqual(requests(effects).first?.isPriority, true)
    }

    func testALeadOfAnUnknownAccountIsDeadLetteredAfterTheWait() {
        var core = core(configurationWait: .seconds(30))
        tables.offers["offer-later"] = OfferConfig.sample(offerID: "offer-later", accountID: "acct-later")
        XCTAssertTrue(discover(lead("lead-1", account: "acct-later", offer: "offer-later"), &core).isEmpty)
        XCTAssertTrue(discover(lead("lead-2", account: "acct-never"), &core).isEmpty)
        XCTAssertEqual(Set(core.awaitingConfiguration.keys), ["lead-1", "lead-2"])
        clock.advance(by: 29)
        XCTAssertTrue(core.resolveAwaitingLeads(tables).isEmpty)

        tables.accounts["acct-later"] = AccountConfig(accountID: "acct-later", updatedAt: clock.now)
        XCTAssertEqual(requests(core.resolveAwaitingLeads(tables)).map(\.leadID), ["lead-1"], "its account arrived in time")
        clock.advance(by: 1)
        let effects = core.resolveAwaitingLeads(tables)
        guard case .deadLetter("lead-2", let reason) = effects.first, effects.count == 2 else { return XCTFail("\(effects)") }
        XCTAssertTrue(reason.hasPrefix("unknown account 'acct-never'"), reason)
        XCTAssertTrue(reason.hasSuffix("(waited 30 s)"), reason)
        XCTAssertEqual(messages(effects, LeadState.self).map(\.status), [.refused], "counted refused for its search")
        XCTAssertTrue(core.awaitingConfiguration.isEmpty)
    }

    /// Why the codec refuses `configuration` when read, as its table keeps it
    /// (``KafkaTable/refusal(of:)``); nil when it is read.
    private func refusalWhenRead<T: Message>(_ configuration: T) throws -> String? {
        let bytes = try MessageCodec().encode(configuration)
        do {
            _ = try MessageCodec().decode(T.self, from: bytes)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// Discovers `lead`, which waits for its configuration, lets the whole wait (30 s) pass, and
    /// returns the reason it is then dead-lettered with and the effects; nil (a failure noted)
    /// when it is not.
    private func deadLetteredAfterTheWait(_ lead: LeadDiscovered, _ core: inout Core) -> (reason: String, effects: [Core.Effect])? {
        XCTAssertTrue(discover(lead, &core).isEmpty, "it waits for its configuration")
        clock.advance(by: 30)
        let effects = core.resolveAwaitingLeads(tables)
        guard case .deadLetter(lead.leadID.rawValue, let reason) = effects.first else {
            XCTFail("\(effects)")
            return nil
        }
        return (reason, effects)
    }

    /// A lead of an offer that was published but refused when read (its vocabulary beyond the
    /// 2,000 entries readers take: the offers table skipped it and holds no row) waits for its
    /// configuration as any lead of an unknown offer, and is then dead-lettered with a reason
    /// that says the offer's configuration was refused and why, naming the bound, not that it
    /// was never published. Before: "unknown offer 'offer-wide': publish its configuration
    /// first", which the operator had done.
    func testALeadOfAnOfferRefusedWhenReadIsDeadLetteredWithTheRefusal() throws {
        var core = core(configurationWait: .seconds(30))
        var offer = OfferConfig.sample(offerID: "offer-wide", accountID: "acct-1")
        offer.vocabulary = VocabularyExtension(functions: Dictionary(uniqueKeysWithValues: (0..<700).map {
            ("function \($0)", ["phrase \($0)", "another \($0)"])
        }))
        tables.offerRefusals["offer-wide"] = try XCTUnwrap(refusalWhenRead(offer), "the offer was read")
        guard let (reason, effects) = deadLetteredAfterTheWait(lead("lead-1", offer: "offer-wide"), &core) else { return }
        XCTAssertFalse(reason.contains("unknown offer"), reason)
        XCTAssertTrue(reason.hasPrefix("offer 'offer-wide': its configuration was published but refused when read"), reason)
        XCTAssertTrue(reason.contains("vocabulary holds 2100 entries in all"), reason)
        XCTAssertTrue(reason.contains("at most 2000"), reason)
        XCTAssertEqual(DeadLetterKind(reason: reason), .unknownConfiguration, "counted as a configuration not in force")
        XCTAssertEqual(messages(effects, LeadState.self).map(\.status), [.refused], "counted refused for its search")
    }

    /// The same for an account whose configuration was published but refused when read (an
    /// outreach window in a time zone that does not exist: the accounts table skipped it and
    /// holds no row): its lead waits, then is dead-lettered with the refusal, not as a lead of an
    /// account never published. Before: "unknown account 'acct-zoned': publish its configuration
    /// first (leadctl account put)".
    func testALeadOfAnAccountRefusedWhenReadIsDeadLetteredWithTheRefusal() throws {
        var core = core(configurationWait: .seconds(30))
        let account = AccountConfig(accountID: "acct-zoned", outreachWindow: OutreachWindow(timeZoneID: "Mars/Olympus_Mons"),
                                    updatedAt: clock.now)
        tables.accountRefusals["acct-zoned"] = try XCTUnwrap(refusalWhenRead(account), "the account was read")
        tables.offers["offer-zoned"] = OfferConfig.sample(offerID: "offer-zoned", accountID: "acct-zoned")
        guard let (reason, effects) = deadLetteredAfterTheWait(lead("lead-1", account: "acct-zoned", offer: "offer-zoned"), &core)
        else { return }
        XCTAssertFalse(reason.contains("unknown account"), reason)
        XCTAssertTrue(reason.hasPrefix("account 'acct-zoned': its configuration was published but refused when read"), reason)
        XCTAssertTrue(reason.contains("Mars/Olympus_Mons"), reason)
        XCTAssertEqual(DeadLetterKind(reason: reason), .unknownConfiguration, "counted as a configuration not in force")
        XCTAssertEqual(messages(effects, LeadState.self).map(\.status), [.refused], "counted refused for its search")
    }

    func testABillingPauseHoldsALeadBeforeItsPaidPhaseUntilTheEventSaysActive() {
        var core = core()
        tables.setBilling(.paused, at: clock.now)
        let held = discover(lead("lead-1"), &core)
        XCTAssertTrue(requests(held).isEmpty)
        XCTAssertEqual(status(of: "lead-1", core), .billingPaused)
        XCTAssertEqual(core.billingPaused, ["lead-1"])
        XCTAssertEqual(core.backlogFlow(holdingRecords: false), .resume, "a held lead does not count as running")

        clock.advance(by: 1)
        XCTAssertTrue(requests(core.checkGates(tables)).isEmpty, "still paused")
        tables.setBilling(.active, at: clock.now)
        XCTAssertEqual(requests(core.checkGates(tables)).map(\.phase), [.profile])
        XCTAssertEqual(status(of: "lead-1", core), .processing)
        XCTAssertTrue(core.billingPaused.isEmpty)
    }

    /// An account whose autopilot is on: a scored lead's finalize attempt that its stage answered
    /// waits for billing during a pause (autopilot would enroll the lead but for it) is retried
    /// only once billing resumes, or once autopilot is switched off; meanwhile the lead is
    /// billing paused. Before, the retry went on during the pause, every backoff.
    func testAFinalizeRetryOfAnAutopilotAccountWaitsForResumeOrForAutopilotOff() throws {
        for releasedBy in ["resume", "autopilot off"] {
            var core = core()
            tables = Tables()
            tables.accounts["acct-1"]?.autopilot = AutopilotRule(isEnabled: true, minimumFit: 60, minimumIntent: 55,
                                                                 requiredBuyerState: .active)
            var request = try XCTUnwrap(requests(discover(lead("lead-1", source: .intentSearch), &core)).first)
            while request.phase != .finalize {
                let result = PhaseResult(answering: request, outcome: .completed, payload: .empty, finishedAt: clock.now, service: "test")
                request = try XCTUnwrap(requests(core.phaseResult(result.envelope, tables)).first)
            }
            tables.setBilling(.paused, at: clock.now)
            let waiting = PhaseResult(answering: request, outcome: .waitsForBilling(reason: "account billing paused"),
                                      payload: .empty, finishedAt: clock.now, service: "test")
            XCTAssertTrue(requests(core.phaseResult(waiting.envelope, tables)).isEmpty)
            XCTAssertEqual(status(of: "lead-1", core), .billingPaused, releasedBy)
            XCTAssertEqual(core.billingPaused, ["lead-1"], releasedBy)

            clock.advance(by: 1)
            XCTAssertTrue(requests(core.checkGates(tables)).isEmpty, "still paused")
            if releasedBy == "resume" {
                tables.setBilling(.active, at: clock.now)
            } else {
                tables.accounts["acct-1"]?.autopilot?.isEnabled = false
            }
            let retried = requests(core.checkGates(tables))
            XCTAssertEqual(retried.map(\.phase), [.finalize], releasedBy)
            XCTAssertEqual(retried.first?.attempt, 2, releasedBy)
            XCTAssertEqual(status(of: "lead-1", core), .processing, releasedBy)
        }
    }

    func testALeadWaitsForTheOutreachWindowToOpen() throws {
        var core = core()
        tables.accounts["acct-1"]?.outreachWindow = OutreachWindow(timeZoneID: "UTC")  // weekdays 9 to 17; it is Sunday
        XCTAssertTrue(requests(discover(lead("lead-1"), &core)).isEmpty)
        XCTAssertEqual(status(of: "lead-1", core), .outsideOutreachWindow)
        let opens = try XCTUnwrap(core.timers.nextFireAt)
        XCTAssertEqual(opens, Date(timeIntervalSince1970: 1_750_064_400))  // Monday 09:00 UTC

        clock.advance(by: opens.timeIntervalSince(clock.now) - 1)
        XCTAssertTrue(core.fireDueTimers(tables).isEmpty)
        clock.advance(by: 1)
        XCTAssertEqual(requests(core.fireDueTimers(tables)).map(\.phase), [.profile])
    }

    /// Only a record that can change a ready lead loads its state back from the changelog: a
    /// web enrichment, a re-enrich, a found profile (and a record of no known schema, to be
    /// safe). A repeated discovery, or a late answer of the run that finished (a finalize stage
    /// replaying after a crash answers every request again), loads nothing.
    func testOnlyRecordsThatCanChangeAReadyLeadLoadIt() {
        let topics = Topics()
        func loads(_ topic: String, _ schema: String?) -> Bool { Core.changesAReadyLead(topic: topic, schema: schema, topics: topics) }
        XCTAssertTrue(loads(topics.webEnrichments, WebEnrichment.schemaName))
        XCTAssertTrue(loads(topics.leadCommands, ReEnrichRequested.schemaName))
        XCTAssertTrue(loads(topics.leadsBacklog, ProfileFound.schemaName))
        XCTAssertTrue(loads(topics.leadsDiscovered, nil))
        XCTAssertFalse(loads(topics.leadsDiscovered, LeadDiscovered.schemaName))
        XCTAssertFalse(loads(topics.phaseResults, PhaseResult.schemaName))
        XCTAssertFalse(loads(topics.phaseResultsPriority, PhaseResult.schemaName))
    }

    func testAResultOfAnotherRunChangesNothing() throws {
        var core = core()
        let request = try XCTUnwrap(requests(discover(lead("lead-1"), &core)).first)
        let before = core.leads["lead-1"]?.machine.state
        var stale = PhaseResult(answering: request, outcome: .completed, payload: .empty, finishedAt: clock.now, service: "test")
        stale.runID = "run-earlier"
        XCTAssertTrue(core.phaseResult(stale.envelope, tables).isEmpty)
        XCTAssertEqual(core.leads["lead-1"]?.machine.state, before)
        stale.leadID = "lead-elsewhere"
        XCTAssertTrue(core.phaseResult(stale.envelope, tables).isEmpty, "a lead not held here")
    }

    func testALeadDiscoveredAgainWhileRunningIsNotRunTwice() {
        var core = core()
        XCTAssertEqual(requests(discover(lead("lead-1"), &core)).count, 1)
        XCTAssertTrue(discover(lead("lead-1"), &core).isEmpty)
        XCTAssertTrue(discover(lead("lead-1"), fromBacklog: true, &core).isEmpty)
        XCTAssertEqual(core.leads.running, 1)
    }

    /// A known lead discovered by another search counts there as already known, once: one
    /// membership record, in the lead's partition; discovered again by that search or by its
    /// own, nothing. Running, queued or ready, the same.
    func testAKnownLeadDiscoveredByAnotherSearchCountsThereAsAlreadyKnownOnce() throws {
        var core = core(maxRunning: 1)
        XCTAssertEqual(requests(discover(lead("lead-1"), &core)).count, 1, "running")
        _ = discover(lead("lead-2", source: .csvImport), &core)
        XCTAssertNotNil(core.pendingLeads["lead-2"], "queued")
        func elsewhere(_ id: String, source: LeadSource = .keywordSearch) -> LeadDiscovered {
            var other = lead(id, source: source)
            other.sourceSearchID = "search-2"
            return other
        }
        let effects = core.discovered(elsewhere("lead-1"), runID: "run-x", partition: 3, fromBacklog: false, source: "lead-1", tables)
        XCTAssertEqual(messages(effects, SearchMembership.self).map(\.searchID), ["search-2"], "\(effects)")
        guard case .messages(let job) = effects.first else { return XCTFail("\(effects)") }
        XCTAssertEqual(job.messages.map(\.partition), [3], "in the lead's partition, where its owner restores it")
        XCTAssertEqual(core.progress.part("search-2", partition: 3)?.alreadyKnown, 1)
        XCTAssertTrue(discover(elsewhere("lead-1"), &core).isEmpty, "once per search")
        XCTAssertTrue(discover(lead("lead-1"), &core).isEmpty, "its own search")
        XCTAssertEqual(messages(discover(elsewhere("lead-2", source: .csvImport), &core), SearchMembership.self).count, 1, "queued")
        core.finished["lead-9"] = .init(partition: 0, origin: .init("search-1"), offset: 5)
        XCTAssertEqual(messages(discover(elsewhere("lead-9"), &core), SearchMembership.self).count, 1, "ready")
        XCTAssertTrue(discover(lead("lead-9"), &core).isEmpty)
        XCTAssertEqual(core.progress.part("search-2", partition: 0)?.alreadyKnown, 2)

        var restored = self.core()
        restored.restoreMembership(try XCTUnwrap(messages(effects, SearchMembership.self).first), partition: 3)
        XCTAssertEqual(restored.progress.part("search-2", partition: 3)?.alreadyKnown, 1)
    }

    /// A lead refused for one search and then found by another runs for that one; the first
    /// counts it on, as already known, since its refused state is replaced.
    func testALeadRefusedForOneSearchThenRunForAnotherStillCountsInTheFirst() throws {
        var core = core()
        tables.accounts["acct-1"]?.allowsEnrichment = false
        _ = discover(lead("lead-1", source: .intentSearch), &core)
        tables.accounts["acct-1"]?.allowsEnrichment = true
        var other = lead("lead-1", source: .intentSearch)
        other.sourceSearchID = "search-2"
        let effects = discover(other, &core)
        XCTAssertFalse(requests(effects).isEmpty, "it runs for search-2")
        XCTAssertEqual(messages(effects, SearchMembership.self).map(\.searchID), ["search-1"])
        let first = try XCTUnwrap(core.progress.part("search-1", partition: 0))
        XCTAssertEqual([first.refused, first.alreadyKnown], [0, 1])
        XCTAssertEqual(core.progress.part("search-2", partition: 0)?.enriching, 1)
    }

    /// A lead waiting for one search's configuration, started meanwhile for another search,
    /// is not refused over its run when the wait runs out: the waiting search counts it as
    /// already known.
    func testAWaitRunningOutDoesNotRefuseALeadAnotherSearchStarted() throws {
        var core = core(configurationWait: .seconds(30))
        var waiting = lead("lead-1", offer: "offer-later")
        waiting.sourceSearchID = "search-a"
        XCTAssertTrue(discover(waiting, &core).isEmpty, "it waits for its offer")
        XCTAssertEqual(requests(discover(lead("lead-1"), &core)).count, 1, "search-1's copy starts it")
        clock.advance(by: 30)
        let effects = core.resolveAwaitingLeads(tables)
        XCTAssertTrue(messages(effects, LeadState.self).isEmpty, "its running state is not replaced: \(effects)")
        XCTAssertEqual(messages(effects, SearchMembership.self).map(\.searchID), ["search-a"])
        XCTAssertEqual(status(of: "lead-1", core), .processing)
        XCTAssertEqual(core.progress.part("search-a", partition: 0)?.alreadyKnown, 1)
    }

    /// A lead found by a second search while it waits for its configuration for the first counts
    /// in the second as already known, from a readable record or an unreadable one. It counted
    /// nowhere there, so that search never completed.
    func testALeadFoundByAnotherSearchWhileItWaitsCountsThereAsAlreadyKnown() throws {
        var core = core(configurationWait: .seconds(30))
        var forA = lead("lead-1", offer: "offer-later")
        forA.sourceSearchID = "search-a"
        XCTAssertTrue(discover(forA, &core).isEmpty, "it waits for its offer")
        var forB = forA
        forB.sourceSearchID = "search-b"
        XCTAssertEqual(messages(discover(forB, &core), SearchMembership.self).map(\.searchID), ["search-b"])
        XCTAssertEqual(core.progress.part("search-b", partition: 0)?.alreadyKnown, 1)
        XCTAssertTrue(discover(forB, &core).isEmpty, "counted once")
        XCTAssertTrue(discover(forA, &core).isEmpty, "a copy for its own search changes nothing")
        var forC = forA
        forC.sourceSearchID = "search-c"
        let unreadable = core.unreadable(forC, runID: "run-3", partition: 0, source: "lead-1", reason: "no profile URL")
        XCTAssertEqual(messages(unreadable, SearchMembership.self).map(\.searchID), ["search-c"])
        XCTAssertEqual(unreadable.filter { if case .deadLetter = $0 { true } else { false } }.count, 1)

        tables.offers["offer-later"] = OfferConfig.sample(offerID: "offer-later", accountID: "acct-1")
        XCTAssertEqual(requests(core.resolveAwaitingLeads(tables)).count, 1, "its offer came: it runs for search-a")
        XCTAssertEqual(core.progress.part("search-b", partition: 0)?.alreadyKnown, 1)
        XCTAssertEqual(core.progress.part("search-c", partition: 0)?.alreadyKnown, 1)
        XCTAssertEqual(core.progress.part("search-a", partition: 0)?.alreadyKnown ?? 0, 0)
    }

    /// A search counts a lead once: one counted there as already known, then run or refused for
    /// that search itself, stops counting as already known (its membership is deleted).
    func testALeadCountedAsAlreadyKnownThenRefusedForThatSearchCountsOnce() throws {
        var core = core()
        tables.accounts["acct-1"]?.allowsEnrichment = false
        var forA = lead("lead-1", source: .intentSearch)
        forA.sourceSearchID = "search-a"
        var forB = forA
        forB.sourceSearchID = "search-b"
        _ = discover(forA, &core)  // refused for A
        _ = discover(forB, &core)  // refused for B: A counts it as already known
        var a = try XCTUnwrap(core.progress.part("search-a", partition: 0))
        XCTAssertEqual([a.refused, a.alreadyKnown], [0, 1])
        let effects = discover(forA, &core)  // refused for A again
        a = try XCTUnwrap(core.progress.part("search-a", partition: 0))
        XCTAssertEqual([a.refused, a.alreadyKnown], [1, 0], "counted once")
        XCTAssertTrue(effects.contains { if case .removeMembership(let key, 0) = $0 { key == SearchMembership.key(leadID: "lead-1", searchID: "search-a") } else { false } },
                      "\(effects)")
        let b = try XCTUnwrap(core.progress.part("search-b", partition: 0))
        XCTAssertEqual([b.refused, b.alreadyKnown], [0, 1])
    }

    /// A copy of a lead waiting for its configuration, found by a search that counts it as
    /// already known, changes nothing: that search keeps counting it.
    func testACopyOfAWaitingLeadKeepsItsSearchsCount() throws {
        var core = core(configurationWait: .seconds(30))
        var forS1 = lead("lead-1", account: "acct-never")
        forS1.sourceSearchID = "search-s1"
        XCTAssertTrue(discover(forS1, &core).isEmpty, "it waits")
        clock.advance(by: 30)
        _ = core.resolveAwaitingLeads(tables)  // refused for search-s1
        var forS2 = lead("lead-1", account: "acct-later", offer: "offer-later")
        forS2.sourceSearchID = "search-s2"
        _ = discover(forS2, &core)  // waits; search-s1 now counts it as already known
        XCTAssertEqual(core.progress.part("search-s1", partition: 0)?.alreadyKnown, 1)
        XCTAssertTrue(discover(forS1, &core).isEmpty, "a copy for search-s1, its account still unknown")
        let s1 = try XCTUnwrap(core.progress.part("search-s1", partition: 0))
        XCTAssertEqual([s1.refused, s1.alreadyKnown], [0, 1])
    }

    /// The state that replaces a refused one is written at once, running or queued (after a
    /// wait for its configuration too): held, a restore would count the lead refused meanwhile.
    func testTheStateReplacingARefusedOneIsWrittenAtOnce() throws {
        var core = core(maxRunning: 1, configurationWait: .seconds(30))
        tables.accounts["acct-1"]?.allowsEnrichment = false
        _ = discover(lead("lead-1", source: .intentSearch), &core)
        _ = discover(lead("lead-2", source: .csvImport), &core)
        tables.accounts["acct-1"]?.allowsEnrichment = true
        XCTAssertEqual(messages(discover(lead("lead-1", source: .intentSearch), &core), LeadState.self).map(\.status), [.processing],
                       "running: written at once")

        XCTAssertTrue(discover(lead("lead-2", source: .csvImport, offer: "offer-later"), &core).isEmpty, "it waits for its offer")
        tables.offers["offer-later"] = OfferConfig.sample(offerID: "offer-later", accountID: "acct-1")
        XCTAssertEqual(pendingStates(core.resolveAwaitingLeads(tables)).map(\.leadID), ["lead-2"], "queued after the wait: written at once")
    }

    /// An unreadable record of a known lead from another search counts it there as already known.
    func testAnUnreadableRecordOfAKnownLeadFromAnotherSearchCountsThere() {
        var core = core()
        XCTAssertEqual(requests(discover(lead("lead-1"), &core)).count, 1)
        var other = lead("lead-1")
        other.sourceSearchID = "search-2"
        let effects = core.unreadable(other, runID: "run-2", partition: 0, source: "lead-1", reason: "no profile URL")
        XCTAssertEqual(effects.filter { if case .deadLetter = $0 { true } else { false } }.count, 1)
        XCTAssertEqual(messages(effects, SearchMembership.self).map(\.searchID), ["search-2"])
    }

    /// A published lead the codec refused counts refused for its search when it is new; a
    /// known lead published again wrongly keeps its state and run.
    func testAnUnreadableLeadIsRefusedUnlessItIsKnown() throws {
        var core = core()
        var unreadable = lead("lead-2")
        unreadable.linkedinURL = nil
        let effects = core.unreadable(unreadable, runID: "run-lead-2", partition: 0, source: "lead-2", reason: "no profile URL")
        XCTAssertEqual(messages(effects, LeadState.self).map(\.status), [.refused], "\(effects)")
        XCTAssertEqual(core.progress.part("search-1", partition: 0)?.refused, 1)

        XCTAssertEqual(requests(discover(lead("lead-1"), &core)).count, 1)
        let again = core.unreadable(lead("lead-1"), runID: "run-2", partition: 0, source: "lead-1", reason: "no profile URL")
        guard case .deadLetter("lead-1", "no profile URL") = again.first, again.count == 1 else { return XCTFail("\(again)") }
        XCTAssertEqual(status(of: "lead-1", core), .processing)
        XCTAssertEqual(core.progress.part("search-1", partition: 0)?.refused, 1)
    }

    func testAFoundProfileAddsItsURLAndReEnrichesAReadyLead() throws {
        var core = core()
        try runToReady(discover(lead("lead-1"), &core), &core)
        let found = ProfileFound(leadID: "lead-1", platform: .x, url: "https://x.com/janedoe", confidence: 0.9, foundBy: "test",
                                 foundAt: clock.now)
        let effects = core.profileFound(found, queueRunID: "run-queued", reEnrichRunID: "run-pf-1", fromBacklog: false,
                                        misaddressed: nil, source: "found-1", tables)
        let request = try XCTUnwrap(requests(effects).first)
        XCTAssertEqual(request.runID, "run-pf-1")
        XCTAssertEqual(request.phase, .profile)
        let state = try XCTUnwrap(core.leads["lead-1"]?.machine.state)
        XCTAssertNotNil(state.lead.xURL)
        XCTAssertEqual(state.status, .processing)

        let again = core.profileFound(found, queueRunID: "run-queued", reEnrichRunID: "run-pf-2", fromBacklog: false,
                                      misaddressed: nil, source: "found-2", tables)
        XCTAssertTrue(again.isEmpty, "the lead has an X profile now")
        let unknown = ProfileFound(leadID: "lead-9", platform: .x, url: "https://x.com/other", confidence: 0.9, foundBy: "test",
                                   foundAt: clock.now)
        guard case .queueInBacklog("found-3", "run-queued") = core.profileFound(
            unknown, queueRunID: "run-queued", reEnrichRunID: "run-pf-3", fromBacklog: false, misaddressed: nil, source: "found-3", tables
        ).first else { return XCTFail("a found profile of an unknown lead waits in the backlog") }
        guard case .deadLetter("found-4", let reason) = core.profileFound(
            unknown, queueRunID: "run-queued", reEnrichRunID: "run-pf-4", fromBacklog: true, misaddressed: nil, source: "found-4", tables
        ).first else { return XCTFail("from the backlog it is dead-lettered") }
        XCTAssertEqual(reason, "profile found for unknown lead lead-9")
    }

    func testAFoundProfileOfARunningLeadIsPersistedWithoutANewRun() throws {
        var core = core()
        let runID = try XCTUnwrap(requests(discover(lead("lead-1"), &core)).first?.runID)
        let found = ProfileFound(leadID: "lead-1", platform: .x, url: "https://x.com/janedoe", confidence: 0.9, foundBy: "test",
                                 foundAt: clock.now)
        let effects = core.profileFound(found, queueRunID: "run-queued", reEnrichRunID: "run-pf-1", fromBacklog: true,
                                        misaddressed: nil, source: "found-1", tables)
        XCTAssertTrue(requests(effects).isEmpty)
        let persisted = try XCTUnwrap(states(effects, &core).first)
        XCTAssertNotNil(persisted.profile.xURL)
        XCTAssertEqual(persisted.runID, runID, "the run goes on")
        XCTAssertEqual(core.leads["lead-1"]?.machine.state, persisted)
    }

    /// Which late results of a finished lead have it loaded back: those that may send a record
    /// again (a charge, a finalize's entry); a finalize stage's replays answer most without one.
    func testOnlyLateResultsThatMaySendARecordAgainConcernAReadyLead() throws {
        var core = core()
        let request = try XCTUnwrap(requests(discover(lead("lead-1"), &core)).first)
        func result(_ phase: Phase, charges: [BillableCharge] = [], entry: Int64? = nil,
                    outcome: PhaseOutcome = .completed) -> PhaseResultEnvelope {
            var answering = request
            answering.phase = phase
            var result = PhaseResult(answering: answering, outcome: outcome, payload: .empty, charges: charges, finishedAt: clock.now,
                                     service: "test")
            result.poolEntry = entry.map { RecordPosition(topic: "lead.pool", partition: 0, offset: $0) }
            return result.envelope
        }
        XCTAssertTrue(Core.resultConcernsAReadyLead(result(.profile, charges: [BillableCharge(provider: "linkedin", units: 1)])))
        XCTAssertTrue(Core.resultConcernsAReadyLead(result(.finalize, entry: 7)))
        XCTAssertFalse(Core.resultConcernsAReadyLead(result(.finalize)))
        XCTAssertFalse(Core.resultConcernsAReadyLead(result(.profile, charges: [BillableCharge(provider: "linkedin", units: 0)])))
        XCTAssertFalse(Core.resultConcernsAReadyLead(result(.finalize, entry: 7, outcome: .failed(reason: "x", isRetriable: true))))
    }

    func testAWebEnrichmentIsMergedAndAReadyLeadsPoolEntryRewritten() throws {
        var core = core()
        let started = discover(lead("lead-1"), &core)
        func enrichment(_ name: String, status: WebEnrichment.Status = .completed) -> WebEnrichment {
            WebEnrichment(leadID: "lead-1", searchID: nil, domain: "acme.example", url: "https://acme.example", status: status,
                          name: name, fetchedAt: clock.now)
        }
        let running = core.webEnrichment(enrichment("Acme"), tables)
        XCTAssertEqual(states(running, &core).first?.profile.web?.name, "Acme")
        XCTAssertTrue(messages(running, LeadPoolEntry.self).isEmpty, "not ready: no pool entry")
        XCTAssertTrue(core.webEnrichment(enrichment("Acme"), tables).isEmpty, "a redelivery")
        XCTAssertTrue(core.webEnrichment(enrichment("Other", status: .refused), tables).isEmpty)

        // The activity as a version 3 result reads: its posts without the plain text.
        let post = Post(id: "p1", platform: .linkedin, date: clock.now.addingTimeInterval(-2 * 86_400), text: "we are hiring SDRs",
                        likes: 3, replies: 1, reposts: 0, url: "https://example.com/p1")
        let activity = Activity(posts: [post], plainText: "", orbit: [], signalDate: post.date)
        try runToReady(started, &core, payloads: [.activity: PhasePayload(activity: activity, activityOutcome: .succeeded)])
        let ready = core.webEnrichment(enrichment("Acme Inc"), tables)
        guard case .messages(let job) = ready.first, ready.count == 1 else { return XCTFail("\(ready)") }
        XCTAssertEqual(job.messages.map(\.topic), [Topics().leadPool, Topics().leadState], "the entry before the state")
        let entry = try XCTUnwrap(job.messages.first?.message as? LeadPoolEntry)
        XCTAssertEqual(entry.profile.web?.name, "Acme Inc")
        XCTAssertTrue(entry.profile.activity?.plainText.contains("we are hiring SDRs") == true,
                      "the entry has the text the finalize stage would write: \(String(describing: entry.profile.activity))")
        XCTAssertEqual(status(of: "lead-1", core), .ready)
    }

    /// A due attempt timeout waits while the lead's results partition is not read past its
    /// deadline (its answer may be there, unread), and fires once it is.
    func testAnAttemptTimeoutWaitsUntilTheResultsAreReadPastItsDeadline() throws {
        var core = core()
        let request = try XCTUnwrap(requests(discover(lead("lead-1"), &core)).first)
        clock.advance(by: 3600)
        var asked: [(Int32, Date)] = []
        let held = core.fireDueTimers(tables) { partition, deadline in
            asked.append((partition, deadline))
            return false
        }
        XCTAssertTrue(requests(held).isEmpty, "no retry while the answer may be unread")
        XCTAssertEqual(core.heldTimeouts, 1)
        XCTAssertEqual(core.timedOutPhases, [:], "held, not timed out")
        XCTAssertEqual(asked.map(\.0), [0], "asked about the lead's partition")
        XCTAssertEqual(core.leads["lead-1"]?.machine.state?.inFlight?.attempt, 1, "still waiting on the first attempt")
        XCTAssertEqual(core.pollWaitMilliseconds(cap: 100), 100,
                       "a held timeout is not due again until more is read: the loop polls its whole wait, it does not spin")

        // Read past the deadline and still no answer: the attempt times out and is retried after a backoff.
        _ = core.fireDueTimers(tables) { _, _ in true }
        XCTAssertEqual(core.heldTimeouts, 0)
        XCTAssertEqual(core.timedOutPhases, [request.phase: 1], "counted with the phase outcomes, as timed-out")
        let inFlight = try XCTUnwrap(core.leads["lead-1"]?.machine.state?.inFlight)
        XCTAssertEqual([inFlight.attempt, inFlight.isBackingOff ? 1 : 0], [2, 1])
        XCTAssertEqual(asked.first?.1, try XCTUnwrap(core.leads["lead-1"]?.machine.state?.history.first { $0.kind == .phaseStarted }?.at)
            .addingTimeInterval(LeadStateMachine.Configuration().timeout(for: request.phase)), "the deadline is the attempt's")
    }

    /// The time the broker was away is given back to the attempts whose timeout was still
    /// ahead when it went: their timeouts move later by the outage; one already due is not moved.
    func testAnAttemptGetsBackTheTimeTheBrokerWasAway() throws {
        var core = core()
        let timeout = LeadStateMachine.Configuration().timeout(for: .profile)
        let start = clock.now
        _ = discover(lead("lead-1"), &core)  // deadline start + timeout
        clock.advance(by: 50)
        _ = discover(lead("lead-2"), &core)  // deadline start + 50 + timeout
        func attempt(_ id: LeadID) -> (Int, Bool)? {
            core.leads[id]?.machine.state?.inFlight.map { ($0.attempt, $0.isBackingOff) }
        }

        // Away from just after lead-1's deadline (its timeout held meanwhile) for a minute.
        XCTAssertEqual(core.brokerWasAway(from: start.addingTimeInterval(timeout + 5), for: 60), 1, "lead-2's timeout alone")
        clock.advance(by: timeout - 50 + 6)
        _ = core.fireDueTimers(tables)
        XCTAssertEqual(attempt("lead-1")?.0, 2, "lead-1's deadline was before the outage: it timed out")
        clock.advance(by: 50)  // past lead-2's first deadline
        _ = core.fireDueTimers(tables)
        XCTAssertEqual(attempt("lead-2")?.0, 1, "lead-2 has the minute back")
        XCTAssertEqual(attempt("lead-2")?.1, false)
        clock.advance(by: 60)
        _ = core.fireDueTimers(tables)
        XCTAssertEqual(attempt("lead-2")?.0, 2, "then it times out")
    }

    func testARestoredAttemptHasAWholeTimeoutFromTheRestore() throws {
        // The owner that sent the request may have moved its deadline (a broker outage) or
        // stalled before it died; its state keeps the first deadline.
        var first = core()
        _ = discover(lead("lead-1"), &first)
        let running = try XCTUnwrap(first.leads["lead-1"]?.machine.state)
        let timeout = LeadStateMachine.Configuration().timeout(for: .profile)
        clock.advance(by: timeout + 30)  // past the first deadline

        var next = core()
        next.restore(running, partition: 0)
        _ = next.fireDueTimers(tables)
        XCTAssertEqual(next.leads["lead-1"]?.machine.state?.inFlight?.attempt, 1, "not timed out on the first owner's deadline")
        clock.advance(by: timeout - 1)
        _ = next.fireDueTimers(tables)
        XCTAssertEqual(next.leads["lead-1"]?.machine.state?.inFlight?.attempt, 1)
        clock.advance(by: 1)
        _ = next.fireDueTimers(tables)
        XCTAssertEqual(next.leads["lead-1"]?.machine.state?.inFlight?.attempt, 2, "a whole timeout after the restore, it times out")
    }

    func testTheTimerOfAnAnsweredAttemptIsPruned() throws {
        var core = core()
        let request = try XCTUnwrap(requests(discover(lead("lead-1"), &core)).first)
        XCTAssertEqual(core.timers.count, 1)
        let result = PhaseResult(answering: request, outcome: .completed, payload: .empty, finishedAt: clock.now, service: "test")
        XCTAssertEqual(requests(core.phaseResult(result.envelope, tables)).map(\.phase), [.activity])
        XCTAssertEqual(core.timers.count, 2, "the answered attempt's timeout is still queued")
        _ = core.checkGates(tables)
        XCTAssertEqual(core.timers.count, 1)
    }

    func testARunningLeadsChangesMakeOneStateRecordPerWriteAndItsReadyStateIsWrittenAtOnce() throws {
        var core = core()
        var effects = discover(lead("lead-1"), &core)
        var answered = 0
        // Three phases answered between two writes: no state record until the write, then one.
        while answered < 3, let request = requests(effects).first {
            XCTAssertTrue(messages(effects, LeadState.self).isEmpty, "a processing state is held")
            effects = core.phaseResult(PhaseResult(answering: request, outcome: .completed, payload: .empty, finishedAt: clock.now,
                                                   service: "test").envelope, tables)
            answered += 1
        }
        XCTAssertTrue(core.writeHeldStates(heldSince: clock.now.addingTimeInterval(-1)).isEmpty, "held for less than the interval")
        clock.advance(by: 1)
        let held = messages(core.writeHeldStates(heldSince: clock.now.addingTimeInterval(-1)), LeadState.self)
        XCTAssertEqual(held.count, 1, "one record for three changes")
        XCTAssertEqual(held.first?.currentPhase, .finalize)
        XCTAssertEqual(held.first, core.leads["lead-1"]?.machine.state, "the latest state")
        XCTAssertTrue(core.writeHeldStates().isEmpty, "written once")

        // The ready state is written with the result that makes the lead ready, and replaces a held one.
        let finalize = try XCTUnwrap(requests(effects).first)
        let readyEffects = core.phaseResult(PhaseResult(answering: finalize, outcome: .completed, payload: .empty,
                                                        finishedAt: clock.now, service: "test").envelope, tables)
        XCTAssertEqual(messages(readyEffects, LeadState.self).map(\.status), [.ready])
        XCTAssertTrue(core.writeHeldStates().isEmpty)

        // Interval zero writes every change, as before.
        var eager = Core(settings: { var settings = CoordinatorSettings(); settings.stateWriteInterval = .zero; return settings }(),
                         topics: Topics(), logger: Logger(service: "test", level: .error), now: { [clock] in clock.now })
        let started = eager.discovered(lead("lead-2"), runID: "run-lead-2", partition: 0, fromBacklog: false, source: "lead-2", tables)
        XCTAssertEqual(messages(started, LeadState.self).map(\.status), [.processing])
        XCTAssertTrue(eager.unwrittenStates.isEmpty)
    }

    func testALeadWhoseRunEndsWithinTheIntervalWritesOnlyItsReadyState() throws {
        var core = core()
        var written: [LeadState] = []
        var pending = requests(discover(lead("lead-1"), &core))
        while let request = pending.first {
            pending.removeFirst()
            clock.advance(by: 0.2)
            let effects = core.phaseResult(PhaseResult(answering: request, outcome: .completed, payload: .empty, finishedAt: clock.now,
                                                       service: "test").envelope, tables)
                + core.writeHeldStates(heldSince: clock.now.addingTimeInterval(-1))
            written += messages(effects, LeadState.self)
            pending += requests(effects)
        }
        XCTAssertEqual(written.map(\.status), [.ready], "no record of the phases in between")
        XCTAssertTrue(core.unwrittenStates.isEmpty)
    }

    func testTheHeldStatesOfPartitionsGivenUpAreWrittenAtOnceAndOnlyThose() throws {
        var core = core()
        for (id, partition) in [("lead-1", Int32(0)), ("lead-2", 1), ("lead-3", 2)] {
            _ = core.discovered(lead(id), runID: RunID("run-\(id)"), partition: partition, fromBacklog: false, source: id, tables)
        }
        XCTAssertEqual(core.unwrittenStates.count, 3, "each running lead's state is held")
        let written = messages(core.writeHeldStates(ofPartitions: [0, 2]), LeadState.self)
        XCTAssertEqual(Set(written.map(\.leadID)), ["lead-1", "lead-3"], "held for less than the interval, written because given up")
        XCTAssertEqual(written.first { $0.leadID == "lead-1" }, core.leads["lead-1"]?.machine.state, "the latest state")
        XCTAssertEqual(Array(core.unwrittenStates.keys), ["lead-2"], "a lead of a partition kept stays held")
        XCTAssertTrue(core.writeHeldStates(ofPartitions: [0, 2]).isEmpty, "written once")
        XCTAssertEqual(messages(core.writeHeldStates(), LeadState.self).map(\.leadID), ["lead-2"])
    }

    func testAHeldStateOfALeadGivenUpIsNotWritten() {
        var core = core()
        _ = discover(lead("lead-1"), &core)
        XCTAssertEqual(core.unwrittenStates.count, 1)
        core.leads.removeAll { _ in true }  // the partition was revoked
        XCTAssertTrue(core.writeHeldStates().isEmpty, "its next owner replays the inputs since the last write")
    }

    // MARK: - Pending states

    /// The pending states `effects` write.
    private func pendingStates(_ effects: [Core.Effect]) -> [LeadState] {
        messages(effects, LeadState.self).filter { $0.status == .pending }
    }

    func testALeadLeavingTheBacklogWithinTheIntervalNeverWritesAPendingState() throws {
        var core = core(maxRunning: 1)
        let running = discover(lead("lead-0", source: .intentSearch), &core)
        let queued = discover(lead("lead-1", source: .csvImport), &core)
        guard case .queueInBacklog = queued.first else { return XCTFail("not queued: \(queued)") }
        XCTAssertTrue(pendingStates(queued).isEmpty, "the backlog record is what keeps a queued lead: its state waits")
        XCTAssertTrue(pendingStates(core.writeHeldStates(heldSince: clock.now.addingTimeInterval(-5))).isEmpty)

        clock.advance(by: 4)
        try runToReady(running, &core)
        let started = discover(lead("lead-1", source: .csvImport), fromBacklog: true, &core)
        XCTAssertEqual(requests(started).map(\.phase), [.profile])
        clock.advance(by: 2)
        let later = core.writeHeldStates(heldSince: clock.now.addingTimeInterval(-5)) + core.writeHeldStates()
        XCTAssertTrue(pendingStates(later).isEmpty, "a lead that left the backlog has no pending state to write")
        XCTAssertEqual(messages(later, LeadState.self).map(\.status), [.processing], "its running state, held as any other")
    }

    func testALeadStillQueuedAfterTheIntervalHasItsPendingStateWrittenOnce() throws {
        var core = core(maxRunning: 1)
        _ = discover(lead("lead-0", source: .intentSearch), &core)
        let queuedAt = clock.now
        _ = discover(lead("lead-1", source: .csvImport), &core)
        clock.advance(by: 4.9)
        XCTAssertTrue(pendingStates(core.writeHeldStates(heldSince: clock.now.addingTimeInterval(-5))).isEmpty, "not yet")
        clock.advance(by: 0.2)
        let written = pendingStates(core.writeHeldStates(heldSince: clock.now.addingTimeInterval(-5)))
        XCTAssertEqual(written.map(\.leadID), ["lead-1"])
        XCTAssertEqual(written.first?.createdAt, queuedAt, "the state of when it was queued")
        XCTAssertEqual(written.first?.runID, "run-lead-1")
        XCTAssertTrue(pendingStates(core.writeHeldStates()).isEmpty, "written once")
        XCTAssertEqual(core.pendingLeads["lead-1"]?.partition, 0, "still queued")
    }

    func testHeldPendingStatesOfPartitionsGivenUpAreWrittenAndARefusedLeadsIsDropped() throws {
        var core = core(maxRunning: 1)
        _ = discover(lead("lead-0", source: .intentSearch), &core)
        for (id, partition) in [("lead-1", Int32(0)), ("lead-2", 1)] {
            _ = core.discovered(lead(id, source: .csvImport), runID: RunID("run-\(id)"), partition: partition, fromBacklog: false,
                                source: id, tables)
        }
        XCTAssertEqual(pendingStates(core.writeHeldStates(ofPartitions: [1])).map(\.leadID), ["lead-2"],
                       "given up: written for the next owner to show")
        _ = core.discovered(lead("lead-3", source: .csvImport), runID: "run-lead-3", partition: 1, fromBacklog: false,
                            source: "lead-3", tables)
        core.forgetQueuedLeads(ofPartitions: [1])  // the partition was revoked
        XCTAssertNil(core.pendingLeads["lead-2"])
        XCTAssertNil(core.heldPending["lead-3"], "its held state goes with it, unwritten")
        XCTAssertEqual(core.pendingLeads["lead-1"]?.partition, 0, "a lead of a partition kept stays queued")

        // lead-1's account refuses it when it leaves the backlog: its refused state is written,
        // and its held pending state never is.
        tables.accounts["acct-1"]?.allowsEnrichment = false
        let refused = discover(lead("lead-1", source: .csvImport), fromBacklog: true, &core)
        XCTAssertTrue(refused.contains { if case .deadLetter = $0 { true } else { false } }, "\(refused)")
        XCTAssertEqual(messages(refused, LeadState.self).map(\.status), [.refused], "\(refused)")
        XCTAssertTrue(pendingStates(core.writeHeldStates()).isEmpty)
    }

    /// A lead naming another account's offer is refused: it would be charged to its account and
    /// scored against the other customer's ideal customer profile and competitors.
    func testALeadNamingAnotherAccountsOfferIsRefused() throws {
        var core = core(maxRunning: 4)
        tables.accounts["acct-2"] = tables.accounts["acct-1"].map { account in
            var other = account
            other.accountID = "acct-2"
            return other
        }
        tables.offers["offer-2"] = OfferConfig.sample(offerID: "offer-2", accountID: "acct-2")
        let effects = discover(lead("lead-1", account: "acct-1", offer: "offer-2"), &core)
        let reasons = effects.compactMap { effect -> String? in if case .deadLetter(_, let reason) = effect { reason } else { nil } }
        XCTAssertEqual(reasons.count, 1, "\(effects)")
        XCTAssertTrue(reasons.first?.contains("offer-2") == true && reasons.first?.contains("acct-2") == true, "\(reasons)")
        XCTAssertFalse(core.leads.contains("lead-1"), "no run starts")
    }

    /// A refused lead still counts for its search, or the search never completes: its state
    /// says refused, with the reason in its history (``leadctl show``), and its search's part
    /// counts it refused. Discovered again once its account allows it, it runs and stops counting
    /// refused; so does a refused lead restored from its state.
    func testARefusedLeadCountsRefusedForItsSearchUntilItRuns() throws {
        var core = core()
        tables.accounts["acct-1"]?.allowsEnrichment = false
        let effects = discover(lead("lead-1", source: .intentSearch), &core)
        let reasons = effects.compactMap { effect -> String? in if case .deadLetter(_, let reason) = effect { reason } else { nil } }
        XCTAssertEqual(reasons.count, 1, "\(effects)")
        let refused = try XCTUnwrap(messages(effects, LeadState.self).first, "a refused state is written: \(effects)")
        XCTAssertEqual(refused.status, .refused)
        XCTAssertEqual(refused.history.last?.detail, reasons.first)
        XCTAssertEqual(core.progress.part("search-1", partition: 0)?.refused, 1)
        XCTAssertFalse(core.leads.contains("lead-1"), "no run starts")

        tables.accounts["acct-1"]?.allowsEnrichment = true
        XCTAssertFalse(requests(discover(lead("lead-1", source: .intentSearch), &core)).isEmpty, "discovered again, it runs")
        var part = try XCTUnwrap(core.progress.part("search-1", partition: 0))
        XCTAssertEqual([part.refused, part.enriching], [0, 1])

        var restoredCore = self.core()
        restoredCore.countRefused("lead-1", .init(refused.lead, partition: 0))
        XCTAssertEqual(restoredCore.progress.part("search-1", partition: 0)?.refused, 1, "counted from its state")
        _ = discover(lead("lead-1", source: .intentSearch), &restoredCore)
        part = try XCTUnwrap(restoredCore.progress.part("search-1", partition: 0))
        XCTAssertEqual([part.refused, part.enriching], [0, 1])
    }

    /// A queued lead whose pending state was written, read from the backlog while its account
    /// is unknown, waits for the account; refused once the account comes (no enrichment), its
    /// pending state is replaced by a refused one: left, a restore would hold it pending for good.
    func testAWrittenPendingStateIsReplacedWhenTheLeadIsRefusedAfterWaitingForItsAccount() throws {
        var core = core(maxRunning: 1)
        _ = discover(lead("lead-0", source: .intentSearch), &core)
        _ = discover(lead("lead-1", source: .csvImport), &core)
        XCTAssertEqual(pendingStates(core.writeHeldStates()).map(\.leadID), ["lead-1"], "its pending state is written")

        let account = try XCTUnwrap(tables.accounts["acct-1"])
        tables.accounts["acct-1"] = nil
        XCTAssertTrue(discover(lead("lead-1", source: .csvImport), fromBacklog: true, &core).isEmpty, "it waits for its account")
        var refusing = account
        refusing.allowsEnrichment = false
        tables.accounts["acct-1"] = refusing
        let resolved = core.resolveAwaitingLeads(tables)
        XCTAssertTrue(resolved.contains { if case .deadLetter = $0 { true } else { false } }, "\(resolved)")
        XCTAssertEqual(messages(resolved, LeadState.self).map(\.status), [.refused], "\(resolved)")
        let part = try XCTUnwrap(core.progress.part("search-1", partition: 0))
        XCTAssertEqual([part.pending, part.refused], [0, 1])
    }

    func testAQueuedLeadCarryingAPoolProfileHasItsPendingStateWrittenAtOnce() throws {
        var core = core(maxRunning: 1)
        _ = discover(lead("lead-0", source: .intentSearch), &core)
        var matched = lead("lead-1", source: .csvImport)
        matched.poolProfile = EnrichedProfile(startingRunOf: matched)
        XCTAssertEqual(pendingStates(discover(matched, &core)).map(\.leadID), ["lead-1"], "its profile is not held in memory")
        XCTAssertTrue(core.heldPending.isEmpty)
    }

    func testPendingStatesAreWrittenAtOnceWithIntervalZeroOrBeyondTheHeldBound() throws {
        var eager = CoordinatorSettings(maxRunningLeads: 1)
        eager.stateWriteInterval = .zero
        var bounded = CoordinatorSettings(maxRunningLeads: 1)
        bounded.maxHeldPendingStates = 1
        for (settings, expected) in [(eager, ["lead-1", "lead-2"] as [LeadID]), (bounded, ["lead-2"])] {
            var core = Core(settings: settings, topics: Topics(), logger: Logger(service: "test", level: .error), now: { [clock] in clock.now })
            _ = discover(lead("lead-0", source: .intentSearch), &core)
            let written = pendingStates(discover(lead("lead-1", source: .csvImport), &core) + discover(lead("lead-2", source: .csvImport), &core))
            XCTAssertEqual(written.map(\.leadID), expected)
        }
    }
}
