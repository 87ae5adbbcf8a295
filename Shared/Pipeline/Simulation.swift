import Foundation
import LeadModel

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

/// Words the simulated activity draws on, so some posts hit an offer's signals.
public struct SimulationVocabulary: Sendable, Hashable {
    /// Pain points posts may mention.
    public var painPoints: [String]
    /// Competitors posts may mention and the orbit may contain.
    public var competitors: [String]

    /// Creates a vocabulary.
    public init(painPoints: [String], competitors: [String]) {
        self.painPoints = painPoints
        self.competitors = competitors
    }

    /// A sales-tooling vocabulary.
    public static let salesTooling = SimulationVocabulary(
        painPoints: ["manual prospecting", "low reply rates", "lead enrichment", "outbound automation"],
        competitors: ["Outreach", "Apollo", "Salesloft"])
}

/// Shared behaviour of the simulated providers: latency and failure draws.
struct SimulatedCalls: Sendable {
    let behavior: SimulationSettings.ProviderBehavior
    let provider: String
    let salt: String

    /// Sleeps the drawn latency, then throws the drawn failure, if any. Deterministic per
    /// provider, subject and attempt.
    func perform(subject: String, attempt: Int) async throws(ProviderError) {
        var random = SeededRandom(seedText: "\(salt)|\(provider)|call|\(subject.lowercased())|\(attempt)")
        let jitter = behavior.latencyJitter * (random.unit() * 2 - 1)
        let latency = behavior.meanLatency + jitter
        if latency > .zero {
            do {
                try await Task.sleep(for: latency)
            } catch {
                throw .cancelled
            }
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
    struct CompanyTemplate {
        let name: String
        let industry: String
        let employees: Int
        let revenueUSD: Int
        let domain: String
        let headquarters: String
    }

    static let companies: [CompanyTemplate] = [
        .init(name: "Acme SaaS", industry: "Computer Software", employees: 250, revenueUSD: 30_000_000, domain: "acmesaas.com", headquarters: "San Francisco, CA"),
        .init(name: "Northwind Analytics", industry: "Computer Software", employees: 80, revenueUSD: 9_000_000, domain: "northwind.io", headquarters: "Austin, TX"),
        .init(name: "Globex Logistics", industry: "Logistics and Supply Chain", employees: 4_200, revenueUSD: 900_000_000, domain: "globex.com", headquarters: "Chicago, IL"),
        .init(name: "Initech Financial", industry: "Financial Services", employees: 1_200, revenueUSD: 210_000_000, domain: "initech.com", headquarters: "New York, NY"),
        .init(name: "Umbrella Health", industry: "Hospital & Health Care", employees: 9_000, revenueUSD: 1_400_000_000, domain: "umbrella-health.com", headquarters: "Boston, MA"),
        .init(name: "Hooli Cloud", industry: "Information Technology and Services", employees: 15_000, revenueUSD: 4_000_000_000, domain: "hooli.com", headquarters: "Palo Alto, CA"),
        .init(name: "Stark Robotics", industry: "Industrial Automation", employees: 600, revenueUSD: 120_000_000, domain: "starkrobotics.com", headquarters: "Detroit, MI"),
        .init(name: "Wayne Media", industry: "Marketing and Advertising", employees: 140, revenueUSD: 18_000_000, domain: "waynemedia.co", headquarters: "London, United Kingdom"),
        .init(name: "Pied Piper", industry: "Computer Software", employees: 35, revenueUSD: 2_500_000, domain: "piedpiper.com", headquarters: "Palo Alto, CA"),
        .init(name: "Cyberdyne Security", industry: "Computer & Network Security", employees: 320, revenueUSD: 45_000_000, domain: "cyberdyne.io", headquarters: "Toronto, Canada"),
        .init(name: "Tyrell Biotech", industry: "Biotechnology", employees: 700, revenueUSD: 150_000_000, domain: "tyrellbio.com", headquarters: "Berlin, Germany"),
        .init(name: "Blue Sun Retail", industry: "Retail", employees: 5_500, revenueUSD: 1_100_000_000, domain: "bluesun.com", headquarters: "Amsterdam, Netherlands"),
        .init(name: "Bluth Realty", industry: "Real Estate", employees: 45, revenueUSD: 6_000_000, domain: "bluthrealty.com", headquarters: "Newport Beach, CA"),
        .init(name: "Gekko Capital", industry: "Venture Capital & Private Equity", employees: 25, revenueUSD: 12_000_000, domain: "gekko.vc", headquarters: "New York, NY"),
        .init(name: "Self-employed", industry: "Management Consulting", employees: 1, revenueUSD: 150_000, domain: "", headquarters: ""),
    ]

    static let titles = [
        "VP of Demand Generation", "Head of Growth", "Director of Sales Development", "Account Executive",
        "SDR Manager", "Chief Revenue Officer", "Founder & CEO", "Marketing Operations Manager",
        "Senior Software Engineer", "Revenue Operations Lead", "Director of Marketing", "Growth Marketing Manager",
        "CTO", "Product Manager", "Sales Engineer", "VP Sales", "Head of Partnerships", "Customer Success Manager",
    ]

    static let locations = [
        "San Francisco, CA, United States", "New York, NY, United States", "Austin, TX, United States",
        "London, England, United Kingdom", "Berlin, Germany", "Toronto, ON, Canada", "Amsterdam, Netherlands",
        "Sydney, NSW, Australia", "Boston, MA, United States", "Paris, France", "Chicago, IL, United States",
        "Bangalore, India",
    ]

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

    static func startOfDay(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
    }
}

/// A deterministic LinkedIn provider: the same handle always gives the same profile.
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

    /// See ``LinkedInProvider/fetchProfile(handle:attempt:)``.
    public func fetchProfile(handle: String, attempt: Int) async throws(ProviderError) -> LinkedInEnrichment {
        try await calls.perform(subject: handle, attempt: attempt)
        return Self.makeProfile(handle: handle, salt: salt, today: SimulatedData.startOfDay(now()))
    }

    static func makeProfile(handle: String, salt: String, today: Date) -> LinkedInEnrichment {
        var random = SeededRandom(seedText: "\(salt)|linkedin|profile|\(handle.lowercased())")
        let day: TimeInterval = 86_400
        let template = random.pick(SimulatedData.companies) ?? SimulatedData.companies[0]
        let title = random.pick(SimulatedData.titles) ?? "Account Executive"
        let companyID = template.domain.isEmpty ? nil : String(10_000 + StableHash.fnv1a(template.name) % 90_000)
        // A quarter of the leads changed jobs in the last three months: a timing signal.
        let tenureDays = random.unit() < 0.25 ? Double(10 + random.next() % 80) : Double(120 + random.next() % 1_700)
        let currentStart = today.addingTimeInterval(-tenureDays * day)
        var experiences = [Experience(company: template.name, companyLinkedInID: companyID, title: title, startDate: currentStart)]
        var end = currentStart
        for _ in 0..<Int(1 + random.next() % 3) {
            let previous = random.pick(SimulatedData.companies.filter { $0.name != template.name && !$0.domain.isEmpty }) ?? template
            let length = Double(300 + random.next() % 1_200)
            let start = end.addingTimeInterval(-length * day)
            experiences.append(
                Experience(
                    company: previous.name, companyLinkedInID: String(10_000 + StableHash.fnv1a(previous.name) % 90_000),
                    title: random.pick(SimulatedData.titles) ?? title, startDate: start, endDate: end))
            end = start.addingTimeInterval(-Double(random.next() % 60) * day)
        }
        let skills = Array(Set((0..<5).compactMap { _ in random.pick(SimulatedData.skills) })).sorted()
        let school = random.pick(SimulatedData.schools) ?? "Stanford University"
        let location = random.pick(SimulatedData.locations) ?? "New York, NY, United States"
        let profile = LinkedInProfile(
            publicIdentifier: handle, fullName: SimulatedData.displayName(fromHandle: handle),
            headline: "\(title) at \(template.name)", jobTitle: title, company: template.name,
            companyLinkedInID: companyID, location: location, experiences: experiences,
            education: [Education(school: school, degree: random.unit() < 0.5 ? "BA" : "BSc", field: "Business", endYear: 2000 + Int(random.next() % 22))],
            skills: skills, certifications: random.unit() < 0.4 ? [random.pick(SimulatedData.certifications) ?? "Scrum Master"] : [],
            languages: Array(Set(["English", random.pick(SimulatedData.languages) ?? "English"])).sorted(),
            connections: Int(50 + random.next() % 450) + (random.unit() < 0.5 ? 0 : 500),
            followers: Int(100 + random.next() % 20_000))
        let company = Company(
            name: template.name, linkedInID: companyID, employeeCount: template.employees, revenueUSD: template.revenueUSD,
            industry: template.industry, domain: template.domain.isEmpty ? nil : template.domain,
            headquarters: template.headquarters.isEmpty ? nil : template.headquarters)
        return LinkedInEnrichment(profile: profile, company: company)
    }
}

/// A deterministic X provider: the same username always gives the same profile.
public struct SimulatedXProvider: XProvider {
    private let calls: SimulatedCalls
    private let salt: String

    /// Creates the provider.
    public init(settings: SimulationSettings) {
        calls = SimulatedCalls(behavior: settings.x, provider: "x", salt: settings.salt)
        salt = settings.salt
    }

    /// See ``XProvider/fetchProfile(username:attempt:)``.
    public func fetchProfile(username: String, attempt: Int) async throws(ProviderError) -> XProfile {
        try await calls.perform(subject: username, attempt: attempt)
        var random = SeededRandom(seedText: "\(salt)|x|profile|\(username.lowercased())")
        let isProtected = random.unit() < 0.05
        let title = random.pick(SimulatedData.titles) ?? "Builder"
        let topic = random.pick(SimulatedData.skills) ?? "SaaS"
        let followers = random.unit() < 0.1 ? Int(20_000 + random.next() % 200_000) : Int(50 + random.next() % 5_000)
        return XProfile(
            userID: String(1_000_000 + StableHash.fnv1a("x-id|" + username.lowercased()) % 1_000_000_000_000),
            name: SimulatedData.displayName(fromHandle: username), username: username,
            bio: isProtected ? "" : "\(title). Writing about \(topic.lowercased()). Opinions my own.",
            followersCount: followers, followingCount: Int(20 + random.next() % 2_000),
            isVerified: random.unit() < 0.15,
            profileImageURL: "https://pbs.twimg.com/profile_images/\(StableHash.fnv1a(username) % 1_000_000_000)/avatar.jpg",
            canDM: !isProtected && random.unit() < 0.35, isProtected: isProtected)
    }
}

/// A deterministic activity provider: the same lead always gives the same posts and orbit.
///
/// Posts fall within the last ~200 days (a few beyond the six-month horizon, for the filter to
/// drop); some mention the vocabulary's pain points or competitors, ask for recommendations, or
/// announce hiring/funding. LinkedIn posts when the lead has a LinkedIn handle, else X posts.
public struct SimulatedActivityProvider: ActivityProvider {
    private let calls: SimulatedCalls
    private let salt: String
    private let vocabulary: SimulationVocabulary
    private let now: @Sendable () -> Date

    /// Creates the provider. Dates are relative to the start of `now()`'s UTC day.
    public init(
        settings: SimulationSettings, vocabulary: SimulationVocabulary = .salesTooling,
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
        var random = SeededRandom(seedText: "\(salt)|activity|\(platform.rawValue)|\(handle.lowercased())")
        let day: TimeInterval = 86_400

        var posts: [Post] = []
        let postCount = random.unit() < 0.15 ? 0 : Int(1 + random.next() % 8)
        for index in 0..<postCount {
            let age = Double(random.next() % 200) + random.unit()
            let text = makePostText(random: &random)
            let id = String(StableHash.fnv1a("\(handle)|post|\(index)") % 10_000_000_000)
            let url = platform == .linkedin
                ? "https://www.linkedin.com/feed/update/urn:li:activity:\(id)"
                : "https://x.com/\(handle)/status/\(id)"
            posts.append(
                Post(
                    id: id, platform: platform, date: today.addingTimeInterval(-age * day), text: text,
                    likes: Int(random.next() % 300), replies: Int(random.next() % 40), reposts: Int(random.next() % 25), url: url))
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
        if random.unit() < 0.35, let competitor = random.pick(vocabulary.competitors) {
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

    private func makePostText(random: inout SeededRandom) -> String {
        let pain = random.pick(vocabulary.painPoints) ?? "manual work"
        let competitor = random.pick(vocabulary.competitors) ?? "our current vendor"
        let roll = random.unit()
        switch roll {
        case ..<0.15: return "Our team spends hours on \(pain) every week. There has to be a better way."
        case ..<0.25: return "Can anyone recommend a tool for \(pain)? Open to suggestions."
        case ..<0.33: return "We've used \(competitor) for a year now. Looking for an alternative to \(competitor), any recommendations?"
        case ..<0.40: return "Sat in on a \(competitor) demo today. Interesting roadmap."
        case ..<0.46: return "We're hiring! Join our team as an SDR, DM me."
        case ..<0.50: return "Thrilled to share that we raised our Series B to keep building."
        default: return random.pick(SimulatedData.genericPosts) ?? "Back from a great week with customers."
        }
    }
}
