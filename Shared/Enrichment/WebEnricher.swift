import Foundation
import Kafka
import LeadModel
import Runtime
import Streaming

/// Settings of the web enricher beyond ``Streaming/PipelineEnvironment``.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `WEB_ENRICHER_TIMEOUT_SECONDS` | 10 | timeout of one page fetch, redirects and tries again included |
/// | `WEB_ENRICHER_MAX_PAGE_BYTES` | 1048576 | larger pages are abandoned mid-transfer |
/// | `WEB_ENRICHER_MAX_IN_FLIGHT` | 32 | requests handled at once |
/// | `WEB_ENRICHER_ALLOW_LOOPBACK_HTTP` | false | tests only: also fetch `http://`, any port, `127.0.0.1`/`localhost` and domains resolving to loopback addresses (never private ones); logged as a warning at start-up |
///
/// The runner's other settings (`STAGE_RECORD_TIMEOUT_SECONDS`, `STAGE_MAX_TIMED_OUT_HANDLERS`, `STAGE_ORDERING`,
/// `SHUTDOWN_TIMEOUT_SECONDS`) are the stages': ``Streaming/StageRunnerSettings/init(environment:maxInFlight:)``.
public struct WebEnricherSettings: Sendable {
    /// Environment variable names this type reads.
    public enum Variable {
        /// Fetch timeout.
        public static let timeout = "WEB_ENRICHER_TIMEOUT_SECONDS"
        /// Page size bound.
        public static let maxPageBytes = "WEB_ENRICHER_MAX_PAGE_BYTES"
        /// In-flight bound.
        public static let maxInFlight = "WEB_ENRICHER_MAX_IN_FLIGHT"
        /// Tests only.
        public static let allowLoopbackHTTP = "WEB_ENRICHER_ALLOW_LOOPBACK_HTTP"
    }

    /// How pages are fetched.
    public var fetcher: WebFetcher
    /// Tests only: allow `http://`, any port and loopback addresses (see ``WebAllowList/isLoopbackHTTPAllowed``).
    public var isLoopbackHTTPAllowed: Bool
    /// The runner's bounds.
    public var runner: StageRunnerSettings
    /// librdkafka properties for the group consumer.
    public var consumerProperties: [String: String]

    /// Creates settings.
    public init(fetcher: WebFetcher = WebFetcher(), isLoopbackHTTPAllowed: Bool = false,
                runner: StageRunnerSettings = StageRunnerSettings(maxInFlight: 32), consumerProperties: [String: String] = [:]) {
        self.fetcher = fetcher
        self.isLoopbackHTTPAllowed = isLoopbackHTTPAllowed
        self.runner = runner
        self.consumerProperties = consumerProperties
    }

    /// What the service logs as a warning at start-up when ``isLoopbackHTTPAllowed`` relaxes the
    /// SSRF guard; nil when it does not.
    public var relaxedGuardWarning: String? {
        guard isLoopbackHTTPAllowed else { return nil }
        return "SSRF guard relaxed: \(Variable.allowLoopbackHTTP) is set, so http://, any port and loopback addresses are fetched; tests only, never in production"
    }

    /// Reads the settings; a wrong value fails with the variable's name.
    public init(environment: [String: String]) throws {
        let timeout = try PipelineEnvironment.decimal(environment, Variable.timeout, default: 10, range: 1...300)
        let maxBytes = try PipelineEnvironment.integer(environment, Variable.maxPageBytes, default: 1 << 20, range: 1024...(64 << 20))
        let inFlight = try PipelineEnvironment.integer(environment, Variable.maxInFlight, default: 32, range: 1...10_000)
        let isLoopbackHTTPAllowed = try PipelineEnvironment.boolean(environment, Variable.allowLoopbackHTTP, default: false)
        self.init(fetcher: WebFetcher(maxBytes: maxBytes, timeoutSeconds: timeout),
                  isLoopbackHTTPAllowed: isLoopbackHTTPAllowed,
                  runner: try StageRunnerSettings(environment: environment, maxInFlight: inFlight))
    }
}

/// Turns one ``WebEnrichmentRequested`` into one ``WebEnrichment``: allow-list, fetch, extract.
public struct WebEnricherHandler: Sendable {
    private let fetcher: WebFetcher
    private let extractor: WebPageExtractor
    private let isLoopbackHTTPAllowed: Bool
    /// Ends the fetches' waits before another try.
    private let shutdown: GracefulShutdown

    /// Creates a handler.
    /// - Parameter shutdown: the runner's (``Streaming/StageRunner``); once begun, a fetch is not
    ///   waited for to be tried again (``handle(_:now:)`` answers nil).
    public init(fetcher: WebFetcher, extractor: WebPageExtractor = WebPageExtractor(), isLoopbackHTTPAllowed: Bool = false,
                shutdown: GracefulShutdown = GracefulShutdown()) {
        self.fetcher = fetcher
        self.extractor = extractor
        self.isLoopbackHTTPAllowed = isLoopbackHTTPAllowed
        self.shutdown = shutdown
    }

    /// The record for `request`: completed with what the page says, refused (the domain or URL is
    /// not allowed) or failed (the fetch did not work, tried again as ``WebFetcher/retry`` says);
    /// nil when the process began to stop, or `recordShutdown` (the runner's signal for the
    /// record, begun when its partition is revoked) began, while the fetch waited to be tried
    /// again (``WebFetchError/stopped``): the request is not done, for its next owner to fetch.
    public func handle(_ request: WebEnrichmentRequested, now: Date, stoppingOn recordShutdown: GracefulShutdown? = nil) async -> WebEnrichment? {
        let domainText = request.domain.flatMap { $0.isEmpty ? nil : $0 } ?? request.url ?? ""
        // A URL the record can carry (``WebEnrichment/checkFieldLengths()``): one percent-encoded
        // longer than the request's is left out rather than have the record refused.
        func within(_ url: String?) -> String? { url.flatMap { $0.hasMoreScalars(than: FieldLimit.url) ? nil : $0 } }
        func record(_ status: WebEnrichment.Status, domain: String, url: String?, reason: String?) -> WebEnrichment {
            WebEnrichment(leadID: request.leadID, searchID: request.searchID, domain: domain, url: within(url), status: status,
                          reason: reason?.prefix(scalars: FieldLimit.text), fetchedAt: now)
        }
        let allowList: WebAllowList
        let start: URL
        do {
            allowList = try WebAllowList(domain: domainText, isLoopbackHTTPAllowed: isLoopbackHTTPAllowed)
            start = try allowList.startURL(request.url)
        } catch {
            return record(.refused, domain: domainText, url: request.url, reason: "\(error)")
        }
        let page: WebPage
        do {
            page = try await fetcher.fetch(start, allowList: allowList, stoppingOn: recordShutdown ?? shutdown)
        } catch .stopped {
            return nil
        } catch {
            return record(.failed, domain: allowList.domain, url: start.absoluteString, reason: "\(error)")
        }
        let facts = extractor.extract(html: page.html, pageURL: page.url)
        // A redirect's URL within the record's limit (``WebEnrichment/checkFieldLengths()``), else the one asked for.
        let fetched = within(page.url.absoluteString) ?? within(start.absoluteString)
        return WebEnrichment(
            leadID: request.leadID, searchID: request.searchID, domain: allowList.domain, url: fetched,
            status: .completed, name: facts.name, companyDescription: facts.description, imageURL: facts.imageURL,
            socialLinks: facts.socialLinks, xHandle: facts.xHandle, fetchedAt: now)
    }
}

/// Web enrichment, a process of its own (`web-enricher`), triggered only by requests.
///
/// - Input: ``Topics/webEnrichmentRequests`` as the group ``Topics/webEnricherGroup`` (or
///   `KAFKA_GROUP_ID`); key: lead id or search id.
/// - Per request: fetches the company's page over HTTPS from its own domain only (see
///   ``WebAllowList``, ``WebFetcher``), extracts name, description, image and social links and
///   writes one ``WebEnrichment`` to ``Topics/webEnrichments``: under the request's key when
///   completed; when refused or failed (with the reason) under ``WebEnrichment/key``, the
///   request's key and `#failed`, so that it never replaces a completed enrichment of the same
///   lead or search on the compacted topic. A completed one is written with a tombstone (no
///   value) under `<key>#failed`, in the same batch, the input committed once both are
///   acknowledged (no transaction: a crash between them writes both again), so compaction
///   clears a failure that an enrichment completed since. The coordinator merges a completed,
///   lead-keyed one into the lead's profile and pool entry; search-keyed ones are for readers to
///   join on the key.
/// - Undecodable or invalid requests go to dead letters with the reason.
/// - A fetch that failed for a reason that may pass (a 5xx, a 429, a connection refused, reset or
///   closed early, a resolver that cannot answer for now) is tried again, at most twice, within
///   `WEB_ENRICHER_TIMEOUT_SECONDS` (``WebFetchRetry``).
/// - Guarantees (``StageRunner``): the input offset is committed after the output is
///   acknowledged; a redelivered request fetches again and overwrites the compacted record of
///   its outcome's key. On SIGTERM a fetch under way may finish within the drain, but one
///   waiting to be tried again stops waiting and its request is left uncommitted, for the next
///   owner to fetch.
public final class WebEnricherService: Service {
    /// The consumer group.
    public let groupID: String
    private let runner: StageRunner
    private let producer: KafkaProducer
    /// How long the last close of the producer, without a flush, is waited for: the leaving time
    /// after the drain. The runner flushed within the process's shutdown bound, and what is left
    /// belongs to requests not committed, which the next owner runs again; freeing the client
    /// during an outage can take a second.
    private let closingWait: Duration
    private let logger: Logger
    private let metricsSettings: MetricsSettings
    private let service: String
    /// The Kafka connection, whose broker the endpoint's readiness watches.
    private let kafka: KafkaConfiguration
    /// The runner's metrics (label `phase` = `web-enricher`).
    public let metrics: MetricsRegistry
    /// Liveness and readiness (ready once the group is joined).
    public let health: HealthStatus

    /// Creates the service.
    public init(environment: PipelineEnvironment, settings: WebEnricherSettings, metricsSettings: MetricsSettings? = nil) throws {
        closingWait = StageRunnerSettings.leavingTime(after: settings.runner.drainTimeout)
        let metrics = MetricsRegistry()
        let environment = environment.reportingKafkaStatistics(to: metrics)
        let topics = environment.topics
        let logger = environment.logger
        let groupID = environment.kafka.groupID ?? topics.webEnricherGroup
        self.kafka = environment.kafka
        let producer = try environment.makeProducer()
        let shutdown = GracefulShutdown()
        let handler = WebEnricherHandler(fetcher: settings.fetcher, isLoopbackHTTPAllowed: settings.isLoopbackHTTPAllowed,
                                         shutdown: shutdown)
        if let warning = settings.relaxedGuardWarning { logger.warning(warning) }
        let inputCodec = environment.inputCodec
        let codec = environment.codec
        let service = environment.service
        let health = HealthStatus()
        health.markNotReady("joining")
        self.runner = try StageRunner(
            configuration: environment.kafka, groupID: groupID, topics: topics.webEnricherInputs,
            consumerProperties: settings.consumerProperties, producer: producer, settings: settings.runner, logger: logger,
            metrics: StageRunnerMetrics(registry: metrics, stage: "web-enricher", zeroOutputTopics: [topics.deadLetters]),
            onJoinedGroup: { health.markReady() },
            deadLetter: { codec.deadLetter(for: $0, reason: $1, service: service, topics: topics) },
            gracefulShutdown: shutdown,
            stagedHandler: { record, recordShutdown in
                let request: WebEnrichmentRequested
                do {
                    request = try inputCodec.decode(WebEnrichmentRequested.self, record: record)
                } catch {
                    logger.warning("dead-lettering: \(error)", [LogKey.offset: String(record.offset)])
                    return RecordOutputs([codec.deadLetter(for: record, reason: "\(error)", service: service, topics: topics)])
                }
                guard let enrichment = await handler.handle(request, now: Date(), stoppingOn: recordShutdown) else {
                    logger.info("stopping: the request is handed back unfetched", ["key": request.key])
                    return .handedBack
                }
                if enrichment.status != .completed {
                    logger.info("web enrichment \(enrichment.status.rawValue): \(enrichment.reason ?? "")", ["key": request.key])
                }
                do {
                    let record = try codec.record(enrichment, topic: topics.webEnrichments, key: enrichment.key)
                    guard enrichment.status == .completed else { return RecordOutputs([record]) }
                    // With a tombstone clearing a failure of the same request key, sent with it.
                    return RecordOutputs([record, ProducerRecord(topic: topics.webEnrichments, key: enrichment.failureKey, value: nil)])
                } catch {
                    return RecordOutputs([codec.deadLetter(for: record, reason: "cannot encode the enrichment: \(error)", service: service,
                                                           topics: topics)])
                }
            })
        self.metrics = metrics
        self.health = health
        self.groupID = groupID
        self.producer = producer
        self.logger = logger
        self.service = service
        self.metricsSettings = try metricsSettings ?? MetricsSettings(environment: ProcessInfo.processInfo.environment)
    }

    /// Consumes requests until cancelled (drains and commits).
    public func run() async throws {
        let endpoint = try MetricsEndpoint.start(metricsSettings, service: service, registry: metrics, health: health,
                                              broker: (kafka, logger))
        defer { endpoint?.stop() }
        logger.info("taking web enrichment requests", ["group": groupID])
        do {
            try await runner.run(markingDrainingOn: health)
        } catch {
            health.markFailed("\(error)")
            await producer.close(flushTimeoutMilliseconds: 0, waitingAtMost: closingWait, logger: logger)
            throw error
        }
        await producer.close(flushTimeoutMilliseconds: 0, waitingAtMost: closingWait, logger: logger)
    }
}
