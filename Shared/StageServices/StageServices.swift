import Foundation
import LeadModel
import Pipeline
import PipelineServices

extension StageService {
    /// The profile stage (``ProfileStageHandler``) with the environment's simulated providers
    /// unless real ones are passed.
    public static func makeProfileStage(
        environment: PipelineEnvironment, configuration: StageConfiguration,
        linkedin: (any LinkedInProvider)? = nil, x: (any XProvider)? = nil
    ) throws -> StageService {
        let handler = ProfileStageHandler(
            linkedin: linkedin ?? SimulatedLinkedInProvider(settings: environment.simulation),
            x: x ?? SimulatedXProvider(settings: environment.simulation), service: environment.service)
        return try StageService(environment: environment, configuration: configuration, handler: handler)
    }

    /// The activity stage (``ActivityStageHandler``), reading the offers table for competitors.
    public static func makeActivityStage(
        environment: PipelineEnvironment, configuration: StageConfiguration, provider: (any ActivityProvider)? = nil
    ) throws -> StageService {
        let offers = makeOffersTable(environment)
        let handler = ActivityStageHandler(
            provider: provider ?? SimulatedActivityProvider(settings: environment.simulation),
            offers: { offers[$0.rawValue] }, service: environment.service)
        return try StageService(environment: environment, configuration: configuration, handler: handler, tables: [offers])
    }

    /// The scoring stage (``ScoringStageHandler``), reading the offers and accounts tables.
    public static func makeScoringStage(
        environment: PipelineEnvironment, configuration: StageConfiguration, scorer: any Scorer = RuleBasedScorer()
    ) throws -> StageService {
        let offers = makeOffersTable(environment)
        let accounts = KafkaTable<AccountConfig>(
            configuration: environment.kafka, topic: environment.topics.accounts, codec: environment.codec,
            logger: environment.logger)
        let handler = ScoringStageHandler(
            scorer: scorer, offers: { offers[$0.rawValue] }, accounts: { accounts[$0.rawValue] }, service: environment.service)
        return try StageService(
            environment: environment, configuration: configuration, handler: handler, tables: [offers, accounts])
    }

    /// The finalize stage (``FinalizeStageHandler``).
    public static func makeFinalizeStage(environment: PipelineEnvironment, configuration: StageConfiguration) throws -> StageService {
        try StageService(
            environment: environment, configuration: configuration, handler: FinalizeStageHandler(service: environment.service))
    }

    private static func makeOffersTable(_ environment: PipelineEnvironment) -> KafkaTable<OfferConfig> {
        KafkaTable<OfferConfig>(
            configuration: environment.kafka, topic: environment.topics.offers, codec: environment.codec,
            logger: environment.logger)
    }
}
