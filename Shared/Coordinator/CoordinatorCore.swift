import Foundation
import JSONCodec
import LeadModel
import LeadRules
import Runtime
import Streaming

/// The account, offer, override and billing-event tables the coordinator's decisions read.
/// The service answers from the compacted topics it follows; tests from dictionaries.
protocol CoordinatorTables {
    func account(_ id: AccountID) -> AccountConfig?
    func offer(_ id: OfferID) -> OfferConfig?
    /// Why the accounts table skipped the account's latest record, if it did (``KafkaTable/refusal(of:)``).
    func accountRefusal(_ id: AccountID) -> String?
    /// Why the offers table skipped the offer's latest record, if it did.
    func offerRefusal(_ id: OfferID) -> String?
    func override(of leadID: LeadID) -> LeadOverride?
    func billingEvent(of accountID: AccountID) -> AccountBillingEvent?
}

extension CoordinatorTables {
    /// The account's billing state in force: its latest billing event's, else its
    /// configuration's (``BillingState/inForce(event:configuration:)``).
    func billingState(of accountID: AccountID) -> BillingState {
        BillingState.inForce(event: billingEvent(of: accountID), configuration: account(accountID))
    }
}

/// The coordinator's decisions, without Kafka: it holds the leads' state machines and turns
/// decoded inputs (a discovered lead, a phase result, a command, a web enrichment), timers and
/// the once-a-second gate check into effects, which the loop (``Coordinator``) encodes and sends.
///
/// `Source` is what an input came from (the consumer record in the service); the core only hands
/// it back in the effects that copy or dead-letter it. Time is read from the injected clock.
struct CoordinatorCore<Source> {
    /// What a decision asks the loop to write, in order.
    enum Effect {
        /// Messages of one lead, encoded with the batch (requests, its state, billing usage, pool entry).
        case messages(Coordinator.EncodeJob)
        /// The input goes to `dead.letters` with the reason.
        case deadLetter(Source, reason: String)
        /// The input is copied to `leads.backlog`, in its partition, with its run id.
        case queueInBacklog(Source, runID: RunID)
        /// The ``SearchMembership`` with this key, in this partition of `lead.state`, is deleted
        /// (its search counts the lead itself now).
        case removeMembership(key: String, partition: Int32)
        /// A backlog record of a lead of `account`, which waits on a gate, is skipped at the
        /// waiting bound: the loop keeps its offset uncommitted and hands the record back once
        /// the account's gates open (the lead stays pending). `paid`: the lead's mode has a paid
        /// phase, so a billing pause holds it too.
        case park(Source, account: AccountID, paid: Bool)
    }

    /// A new lead waiting for its account or offer to be published.
    struct AwaitingLead {
        let source: Source
        let lead: LeadDiscovered
        let runID: RunID
        let partition: Int32
        let fromBacklog: Bool
        /// Its pending state was written (it came from the backlog): a refusal removes it.
        let wrotePendingState: Bool
        /// Whether its first state may be held (false once it replaces a refused state).
        let holdsState: Bool
        let since: Date
    }

    /// Backlog records admitted in one loop so far.
    struct Admission {
        fileprivate var running: Int
        fileprivate var admitted = 0
        /// Partitions whose backlog records wait behind a held one.
        fileprivate var holding: Set<Int32> = []
    }

    /// Whether an input's owned partitions should be fetched (`leads.backlog`; `leads.discovered`
    /// and its priority twin).
    enum FetchFlow { case pause, resume, keep }

    let settings: CoordinatorSettings
    let topics: Topics
    let logger: Logger
    let now: @Sendable () -> Date

    /// Leads not ready (and ready ones touched by the current batch).
    var leads = Coordinator.LeadTable()
    /// Ready leads: where their last state is in the changelog.
    var finished = Coordinator.FinishedLeads()
    /// The leads of the backlog records held back at the bound (at most a poll batch): a ready one
    /// loaded back for its record (a re-enrich, a found profile) stays loaded, not retired to
    /// ``finished``, until the record is handled, so it is read from the changelog and the pool
    /// once, not in every loop until the bound clears. What is written and committed is as if it
    /// were loaded again.
    private(set) var keptForHeldRecords: Set<LeadID> = []
    /// Ready leads whose pool entry this version could not read, with the reason: their records
    /// that would change them are dead-lettered, not applied (a run started from the placeholder
    /// would replace the entry with an empty profile). Those of the loop's batch, and those of
    /// held backlog records (``keptForHeldRecords``) until the record is handled, so a held
    /// command's entry is read once, not in every loop until the bound clears, and the command
    /// is dead-lettered with the reason then.
    private(set) var unreadablePoolEntries: [LeadID: String] = [:]
    /// Ready leads whose state record could not be read back from the changelog (not found
    /// where ``finished`` says, or undecodable), with the reason: they stay ready where they
    /// were, and their commands are dead-lettered with it. Those of the loop's batch, and those of
    /// held backlog records until the record is handled, as ``unreadablePoolEntries``: a held
    /// command's lead is read once, not in every loop until the bound clears.
    private(set) var unreadableStates: [LeadID: String] = [:]
    /// Leads held by billing pause: checked against their account's billing state every second.
    var billingPaused: Set<LeadID> = []
    /// Leads waiting for their account's outreach window: checked against the account's window
    /// every second too, so a window widened to include now starts them (their timer is set for
    /// the opening the window gave when they began to wait).
    var outsideWindow: Set<LeadID> = []
    /// Leads queued in `leads.backlog` (their state: pending), with their partition. A lead
    /// discovered again while queued is not queued twice.
    var pendingLeads = Coordinator.QueuedLeads()
    /// Queued leads whose pending state is not written yet: the backlog record keeps a queued
    /// lead, and its state is only for `leadctl show`, so it is written once the lead has waited
    /// ``CoordinatorSettings/stateWriteInterval``, as a running lead's is. Most leads of a burst
    /// leave the backlog sooner and never write one. At most
    /// ``CoordinatorSettings/maxHeldPendingStates``, and none carrying a pool profile; those are
    /// written at once.
    private(set) var heldPending: [LeadID: HeldPending] = [:]
    /// Those leads in the order they were queued.
    private var heldPendingOrder = HoldOrder()
    /// Where each search's leads are, per owned partition.
    var progress = ProgressCounts()
    /// Leads refused at discovery, each with where it counts refused: one discovered again stops
    /// counting there (it runs, or is refused and counted anew). Refusals are exceptions, so the
    /// table stays small; a partition given up takes its own.
    var refusedLeads = Coordinator.DigestTable<ProgressCounts.Lead>(partitionOf: \.partition)
    /// The ``SearchMembership``s of the owned partitions (keyed by the membership's key, each
    /// with its partition): a lead found again by a search that already counts it is not counted
    /// twice.
    var memberships = Coordinator.DigestTable<Int32>()
    /// Backlog records parked now (``Effect/park(_:account:paid:)``), which the loop holds: counted
    /// against ``CoordinatorSettings/maxParkedLeads``.
    var parkedLeads = 0
    /// The leads of those records parked on their gates (not commands parked behind their lead,
    /// nor records handed back): pending leads that are not ahead of a new one.
    var leadsParkedOnGates = 0
    /// New leads whose account or offer is not known yet, waiting for it (bounded in number and
    /// time). The loop keeps its partition's committed offset at each one's input, so a crash
    /// replays it.
    var awaitingConfiguration: [LeadID: AwaitingLead] = [:]
    var timers = TimerQueue()
    /// A queued lead whose pending state is held: what makes the state, when it is written (its
    /// partition is the lead's in ``pendingLeads``).
    struct HeldPending {
        let lead: LeadDiscovered
        let runID: RunID
        let since: Date
    }
    /// A processing lead's latest state, not written yet, and since when it has been held.
    struct HeldState {
        var state: LeadState
        let since: Date
    }

    /// The latest states of processing leads, not written yet: a running lead's changes make one
    /// state record once it has been held for ``CoordinatorSettings/stateWriteInterval``
    /// (``writeHeldStates(heldSince:)``), so a lead whose run ends sooner writes only its ready
    /// state. The loop stores no input offset past a record whose change is held here, so a
    /// crash replays it. A state of any other status is written at once and replaces the held one.
    var unwrittenStates: [LeadID: HeldState] = [:]
    /// Those leads in the order they were first held.
    private var heldOrder = HoldOrder()
    /// Attempt timeouts due but held at the last firing, their results partition not read past
    /// the deadline yet (``fireDueTimers(_:resultsReadPast:)``).
    var heldTimeouts = 0
    /// How many attempts timed out in the last ``fireDueTimers(_:resultsReadPast:)``, by the
    /// lead's partition: the loop logs what it knew of those partitions' answers.
    var firedTimeouts: [Int32: Int] = [:]
    /// The same attempts by phase: counted with the phases' outcomes (`timed-out`), beside
    /// the results read.
    var timedOutPhases: [Phase: Int] = [:]

    init(settings: CoordinatorSettings, topics: Topics, logger: Logger, now: @escaping @Sendable () -> Date) {
        self.settings = settings
        self.topics = topics
        self.logger = logger
        self.now = now
    }

    // MARK: - Inputs

    /// A discovered lead (from `leads.discovered`, its priority twin or the backlog): nothing for
    /// a known lead; a dead letter for an offer of another account, for a configuration that
    /// refuses it, or that is still unknown after ``CoordinatorSettings/configurationWait``; a
    /// copy to the backlog and a pending state for a new standard lead not from the backlog,
    /// unless nothing is queued there and there is room (``hasRoomAhead(of:)``); otherwise its
    /// run starts.
    /// - Parameters:
    ///   - pendingStateWritten: the lead's pending state was written before it waited for its
    ///     configuration (``resolveAwaitingLeads(_:)``).
    ///   - holdsState: false for a lead that replaces a refused state, found before it waited.
    mutating func discovered(_ lead: LeadDiscovered, runID: RunID, partition: Int32, fromBacklog: Bool, source: Source,
                             pendingStateWritten: Bool = false, holdsState: Bool = true,
                             _ tables: some CoordinatorTables) -> [Effect] {
        let wasPending = fromBacklog && pendingLeads.remove(lead.leadID) != nil
        if wasPending {
            progress.move(.init(lead, partition: partition), from: .pending, to: nil)
        }
        let wrotePendingState = (wasPending && heldPending.removeValue(forKey: lead.leadID) == nil) || pendingStateWritten
        // A known lead discovered again starts nothing (a new run takes an explicit re-enrich);
        // a queued one is known too, even from an intent source: its backlog record starts it.
        guard !leads.contains(lead.leadID) && finished[lead.leadID] == nil && (fromBacklog || pendingLeads[lead.leadID] == nil)
        else { return joined(lead, partition: partition) }
        // A copy of a lead waiting for its configuration, its own still unknown, changes nothing
        // but another search's count.
        if awaitingConfiguration[lead.leadID] != nil && unknownConfiguration(of: lead, tables) != nil {
            return joined(lead, partition: partition)
        }
        // A lead refused before has its refused state in the changelog: the state that replaces
        // it is written at once, or a restore would count it refused while it is queued or runs.
        let holdsState = holdsState && refusedLeads[lead.leadID] == nil
        return countAnew(lead) + admit(lead, runID: runID, partition: partition, fromBacklog: fromBacklog, source: source,
                                       wrotePendingState: wrotePendingState, holdsState: holdsState, tables)
    }

    /// A lead not known here, about to be counted for its search (run, queued or refused),
    /// stops counting where it did: as already known in this search (its membership is deleted),
    /// and as refused. Refused for another search, that search counts it on, as already known
    /// (its refused state is about to be replaced).
    private mutating func countAnew(_ lead: LeadDiscovered) -> [Effect] {
        var effects: [Effect] = []
        let key = SearchMembership.key(leadID: lead.leadID, searchID: lead.sourceSearchID)
        if let partition = memberships.remove(LeadID(key)) {
            progress.move(.init(lead, partition: partition), from: .alreadyKnown, to: nil)
            effects.append(.removeMembership(key: key, partition: partition))
        }
        guard let refused = refusedLeads.remove(lead.leadID) else { return effects }
        progress.move(refused, from: .refused, to: nil)
        guard refused.searchID != lead.sourceSearchID else { return effects }
        return effects + membership(lead.leadID, of: refused, discoveredAt: lead.discoveredAt)
    }

    /// Whether the lead runs, is ready or is queued here.
    private func isKnown(_ leadID: LeadID) -> Bool {
        leads.contains(leadID) || finished[leadID] != nil || pendingLeads[leadID] != nil
    }

    /// A new lead, or one refused before, not known otherwise: refused, waiting for its
    /// configuration, queued, parked or started (``discovered(_:runID:partition:fromBacklog:source:pendingStateWritten:holdsState:_:)``).
    private mutating func admit(_ lead: LeadDiscovered, runID: RunID, partition: Int32, fromBacklog: Bool, source: Source,
                                wrotePendingState: Bool, holdsState: Bool, _ tables: some CoordinatorTables) -> [Effect] {
        func refuse(_ why: String) -> [Effect] {
            // Its refused state replaces a pending one.
            self.refuse(lead, runID: runID, partition: partition, source: source, reason: why)
        }
        if let problem = unknownConfiguration(of: lead, tables) {
            if awaitingConfiguration[lead.leadID] != nil { return [] }  // a copy of a waiting record
            if settings.configurationWait > .zero && awaitingConfiguration.count < settings.maxAwaitingConfiguration {
                logger.info("waiting for configuration: \(problem)", [LogKey.leadID: lead.leadID.rawValue])
                awaitingConfiguration[lead.leadID] = AwaitingLead(source: source, lead: lead, runID: runID, partition: partition,
                                                                  fromBacklog: fromBacklog, wrotePendingState: wrotePendingState,
                                                                  holdsState: holdsState,
                                                                  since: now())
                return []
            }
            return refuse(settings.configurationWait > .zero
                ? "\(problem) (\(settings.maxAwaitingConfiguration) leads already wait for theirs)" : problem)
        }
        if let offer = tables.offer(lead.offerID), offer.accountID != lead.accountID {
            // Charged to this account and scored against another customer's ICP and competitors.
            return refuse("offer '\(lead.offerID)' belongs to account '\(offer.accountID)', not to the lead's account '\(lead.accountID)'")
        }
        if let account = tables.account(lead.accountID), let why = lead.refusal(by: account) {
            return refuse(why)
        }
        // At the waiting bound a lead that would wait on a gate waits on the broker instead,
        // pending: a new one is queued in the backlog, one from the backlog is parked. Other
        // accounts' leads go on.
        let hasPaidPhase = leads.waiting >= settings.maxWaitingLeads ? lead.resolvedMode.phases.contains { $0.isPaid } : nil
        let parks = hasPaidPhase.map { Self.gates(for: lead.accountID, tables, at: now()).holdRun(hasPaidPhase: $0) } ?? false
        if parks, fromBacklog, let hasPaidPhase {
            pendingLeads[lead.leadID] = .init(partition: partition, origin: .init(lead.sourceSearchID))
            progress.move(.init(lead, partition: partition), from: nil, to: .pending)
            let written = wrotePendingState ? [] : [pendingStateRecord(HeldPending(lead: lead, runID: runID, since: now()))]
            return [.park(source, account: lead.accountID, paid: hasPaidPhase)] + written
        }
        if !fromBacklog && (parks || (!lead.source.isIntent && !hasRoomAhead(of: lead))) {
            pendingLeads[lead.leadID] = .init(partition: partition, origin: .init(lead.sourceSearchID))
            progress.move(.init(lead, partition: partition), from: nil, to: .pending)
            let held = HeldPending(lead: lead, runID: runID, since: now())
            // A lead carrying a pool profile (a pool match) is not held: the profile is kilobytes.
            guard settings.stateWriteInterval > .zero && heldPending.count < settings.maxHeldPendingStates
                    && lead.poolProfile == nil && holdsState else {
                return [.queueInBacklog(source, runID: runID), pendingStateRecord(held)]
            }
            heldPending[lead.leadID] = held
            heldPendingOrder.append(lead.leadID, since: held.since)
            return [.queueInBacklog(source, runID: runID)]
        }
        leads[lead.leadID] = Coordinator.LeadEntry(machine: LeadStateMachine(configuration: settings.machine), partition: partition)
        var effects: [Effect] = []
        apply(.discovered(lead, runID: runID, at: now()), to: lead.leadID, tables, &effects)
        if !holdsState, let held = unwrittenStates.removeValue(forKey: lead.leadID) {
            effects.append(stateRecord(held.state, of: lead.leadID))  // its entry in heldOrder is skipped once reached
        }
        return effects
    }

    /// A known lead, or one waiting for its configuration, found again: by another search than
    /// its own, one ``SearchMembership`` (once per search), which counts it there as already
    /// known; by its own, nothing.
    private mutating func joined(_ lead: LeadDiscovered, partition: Int32) -> [Effect] {
        guard let origin = origin(ofKnown: lead.leadID), origin != .init(lead.sourceSearchID) else { return [] }
        return membership(lead.leadID, of: .init(lead, partition: partition), discoveredAt: now())
    }

    /// Counts `leadID` as already known in `search` (its search, account and the lead's
    /// partition), with the record that counts it again at a restore; nothing if it counts there.
    private mutating func membership(_ leadID: LeadID, of search: ProgressCounts.Lead, discoveredAt: Date) -> [Effect] {
        let membership = SearchMembership(leadID: leadID, accountID: search.accountID, searchID: search.searchID,
                                          discoveredAt: discoveredAt)
        guard count(membership, partition: search.partition) else { return [] }
        var job = Coordinator.EncodeJob(leadID: leadID)
        job.append(.membership(membership), topic: topics.leadState, key: membership.key, partition: search.partition)
        return [.messages(job)]
    }

    /// The search a known lead (running, ready or queued), or one waiting for its
    /// configuration, was found by.
    private func origin(ofKnown leadID: LeadID) -> Coordinator.SearchOrigin? {
        if let search = leads.read(leadID, { $0.machine.state?.lead.sourceSearchID }) ?? nil { return .init(search) }
        return finished[leadID]?.origin ?? pendingLeads[leadID]?.origin
            ?? awaitingConfiguration[leadID].map { .init($0.lead.sourceSearchID) }
    }

    /// A membership read from the changelog: counted as the core counts one it writes.
    mutating func restoreMembership(_ membership: SearchMembership, partition: Int32) {
        _ = count(membership, partition: partition)
    }

    /// Counts `membership`'s lead as already known in its search, once: false when it counts there already.
    private mutating func count(_ membership: SearchMembership, partition: Int32) -> Bool {
        let key = LeadID(membership.key)
        guard memberships[key] == nil else { return false }
        memberships[key] = partition
        progress.move(.init(membership, partition: partition), from: nil, to: .alreadyKnown)
        return true
    }

    /// A published lead the codec refused, as far as it can be read (``LeadDiscovered/readableIdentity(in:at:)``):
    /// a lead not known here is refused as any other, so it counts refused for its search; a
    /// known lead published again wrongly is dead-lettered, its state left as it is, and counted
    /// as already known when the record is another search's; so is a lead waiting for its
    /// configuration.
    mutating func unreadable(_ lead: LeadDiscovered, runID: RunID, partition: Int32, source: Source, reason: String) -> [Effect] {
        let leadID = lead.leadID
        if isKnown(leadID) || awaitingConfiguration[leadID] != nil {
            return [.deadLetter(source, reason: reason)] + joined(lead, partition: partition)
        }
        return countAnew(lead) + refuse(lead, runID: runID, partition: partition, source: source, reason: reason)
    }

    /// A stage's answer, its payload unread; one for another run, phase or attempt, or for an
    /// unknown lead, changes nothing.
    /// - Parameter output: where the result record is, for the lead's changelog record.
    mutating func phaseResult(
        _ result: PhaseResultEnvelope, output: OutputReference? = nil, _ tables: some CoordinatorTables
    ) -> [Effect] {
        var effects: [Effect] = []
        apply(.phaseResult(result, at: now(), output: output), to: result.leadID, tables, &effects)
        return effects
    }

    /// A re-enrich request: a new run of a known lead (one whose run id is in its history starts
    /// nothing); for a lead not loaded, a copy to the backlog (the lead may wait there), or from
    /// the backlog a dead letter saying why (``whyNotApplied(_:to:_:)``).
    mutating func reEnrich(_ request: ReEnrichRequested, runID: RunID, fromBacklog: Bool, source: Source,
                           _ tables: some CoordinatorTables) -> [Effect] {
        guard leads.contains(request.leadID) else {
            return fromBacklog ? [.deadLetter(source, reason: whyNotApplied("re-enrich of", to: request.leadID, tables))]
                : [.queueInBacklog(source, runID: runID)]  // its lead may be waiting there
        }
        var effects: [Effect] = []
        apply(.reEnrich(.reEnrich(Set(request.types)), runID: runID, at: now()), to: request.leadID, tables, &effects)
        return effects
    }

    /// A ``ProfileFound`` command.
    ///
    /// - Lead not loaded: copied to the backlog when not read from there (the lead may wait
    ///   there); else a dead letter saying why (``whyNotApplied(_:to:_:)``), as is a record whose
    ///   key is not its lead id (`misaddressed`, the reason).
    /// - The lead already has a URL for the platform: nothing (a redelivered record, or discovery
    ///   knew the profile already).
    /// - Otherwise the URL is added to the lead and its profile. A ready lead gets a re-enrich run
    ///   of that platform, under `reEnrichRunID` (derived from the record's place, so a replay
    ///   asks for the same run). A lead still running keeps its run: the new state is persisted,
    ///   and the run's profile phase uses the URL if it has not been sent yet (waiting on billing
    ///   or the outreach window, or backing off); otherwise the state remembers the platform
    ///   (`foundDuringRun`) and a re-enrich run of it starts as soon as the run is ready (the
    ///   finder reads the pool entry the finalize stage writes before its result, so its answer
    ///   often comes before the run is ready).
    mutating func profileFound(_ found: ProfileFound, queueRunID: RunID, reEnrichRunID: RunID, fromBacklog: Bool,
                               misaddressed: String?, source: Source, _ tables: some CoordinatorTables) -> [Effect] {
        if !fromBacklog && !leads.contains(found.leadID) {
            return [.queueInBacklog(source, runID: queueRunID)]
        }
        if let misaddressed { return [.deadLetter(source, reason: misaddressed)] }
        guard leads.read(found.leadID, { $0.machine.state != nil }) == true else {
            return [.deadLetter(source, reason: whyNotApplied("profile found for", to: found.leadID, tables))]
        }
        var effects: [Effect] = []
        apply(.profileFound(found, reEnrichRunID: reEnrichRunID, at: now()), to: found.leadID, tables, &effects)
        return effects
    }

    /// Why a backlog command (`command`: "re-enrich of", "profile found for") cannot be applied
    /// to `leadID`, which is not loaded: the lead is ready but its state could not be read back
    /// (``unreadableStates``; replayed once it can be), it has not started because it waits for
    /// its configuration (``awaitingConfiguration``), or it is not known here.
    private func whyNotApplied(_ command: String, to leadID: LeadID, _ tables: some CoordinatorTables) -> String {
        if let reason = unreadableStates[leadID] {
            return "\(command) lead \(leadID), whose state cannot be read back from the changelog (\(reason)); "
                + "not applied: replay once it can be"
        }
        if let waiting = awaitingConfiguration[leadID], let problem = unknownConfiguration(of: waiting.lead, tables) {
            return "\(command) lead \(leadID), which has not started: it waits for its configuration (\(problem))"
        }
        return "\(command) unknown lead \(leadID)"
    }

    /// Merges a completed web enrichment of a lead into the lead's profile and persists it; a
    /// lead that is already ready gets its lead-pool entry rewritten with it (the same key on a
    /// compacted topic: an update, not a second finish).
    ///
    /// Enrichments keyed by search, refused or failed ones, and those of leads not held here
    /// change nothing: readers join them on their key.
    mutating func webEnrichment(_ enrichment: WebEnrichment, _ tables: some CoordinatorTables) -> [Effect] {
        guard let leadID = enrichment.leadID, leads.read(leadID, { $0.machine.state != nil }) == true else { return [] }
        var effects: [Effect] = []
        apply(.webEnrichment(enrichment, at: now()), to: leadID, tables, &effects)
        return effects
    }

    // MARK: - Time

    /// One state record for each lead still here whose state has been held since `cutoff` or
    /// before (``unwrittenStates``, ``heldPending``); with no cutoff, for every held lead.
    mutating func writeHeldStates(heldSince cutoff: Date? = nil) -> [Effect] {
        var effects = writeHeldPendingStates(heldSince: cutoff)
        for (leadID, since) in heldOrder.removeDue(heldSince: cutoff) {
            // A lead written (or held again) since this entry has a later one, or none.
            guard let held = unwrittenStates[leadID], held.since == since else { continue }
            unwrittenStates[leadID] = nil
            guard leads.contains(leadID) else { continue }
            effects.append(stateRecord(held.state, of: leadID))
        }
        return effects
    }

    /// The pending states of leads still queued and held since `cutoff` or before.
    private mutating func writeHeldPendingStates(heldSince cutoff: Date?) -> [Effect] {
        var effects: [Effect] = []
        for (leadID, since) in heldPendingOrder.removeDue(heldSince: cutoff) {
            // A lead that left the backlog (or whose partition went) since this entry has a later one, or none.
            guard let held = heldPending[leadID], held.since == since else { continue }
            heldPending[leadID] = nil
            if pendingLeads[leadID] != nil { effects.append(pendingStateRecord(held)) }
        }
        return effects
    }

    /// Refuses a lead at discovery: its dead letter, and its refused state (replacing a pending
    /// one), which keeps the reason for `leadctl show` and counts the lead refused for its
    /// search, so that the search completes without it.
    private mutating func refuse(_ lead: LeadDiscovered, runID: RunID, partition: Int32, source: Source, reason: String) -> [Effect] {
        countRefused(lead.leadID, .init(lead, partition: partition))
        return [.deadLetter(source, reason: reason),
                stateRecord(LeadStateMachine.refused(lead, runID: runID, reason: reason, at: now()), of: lead.leadID)]
    }

    /// A refused lead, refused here or read from the changelog: counted refused until it is
    /// discovered again.
    mutating func countRefused(_ leadID: LeadID, _ lead: ProgressCounts.Lead) {
        progress.move(lead, from: nil, to: .refused)
        refusedLeads[leadID] = lead
    }

    /// The changelog record of a queued lead: pending, as of when it was queued.
    private func pendingStateRecord(_ held: HeldPending) -> Effect {
        stateRecord(LeadStateMachine.queued(held.lead, runID: held.runID, at: held.since), of: held.lead.leadID)
    }

    /// Forgets the leads queued in `partitions`, which this instance gave up, with their pending
    /// states still held (their next owner shows those leads once it has read them from the backlog).
    mutating func forgetQueuedLeads(ofPartitions partitions: Set<Int32>) {
        pendingLeads.removeAll(inPartitions: partitions)
        heldPending = heldPending.filter { pendingLeads[$0.key] != nil }
    }

    /// The changelog record of a lead's held state.
    private func stateRecord(_ state: LeadState, of leadID: LeadID) -> Effect {
        var job = Coordinator.EncodeJob(leadID: leadID)
        job.append(.state(state), topic: topics.leadState, key: leadID.rawValue, isChangelog: true)
        return .messages(job)
    }

    /// One state record for each held lead of `partitions`, which this instance gives up: their
    /// next owner restores them from the changelog and replays only the inputs after them, so a
    /// change held here is not applied (and charged) a second time.
    mutating func writeHeldStates(ofPartitions partitions: Set<Int32>) -> [Effect] {
        var effects: [Effect] = []
        for (leadID, held) in heldPending where pendingLeads[leadID].map({ partitions.contains($0.partition) }) == true {
            heldPending[leadID] = nil
            effects.append(pendingStateRecord(held))
        }
        for (leadID, held) in unwrittenStates {
            guard let partition = leads.partition(of: leadID), partitions.contains(partition) else { continue }
            unwrittenStates[leadID] = nil  // its entry in heldOrder is skipped once reached
            effects.append(stateRecord(held.state, of: leadID))
        }
        return effects
    }

    /// Handles the waiting leads whose configuration has arrived, and dead-letters those that
    /// waited ``CoordinatorSettings/configurationWait`` in vain.
    mutating func resolveAwaitingLeads(_ tables: some CoordinatorTables) -> [Effect] {
        var effects: [Effect] = []
        for (leadID, waiting) in awaitingConfiguration {
            let problem = unknownConfiguration(of: waiting.lead, tables)
            if problem == nil {
                awaitingConfiguration[leadID] = nil
                effects += discovered(waiting.lead, runID: waiting.runID, partition: waiting.partition,
                                      fromBacklog: waiting.fromBacklog, source: waiting.source,
                                      pendingStateWritten: waiting.wrotePendingState, holdsState: waiting.holdsState, tables)
            } else if now().timeIntervalSince(waiting.since) >= settings.configurationWait.timeInterval, let problem {
                awaitingConfiguration[leadID] = nil
                let seconds = settings.configurationWait.components.seconds
                logger.warning("dead letter: \(problem), after waiting \(seconds) s", [LogKey.leadID: leadID.rawValue])
                let reason = "\(problem) (waited \(seconds) s)"
                if isKnown(leadID) {
                    // Started meanwhile for another search: its search counts it as already
                    // known, and its state is not replaced by a refusal.
                    effects += [.deadLetter(waiting.source, reason: reason)] + joined(waiting.lead, partition: waiting.partition)
                } else {
                    effects += countAnew(waiting.lead)
                        + refuse(waiting.lead, runID: waiting.runID, partition: waiting.partition, source: waiting.source, reason: reason)
                }
            }
        }
        return effects
    }

    /// Fires the attempt timeouts, retry backoffs and window openings that are due.
    ///
    /// An attempt's timeout fires only once this instance has read its lead's results partition
    /// past the deadline (`resultsReadPast(partition, deadline)`): a coordinator behind on its
    /// input (short of CPU, back from a broker outage, restoring after a restart) would otherwise
    /// time out attempts whose answers are already waiting to be read, and skip phases whose every
    /// attempt was answered. Such a timeout stays queued until the reading catches up.
    mutating func fireDueTimers(_ tables: some CoordinatorTables,
                                resultsReadPast: (Int32, Date) -> Bool = { _, _ in true }) -> [Effect] {
        var effects: [Effect] = []
        var held: [LeadStateMachine.Timer] = []
        firedTimeouts = [:]
        timedOutPhases = [:]
        for timer in timers.popDue(at: now()) {
            if timer.kind == .attemptTimeout, let partition = leads.partition(of: timer.key.leadID) {
                guard resultsReadPast(partition, timer.fireAt) else {
                    held.append(timer)
                    continue
                }
                if leads.read(timer.key.leadID, { $0.machine.isWaiting(on: timer) }) == true {
                    firedTimeouts[partition, default: 0] += 1
                    timedOutPhases[timer.key.phase, default: 0] += 1
                }
            }
            apply(.timerFired(timer, at: now()), to: timer.key.leadID, tables, &effects)
        }
        for timer in held { timers.schedule(timer) }
        heldTimeouts = held.count
        return effects
    }

    /// How long the loop may wait for records, in milliseconds, at most `cap`: until the next
    /// timer is due. A held timeout (``fireDueTimers(_:resultsReadPast:)``) stays due in the queue,
    /// but it cannot fire before more of its results partition is read, so it does not shorten
    /// the wait: the loop would otherwise poll with no wait, again and again, for as long as the
    /// reading lags (a broker outage, a restore). A timer that falls due meanwhile fires at most
    /// `cap` late.
    func pollWaitMilliseconds(cap: Int32) -> Int32 {
        guard let next = timers.nextFireAt else { return cap }
        let seconds = next.timeIntervalSince(now())
        if seconds <= 0 && heldTimeouts > 0 { return cap }
        // Clamped before converting: a timer days away must not overflow the milliseconds.
        return Int32(max(0, min(Double(cap), seconds * 1000)))
    }

    /// The broker did not answer from `start` for `duration`: every attempt whose timeout was
    /// still ahead at `start` gets that time back (its timeout moves later by `duration`), since
    /// neither its request nor its answer could travel meanwhile. Returns how many moved. The
    /// lead's state keeps the first deadline: a restore gives the attempt a whole timeout
    /// (``restore(_:partition:)``).
    mutating func brokerWasAway(from start: Date, for duration: TimeInterval) -> Int {
        timers.postponeAttemptTimeouts(dueAfter: start, by: duration)
    }

    /// Takes on a running lead read back from the changelog (a partition just assigned): its
    /// machine, its place among the billing-paused, and its timers. A lead outside its outreach
    /// window is checked again at once (the window may have opened while no one owned it).
    ///
    /// An attempt in flight gets a whole timeout from now, unless its deadline is later: the
    /// state keeps the deadline its request was sent with, and the owner that sent it may have
    /// moved it since (a broker outage, ``brokerWasAway(from:for:)``) or stalled before it went;
    /// its answer can come after that deadline. A stage that truly never answers is found one
    /// timeout later than it would have been.
    ///
    /// - Parameter chargesSent: every charge of `leadState` is known acknowledged
    ///   (``ChargesKnownSent``): a repeated answer sends none again.
    mutating func restore(_ leadState: LeadState, partition: Int32, chargesSent: Bool = false) {
        let leadID = leadState.leadID
        let machine = LeadStateMachine(configuration: settings.machine, restoring: leadState, chargesSent: chargesSent)
        leads[leadID] = Coordinator.LeadEntry(machine: machine, partition: partition)
        noteWaiting(leadID, leadState.status)
        if leadState.status == .outsideOutreachWindow {
            let key = PhaseAttemptKey(leadID: leadID, runID: leadState.runID, phase: leadState.currentPhase ?? .finalize, attempt: 0)
            timers.schedule(.init(key: key, kind: .windowOpens, fireAt: now()))
        }
        if let inFlight = leadState.inFlight {
            let key = PhaseAttemptKey(leadID: leadID, runID: leadState.runID, phase: inFlight.phase, attempt: inFlight.attempt)
            if inFlight.isBackingOff {
                timers.schedule(.init(key: key, kind: .retryBackoff, fireAt: inFlight.deadline))
            } else {
                let whole = now().addingTimeInterval(settings.machine.timeout(for: inFlight.phase))
                timers.schedule(.init(key: key, kind: .attemptTimeout, fireAt: max(inFlight.deadline, whole)))
            }
        }
    }

    /// Keeps `leadID` among the leads ``checkGates(_:)`` looks at for its `status`, and only there.
    private mutating func noteWaiting(_ leadID: LeadID, _ status: LeadStatus) {
        if status == .billingPaused { billingPaused.insert(leadID) } else { billingPaused.remove(leadID) }
        if status == .outsideOutreachWindow { outsideWindow.insert(leadID) } else { outsideWindow.remove(leadID) }
    }

    /// Continues leads held by billing pause whose account has resumed (an `active` billing
    /// event, or for an account without events its configuration) and leads waiting for an
    /// outreach window that is open now (it was changed), and drops the timers no lead waits on
    /// (answered attempts); the loop calls it every second.
    mutating func checkGates(_ tables: some CoordinatorTables) -> [Effect] {
        var effects: [Effect] = []
        continueLeads(in: \.billingPaused, tables, &effects) { accountID, isAtFinalize in
            // A retry of finalize waits out a pause only while the account's autopilot is on.
            tables.billingState(of: accountID) != .paused || (isAtFinalize && tables.account(accountID)?.autopilot?.isEnabled != true)
        }
        let at = now()
        continueLeads(in: \.outsideWindow, tables, &effects) { accountID, _ in
            tables.account(accountID)?.outreachWindow?.contains(at) ?? true
        }
        let leads = leads
        timers.removeAll { timer in leads.read(timer.key.leadID) { $0.machine.isWaiting(on: timer) } != true }
        return effects
    }

    /// What a waiting lead's gate is asked for: its account, and whether it waits before finalize.
    private struct WaitingGate: Hashable {
        let accountID: AccountID
        let isAtFinalize: Bool
    }

    /// Tells each lead of the set at `waiting` whose account's gate `isOpen` says is open (for a
    /// lead waiting before finalize or not) that its gates changed, asking once per account and
    /// kind, and drops leads no longer held.
    private mutating func continueLeads(in waiting: WritableKeyPath<Self, Set<LeadID>>, _ tables: some CoordinatorTables,
                                        _ effects: inout [Effect], isOpen: (AccountID, _ isAtFinalize: Bool) -> Bool) {
        var open: [WaitingGate: Bool] = [:]
        for leadID in self[keyPath: waiting] {
            guard let gate = leads.read(leadID, { entry in
                entry.machine.state.map { WaitingGate(accountID: $0.lead.accountID, isAtFinalize: $0.currentPhase == .finalize) }
            }) ?? nil else {
                self[keyPath: waiting].remove(leadID)
                continue
            }
            let isOpen = open[gate] ?? isOpen(gate.accountID, gate.isAtFinalize)
            open[gate] = isOpen
            if isOpen { apply(.gatesChanged(at: now()), to: leadID, tables, &effects) }
        }
    }

    // MARK: - Admission

    /// Whether a new standard lead may start at once instead of queueing in the backlog: no lead
    /// is queued there (it would overtake them), and both bounds have room. Most leads of a
    /// pipeline that keeps up take this way and cost no backlog record and no pending state.
    private func hasRoomAhead(of lead: LeadDiscovered) -> Bool {
        // Leads parked on their gates (pending too) cannot run: they are not ahead of it.
        pendingLeads.count <= leadsParkedOnGates && !isAtABound(running: leads.running)
    }

    /// Whether `running` leads, or the backlog records parked now, are at their bound. (The
    /// waiting bound parks leads that would wait, one by one: ``discovered(_:runID:partition:fromBacklog:source:_:)``.)
    private func isAtABound(running: Int) -> Bool {
        running >= settings.maxRunningLeads || parkedLeads >= settings.maxParkedLeads
    }

    /// Starts counting one loop's admissions from the leads running now.
    var admission: Admission { Admission(running: leads.running) }

    /// Whether a backlog record of `partition` may be handled now: fewer than
    /// ``CoordinatorSettings/maxRunningLeads`` running (counting those admitted this loop), fewer
    /// than ``CoordinatorSettings/maxParkedLeads`` parked, fewer than
    /// ``Coordinator/admissionsPerLoop`` admitted this loop, and no earlier record of the
    /// partition held back (a partition's records wait in order behind the first held one). (A
    /// record that is parked gives its admission back: ``refund(_:)``.)
    func admits(partition: Int32, _ admission: inout Admission) -> Bool {
        if isAtABound(running: admission.running)
            || admission.admitted >= Coordinator.admissionsPerLoop || admission.holding.contains(partition) {
            admission.holding.insert(partition)
            return false
        }
        admission.running += 1
        admission.admitted += 1
        return true
    }

    /// Gives back the admission of a backlog record that started no lead (it was parked), so a
    /// large paused import behind others' leads does not use up the loop's admissions.
    func refund(_ admission: inout Admission) {
        admission.running -= 1
        admission.admitted -= 1
    }

    /// Keeps the leads of the backlog records held back this loop (``admits(partition:_:)``) in
    /// ``keptForHeldRecords``, with their unreadable pool entries and states
    /// (``unreadablePoolEntries``, ``unreadableStates``; the rest are forgotten), and returns the
    /// leads kept before whose records are no longer held (handled, or their partition given
    /// up): the loop retires those still ready with its batch.
    mutating func keepLoaded(forHeld leadIDs: Set<LeadID>) -> Set<LeadID> {
        let released = keptForHeldRecords.subtracting(leadIDs)
        keptForHeldRecords = leadIDs
        unreadablePoolEntries = unreadablePoolEntries.filter { leadIDs.contains($0.key) }
        unreadableStates = unreadableStates.filter { leadIDs.contains($0.key) }
        return released
    }

    /// Whether a record of `leadID` that may change a ready lead needs the lead read back (its
    /// state from the changelog, its profile from the pool) before it is handled: a ready lead
    /// whose state or entry was not found unreadable already (``unreadableStates``,
    /// ``unreadablePoolEntries``). A late result (`isResult`) needs it whatever was found: a
    /// finalize answer that wrote the entry again further on is read without the profile, and
    /// the lead's state must learn where that is.
    func needsLoading(_ leadID: LeadID, isResult: Bool = false) -> Bool {
        finished[leadID] != nil && (isResult || (unreadablePoolEntries[leadID] == nil && unreadableStates[leadID] == nil))
    }

    /// Notes that the ready lead's state record cannot be read back, and why (``unreadableStates``).
    mutating func stateUnreadable(_ leadID: LeadID, reason: String) {
        unreadableStates[leadID] = reason
    }

    /// Notes that the ready lead's pool entry cannot be read (``unreadablePoolEntries``).
    mutating func poolEntryUnreadable(_ leadID: LeadID, reason: String) {
        unreadablePoolEntries[leadID] = reason
    }

    /// Reduces the ready leads among `leadIDs` to where their last state is in the changelog
    /// (``finished``), once that state is acknowledged (``LeadEntry/changelogOffset``); not those
    /// of held backlog records (``keptForHeldRecords``).
    /// - Parameter rewritten: leads with a newer state record not yet acknowledged (the next
    ///   batch's); they stay until that one is.
    mutating func retireReadyLeads(_ leadIDs: Set<LeadID>, rewritten: Set<LeadID> = []) {
        for leadID in leadIDs where !rewritten.contains(leadID) && !keptForHeldRecords.contains(leadID) {
            let ready = leads.read(leadID) { entry -> Coordinator.ChangelogPointer? in
                guard let state = entry.machine.state, state.status == .ready, let offset = entry.changelogOffset else { return nil }
                return Coordinator.ChangelogPointer(partition: entry.partition, origin: .init(state.lead.sourceSearchID), offset: offset)
            }
            guard let pointer = ready else { continue }
            leads[leadID] = nil
            finished[leadID] = pointer
        }
    }

    /// Pause the backlog at either bound (or while records are held back); resume once running
    /// leads are at three quarters of their bound and parked records below theirs. (Parked
    /// records leave only when their account's gates open, all at once: three quarters of their
    /// bound would keep a pause for any reason until then.)
    func backlogFlow(holdingRecords: Bool) -> FetchFlow {
        let running = leads.running
        if isAtABound(running: running) || holdingRecords { return .pause }
        if running <= settings.maxRunningLeads * 3 / 4 { return .resume }
        return .keep
    }

    /// Whether a record of `topic`, with schema header `schema`, can change a ready lead, so that
    /// the lead's state must be loaded back from the changelog first: a web enrichment, a
    /// re-enrich, a found profile, or a record of no schema (to be safe). A repeated discovery
    /// changes nothing; a phase result only as ``resultConcernsAReadyLead(_:)`` says.
    static func changesAReadyLead(topic: String, schema: String?, topics: Topics) -> Bool {
        topic == topics.webEnrichments || (schema != LeadDiscovered.schemaName && schema != PhaseResult.schemaName)
    }

    /// Whether a late or repeated `result` of a ready lead may send a record again
    /// (``LeadStateMachine``'s guarantees), so that the lead must be loaded: a completed answer
    /// that charged (its billing record is sent again), or a finalize answer that wrote an entry
    /// (a superseded run's may have to be written over; the run's own, written again further on,
    /// is the one the state names from then on, ``LeadStateMachine/followsEntry(_:state:)``).
    static func resultConcernsAReadyLead(_ result: PhaseResultEnvelope) -> Bool {
        guard case .completed = result.outcome else { return false }
        return result.charges.contains { $0.units > 0 } || (result.phase == .finalize && result.poolEntry != nil)
    }

    /// Pause `lead.commands` at ``CoordinatorSettings/maxRunningWithIntent`` running leads;
    /// resume at three quarters. A re-enrich or a found profile starts a run of a ready lead,
    /// held whole like a new one; parked records (another account's paused backlog) do not stop
    /// them, as they stop `leads.discovered`.
    func commandsFlow() -> FetchFlow {
        let (running, ceiling) = (leads.running, settings.maxRunningWithIntent)
        if running >= ceiling { return .pause }
        if running <= ceiling * 3 / 4 { return .resume }
        return .keep
    }

    /// Pause `leads.discovered` and its priority twin at ``CoordinatorSettings/maxRunningWithIntent``
    /// running leads, or at ``CoordinatorSettings/maxParkedLeads`` parked records; resume once
    /// running leads are at three quarters of their bound and parked records below theirs
    /// (``commandsFlow()`` below that bound). Intent leads start at once, past the bound that
    /// queues standard ones, but a burst of them waits on the broker, unread and ahead of the
    /// backlog, rather than in memory: a running lead is held whole. Past the waiting bound a
    /// lead that would wait (an intent lead of an account outside its window would wait all
    /// night) is queued in the backlog instead, so the waiting bound stops no other account's
    /// leads. (Standard leads arriving at a pause would only be copied to the backlog, so they
    /// lose nothing by waiting unread.)
    func discoveryFlow() -> FetchFlow {
        parkedLeads >= settings.maxParkedLeads ? .pause : commandsFlow()
    }

    // MARK: - Decisions

    /// Why a new lead cannot run: its account or offer is unknown (the tables were read up to
    /// where they were when the lead's batch was polled, so one written before it is known), or
    /// its configuration was published but refused when read (an offer's list beyond the bounds
    /// readers take, an account's window in a time zone that does not exist, say), which the
    /// reason says with the refusal (``ConfigurationRefusal``).
    func unknownConfiguration(of lead: LeadDiscovered, _ tables: some CoordinatorTables) -> String? {
        if tables.account(lead.accountID) == nil {
            if let refusal = tables.accountRefusal(lead.accountID) {
                return ConfigurationRefusal.account(lead.accountID, refusal: refusal)
            }
            return "unknown account '\(lead.accountID)': publish its configuration first (leadctl account put)"
        }
        if tables.offer(lead.offerID) == nil {
            if let refusal = tables.offerRefusal(lead.offerID) { return ConfigurationRefusal.offer(lead.offerID, refusal: refusal) }
            return "unknown offer '\(lead.offerID)': publish its configuration first (leadctl offer put)"
        }
        return nil
    }

    /// What the lead's account allows now: billing by the account's latest billing event (else
    /// its configuration), the outreach window and whether autopilot is on by its configuration.
    static func gates(for accountID: AccountID, _ tables: some CoordinatorTables, at now: Date) -> LeadStateMachine.Gates {
        let isBillingPaused = tables.billingState(of: accountID) == .paused
        let account = tables.account(accountID)
        let isAutopilotOn = account?.autopilot?.isEnabled ?? false
        guard let window = account?.outreachWindow else {
            return LeadStateMachine.Gates(isBillingPaused: isBillingPaused, isAutopilotOn: isAutopilotOn)
        }
        let opensAt = window.nextOpening(after: now)
        return LeadStateMachine.Gates(isBillingPaused: isBillingPaused, windowOpensAt: opensAt.flatMap { $0 > now ? $0 : nil },
                                      isAutopilotOn: isAutopilotOn)
    }

    /// Hands `event` to the lead's machine and turns its actions into effects, timers, the
    /// billing-paused set and progress counts.
    private mutating func apply(_ event: LeadStateMachine.Event, to leadID: LeadID, _ tables: some CoordinatorTables,
                                _ effects: inout [Effect]) {
        let now = now
        let handled = leads.modify(leadID) { entry in
            // What is read of the state before the event, field by field: a copy of the state
            // would retain all of it.
            var bucketBefore: ProgressCounts.Bucket?
            if let status = entry.machine.state?.status {
                bucketBefore = ProgressCounts.Bucket(status: status, phase: entry.machine.state?.currentPhase)
            }
            let accountID: AccountID?
            if let known = entry.machine.state?.lead.accountID { accountID = known } else if case .discovered(let lead, _, _) = event {
                accountID = lead.accountID
            } else {
                accountID = nil
            }
            let gates = accountID.map { Self.gates(for: $0, tables, at: now()) } ?? .open
            return (bucketBefore, entry.machine.handle(event, gates: gates, override: tables.override(of: leadID)))
        }
        guard let (bucketBefore, actions) = handled else {
            // A result or timer for a lead this instance does not know: stale, or owned elsewhere.
            logger.debug("no state for lead", [LogKey.leadID: leadID.rawValue])
            return
        }
        guard !actions.isEmpty else { return }
        var job = Coordinator.EncodeJob(leadID: leadID, capacity: actions.count)
        for action in actions {
            switch action {
            case .sendPhaseRequest(let request):
                job.append(.request(request), topic: topics.phaseRequests(request.phase, isPriority: request.isPriority), key: request.leadID.rawValue)
            case .scheduleTimer(let timer):
                timers.schedule(timer)
            case .recordBilling(let usage):
                job.append(.usage(usage), topic: topics.billingUsage, key: usage.accountID.rawValue)
            case .recordHistory:
                break  // the history is part of the persisted state
            case .writePoolEntry(let entry, let runID):
                // Named by its run, as the finalize stage's entries are.
                job.append(.poolEntry(entry), topic: topics.leadPool, key: leadID.rawValue, runID: runID)
            case .markReady(let lead, let runID):
                // The finalize stage wrote the run's pool entry before its result.
                logger.debug("ready", [LogKey.leadID: lead.rawValue, LogKey.runID: runID.rawValue])
            case .persist(let leadState):
                if settings.stateWriteInterval > .zero && leadState.status == .processing {
                    if unwrittenStates[leadID] != nil {
                        unwrittenStates[leadID]?.state = leadState
                    } else {
                        let since = now()
                        unwrittenStates[leadID] = HeldState(state: leadState, since: since)
                        heldOrder.append(leadID, since: since)
                    }
                } else {
                    unwrittenStates[leadID] = nil
                    job.append(.state(leadState), topic: topics.leadState, key: leadID.rawValue, isChangelog: true)
                }
                noteWaiting(leadID, leadState.status)
                if let partition = leads.partition(of: leadID) {
                    progress.move(.init(leadState.lead, partition: partition), from: bucketBefore, to: ProgressCounts.Bucket(leadState))
                }
            }
        }
        effects.append(.messages(job))
    }
}

extension Coordinator {
    struct LeadEntry {
        var machine: LeadStateMachine
        let partition: Int32
        /// Offset of the lead's last state record in `lead.state`, once acknowledged.
        var changelogOffset: Int64? = nil

        /// Pending or processing: counted against ``CoordinatorSettings/maxRunningLeads``.
        var isRunning: Bool {
            guard let status = machine.state?.status else { return true }
            return status == .pending || status == .processing
        }

        /// Waiting on billing or the outreach window: counted against ``CoordinatorSettings/maxWaitingLeads``.
        var isWaiting: Bool {
            machine.state?.status == .billingPaused || machine.state?.status == .outsideOutreachWindow
        }
    }

    /// The leads held whole, with counts of those running and waiting kept as they change
    /// (counting by iterating would copy every entry each poll).
    ///
    /// Each entry lives in a box of its own: the dictionary hands out values by copy, and a copy
    /// of an entry is a copy of the lead's whole state, so reads and changes go through the box.
    /// A table copied and then changed copies the boxes it changes (each box is copied on write),
    /// so tables stay values.
    struct LeadTable {
        private final class Box {
            var entry: LeadEntry
            init(_ entry: LeadEntry) { self.entry = entry }

            /// `body` given the entry in place: passing `entry` itself to a function copies it,
            /// since the box could change it meanwhile; an inout access excludes that.
            func read<R>(_ body: (LeadEntry) -> R) -> R { Self.lend(&entry, body) }

            private static func lend<R>(_ entry: inout LeadEntry, _ body: (LeadEntry) -> R) -> R { body(entry) }
        }

        private var entries: [LeadID: Box] = [:]
        /// Leads pending or processing.
        private(set) var running = 0
        /// Leads waiting on billing or the outreach window.
        private(set) var waiting = 0

        subscript(id: LeadID) -> LeadEntry? {
            get { entries[id]?.entry }
            set {
                if let old = entries.removeValue(forKey: id) { count(old, by: -1) }
                guard let newValue else { return }
                let box = Box(newValue)
                entries[id] = box
                count(box, by: 1)
            }
        }

        /// Lets `body` change the lead's entry in place (its state is not copied); nil when unknown.
        mutating func modify<R>(_ id: LeadID, _ body: (inout LeadEntry) -> R) -> R? {
            guard let index = entries.index(forKey: id) else { return nil }
            if !isKnownUniquelyReferenced(&entries.values[index]) {
                entries.values[index] = Box(entries.values[index].entry)  // shared with a copy of the table
            }
            let box = entries.values[index]
            count(box, by: -1)
            let result = body(&box.entry)
            count(box, by: 1)
            return result
        }

        /// Whether the lead is held.
        func contains(_ id: LeadID) -> Bool { entries[id] != nil }

        /// What `body` reads of the lead's entry, which is not copied (the subscript copies the
        /// whole entry, state and all); nil when the lead is unknown or `body` returns nil.
        func read<R>(_ id: LeadID, _ body: (LeadEntry) -> R?) -> R? {
            entries[id].flatMap { $0.read(body) }
        }

        /// The partition of the lead's input, when the lead is held.
        func partition(of id: LeadID) -> Int32? { read(id) { $0.partition } }

        mutating func removeAll(where shouldRemove: (LeadEntry) -> Bool) {
            for (id, box) in entries where box.read(shouldRemove) { self[id] = nil }
        }

        /// Adds `sign` (1 or -1) to the counts the entry is in.
        private mutating func count(_ box: Box, by sign: Int) {
            let (isRunning, isWaiting) = box.read { ($0.isRunning, $0.isWaiting) }
            if isRunning { running += sign }
            if isWaiting { waiting += sign }
        }

        /// Every entry, for reading.
        func forEach(_ body: (LeadEntry) -> Void) {
            for box in entries.values { box.read(body) }
        }
    }

    struct ChangelogPointer {
        let partition: Int32
        /// The search the lead was found by.
        let origin: SearchOrigin
        let offset: Int64
    }
}
