import Foundation
import LeadModel
import LeadRules
import Runtime
import Streaming

extension StageService {
    /// The profile stage (``ProfileStageHandler``) with the providers `providers` selects
    /// (simulated by default), unless providers are passed.
    /// - Throws: ``ConfigurationError`` naming a variable the HTTP providers need but lack.
    public static func makeProfileStage(
        environment: PipelineEnvironment, configuration: StageConfiguration, providers: ProviderConfiguration = .simulated,
        linkedin: (any LinkedInProvider)? = nil, x: (any XProvider)? = nil
    ) throws -> StageService {
        // The vendor waterfall's lookups, credits and circuits are served beside the stage's metrics.
        let metrics = MetricsRegistry()
        let handler = ProfileStageHandler(
            linkedin: try linkedin ?? providers.makeLinkedInProvider(environment: environment, metrics: metrics),
            x: try x ?? providers.makeXProvider(environment: environment),
            // A quarter of a record, as the activity: the requests and the pool entry carry both.
            outputBudget: environment.codec.maxRecordBytes / 4, logger: environment.logger, service: environment.service)
        return try StageService(environment: environment, configuration: configuration, handler: handler, metrics: metrics)
    }

    /// The activity stage (``ActivityStageHandler``), reading the offers table for competitors,
    /// with the provider `providers` selects (simulated by default) unless one is passed.
    public static func makeActivityStage(
        environment: PipelineEnvironment, configuration: StageConfiguration, providers: ProviderConfiguration = .simulated,
        provider: (any ActivityProvider)? = nil
    ) throws -> StageService {
        let metrics = MetricsRegistry()
        let offers = makeOffersTable(environment, metrics: metrics)
        let handler = ActivityStageHandler(
            provider: try provider ?? providers.makeActivityProvider(environment: environment),
            offers: { await offers.row($0.rawValue, catchingUpWithin: .seconds(2)) },
            // A quarter of a record: the scoring and finalize requests and the pool entry carry it
            // beside the profile (and the entry its rendered text too).
            outputBudget: environment.codec.maxRecordBytes / 4, logger: environment.logger, service: environment.service)
        return try StageService(environment: environment, configuration: configuration, handler: handler, tables: [offers],
                                metrics: metrics)
    }

    /// The scoring stage, reading the offers table: ``ScoringStageHandler`` with
    /// `scorer`, or with the ``ModelScorer`` when `providers` selects `SCORER=model`; with the
    /// ``AccountHeatAggregator`` beside it, which owns the heat of the accounts whose
    /// contributions partitions its group assigns to this process, and follows the overrides
    /// table, read with the offers before the stage is ready.
    public static func makeScoringStage(
        environment: PipelineEnvironment, configuration: StageConfiguration, providers: ProviderConfiguration = .simulated,
        scorer: any Scorer = RuleBasedScorer()
    ) throws -> StageService {
        // The aggregator's Kafka clients and the offers table report beside the stage's metrics.
        let metrics = MetricsRegistry()
        let offers = makeOffersTable(environment, metrics: metrics)
        let chosen: any Scorer = try providers.makeModelScorer(environment: environment) ?? scorer
        let handler = ScoringStageHandler(
            scorer: chosen, offers: { await offers.row($0.rawValue, catchingUpWithin: .seconds(2)) },
            offerRefusal: { offers.refusal(of: $0.rawValue) }, service: environment.service,
            simulatedLatency: environment.simulation.scoring)
        let overrides = KafkaTable<LeadOverride>(
            configuration: environment.kafka, topic: environment.topics.leadOverrides, codec: environment.codec,
            logger: environment.logger, recordsChanges: true, metrics: metrics)
        let heat = AccountHeatAggregator(environment: environment.reportingKafkaStatistics(to: metrics), overrides: overrides,
                                         consumerProperties: configuration.consumerProperties,
                                         writeInterval: configuration.heatWriteInterval,
                                         shutdownGrace: configuration.runner.drainTimeout, metrics: metrics)
        return try StageService(
            environment: environment, configuration: configuration, handler: handler,
            tables: [KafkaTableSet(configuration: environment.kafka, offers, overrides)], companions: [heat], metrics: metrics)
    }

    /// The finalize stage (``FinalizeStageHandler``), reading the accounts table for the autopilot
    /// rules, the billing events for whether billing is active, and the overrides table.
    public static func makeFinalizeStage(environment: PipelineEnvironment, configuration: StageConfiguration) throws -> StageService {
        let metrics = MetricsRegistry()
        let accounts = KafkaTable<AccountConfig>(
            configuration: environment.kafka, topic: environment.topics.accounts, codec: environment.codec,
            logger: environment.logger, metrics: metrics)
        let overrides = KafkaTable<LeadOverride>(
            configuration: environment.kafka, topic: environment.topics.leadOverrides, codec: environment.codec,
            logger: environment.logger, metrics: metrics)
        // Autopilot enrolls only while billing is active, as the billing events say.
        let billing = KafkaTable<AccountBillingEvent>(
            configuration: environment.kafka, topic: environment.topics.billingEvents, codec: environment.codec,
            logger: environment.logger, metrics: metrics)
        let handler = FinalizeStageHandler(
            accounts: { accounts[$0.rawValue]?.applying(billing[$0.rawValue]) }, overrides: { overrides[$0.rawValue] },
            service: environment.service)
        return try StageService(
            environment: environment, configuration: configuration, handler: handler,
            tables: [KafkaTableSet(configuration: environment.kafka, accounts, overrides, billing)], metrics: metrics)
    }

    private static func makeOffersTable(_ environment: PipelineEnvironment, metrics: MetricsRegistry) -> KafkaTable<OfferConfig> {
        KafkaTable<OfferConfig>(
            configuration: environment.kafka, topic: environment.topics.offers, codec: environment.codec,
            logger: environment.logger, metrics: metrics)
    }
}
