/// Every topic name of the pipeline, defined once.
///
/// Names are lowercase, dot-separated nouns. Use the static names directly, or an instance with
/// a namespace (tests use a unique one per test) whose properties carry the prefix:
/// `Topics(namespace: "t42").leadsDiscovered == "t42.leads.discovered"`.
public struct Topics: Hashable, Sendable {
    /// Input: leads published by lead discovery and leadctl. Key: lead id.
    public static let leadsDiscovered = "leads.discovered"
    /// Input, the priority twin of ``leadsDiscovered``: leads from intent sources published here
    /// overtake whatever waits on the standard topic (the coordinator reads it first). Key: lead id.
    public static let leadsDiscoveredPriority = "leads.discovered.priority"
    /// Standard leads read from the input and queued until the coordinator has room for them
    /// (intent leads skip it). Written and read by the coordinator only. Key: lead id.
    public static let leadsBacklog = "leads.backlog"
    /// Internal commands for the coordinator, never the public input: found profiles (from
    /// profile-finder) and re-enrich requests (from leadctl and operators' tools). Co-partitioned
    /// with the lead-keyed topics, read ahead of them. Key: lead id.
    public static let leadCommands = "lead.commands"
    /// Input: totals declared per search. Key: search id.
    public static let searchTotals = "search.totals"
    /// Results of every stage for the coordinator. Key: lead id.
    public static let phaseResults = "phase.results"
    /// The priority twin of ``phaseResults``: results of requests that came on a priority request
    /// topic, read first by the coordinator. Key: lead id.
    public static let phaseResultsPriority = "phase.results.priority"
    /// The coordinator's per-lead state changelog (compacted). Key: lead id.
    public static let leadState = "lead.state"
    /// Finished profiles (compacted). Key: lead id.
    public static let leadPool = "lead.pool"
    /// Account configuration (compacted). Key: account id.
    public static let accounts = "accounts"
    /// Offer configuration (compacted). Key: offer id.
    public static let offers = "offers"
    /// One record per charged phase. Key: account id.
    public static let billingUsage = "billing.usage"
    /// The billing system's pauses and resumptions of accounts (`account.billing-event`,
    /// compacted; the latest per account is in force). Key: account id.
    public static let billingEvents = "billing.events"
    /// Progress snapshots. Key: source search id.
    public static let progress = "progress"
    /// Per search, where the leads of one partition are (compacted), added up into progress.
    /// Key: `<search id>/<partition>`, in the partition of the search id.
    public static let progressParts = "progress.parts"
    /// Each search's latest ``ProgressSnapshot`` re-keyed for the account-progress group
    /// (compacted; key `<account id>/<search id>`, in the partition of the account id).
    public static let accountProgressParts = "progress.account-parts"
    /// Progress per account, its searches added up (compacted). Key: account id.
    public static let accountProgress = "progress.accounts"
    /// Account (company) heat signals. Key: account id.
    public static let accountSignals = "account.signals"
    /// Each scored lead's contribution to its account's heat, re-keyed for the aggregator that
    /// owns the account (the repartition topic). Key: account id.
    public static let accountSignalContributions = "account.signal.contributions"
    /// The account heat aggregator's changelog and the heat table (compacted), partitioned like
    /// ``accountSignalContributions``. Key: `<account id>|<company key>`.
    public static let accountHeat = "account.heat"
    /// People's overrides of a lead's buyer state (compacted; the latest per lead is in force).
    /// Key: lead id.
    public static let leadOverrides = "lead.overrides"
    /// Automatic sequence enrollments. Key: lead id.
    public static let autopilotEnrollments = "autopilot.enrollments"
    /// Records that could not be processed, with the reason. Key: the original key.
    public static let deadLetters = "dead.letters"
    /// Requests to read a company's website. Key: lead id, else search id.
    public static let webEnrichmentRequests = "web.enrichment.requests"
    /// What the web enricher read (compacted). Key: as its request.
    public static let webEnrichments = "web.enrichments"

    /// The request topic of a phase's stage: `phase.<phase>.requests`, plus `.priority` for the
    /// priority twin. Key: lead id.
    public static func phaseRequests(_ phase: Phase, isPriority: Bool = false) -> String {
        let names = requestTopics[phase]!  // every phase has its two
        return isPriority ? names.priority : names.standard
    }

    /// Made once: the coordinator names a request topic for every request it sends.
    private static let requestTopics = Dictionary(uniqueKeysWithValues: Phase.allCases.map { phase in
        (phase, (standard: "phase.\(phase.rawValue).requests", priority: "phase.\(phase.rawValue).requests.priority"))
    })

    /// All topic names, without namespace.
    public static var allNames: [String] {
        [leadsDiscovered, leadsDiscoveredPriority, leadCommands, leadsBacklog, searchTotals]
            + Phase.allCases.flatMap { [phaseRequests($0), phaseRequests($0, isPriority: true)] }
            + [
                phaseResults, phaseResultsPriority, leadState, leadPool, accounts, offers, billingUsage, billingEvents, progress, progressParts, accountProgressParts, accountProgress, accountSignals,
                accountSignalContributions, accountHeat, leadOverrides,
                autopilotEnrollments, deadLetters, webEnrichmentRequests, webEnrichments,
            ]
    }

    /// `name` with the namespace prefix `<namespace>.`; unchanged when the namespace is nil or empty.
    public static func prefixed(_ name: String, namespace: String?) -> String {
        guard let namespace, !namespace.isEmpty else { return name }
        return "\(namespace).\(name)"
    }

    /// All topic names with the namespace prefix.
    public static func all(namespace: String?) -> [String] {
        allNames.map { prefixed($0, namespace: namespace) }
    }

    /// Whether `name` is a legal Kafka topic name (1-249 of `[a-zA-Z0-9._-]`, not `.` or `..`).
    public static func isLegalName(_ name: String) -> Bool {
        guard (1...249).contains(name.count), name != ".", name != ".." else { return false }
        return name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "._-".unicodeScalars.contains(scalar))
        }
    }

    /// The namespace prefixed to every name, or nil.
    public let namespace: String?
    /// Every topic's name under a namespace that is not empty, made once: the coordinator and
    /// the stages name topics for every record. Not part of the value (it follows from the
    /// namespace).
    private let prefixedNames: PrefixedNames?

    /// A view of the topic names under `namespace`.
    public init(namespace: String? = nil) {
        self.namespace = namespace
        prefixedNames = namespace.flatMap { $0.isEmpty ? nil : PrefixedNames(namespace: $0) }
    }

    public static func == (lhs: Topics, rhs: Topics) -> Bool { lhs.namespace == rhs.namespace }

    public func hash(into hasher: inout Hasher) { hasher.combine(namespace) }

    /// `name` in this namespace.
    private func named(_ name: String) -> String {
        guard let prefixedNames else { return name }
        return prefixedNames.byName[name] ?? Self.prefixed(name, namespace: namespace)
    }

    private final class PrefixedNames: Sendable {
        let byName: [String: String]

        init(namespace: String) {
            byName = Dictionary(uniqueKeysWithValues: Topics.allNames.map { ($0, Topics.prefixed($0, namespace: namespace)) })
        }
    }

    /// ``Topics/leadsDiscovered`` in this namespace.
    public var leadsDiscovered: String { named(Self.leadsDiscovered) }
    /// ``Topics/leadsDiscoveredPriority`` in this namespace.
    public var leadsDiscoveredPriority: String { named(Self.leadsDiscoveredPriority) }
    /// The input topic for a lead: the priority twin for intent sources.
    public func leadsDiscovered(for source: LeadSource) -> String {
        source.isIntent ? leadsDiscoveredPriority : leadsDiscovered
    }
    /// ``Topics/leadsBacklog`` in this namespace.
    public var leadsBacklog: String { named(Self.leadsBacklog) }
    /// ``Topics/leadCommands`` in this namespace.
    public var leadCommands: String { named(Self.leadCommands) }
    /// ``Topics/searchTotals`` in this namespace.
    public var searchTotals: String { named(Self.searchTotals) }
    /// ``Topics/phaseResults`` in this namespace.
    public var phaseResults: String { named(Self.phaseResults) }
    /// ``Topics/phaseResultsPriority`` in this namespace.
    public var phaseResultsPriority: String { named(Self.phaseResultsPriority) }
    /// Where a stage answers a request: the priority twin for requests from a priority topic.
    public func phaseResults(isPriority: Bool) -> String {
        isPriority ? phaseResultsPriority : phaseResults
    }
    /// ``Topics/leadState`` in this namespace.
    public var leadState: String { named(Self.leadState) }
    /// ``Topics/leadPool`` in this namespace.
    public var leadPool: String { named(Self.leadPool) }
    /// ``Topics/accounts`` in this namespace.
    public var accounts: String { named(Self.accounts) }
    /// ``Topics/offers`` in this namespace.
    public var offers: String { named(Self.offers) }
    /// ``Topics/billingUsage`` in this namespace.
    public var billingUsage: String { named(Self.billingUsage) }
    /// ``Topics/billingEvents`` in this namespace.
    public var billingEvents: String { named(Self.billingEvents) }
    /// ``Topics/progress`` in this namespace.
    public var progress: String { named(Self.progress) }
    /// ``Topics/progressParts`` in this namespace.
    public var progressParts: String { named(Self.progressParts) }
    /// ``Topics/accountProgressParts`` in this namespace.
    public var accountProgressParts: String { named(Self.accountProgressParts) }
    /// ``Topics/accountProgress`` in this namespace.
    public var accountProgress: String { named(Self.accountProgress) }
    /// ``Topics/accountSignals`` in this namespace.
    public var accountSignals: String { named(Self.accountSignals) }
    /// ``Topics/accountSignalContributions`` in this namespace.
    public var accountSignalContributions: String { named(Self.accountSignalContributions) }
    /// ``Topics/accountHeat`` in this namespace.
    public var accountHeat: String { named(Self.accountHeat) }
    /// ``Topics/leadOverrides`` in this namespace.
    public var leadOverrides: String { named(Self.leadOverrides) }
    /// ``Topics/autopilotEnrollments`` in this namespace.
    public var autopilotEnrollments: String { named(Self.autopilotEnrollments) }
    /// ``Topics/deadLetters`` in this namespace.
    public var deadLetters: String { named(Self.deadLetters) }
    /// ``Topics/webEnrichmentRequests`` in this namespace.
    public var webEnrichmentRequests: String { named(Self.webEnrichmentRequests) }
    /// ``Topics/webEnrichments`` in this namespace.
    public var webEnrichments: String { named(Self.webEnrichments) }

    /// ``Topics/phaseRequests(_:isPriority:)`` in this namespace.
    public func phaseRequests(_ phase: Phase, isPriority: Bool = false) -> String {
        named(Self.phaseRequests(phase, isPriority: isPriority))
    }

    /// All topic names in this namespace.
    public var all: [String] { Self.all(namespace: namespace) }

    // Consumer group names, defined here once like the topics they read; each group is listed,
    // with its topics, in `consumerGroups` (ConsumerGroups.swift), which `leadctl lag` reports.

    /// The coordinator's group on ``coordinatorInputs``.
    public var coordinatorGroup: String { Self.prefixed("coordinator", namespace: namespace) }
    /// What the coordinator's group reads, all keyed by lead id and co-partitioned:
    /// ``leadsDiscovered``, ``phaseResults``, their priority twins, ``leadCommands``, ``leadsBacklog``
    /// and ``webEnrichments``.
    public var coordinatorInputs: [String] {
        [leadsDiscovered, leadsDiscoveredPriority, leadCommands, leadsBacklog, phaseResults, phaseResultsPriority, webEnrichments]
    }
    /// The lead-keyed inputs other systems write, ``leadsDiscovered``, its priority twin and
    /// ``leadCommands``: a record of them without a key or in another partition than its lead's
    /// the coordinator publishes again in its lead's, so a dead letter of such a copy is an
    /// input still.
    public var leadInputs: [String] { [leadsDiscovered, leadsDiscoveredPriority, leadCommands] }
    /// The coordinator's progress tracker's group on ``progressParts`` (and ``progress``: ``progressInputs``).
    public var progressGroup: String { Self.prefixed("coordinator.progress", namespace: namespace) }
    /// The coordinator's account-progress group on ``accountProgressParts``.
    public var accountProgressGroup: String { Self.prefixed("coordinator.account-progress", namespace: namespace) }
    /// A stage's group on its phase's request topics: `stage.<phase>`.
    public func stageGroup(_ phase: Phase) -> String { Self.prefixed("stage.\(phase.rawValue)", namespace: namespace) }
    /// The account heat aggregator's group on ``accountSignalContributions``.
    public var accountHeatGroup: String { Self.prefixed("account-heat", namespace: namespace) }
    /// The profile finder's group on ``leadPool``.
    public var profileFinderGroup: String { Self.prefixed("profile-finder", namespace: namespace) }
    /// The web enricher's group on ``webEnrichmentRequests``.
    public var webEnricherGroup: String { Self.prefixed("web-enricher", namespace: namespace) }
}
