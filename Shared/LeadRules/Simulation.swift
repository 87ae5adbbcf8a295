import Foundation
import LeadModel
import Runtime

/// A 64-bit FNV-1a hash of UTF-8 text: stable across processes and platforms (unlike `Hasher`,
/// which is seeded per process), so simulated data is the same on every run.
public enum StableHash {
    /// FNV-1a over the UTF-8 bytes of `text`.
    public static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}

/// SplitMix64: a small, fast, seedable generator for deterministic simulations.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator starting from `seed`.
    public init(seed: UInt64) { state = seed }

    /// A generator seeded from the stable hash of `text`.
    public init(seedText text: String) { self.init(seed: StableHash.fnv1a(text)) }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// A uniform value in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// A random element, or nil for an empty array.
    mutating func pick<T>(_ items: [T]) -> T? {
        items.isEmpty ? nil : items[Int(next() % UInt64(items.count))]
    }
}

/// The knobs of the simulated providers.
public struct SimulationSettings: Sendable, Hashable {
    /// Latency and failure behaviour of one simulated provider.
    public struct ProviderBehavior: Sendable, Hashable {
        /// Mean latency per call.
        public var meanLatency: Duration
        /// Latency varies uniformly within ± this.
        public var latencyJitter: Duration
        /// Share of calls (per lead and attempt) that fail retriably, 0...1.
        public var failureRate: Double
        /// Share of profiles (per handle) that do not exist, 0...1.
        public var notFoundRate: Double
        /// Share of calls (per lead and attempt) answering out of credits, 0...1.
        public var outOfCreditsRate: Double

        /// Creates a behaviour.
        public init(
            meanLatency: Duration, latencyJitter: Duration = .zero, failureRate: Double = 0, notFoundRate: Double = 0,
            outOfCreditsRate: Double = 0
        ) {
            self.meanLatency = meanLatency
            self.latencyJitter = latencyJitter
            self.failureRate = failureRate
            self.notFoundRate = notFoundRate
            self.outOfCreditsRate = outOfCreditsRate
        }

        /// No latency, no failures.
        public static let instant = ProviderBehavior(meanLatency: .zero)

        /// The latency of one call: the mean plus a uniform draw within ± the jitter, never
        /// negative; deterministic per `seedText`.
        public func drawLatency(seedText: String) -> Duration {
            var random = SeededRandom(seedText: seedText)
            let latency = meanLatency + latencyJitter * (random.unit() * 2 - 1)
            return max(latency, .zero)
        }
    }

    /// LinkedIn profile lookups.
    public var linkedin: ProviderBehavior
    /// X profile lookups.
    public var x: ProviderBehavior
    /// Activity lookups.
    public var activity: ProviderBehavior
    /// A simulated scoring model call (latency only; the rule-based scorer itself is instant).
    public var scoring: ProviderBehavior
    /// Mixed into every seed: different salts give different (still deterministic) worlds.
    public var salt: String

    /// Creates settings.
    public init(
        linkedin: ProviderBehavior, x: ProviderBehavior, activity: ProviderBehavior, scoring: ProviderBehavior = .instant,
        salt: String = ""
    ) {
        self.linkedin = linkedin
        self.x = x
        self.activity = activity
        self.scoring = scoring
        self.salt = salt
    }

    /// Realistic defaults: LinkedIn 800 ± 400 ms, X 400 ± 200 ms, activity 1200 ± 600 ms; 5 %
    /// retriable failures, 2 % profiles not found.
    public static let realistic = SimulationSettings(
        linkedin: ProviderBehavior(meanLatency: .milliseconds(800), latencyJitter: .milliseconds(400), failureRate: 0.05, notFoundRate: 0.02),
        x: ProviderBehavior(meanLatency: .milliseconds(400), latencyJitter: .milliseconds(200), failureRate: 0.05, notFoundRate: 0.02),
        activity: ProviderBehavior(meanLatency: .milliseconds(1200), latencyJitter: .milliseconds(600), failureRate: 0.05))

    /// No latency and no failures: for tests.
    public static let instant = SimulationSettings(linkedin: .instant, x: .instant, activity: .instant)
}

/// Words the simulated activity draws on when the query carries no offer's words.
public typealias SimulationVocabulary = OfferVocabulary

extension OfferVocabulary {
    /// A sales-tooling vocabulary (the demo offer's words).
    public static let salesTooling = OfferVocabulary(
        painPoints: ["manual prospecting", "low reply rates", "lead enrichment", "outbound automation"],
        competitors: ["Outreach", "Apollo", "Salesloft"], intentKeywords: ["sequences"],
        productKeywords: ["sales engagement platform"])
}

/// Shared behaviour of the simulated providers: latency and failure draws.
struct SimulatedCalls: Sendable {
    let behavior: SimulationSettings.ProviderBehavior
    let provider: String
    let salt: String

    /// Sleeps the drawn latency, then throws the drawn failure, if any. Deterministic per
    /// provider, subject and attempt. The sleep ends when the task is cancelled or the work's
    /// shutdown (``Runtime/GracefulShutdown/current``) begins: ``ProviderError/cancelled``.
    func perform(subject: String, attempt: Int) async throws(ProviderError) {
        var random = SeededRandom(seedText: "\(salt)|\(provider)|call|\(subject.lowercased())|\(attempt)")
        let jitter = behavior.latencyJitter * (random.unit() * 2 - 1)
        let latency = behavior.meanLatency + jitter
        if latency > .zero {
            guard await GracefulShutdown.sleepUnlessStopping(for: latency) else { throw .cancelled }
        }
        var existence = SeededRandom(seedText: "\(salt)|\(provider)|exists|\(subject.lowercased())")
        if existence.unit() < behavior.notFoundRate { throw .notFound }
        if random.unit() < behavior.outOfCreditsRate { throw .outOfCredits }
        if random.unit() < behavior.failureRate {
            if random.unit() < 0.4 {
                throw .rateLimited(retryAfter: Double(1 + random.next() % 30))
            }
            throw .transient(random.pick(["upstream timeout", "connection reset", "HTTP 503 from provider"]) ?? "timeout")
        }
    }
}

/// Fixed pools of plausible data for the simulations.
enum SimulatedData {
    static let skills = [
        "Demand Generation", "Outbound Sales", "Salesforce", "HubSpot", "Lead Generation", "SaaS",
        "Account-Based Marketing", "Marketing Automation", "Sales Operations", "Python", "Product Management",
        "Negotiation", "Cold Calling", "Revenue Operations", "SQL", "Content Marketing", "SEO", "Partnerships",
        "Team Leadership", "Customer Success",
    ]

    static let schools = [
        "Stanford University", "University of Michigan", "London School of Economics", "TU Berlin",
        "University of Toronto", "UC Berkeley", "New York University", "University of Texas at Austin",
    ]

    static let certifications = ["HubSpot Inbound", "Salesforce Administrator", "Google Analytics", "AWS Cloud Practitioner", "Scrum Master"]
    static let languages = ["English", "Spanish", "German", "French", "Portuguese", "Hindi", "Dutch"]

    static let genericPosts = [
        "Great panel today on building pipeline in a down market. Key takeaway: focus beats volume.",
        "Proud of the team for shipping our biggest release of the quarter.",
        "Reading list for the weekend: three books on leadership and one on negotiation.",
        "Hot take: most dashboards are never opened twice.",
        "Spent the morning with customers. Nothing beats hearing it first hand.",
        "Our quarterly kickoff is done. Energy is high going into the next half.",
    ]

    static let adjacentVendors = [("HubSpot", "hubspot"), ("Gong", "gong_io"), ("Clay", "clay_hq"), ("ZoomInfo", "zoominfo")]
    static let thoughtLeaders = [("Jason Lemkin", "jasonlk", 210_000), ("April Dunford", "aprildunford", 64_000), ("Lenny Rachitsky", "lennysan", 180_000)]
    static let peers = [("Sam Rivera", "samrivera"), ("Priya Shah", "priyashah"), ("Tom Becker", "tbecker"), ("Mia Lopez", "mialopez"), ("Ken Ito", "kenito")]

    /// "jane-doe42" → "Jane Doe".
    static func displayName(fromHandle handle: String) -> String {
        let words = handle.split(whereSeparator: { $0 == "-" || $0 == "_" || $0 == "." })
            .map { $0.filter(\.isLetter) }
            .filter { !$0.isEmpty }
            .map { $0.prefix(1).uppercased() + $0.dropFirst().lowercased() }
        return words.isEmpty ? handle : words.joined(separator: " ")
    }

    /// Whose person a profile is: the lead when known, so every platform shows the same person;
    /// else the handle.
    static func personKey(lead: LeadIdentity?, handle: String) -> String {
        lead.map { personKey(leadID: $0.leadID) } ?? "handle:\(handle.lowercased())"
    }

    /// The person key of a lead.
    static func personKey(leadID: LeadID) -> String { "lead:\(leadID.rawValue)" }

    static func startOfDay(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
    }
}

/// A deterministic LinkedIn provider: the same lead (or, with no lead, the same handle) always
/// gives the same profile, drawn from the lead's ``SimulatedPerson``.
public struct SimulatedLinkedInProvider: LinkedInProvider {
    private let calls: SimulatedCalls
    private let salt: String
    private let now: @Sendable () -> Date

    /// Creates the provider. Dates (work history) are relative to the start of `now()`'s UTC day,
    /// so a handle gives the same profile all day; tests pass a fixed clock.
    public init(settings: SimulationSettings, now: @escaping @Sendable () -> Date = { Date() }) {
        calls = SimulatedCalls(behavior: settings.linkedin, provider: "linkedin", salt: settings.salt)
        salt = settings.salt
        self.now = now
    }

    /// See ``LinkedInProvider/fetchProfile(handle:lead:attempt:)``. The profile carries the lead's
    /// name when `lead` is given, else a name made from the handle.
    public func fetchProfile(handle: String, lead: LeadIdentity?, attempt: Int) async throws(ProviderError) -> LinkedInEnrichment {
        try await calls.perform(subject: handle, attempt: attempt)
        return Self.makeProfile(handle: handle, lead: lead, salt: salt, today: SimulatedData.startOfDay(now()))
    }

    static func makeProfile(handle: String, lead: LeadIdentity?, salt: String, today: Date) -> LinkedInEnrichment {
        let person = SimulatedPerson.make(key: SimulatedData.personKey(lead: lead, handle: handle), salt: salt, today: today)
        var random = SeededRandom(seedText: "\(salt)|linkedin|profile|\(handle.lowercased())")
        let company = person.company
        var experiences = [Experience(company: company.name, companyLinkedInID: company.linkedInID, title: person.title, startDate: person.roleStart)]
        var end = person.roleStart
        for _ in 0..<Int(1 + random.next() % 3) {
            let start = end.addingTimeInterval(-Double(300 + random.next() % 1_200) * 86_400)
            // Only companies that existed when the job started; none for someone at the start of a career.
            let candidates = SimulatedWorld.companies.filter { $0.name != company.name && !$0.domain.isEmpty && $0.founded <= start }
            guard let previous = random.pick(candidates) else { break }
            let title = SimulatedWorld.drawTitle(at: previous, allowFounders: false, random: &random).title
            experiences.append(
                Experience(company: previous.name, companyLinkedInID: previous.linkedInID, title: title, startDate: start, endDate: end))
            end = start.addingTimeInterval(-Double(random.next() % 60) * 86_400)
        }
        let skills = Array(Set((0..<5).compactMap { _ in random.pick(SimulatedData.skills) })).sorted()
        let school = random.pick(SimulatedData.schools) ?? "Stanford University"
        let profile = LinkedInProfile(
            publicIdentifier: handle, fullName: lead?.name ?? SimulatedData.displayName(fromHandle: handle),
            headline: "\(person.title) at \(company.name)", jobTitle: person.title, company: company.name,
            companyLinkedInID: company.linkedInID, location: person.location, experiences: experiences,
            education: [Education(school: school, degree: random.unit() < 0.5 ? "BA" : "BSc", field: "Business", endYear: 2000 + Int(random.next() % 22))],
            skills: skills, certifications: random.unit() < 0.4 ? [random.pick(SimulatedData.certifications) ?? "Scrum Master"] : [],
            languages: Array(Set(["English", random.pick(SimulatedData.languages) ?? "English"])).sorted(),
            connections: Int(50 + random.next() % 450) + (random.unit() < 0.5 ? 0 : 500),
            followers: Int(100 + random.next() % 20_000))
        return LinkedInEnrichment(profile: profile, company: company.record)
    }
}

/// A deterministic X provider: the same lead (or, with no lead, the same username) always gives
/// the same profile, drawn from the same ``SimulatedPerson`` as the lead's LinkedIn profile.
///
/// About 60 % of bios name the role and company, the location (when set) is the LinkedIn one as
/// people write it on X, and about a quarter link the company's site.
public struct SimulatedXProvider: XProvider {
    private let calls: SimulatedCalls
    private let salt: String
    private let now: @Sendable () -> Date

    /// Creates the provider.
    public init(settings: SimulationSettings, now: @escaping @Sendable () -> Date = { Date() }) {
        calls = SimulatedCalls(behavior: settings.x, provider: "x", salt: settings.salt)
        salt = settings.salt
        self.now = now
    }

    /// See ``XProvider/fetchProfile(username:lead:attempt:)``. The profile carries the lead's
    /// name when `lead` is given, else a name made from the username.
    public func fetchProfile(username: String, lead: LeadIdentity?, attempt: Int) async throws(ProviderError) -> XProfile {
        try await calls.perform(subject: username, attempt: attempt)
        let today = SimulatedData.startOfDay(now())
        let person = SimulatedPerson.make(key: SimulatedData.personKey(lead: lead, handle: username), salt: salt, today: today)
        var random = SeededRandom(seedText: "\(salt)|x|profile|\(username.lowercased())")
        let isProtected = random.unit() < 0.05
        let followers = random.unit() < 0.1 ? Int(20_000 + random.next() % 200_000) : Int(50 + random.next() % 5_000)
        let domain = person.company.domain
        return XProfile(
            userID: String(1_000_000 + StableHash.fnv1a("x-id|" + username.lowercased()) % 1_000_000_000_000),
            name: lead?.name ?? SimulatedData.displayName(fromHandle: username), username: username,
            bio: isProtected ? "" : Self.makeBio(person, random: &random),
            followersCount: followers, followingCount: Int(20 + random.next() % 2_000),
            isVerified: random.unit() < 0.15,
            profileImageURL: "https://pbs.twimg.com/profile_images/\(StableHash.fnv1a(username) % 1_000_000_000)/avatar.jpg",
            canDM: !isProtected && random.unit() < 0.35, isProtected: isProtected,
            location: random.unit() < 0.7 ? person.shortLocation : nil,
            url: !domain.isEmpty && random.unit() < 0.25 ? "https://\(domain)" : nil)
    }

    /// Role and company for about 60 %, in one of the ways people write them; else interests.
    static func makeBio(_ person: SimulatedPerson, random: inout SeededRandom) -> String {
        let topic = (random.pick(SimulatedData.skills) ?? "SaaS").lowercased()
        let company = person.company
        guard random.unit() < 0.6, !company.domain.isEmpty else {
            return "Writing about \(topic). Coffee, trail runs, opinions my own."
        }
        let companyHandle = company.name.lowercased().filter { $0.isLetter || $0.isNumber }
        switch random.next() % 3 {
        case 0: return "\(person.title) at \(company.name) | \(company.industry)"
        case 1: return "\(person.title) @\(companyHandle). Writing about \(topic)."
        default: return "\(person.title), \(company.name). Views my own."
        }
    }
}

/// A deterministic activity provider: the same lead always gives the same posts and orbit.
///
/// Posts fall within the last ~200 days (a few beyond the six-month horizon, for the filter to
/// drop). They are written in the words of the query's offer (``ActivityQuery/offerVocabulary``,
/// else the provider's vocabulary), with base rates of the real thing: about 3.5 % of posts carry
/// buying language (asking for a recommendation, switching, complaining about a tool), about 14 %
/// more mention the offer's pain points, competitors or keywords in passing, a few announce
/// hiring or a launch, and a lead whose company raised a round in the last half year may post
/// about it. LinkedIn posts when the lead has a LinkedIn handle, else X posts.
public struct SimulatedActivityProvider: ActivityProvider {
    private let calls: SimulatedCalls
    private let salt: String
    private let vocabulary: OfferVocabulary
    private let now: @Sendable () -> Date

    /// Creates the provider. `vocabulary` is used for queries without the offer's words. Dates
    /// are relative to the start of `now()`'s UTC day.
    public init(
        settings: SimulationSettings, vocabulary: OfferVocabulary = .salesTooling,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        calls = SimulatedCalls(behavior: settings.activity, provider: "activity", salt: settings.salt)
        salt = settings.salt
        self.vocabulary = vocabulary
        self.now = now
    }

    /// See ``ActivityProvider/fetchActivity(_:attempt:)``.
    public func fetchActivity(_ query: ActivityQuery, attempt: Int) async throws(ProviderError) -> RawActivity {
        guard let handle = query.linkedinHandle ?? query.xUsername else {
            throw .permanent("no LinkedIn handle or X username to fetch activity for")
        }
        let platform: Platform = query.linkedinHandle != nil ? .linkedin : .x
        try await calls.perform(subject: "\(platform.rawValue):\(handle)", attempt: attempt)
        let today = SimulatedData.startOfDay(now())
        let words = query.offerVocabulary.flatMap { $0.isEmpty ? nil : $0 } ?? vocabulary
        let person = SimulatedPerson.make(key: SimulatedData.personKey(leadID: query.leadID), salt: salt, today: today)
        var random = SeededRandom(seedText: "\(salt)|activity|\(platform.rawValue)|\(handle.lowercased())")
        let day: TimeInterval = 86_400

        var drafts: [(age: Double, text: String)] = []
        let postCount = random.unit() < 0.15 ? 0 : Int(1 + random.next() % 8)
        for _ in 0..<postCount {
            drafts.append((Double(random.next() % 200) + random.unit(), makePostText(words, person: person, random: &random)))
        }
        if let roundAge = person.company.daysSinceLastRound(today: today, salt: salt), roundAge < ActivityBuilder.horizonDays,
            random.unit() < 0.5
        {
            let round = person.company.stage.roundName
            drafts.append((Double(roundAge) + random.unit(), "Thrilled to share that \(person.company.name) raised its \(round). Onwards!"))
        }
        let posts = drafts.enumerated().map { index, draft in
            let id = String(StableHash.fnv1a("\(handle)|post|\(index)") % 10_000_000_000)
            let url = platform == .linkedin
                ? "https://www.linkedin.com/feed/update/urn:li:activity:\(id)"
                : "https://x.com/\(handle)/status/\(id)"
            return Post(
                id: id, platform: platform, date: today.addingTimeInterval(-draft.age * day), text: draft.text,
                likes: Int(random.next() % 300), replies: Int(random.next() % 40), reposts: Int(random.next() % 25), url: url)
        }

        var interactions: [Interaction] = []
        func interaction(_ name: String, _ targetHandle: String, isOrganization: Bool, followers: Int) -> Interaction {
            let last = Double(random.next() % 120)
            let first = last + Double(random.next() % 90)
            return Interaction(
                platform: platform, handle: targetHandle, name: name, isOrganization: isOrganization, followers: followers,
                count: Int(1 + random.next() % 12), firstSeen: today.addingTimeInterval(-first * day),
                lastSeen: today.addingTimeInterval(-last * day))
        }
        if random.unit() < 0.15, let competitor = random.pick(words.competitors) {
            let targetHandle = competitor.lowercased().filter { $0.isLetter || $0.isNumber }
            interactions.append(interaction(competitor, targetHandle, isOrganization: true, followers: 40_000))
        }
        if random.unit() < 0.5, let vendor = random.pick(SimulatedData.adjacentVendors) {
            interactions.append(interaction(vendor.0, vendor.1, isOrganization: true, followers: 90_000))
        }
        if random.unit() < 0.5, let leader = random.pick(SimulatedData.thoughtLeaders) {
            interactions.append(interaction(leader.0, leader.1, isOrganization: false, followers: leader.2))
        }
        for _ in 0..<Int(random.next() % 3) {
            if let peer = random.pick(SimulatedData.peers) {
                interactions.append(interaction(peer.0, peer.1, isOrganization: false, followers: Int(200 + random.next() % 3_000)))
            }
        }
        return RawActivity(posts: posts, interactions: interactions)
    }

    /// One post: buying language about 3.5 % of the time, a passing mention of the offer's words
    /// about 14 %, hiring 3 %, a launch 1.5 % (not for the self-employed), else a generic post.
    private func makePostText(_ words: OfferVocabulary, person: SimulatedPerson, random: inout SeededRandom) -> String {
        let pain = random.pick(words.painPoints)
        let competitor = random.pick(words.competitors)
        let keyword = random.pick(words.intentKeywords)
        let product = random.pick(words.productKeywords)
        let hasTeam = person.company.employees > 1
        let generic = random.pick(SimulatedData.genericPosts) ?? "Back from a great week with customers."
        let roll = random.unit()
        switch roll {
        case ..<0.014:
            if let topic = pain ?? product { return "Can anyone recommend a tool for \(topic)? Open to suggestions." }
        case ..<0.026:
            if let competitor { return "We've used \(competitor) for two years. Looking for an alternative to \(competitor), what are people moving to?" }
        case ..<0.035:
            if let competitor { return "Frustrated with \(competitor) again this week. Support tickets go nowhere." }
        case ..<0.095:
            if let pain { return "Wrote up how our team deals with \(pain). Notes in the comments." }
        case ..<0.125:
            if let competitor { return "Sat in on a \(competitor) webinar today. Interesting roadmap." }
        case ..<0.155:
            if let keyword { return "Spent the week rethinking our \(keyword). Small changes, big difference." }
        case ..<0.175:
            if let product { return "Good panel on where the \(product) market is heading this year." }
        case ..<0.205:
            if hasTeam { return "We're hiring! Join our team at \(person.company.name), DM me." }
        case ..<0.22:
            if hasTeam { return "We just launched the new version of our app. Proud of this team." }
        default:
            break
        }
        return generic
    }
}

/// Whole profiles as the simulated providers enrich them, for measuring and testing what reads
/// a finished profile (scoring, heat) without running the stages.
public enum SimulatedProfiles {
    /// The profile of lead `lead-<index>` (LinkedIn `handle-<index>`, X `user<index>`): LinkedIn
    /// with its company, X, and the activity of both since the horizon, as the activity stage
    /// keeps it (`withText`: with its plain text) against `offer`, all at `now`.
    public static func profile(_ index: Int, offer: OfferConfig, now: Date, withText: Bool = true) async throws(ProviderError)
        -> EnrichedProfile {
        let clock: @Sendable () -> Date = { now }
        let leadID = LeadID("lead-\(index)")
        let identity = LeadIdentity(leadID: leadID, name: "Person Number\(index)")
        var profile = EnrichedProfile(leadID: leadID, name: identity.name, linkedinURL: "https://www.linkedin.com/in/handle-\(index)",
                                      xURL: "https://x.com/user\(index)")
        let enrichment = try await SimulatedLinkedInProvider(settings: .instant, now: clock)
            .fetchProfile(handle: "handle-\(index)", lead: identity, attempt: 1)
        (profile.linkedin, profile.company) = (enrichment.profile, enrichment.company)
        profile.x = try await SimulatedXProvider(settings: .instant, now: clock).fetchProfile(username: "user\(index)", lead: identity, attempt: 1)
        let query = ActivityQuery(leadID: leadID, linkedinHandle: "handle-\(index)", xUsername: "user\(index)",
                                  since: now.addingTimeInterval(-Double(ActivityBuilder.horizonDays) * 86_400),
                                  offerVocabulary: OfferVocabulary(offer: offer))
        let raw = try await SimulatedActivityProvider(settings: .instant, now: clock).fetchActivity(query, attempt: 1)
        profile.activity = ActivityBuilder.build(raw: raw, competitors: offer.icp.competitors, now: now, withText: withText)
        return profile
    }
}
