import Foundation
import Kafka
import LeadModel
import LeadRules
import Runtime
import Streaming
import Synchronization

/// Settings of the profile finder beyond ``Streaming/PipelineEnvironment``.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `PROFILE_FINDER_MIN_CONFIDENCE` | 0.8 | 0...1: a candidate is accepted at or above it (an account's `profileFinder.minimumConfidence` wins) |
/// | `PROFILE_FINDER_MAX_IN_FLIGHT` | 50 | pool entries handled at once (at most a vendor's rate per minute × `PROVIDER_MAX_WAIT_SECONDS` / 60) |
/// | `SIM_PROFILE_SEARCH_LATENCY_MS` | 300 | simulated search latency (times `SIM_LATENCY_SCALE`) |
/// | `POOL_MATCHING_ENABLED` | true | match the lead pool against each new offer (``OfferPoolMatching``) |
/// | `POOL_MATCH_MIN_FIT` | 60 (``LeadPoolMatcher``'s default) | 0...100: fit a pool profile needs to match an offer |
///
/// The runner's other settings (`STAGE_RECORD_TIMEOUT_SECONDS`, `STAGE_MAX_TIMED_OUT_HANDLERS`, `STAGE_ORDERING`,
/// `SHUTDOWN_TIMEOUT_SECONDS`) are the stages': ``Streaming/StageRunnerSettings/init(environment:maxInFlight:)``.
public struct ProfileFinderSettings: Sendable {
    /// Environment variable names this type reads.
    public enum Variable {
        /// Minimum confidence.
        public static let minimumConfidence = "PROFILE_FINDER_MIN_CONFIDENCE"
        /// In-flight bound.
        public static let maxInFlight = "PROFILE_FINDER_MAX_IN_FLIGHT"
        /// Simulated latency.
        public static let searchLatency = "SIM_PROFILE_SEARCH_LATENCY_MS"
        /// Pool matching of new offers on or off.
        public static let poolMatchingEnabled = "POOL_MATCHING_ENABLED"
        /// Minimum fit of a pool match.
        public static let poolMatchMinimumFit = "POOL_MATCH_MIN_FIT"
    }

    /// Confidence a candidate needs when the account sets none.
    public var minimumConfidence: Double
    /// The runner's bounds.
    public var runner: StageRunnerSettings
    /// Simulated search latency.
    public var searchLatency: Duration
    /// librdkafka properties for the group consumer (tests shorten timeouts).
    public var consumerProperties: [String: String]
    /// Whether new offers are matched against the lead pool.
    public var isPoolMatchingEnabled: Bool
    /// Fit (0-100) a pool profile needs to match an offer.
    public var poolMatchMinimumFit: Int

    /// Creates settings.
    public init(minimumConfidence: Double = 0.8, runner: StageRunnerSettings = StageRunnerSettings(maxInFlight: 50),
                searchLatency: Duration = .milliseconds(300), consumerProperties: [String: String] = [:],
                isPoolMatchingEnabled: Bool = true, poolMatchMinimumFit: Int = LeadPoolMatcher().minimumFit) {
        self.minimumConfidence = minimumConfidence
        self.isPoolMatchingEnabled = isPoolMatchingEnabled
        self.poolMatchMinimumFit = poolMatchMinimumFit
        self.runner = runner
        self.searchLatency = searchLatency
        self.consumerProperties = consumerProperties
    }

    /// Reads the settings; a wrong value fails with the variable's name.
    public init(environment: [String: String]) throws {
        let confidence = try PipelineEnvironment.decimal(environment, Variable.minimumConfidence, default: 0.8, range: 0...1)
        let inFlight = try PipelineEnvironment.integer(environment, Variable.maxInFlight, default: 50, range: 1...10_000)
        let latency = try PipelineEnvironment.integer(environment, Variable.searchLatency, default: 300, range: 0...600_000)
        let scale = try PipelineEnvironment.decimal(environment, "SIM_LATENCY_SCALE", default: 1, range: 0...100)
        let isPoolMatchingEnabled = try PipelineEnvironment.boolean(environment, Variable.poolMatchingEnabled, default: true)
        let minimumFit = try PipelineEnvironment.integer(environment, Variable.poolMatchMinimumFit,
                                                         default: LeadPoolMatcher().minimumFit, range: 0...100)
        let runner = try StageRunnerSettings(environment: environment, maxInFlight: inFlight)
        self.init(minimumConfidence: confidence, runner: runner,
                  searchLatency: .milliseconds(Int64((Double(latency) * scale).rounded())),
                  isPoolMatchingEnabled: isPoolMatchingEnabled, poolMatchMinimumFit: minimumFit)
    }
}

/// Decides, for one lead-pool entry, whether to search and what to publish. No Kafka.
public struct ProfileFinderHandler: Sendable {
    /// What happened to one pool entry.
    public enum Outcome: Hashable, Sendable {
        /// The account does not enable the finder (or is unknown).
        case disabled
        /// The lead has both URLs, or none.
        case notApplicable
        /// No candidate at or above the confidence needed (the best one's confidence, if any).
        case belowThreshold(best: Double?)
        /// A candidate was accepted.
        case found(ProfileFound)
        /// The search failed, for good or after ``ProfileFinderHandler/retryDelays`` tries again;
        /// nothing is published (the next ready of the lead tries again).
        case searchFailed(String)
        /// The entry's ``Runtime/GracefulShutdown`` began (the process began to stop, or the
        /// entry's partition is being revoked in a rebalance) while the search waited to be tried
        /// again, or the search was cancelled then: nothing is published, and the entry is not
        /// done (``Streaming/RecordOutputs/handedBack``), so its partition's next owner searches
        /// it, alone.
        case stopped
    }

    private let provider: any ProfileSearchProvider
    private let accounts: @Sendable (AccountID) -> AccountConfig?
    private let minimumConfidence: Double
    private let service: String
    /// The waits before each search tried again after a failure that may pass (a 429, a 5xx, a
    /// timeout): one more try per delay. A 429's `Retry-After` waits longer, up to ``maxRetryWait``.
    public var retryDelays: [Duration] { retry.delays }
    /// The longest wait before a search is tried again.
    public static let maxRetryWait = Duration.seconds(30)
    /// ``retryDelays``, and a longer `Retry-After` waited for at most ``maxRetryWait``
    /// (``RetryPolicy/LongerRetryAfter/waitTheMost``).
    private let retry: RetryPolicy
    /// The recent leads' answers, shared by the handler's copies.
    private let answered = AnsweredSearches()

    /// Creates a handler.
    /// - Parameters:
    ///   - accounts: the account table, read whole.
    ///   - minimumConfidence: used when the account's rule sets none.
    ///   - retryDelays: see ``retryDelays``.
    public init(provider: any ProfileSearchProvider, accounts: @escaping @Sendable (AccountID) -> AccountConfig?,
                minimumConfidence: Double, service: String, retryDelays: [Duration] = [.seconds(1), .seconds(5)]) {
        self.retry = RetryPolicy(delays: retryDelays, maxRetryAfter: Self.maxRetryWait, longerRetryAfter: .waitTheMost)
        self.provider = provider
        self.accounts = accounts
        self.minimumConfidence = minimumConfidence
        self.service = service
    }

    /// Searches for the missing platform's profile of `entry` when its account enables it.
    ///
    /// A lead's entry asked the same (query and threshold, of the same run) as before is answered as then, without
    /// a search (``AnsweredSearches``): the coordinator writes a ready lead's entry again with
    /// the same profile, when it merges a web enrichment or writes the current run's entry over
    /// a superseded run's, and the finalize stage writes a run's entry again, with a later
    /// finishedAt, when its request comes back after a crash or a rebalance. A found profile is
    /// published again, as for a redelivered entry.
    /// - Parameters:
    ///   - runID: the run whose entry it is (the record's ``MessageHeaders/runID`` header); nil
    ///     for a record without one.
    ///   - stop: the entry's shutdown (the record's, ``Streaming/StagedRecordHandler``: it
    ///     begins when the process stops or the entry's partition is being revoked); once begun,
    ///     a search is not waited for to be tried again (``Outcome/stopped``).
    ///
    /// A pool match (``LeadPoolMatcher/isMatch(_:offerID:)``) is not searched: its person is its
    /// pool lead's, searched under that lead's own entry; searching each match paid once more per
    /// matching offer, and a profile found re-enriched the copy as well.
    public func handle(_ entry: LeadPoolEntry, runID: RunID? = nil, now: Date,
                       stoppingOn stop: GracefulShutdown = GracefulShutdown()) async -> Outcome {
        guard let account = accounts(entry.accountID), let rule = account.profileFinder, rule.isEnabled else { return .disabled }
        guard !LeadPoolMatcher.isMatch(entry.leadID, offerID: entry.offerID), let query = ProfileFinding.query(for: entry) else {
            return .notApplicable
        }
        let threshold = rule.minimumConfidence ?? minimumConfidence
        let question = AnsweredSearches.Question(query: query, minimumConfidence: threshold,
                                                 run: runID.map { .id($0) } ?? .finishedAt(entry.finishedAt))
        if let answer = answered.answer(for: entry.leadID, to: question) { return answer }
        let candidates: [ProfileCandidate]
        switch await search(query, stoppingOn: stop) {
        case .success(let found): candidates = found
        case .failure(.failed(let reason)): return .searchFailed(reason)
        case .failure(.stopped): return .stopped
        }
        let outcome: Outcome
        if let best = ProfileFinding.accepted(candidates, platform: query.platform, minimumConfidence: threshold) {
            outcome = .found(ProfileFound(leadID: entry.leadID, platform: query.platform, url: best.url, confidence: best.confidence,
                                          foundBy: service, foundAt: now))
        } else {
            outcome = .belowThreshold(best: candidates.filter { $0.platform == query.platform }.map(\.confidence).max())
        }
        answered.keep(outcome, for: entry.leadID, to: question)
        return outcome
    }

    /// Why a search has no candidates.
    private enum SearchFailure: Error {
        /// It failed: the reason, as ``Outcome/searchFailed(_:)`` says it.
        case failed(String)
        /// The entry's shutdown began (``Outcome/stopped``).
        case stopped
    }

    /// The candidates of `query`, tried again after a retriable failure (``retryDelays``); the
    /// last failure's reason when none answered. A wait before another try ends when `stop`
    /// begins (or the task is cancelled), and the search is not tried again.
    private func search(_ query: ProfileQuery, stoppingOn stop: GracefulShutdown) async -> Result<[ProfileCandidate], SearchFailure> {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return .success(try await provider.search(query))
            } catch {
                // Handed back only once its shutdown began (the process stops, or the partition
                // moves): one handed back while the runner runs on with the partition would hold
                // its commit point (a provider's own cancel is a failure).
                if case .cancelled = error { return .failure(stop.hasBegun ? .stopped : .failed(error.description)) }
                // Seconds as the vendor said them, bounded before they become a Duration.
                let retryAfter: Duration? = if case .rateLimited(let seconds?) = error, seconds.isFinite, seconds > 0 {
                    .seconds(min(seconds, Self.maxRetryWait / .seconds(1)))
                } else {
                    nil
                }
                guard error.isRetriable, let wait = retry.wait(afterTry: attempt, retryAfter: retryAfter) else {
                    return .failure(.failed(attempt > 1 ? "\(error.description) (after \(attempt) attempts)" : error.description))
                }
                guard await stop.sleep(for: wait) else { return .failure(.stopped) }
            }
        }
    }
}

/// The answers of the latest searches, per lead and run (the last two): what was asked (the
/// query and the confidence threshold, for the entry's run) and what came of it (found, or nothing above the threshold; a failed search is not
/// kept, so the next entry tries again). Bounded: the older half is forgotten once the newer half
/// is full, so a lead written again long after its search is searched again. An entry written
/// again comes soon after the first (a web page fetched, a superseded run's late finalize); a
/// restart forgets everything, at the cost of one search per lead.
final class AnsweredSearches: Sendable {
    struct Question: Hashable {
        /// The run an entry is of: the same for an entry written again, another for a new run (a
        /// re-enrich), which searches again.
        enum Run: Hashable {
            /// The record's ``MessageHeaders/runID``.
            case id(RunID)
            /// For a record without that header, when the run finished. Not the same when the
            /// finalize stage writes the run's entry again: that write has its own time.
            case finishedAt(Date)
        }

        let query: ProfileQuery
        let minimumConfidence: Double
        let run: Run
    }

    /// A lead's latest answers, the latest last.
    typealias Kept = [(question: Question, outcome: ProfileFinderHandler.Outcome)]

    /// Answers kept per lead: its last two runs', so that a superseded run's entry written late
    /// between two entries of the current run costs no search for the current one.
    static let runsPerLead = 2

    private struct Answers {
        var newer: [LeadID: Kept] = [:]
        var older: [LeadID: Kept] = [:]
    }

    /// Leads remembered in each half.
    let halfCapacity: Int
    private let answers = Mutex(Answers())

    init(halfCapacity: Int = 10_000) {
        self.halfCapacity = halfCapacity
    }

    /// The answer kept for `lead` when it was asked `question`.
    func answer(for lead: LeadID, to question: Question) -> ProfileFinderHandler.Outcome? {
        answers.withLock { answers in
            (answers.newer[lead] ?? answers.older[lead])?.last { $0.question == question }?.outcome
        }
    }

    /// Keeps `outcome` as `lead`'s answer to `question`, beside its answer of one other run.
    func keep(_ outcome: ProfileFinderHandler.Outcome, for lead: LeadID, to question: Question) {
        answers.withLock { answers in
            var kept = (answers.newer[lead] ?? answers.older[lead] ?? []).filter { $0.question != question }
            kept.append((question, outcome))
            answers.newer[lead] = Array(kept.suffix(Self.runsPerLead))
            if answers.newer.count >= halfCapacity {
                answers.older = answers.newer
                answers.newer = [:]
            }
        }
    }
}

/// Cross-platform profile finding, a process of its own (`profile-finder`).
///
/// - Input: the lead pool (``Topics/leadPool``), as the group ``Topics/profileFinderGroup``
///   (or `KAFKA_GROUP_ID`). A pool entry means the lead is ready, so the coordinator can re-enrich
///   it at once without disturbing a run, and the entry carries the enriched company to search with.
/// - Per entry of an account whose ``AccountConfig/profileFinder`` is enabled, with exactly one
///   platform URL: searches the other platform (``ProfileSearchProvider``) with the name and the
///   company, accepts the best candidate at or above the confidence threshold and publishes a
///   ``ProfileFound`` to ``Topics/leadCommands`` keyed by lead id. The coordinator adds the URL
///   and re-enriches that platform; the new pool entry then has both URLs, which ends the loop.
/// - Guarantees (``StageRunner``): an input offset is committed only after what it caused is
///   acknowledged; a redelivered entry publishes the same ``ProfileFound`` again, which the
///   coordinator ignores (the lead has the URL by then). Undecodable entries are logged and
///   skipped: the pool is the pipeline's own output, not an input contract. On SIGTERM, or when
///   a rebalance revokes its partition, a search under way may finish within the drain (the
///   revocation's wait), but one waiting to be tried again stops waiting and its entry is left
///   uncommitted for the next owner (``ProfileFinderHandler/Outcome/stopped``): a wait of up to
///   ``ProfileFinderHandler/maxRetryWait`` outlasting the revocation's would have the next owner
///   search the entry too, a second paid search.
/// - Second loop, lead-pool matching of new offers (`POOL_MATCHING_ENABLED`, default on): a new
///   offer matches lead-pool profiles against its ideal customer profile and starts scoring-only
///   runs for the matches (``LeadPoolMatcher``, `POOL_MATCH_MIN_FIT`), never duplicating a lead
///   already in that offer. An assign-mode reader follows `lead.pool` (a slim index: position per
///   lead), `lead.overrides`, `leads.discovered` and its priority twin (the leads not in the pool
///   yet) and `offers` from the beginning; an offer not matched before in this run (first
///   seen, or its ICP changed) publishes its matches' ``LeadDiscovered`` to `leads.discovered`.
///   Idempotent: matched ids (`<pool lead id>@<offer id>`) are deterministic, so re-publishing after
///   a restart (every offer is matched again at start) is absorbed by the coordinator, which starts
///   nothing for a lead it already knows; matches already in the pool are not even re-published.
///   See ``OfferPoolMatchingLoop``.
public final class ProfileFinderService: Service {
    /// The consumer group.
    public let groupID: String
    /// How long a stopping finder waits for pool matching after its runner: the runner's time
    /// to leave its group (``StageRunnerSettings/leavingTime(after:)``).
    private let leavingTime: Duration
    private let runner: StageRunner
    private let producer: KafkaProducer
    private let accounts: KafkaTable<AccountConfig>
    private let logger: Logger
    private let metricsSettings: MetricsSettings
    private let service: String
    private let poolMatching: OfferPoolMatchingLoop?
    /// The Kafka connection, whose broker the endpoint's readiness watches.
    private let kafka: KafkaConfiguration
    /// The runner's metrics (label `phase` = `profile-finder`).
    public let metrics: MetricsRegistry
    /// Liveness and readiness (ready once the accounts are read and the group joined).
    public let health: HealthStatus

    /// Creates the service with `provider` (the simulated search by default), serving `metrics`
    /// (where the provider may count too) with the runner's.
    public init(environment: PipelineEnvironment, settings: ProfileFinderSettings,
                provider: (any ProfileSearchProvider)? = nil, metricsSettings: MetricsSettings? = nil,
                metrics: MetricsRegistry = MetricsRegistry()) throws {
        let environment = environment.reportingKafkaStatistics(to: metrics)
        let topics = environment.topics
        let logger = environment.logger
        let groupID = environment.kafka.groupID ?? topics.profileFinderGroup
        self.kafka = environment.kafka
        let producer = try environment.makeProducer()
        let accounts = KafkaTable<AccountConfig>(configuration: environment.kafka, topic: topics.accounts,
                                                 codec: environment.codec, logger: logger, metrics: metrics)
        let handler = ProfileFinderHandler(
            provider: provider ?? SimulatedProfileSearchProvider(latency: settings.searchLatency),
            accounts: { accounts[$0.rawValue] }, minimumConfidence: settings.minimumConfidence, service: environment.service)
        let codec = environment.codec
        let health = HealthStatus()
        health.markNotReady("starting")
        self.runner = try StageRunner(
            configuration: environment.kafka, groupID: groupID, topics: topics.profileFinderInputs,
            consumerProperties: settings.consumerProperties, producer: producer, settings: settings.runner, logger: logger,
            metrics: StageRunnerMetrics(registry: metrics, stage: "profile-finder", zeroOutputTopics: [topics.deadLetters]),
            onJoinedGroup: { health.markReady() },
            deadLetter: { codec.deadLetter(for: $0, reason: $1, service: environment.service, topics: topics) },
            stagedHandler: { record, stop in
                guard record.value != nil else { return RecordOutputs([]) }  // a tombstone
                let entry: LeadPoolEntry
                do {
                    entry = try codec.decode(LeadPoolEntry.self, record: record)
                } catch {
                    logger.warning("skipping undecodable pool entry: \(error)", [LogKey.offset: String(record.offset)])
                    return RecordOutputs([])
                }
                let runID = record.header(MessageHeaders.runID).map { RunID(String(decoding: $0, as: UTF8.self)) }
                let outcome = await handler.handle(entry, runID: runID, now: Date(), stoppingOn: stop)
                switch outcome {
                case .found(let found):
                    logger.info("found \(found.platform.rawValue) profile (confidence \(found.confidence))", [LogKey.leadID: found.leadID.rawValue])
                    do {
                        return RecordOutputs([try codec.record(found, topic: topics.leadCommands, key: found.leadID.rawValue)])
                    } catch {
                        logger.error("cannot encode \(found): \(error)")
                    }
                case .belowThreshold(let best):
                    logger.debug("no candidate above the threshold (best \(best.map { String($0) } ?? "none"))",
                                 [LogKey.leadID: entry.leadID.rawValue])
                case .searchFailed(let reason):
                    logger.warning("profile search failed: \(reason)", [LogKey.leadID: entry.leadID.rawValue])
                case .stopped:
                    logger.info("stopping or revoked: the pool entry is handed back unsearched", [LogKey.leadID: entry.leadID.rawValue])
                    return .handedBack
                case .disabled, .notApplicable:
                    break
                }
                return RecordOutputs([])
            })
        self.metrics = metrics
        self.health = health
        self.groupID = groupID
        self.leavingTime = StageRunnerSettings.leavingTime(after: settings.runner.drainTimeout)
        self.producer = producer
        self.accounts = accounts
        self.logger = logger
        self.service = environment.service
        self.poolMatching = settings.isPoolMatchingEnabled
            ? OfferPoolMatchingLoop(configuration: environment.kafka, topics: topics, codec: codec, producer: producer,
                                    logger: logger, matcher: LeadPoolMatcher(minimumFit: settings.poolMatchMinimumFit),
                                    accounts: { accounts[$0.rawValue] })
            : nil
        self.metricsSettings = try metricsSettings ?? MetricsSettings(environment: ProcessInfo.processInfo.environment)
    }

    /// Reads the accounts table, starts pool matching of new offers (when enabled), then consumes
    /// the pool until cancelled (drains and commits).
    public func run() async throws {
        let endpoint = try MetricsEndpoint.start(metricsSettings, service: service, registry: metrics, health: health,
                                              broker: (kafka, logger))
        defer { endpoint?.stop() }
        var matching: Task<Void, Never>?
        do {
            try await accounts.start()
            if let poolMatching {
                logger.info("matching new offers against the lead pool")
                matching = Task { await poolMatching.run() }
            }
            logger.info("taking pool entries", ["group": groupID])
            try await withTaskCancellationHandler {
                // The accounts table no longer followed stops the runner, and so the process.
                try await withCompanion({ [accounts] in try await accounts.watch() }) { [runner, health] in
                    try await runner.run(markingDrainingOn: health)
                }
            } onCancel: { [matching] in
                matching?.cancel()  // a plain task: SIGTERM stops it here, not after the drain
            }
        } catch {
            health.markFailed("\(error)")
            await stop(matching)
            throw error
        }
        await stop(matching)
    }

    /// Stops pool matching and the accounts table and closes the producer without a flush: the
    /// runner flushed within the process's shutdown bound, and a match still waiting for the
    /// broker (its send waits out an outage without end) is failed by the close, which ends the
    /// matching; its offer is matched again at the next start. Matching stuck in a broker call
    /// that ignores cancellation, and the freeing of the client (a second during an outage), are
    /// waited for only the leaving time and left behind.
    private func stop(_ matching: Task<Void, Never>?) async {
        matching?.cancel()
        async let closed: Void = producer.close(flushTimeoutMilliseconds: 0, waitingAtMost: leavingTime, logger: logger)
        if let matching, await !waitForEnd(of: matching, atMost: leavingTime) {
            logger.warning("pool matching did not stop within the shutdown bound: not waited for")
        }
        await closed
        await accounts.stop()
    }
}
