import Foundation
import LeadModel
import LeadRules
import Runtime
import Streaming

/// Settings of the coordinator beyond ``PipelineEnvironment``.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `PHASE_TIMEOUT_SECONDS` | profile 120, activity 120, scoring 60, finalize 30 | one value for every phase's attempt timeout |
/// | `PHASE_MAX_ATTEMPTS` | 3 | attempts per phase before it is skipped |
/// | `RETRY_BACKOFF_SECONDS` | 5 | backoff before the second attempt; doubles, ±20 % jitter, up to 300 s (the most it may be set to) |
/// | `PRIORITY_RETRY_BACKOFF_SECONDS` | 0.5 | the same for priority leads (intent sources, manual re-enrich), at most `RETRY_BACKOFF_SECONDS`; their retries go to the priority topics |
/// | `COORDINATOR_MAX_RUNNING_LEADS` | 2000 | running leads (pending or processing) per instance before standard leads wait in `leads.backlog`; at twice as many, intent leads wait unread in `leads.discovered` and its priority twin |
/// | `COORDINATOR_MAX_WAITING_LEADS` | 10000 | leads held waiting on billing or the outreach window per instance; past it a lead that would wait is queued, and parked in the backlog |
/// | `COORDINATOR_MAX_PARKED_LEADS` | 50000 | backlog records parked per instance (``maxParkedLeads``); at it the backlog and `leads.discovered` wait on the broker |
/// | `COORDINATOR_POLL_BATCH` | 500 | records handled per loop (one acknowledgement wait each); smaller holds less memory at once |
/// | `COORDINATOR_CONFIGURATION_WAIT_SECONDS` | 30 | how long a lead whose account or offer is not known yet waits for it before it is dead-lettered; 0: at once |
/// | `PROGRESS_RETENTION_DAYS` | 7 | 0 to 3650 (decimals allowed): how long a search with a declared total and no lead in flight is kept after its last change before its progress is forgotten (tombstones on `progress`, `progress.account-parts` and `progress.parts`; its account stops counting it); 0: kept for ever |
/// | `COORDINATOR_STATE_WRITE_INTERVAL_SECONDS` | 5 | how often a running lead's state record is written (its changes in between make one record); a crash replays the inputs since; 0: every change |
public struct CoordinatorSettings: Sendable {
    public var machine: LeadStateMachine.Configuration
    /// Leads pending or processing at once per instance before backlog records wait. Intent
    /// leads and leads resumed from billing pause or the outreach window are not held back by
    /// it; intent leads wait unread on the broker at ``maxRunningWithIntent``.
    public var maxRunningLeads: Int
    /// Leads pending or processing at once per instance, intent leads among them, before
    /// `leads.discovered` and its priority twin are paused: twice ``maxRunningLeads``. A running lead is held
    /// whole (a burst of 19,500 intent leads took the coordinator to 290 MB before this bound).
    public var maxRunningWithIntent: Int { maxRunningLeads * 2 }
    /// Leads waiting on billing or the outreach window (held in memory) at once per instance: a
    /// paused account with a large backlog must not pull all of it into memory, nor may intent
    /// leads of an account outside its outreach window. At the bound a lead that would wait is
    /// left on the broker, pending: a new one is queued in the backlog, a backlog record of one
    /// is parked (skipped, its offset held uncommitted, read again when its account's gates
    /// open; ``maxParkedLeads``). Other accounts' leads go on.
    public var maxWaitingLeads: Int
    /// librdkafka properties for the coordinator's consumers (tests shorten session timeouts).
    public var consumerProperties: [String: String]
    /// Records handled per loop: a record waits for at most one loop of others, so smaller
    /// batches answer sooner; each loop also waits once for the broker's acknowledgement.
    public var pollBatch: Int
    /// How long a lead whose account or offer is not in the tables yet waits for it (the
    /// configuration may be published just after the lead) before it goes to dead letters.
    public var configurationWait: Duration
    /// Leads waiting for their configuration at once per instance; more go to dead letters at once.
    public var maxAwaitingConfiguration = 1000
    /// Queued leads whose pending state is held at once per instance (``stateWriteInterval``); a
    /// lead queued beyond has its pending state written at once. Each holds its discovery, a few
    /// hundred bytes.
    public var maxHeldPendingStates = 10_000
    /// Backlog records of gated accounts skipped at ``maxWaitingLeads`` and held uncommitted
    /// (parked), per instance (`COORDINATOR_MAX_PARKED_LEADS`): each costs its lead id, account
    /// and offset, about 460 bytes (measured with 41-character lead ids: 46 MB for 100,000). At
    /// the bound the backlog and `leads.discovered` wait on the broker, as they did at the
    /// waiting bound before parking.
    public var maxParkedLeads = 50_000
    /// How often the states of processing leads are written: a running lead's changes in between
    /// make one `lead.state` record, not one per phase. Input offsets are stored only as far as
    /// the written states reach, so a crash replays what came after (the same requests again,
    /// answered again; duplicate answers change nothing). A state of any other status (ready,
    /// waiting on a gate, failed) is written at once, so a run shorter than the interval writes
    /// only its ready state. A queued lead's pending state is written once it has waited this
    /// long (its backlog record keeps it; the state is what `leadctl show` reads), so a lead
    /// that leaves the backlog sooner writes none. Zero writes every change. Five seconds: a
    /// replay after a crash costs up to that many seconds of requests again, against one state
    /// record a run (Kafka Streams commits its at-least-once stores every 30 s by default).
    public var stateWriteInterval: Duration = .seconds(5)
    /// How long, after SIGTERM, the coordinator waits for the broker to take its last batch and
    /// held states: as a stage drains (``StageRunnerSettings/drainTimeout(environment:)``, 8 s of
    /// `SHUTDOWN_TIMEOUT_SECONDS`' 10). A broker away longer has them given up, their inputs
    /// uncommitted, so the next owner handles them again, as after a crash.
    public var shutdownGrace: Duration = .seconds(8)
    /// How long a finished search's progress is kept after its last change
    /// (`PROGRESS_RETENTION_DAYS`, default 7; 0 keeps it for ever): then its snapshot, account
    /// parts and parts get tombstones and leave the tracker's and the coordinator's memory
    /// (``ProgressRetention``).
    var progressRetention = ProgressRetention(days: 7)

    public init(machine: LeadStateMachine.Configuration = .init(), maxRunningLeads: Int = 2000, maxWaitingLeads: Int = 10_000,
                consumerProperties: [String: String] = [:], pollBatch: Int = 500, configurationWait: Duration = .seconds(30)) {
        self.machine = machine
        self.configurationWait = configurationWait
        self.maxRunningLeads = maxRunningLeads
        self.maxWaitingLeads = maxWaitingLeads
        self.consumerProperties = consumerProperties
        self.pollBatch = pollBatch
    }

    public init(environment: [String: String]) throws {
        let reader = EnvironmentReader(environment)
        var machine = LeadStateMachine.Configuration()
        if reader.isSet("PHASE_TIMEOUT_SECONDS") {
            let seconds = try PipelineEnvironment.decimal(environment, "PHASE_TIMEOUT_SECONDS", default: 60, range: 0.1...86_400)
            machine.phaseTimeouts = Dictionary(uniqueKeysWithValues: Phase.allCases.map { ($0, seconds) })
        }
        machine.maxAttempts = try PipelineEnvironment.integer(environment, "PHASE_MAX_ATTEMPTS", default: machine.maxAttempts, range: 1...100)
        // At most the longest backoff: a larger base would be cut to it, unsaid.
        let backoffs = 0...machine.backoffMax
        machine.backoffBase = try PipelineEnvironment.decimal(environment, "RETRY_BACKOFF_SECONDS", default: machine.backoffBase, range: backoffs)
        machine.priorityBackoffBase = try PipelineEnvironment.decimal(
            environment, "PRIORITY_RETRY_BACKOFF_SECONDS", default: machine.priorityBackoffBase, range: backoffs)
        // At most the standard backoff: set above it, it is an error; left to its default, the
        // state machine holds it at the standard one.
        if reader.isSet("PRIORITY_RETRY_BACKOFF_SECONDS") && machine.priorityBackoffBase > machine.backoffBase {
            throw ConfigurationError(variable: "PRIORITY_RETRY_BACKOFF_SECONDS",
                                     problem: "\(machine.priorityBackoffBase) is above RETRY_BACKOFF_SECONDS (\(machine.backoffBase))")
        }
        let maxRunning = try PipelineEnvironment.integer(environment, "COORDINATOR_MAX_RUNNING_LEADS", default: 2000, range: 1...10_000_000)
        let pollBatch = try PipelineEnvironment.integer(environment, "COORDINATOR_POLL_BATCH", default: 500, range: 1...100_000)
        let maxWaiting = try PipelineEnvironment.integer(environment, "COORDINATOR_MAX_WAITING_LEADS", default: 10_000, range: 1...10_000_000)
        let wait = try PipelineEnvironment.decimal(environment, "COORDINATOR_CONFIGURATION_WAIT_SECONDS", default: 30, range: 0...3_600)
        self.init(machine: machine, maxRunningLeads: maxRunning, maxWaitingLeads: maxWaiting, pollBatch: pollBatch,
                  configurationWait: .milliseconds(Int64(wait * 1000)))
        let writeInterval = try PipelineEnvironment.decimal(environment, "COORDINATOR_STATE_WRITE_INTERVAL_SECONDS", default: 5, range: 0...60)
        stateWriteInterval = .milliseconds(Int64(writeInterval * 1000))
        maxParkedLeads = try PipelineEnvironment.integer(environment, "COORDINATOR_MAX_PARKED_LEADS", default: 50_000, range: 1...10_000_000)
        shutdownGrace = try StageRunnerSettings.drainTimeout(environment: environment)
        progressRetention = ProgressRetention(days: try PipelineEnvironment.decimal(environment, "PROGRESS_RETENTION_DAYS", default: 7,
                                                                                    range: 0...3_650))
    }
}
