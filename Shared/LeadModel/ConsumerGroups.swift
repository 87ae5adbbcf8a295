/// A consumer group of the pipeline: its id, the topics its members subscribe to and the
/// executable whose processes are its members.
///
/// Every group is listed once, in ``Topics/consumerGroups``, built from the same group names and
/// topic lists the services subscribe with; `leadctl lag` reports every group of that list.
public struct ConsumerGroup: Hashable, Sendable {
    /// The kinds of consuming process, one case each. A new service that consumes in a group
    /// adds a case here; ``Topics/consumerGroups(of:)`` must then say its group and topics (the
    /// switch is exhaustive), and the group is listed everywhere without further edits.
    public enum Kind: String, CaseIterable, Hashable, Sendable {
        /// The coordinator's main group on its inputs.
        case coordinator
        /// The coordinator's progress tracker (commits no offsets: it re-reads its compacted inputs).
        case progressTracker = "progress-tracker"
        /// The coordinator's account progress (adds up each account's search snapshots; commits
        /// no offsets either).
        case accountProgress = "account-progress"
        /// One group per phase, each a stage's.
        case stage
        /// The account heat aggregators inside the scoring stage.
        case accountHeat = "account-heat"
        /// The profile finder.
        case profileFinder = "profile-finder"
        /// The web enricher.
        case webEnricher = "web-enricher"
    }

    /// The group id (with the namespace prefix).
    public var id: String
    /// The topics the group's members subscribe to (with the namespace prefix).
    public var topics: [String]
    /// The kind of process that consumes in it.
    public var kind: Kind
    /// The executable whose processes are its members (`coordinator`, `profile-stage`, ...).
    public var service: String
    /// Whether the members commit offsets. A group that does not (the progress tracker reads
    /// its compacted inputs from the beginning on every assignment) has no lag to report.
    public var commitsOffsets: Bool

    /// Creates a group's entry.
    public init(id: String, topics: [String], kind: Kind, service: String, commitsOffsets: Bool = true) {
        self.id = id
        self.topics = topics
        self.kind = kind
        self.service = service
        self.commitsOffsets = commitsOffsets
    }
}

extension Topics {
    /// Every consumer group of the pipeline in this namespace, in ``ConsumerGroup/Kind`` order
    /// (the stages' groups in ``Phase`` order). Services started with `KAFKA_GROUP_ID` use
    /// another name, which this list cannot know.
    public var consumerGroups: [ConsumerGroup] {
        ConsumerGroup.Kind.allCases.flatMap(consumerGroups(of:))
    }

    /// The groups of one kind: one per phase for ``ConsumerGroup/Kind/stage``, else one.
    public func consumerGroups(of kind: ConsumerGroup.Kind) -> [ConsumerGroup] {
        switch kind {
        case .coordinator:
            [ConsumerGroup(id: coordinatorGroup, topics: coordinatorInputs, kind: kind, service: "coordinator")]
        case .progressTracker:
            [ConsumerGroup(id: progressGroup, topics: progressInputs, kind: kind, service: "coordinator", commitsOffsets: false)]
        case .accountProgress:
            [ConsumerGroup(id: accountProgressGroup, topics: [accountProgressParts], kind: kind, service: "coordinator", commitsOffsets: false)]
        case .stage:
            Phase.allCases.map { phase in
                ConsumerGroup(id: stageGroup(phase), topics: stageInputs(phase), kind: kind, service: "\(phase.rawValue)-stage")
            }
        case .accountHeat:
            [ConsumerGroup(id: accountHeatGroup, topics: [accountSignalContributions], kind: kind, service: "scoring-stage")]
        case .profileFinder:
            [ConsumerGroup(id: profileFinderGroup, topics: profileFinderInputs, kind: kind, service: "profile-finder")]
        case .webEnricher:
            [ConsumerGroup(id: webEnricherGroup, topics: webEnricherInputs, kind: kind, service: "web-enricher")]
        }
    }

    /// What the progress tracker's group reads: ``progressParts``, whose partitions a member
    /// owns, and ``progress``, its own snapshots, for the account each search of those partitions
    /// was last published under (each tracker reads ``searchTotals`` whole, outside the group).
    public var progressInputs: [String] { [progressParts, progress] }
    /// What a stage's group reads: its phase's priority request topic, then the standard one.
    public func stageInputs(_ phase: Phase) -> [String] { [phaseRequests(phase, isPriority: true), phaseRequests(phase)] }
    /// What the profile finder's group reads: ``leadPool`` (its tables are read whole, without a group).
    public var profileFinderInputs: [String] { [leadPool] }
    /// What the web enricher's group reads: ``webEnrichmentRequests``.
    public var webEnricherInputs: [String] { [webEnrichmentRequests] }
}
