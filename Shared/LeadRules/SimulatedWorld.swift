import Foundation
import LeadModel

// The simulated world: companies whose size, money and offices agree, and people whose title,
// location and tenure agree with the company they work for. The simulated providers draw every
// profile from here, so a lead's LinkedIn profile, X profile and posts describe one person.
//
// Base rates (public figures; approximate where said):
// - Job changes. The US Bureau of Labor Statistics "Employee Tenure in 2024" release (September
//   2024) puts median tenure with the current employer at 3.9 years in January 2024, and at 2.7
//   years for workers aged 25-34; turnover in sales and software roles is on the short side.
//   We model a constant hazard of one change in four per year, so 1 - 0.75^(90/365) ≈ 6.8 % of
//   people started their current role in the last 90 days (founders excepted).
// - Funding rounds. Carta's "State of Private Markets" reports (2023-24) and Crunchbase News
//   analyses put the median time between priced venture rounds at roughly 18-24 months; we use
//   21 months (640 days), so about 14 % of venture-backed companies raised in any 90 days.
//   Bootstrapped, privately held and listed companies announce no rounds.

/// How a company is financed; it goes with the company's size and revenue.
enum FundingStage: String, CaseIterable {
    /// Funded by its revenue; any size, usually small.
    case bootstrapped
    /// Seed: a handful of people to about 25.
    case seed
    /// Series A: about 15 to 80 people.
    case seriesA
    /// Series B: about 50 to 300 people.
    case seriesB
    /// Series C: about 150 to 800 people.
    case seriesC
    /// Series D and later: hundreds to a few thousand people.
    case lateStage
    /// Privately held and established (family firms, partnerships, non-profit health systems).
    case established
    /// Listed on a stock exchange.
    case listed

    /// Whether the company raises venture rounds.
    var raisesRounds: Bool {
        switch self {
        case .seed, .seriesA, .seriesB, .seriesC, .lateStage: true
        case .bootstrapped, .established, .listed: false
        }
    }

    /// The round a post announces, in the words the funding signal looks for.
    var roundName: String {
        switch self {
        case .seed: "seed round"
        case .seriesA: "Series A"
        case .seriesB: "Series B"
        case .seriesC: "Series C"
        case .lateStage: "Series D"
        case .bootstrapped, .established, .listed: "funding round"
        }
    }
}

/// A company of the simulated world.
struct SimulatedCompany {
    let name: String
    let industry: String
    let employees: Int
    let revenueUSD: Int
    /// Empty for the self-employed.
    let domain: String
    let stage: FundingStage
    let foundedYear: Int
    /// Office locations in LinkedIn's form ("City, Region, Country"), headquarters first; empty
    /// for the self-employed, who live anywhere.
    let offices: [String]

    /// The country of the headquarters, nil when there are no offices.
    var country: String? { offices.first.flatMap { $0.split(separator: ",").last }.map(\.withoutSurroundingSpaces) }

    /// LinkedIn's numeric company id, stable per name; nil for the self-employed.
    var linkedInID: String? { domain.isEmpty ? nil : String(10_000 + StableHash.fnv1a(name) % 90_000) }

    /// The UTC start of the founding year.
    var founded: Date { Date(timeIntervalSince1970: Double(foundedYear - 1970) * 365.2425 * 86_400) }

    /// Days since the last round, or nil when the company raises none. Each company sits at its
    /// own point of a 640-day cycle that moves one day per day (see the base rates above).
    func daysSinceLastRound(today: Date, salt: String) -> Int? {
        guard stage.raisesRounds else { return nil }
        let day = UInt64(max(0, today.timeIntervalSince1970 / 86_400))
        return Int((StableHash.fnv1a("\(salt)|round|\(name)") &+ day) % SimulatedWorld.roundIntervalDays)
    }

    /// The company as a provider reports it.
    var record: Company {
        Company(
            name: name, linkedInID: linkedInID, employeeCount: employees, revenueUSD: revenueUSD, industry: industry,
            domain: domain.isEmpty ? nil : domain, headquarters: offices.first)
    }
}

/// Titles a company of some size has, by tier, with the share of people in each tier.
struct TitleTier {
    let share: Double
    let titles: [String]
    /// Founders start when the company does.
    var isFounders = false
}

/// The companies and titles of the simulated world.
enum SimulatedWorld {
    /// Days between a venture-backed company's rounds (see the base rates above).
    static let roundIntervalDays: UInt64 = 640
    /// Yearly probability of a job change (see the base rates above).
    static let yearlyJobChangeRate = 0.25

    static let selfEmployed = SimulatedCompany(
        name: "Self-employed", industry: "Management Consulting", employees: 1, revenueUSD: 150_000, domain: "",
        stage: .bootstrapped, foundedYear: 2019, offices: [])

    static let companies: [SimulatedCompany] = [
        .init(name: "Pied Piper", industry: "Computer Software", employees: 12, revenueUSD: 600_000, domain: "piedpiper.com", stage: .seed, foundedYear: 2023, offices: ["Palo Alto, CA, United States"]),
        .init(name: "Kestrel AI", industry: "Computer Software", employees: 18, revenueUSD: 900_000, domain: "kestrel.ai", stage: .seed, foundedYear: 2022, offices: ["New York, NY, United States"]),
        .init(name: "Lumiere Data", industry: "Computer Software", employees: 34, revenueUSD: 3_000_000, domain: "lumieredata.fr", stage: .seriesA, foundedYear: 2021, offices: ["Paris, Ile-de-France, France"]),
        .init(name: "Northwind Analytics", industry: "Computer Software", employees: 60, revenueUSD: 7_000_000, domain: "northwind.io", stage: .seriesA, foundedYear: 2020, offices: ["Austin, TX, United States", "Denver, CO, United States"]),
        .init(name: "Southern Cross Software", industry: "Computer Software", employees: 55, revenueUSD: 5_000_000, domain: "southerncross.com.au", stage: .seriesA, foundedYear: 2019, offices: ["Sydney, NSW, Australia", "Melbourne, VIC, Australia"]),
        .init(name: "Acme SaaS", industry: "Computer Software", employees: 220, revenueUSD: 30_000_000, domain: "acmesaas.com", stage: .seriesB, foundedYear: 2017, offices: ["San Francisco, CA, United States", "New York, NY, United States"]),
        .init(name: "Cyberdyne Security", industry: "Computer & Network Security", employees: 180, revenueUSD: 28_000_000, domain: "cyberdyne.io", stage: .seriesB, foundedYear: 2018, offices: ["Toronto, ON, Canada", "Vancouver, BC, Canada"]),
        .init(name: "Banyan Cloud", industry: "Information Technology and Services", employees: 130, revenueUSD: 9_000_000, domain: "banyancloud.in", stage: .seriesB, foundedYear: 2018, offices: ["Bangalore, Karnataka, India", "Pune, Maharashtra, India"]),
        .init(name: "Wayne Media", industry: "Marketing and Advertising", employees: 140, revenueUSD: 18_000_000, domain: "waynemedia.co.uk", stage: .bootstrapped, foundedYear: 2011, offices: ["London, England, United Kingdom", "Manchester, England, United Kingdom"]),
        .init(name: "Tyrell Biotech", industry: "Biotechnology", employees: 420, revenueUSD: 60_000_000, domain: "tyrellbio.com", stage: .seriesC, foundedYear: 2015, offices: ["Berlin, Berlin, Germany", "Munich, Bavaria, Germany"]),
        .init(name: "Stark Robotics", industry: "Industrial Automation", employees: 600, revenueUSD: 110_000_000, domain: "starkrobotics.com", stage: .seriesC, foundedYear: 2014, offices: ["Pittsburgh, PA, United States", "Detroit, MI, United States"]),
        .init(name: "Massive Dynamic", industry: "Computer Software", employees: 2_400, revenueUSD: 450_000_000, domain: "massivedynamic.com", stage: .lateStage, foundedYear: 2010, offices: ["San Francisco, CA, United States", "Austin, TX, United States", "New York, NY, United States"]),
        .init(name: "Initech Financial", industry: "Financial Services", employees: 1_200, revenueUSD: 210_000_000, domain: "initech.com", stage: .established, foundedYear: 1998, offices: ["New York, NY, United States", "Charlotte, NC, United States"]),
        .init(name: "Globex Logistics", industry: "Logistics and Supply Chain", employees: 4_200, revenueUSD: 900_000_000, domain: "globex.com", stage: .listed, foundedYear: 1985, offices: ["Chicago, IL, United States", "Dallas, TX, United States"]),
        .init(name: "Umbrella Health", industry: "Hospital & Health Care", employees: 9_000, revenueUSD: 1_400_000_000, domain: "umbrella-health.org", stage: .established, foundedYear: 1952, offices: ["Boston, MA, United States", "Worcester, MA, United States"]),
        .init(name: "Hooli Cloud", industry: "Information Technology and Services", employees: 15_000, revenueUSD: 4_000_000_000, domain: "hooli.com", stage: .listed, foundedYear: 2001, offices: ["Palo Alto, CA, United States", "Seattle, WA, United States", "New York, NY, United States"]),
        .init(name: "Blue Sun Retail", industry: "Retail", employees: 5_500, revenueUSD: 1_100_000_000, domain: "bluesun.nl", stage: .listed, foundedYear: 1990, offices: ["Amsterdam, North Holland, Netherlands", "Rotterdam, South Holland, Netherlands"]),
        .init(name: "Bluth Realty", industry: "Real Estate", employees: 45, revenueUSD: 6_000_000, domain: "bluthrealty.com", stage: .bootstrapped, foundedYear: 2004, offices: ["Newport Beach, CA, United States"]),
        .init(name: "Gekko Capital", industry: "Venture Capital & Private Equity", employees: 25, revenueUSD: 12_000_000, domain: "gekko.vc", stage: .established, foundedYear: 2008, offices: ["New York, NY, United States"]),
        selfEmployed,
    ]

    /// Where the self-employed live.
    static let anywhere = [
        "San Francisco, CA, United States", "New York, NY, United States", "London, England, United Kingdom",
        "Berlin, Berlin, Germany", "Toronto, ON, Canada", "Sydney, NSW, Australia", "Lisbon, Lisbon, Portugal",
        "Bangalore, Karnataka, India",
    ]

    /// Title tiers by company size: founders and "Head of" titles at startups, a pyramid of
    /// executives, VPs, directors, managers and individual contributors at larger companies.
    /// Tables made once: a profile draws several titles.
    static func titleTiers(employees: Int) -> [TitleTier] {
        switch employees {
        case ...1: soloTiers
        case ..<50: startupTiers
        case ...1_000: midsizeTiers
        default: largeTiers
        }
    }

    private static let soloTiers = [TitleTier(share: 1, titles: ["Independent Consultant", "Freelance Growth Marketer", "Independent Sales Advisor"])]
    private static let startupTiers = [
        TitleTier(share: 0.25, titles: ["Founder & CEO", "Co-founder & CTO", "Co-founder & COO"], isFounders: true),
        TitleTier(share: 0.35, titles: ["Head of Sales", "Head of Growth", "Head of Marketing", "Head of Engineering", "Head of Customer Success"]),
        TitleTier(share: 0.40, titles: ["Founding Account Executive", "Growth Marketer", "Software Engineer", "Account Executive", "Sales Development Representative", "Product Designer"]),
    ]
    private static let midsizeTiers = [
        TitleTier(share: 0.05, titles: ["CEO", "Chief Revenue Officer", "Chief Marketing Officer", "CTO"]),
        TitleTier(share: 0.12, titles: ["VP Sales", "VP of Marketing", "VP of Engineering", "VP of Customer Success"]),
        TitleTier(share: 0.20, titles: ["Head of Growth", "Head of Partnerships", "Director of Sales Development", "Director of Marketing", "Director of Revenue Operations"]),
        TitleTier(share: 0.25, titles: ["SDR Manager", "Marketing Operations Manager", "Sales Manager", "Engineering Manager", "Customer Success Team Lead"]),
        TitleTier(share: 0.38, titles: ["Account Executive", "Sales Development Representative", "Sales Engineer", "Product Manager", "Senior Software Engineer", "Growth Marketing Manager", "Revenue Operations Analyst", "Customer Success Manager"]),
    ]
    private static let largeTiers = [
        TitleTier(share: 0.02, titles: ["Chief Information Officer", "Chief Operating Officer"]),
        TitleTier(share: 0.06, titles: ["SVP, Global Sales", "VP of Demand Generation", "VP of Operations", "VP of IT"]),
        TitleTier(share: 0.14, titles: ["Director of Procurement", "Director of IT", "Senior Director, Marketing", "Regional Sales Director"]),
        TitleTier(share: 0.30, titles: ["IT Manager", "Sales Operations Manager", "Marketing Manager", "Operations Manager", "Procurement Manager"]),
        TitleTier(share: 0.48, titles: ["Enterprise Account Executive", "Business Analyst", "Senior Software Engineer", "Security Engineer", "Data Analyst", "Marketing Specialist"]),
    ]

    /// A title at `company` drawn by tier share, and whether it is a founder's.
    static func drawTitle(at company: SimulatedCompany, allowFounders: Bool, random: inout SeededRandom) -> (title: String, isFounder: Bool) {
        let all = titleTiers(employees: company.employees)
        let tiers = allowFounders || !all.contains(where: \.isFounders) ? all : all.filter { !$0.isFounders }
        var remaining = random.unit() * tiers.reduce(0) { $0 + $1.share }
        let tier = tiers.first { tier in
            remaining -= tier.share
            return remaining < 0
        } ?? tiers[tiers.count - 1]
        return (random.pick(tier.titles) ?? tier.titles[0], tier.isFounders)
    }
}

/// One person of the simulated world: where they work, as what, where they live and since when.
/// Every platform's profile and the posts of one lead are drawn from the same person.
struct SimulatedPerson {
    let company: SimulatedCompany
    let title: String
    let isFounder: Bool
    let location: String
    /// When the current role started.
    let roleStart: Date

    /// The person for `key` (the lead id when known, else a platform handle); deterministic per
    /// key, salt and day.
    static func make(key: String, salt: String, today: Date) -> SimulatedPerson {
        var random = SeededRandom(seedText: "\(salt)|person|\(key)")
        let company = random.pick(SimulatedWorld.companies) ?? SimulatedWorld.selfEmployed
        let (title, isFounder) = SimulatedWorld.drawTitle(at: company, allowFounders: true, random: &random)
        let companyAgeDays = max(1, today.timeIntervalSince(company.founded) / 86_400)
        let tenureDays: Double
        if isFounder {
            tenureDays = companyAgeDays
        } else {
            // Exponential tenure with the yearly hazard of the base rates, capped by the company's age.
            let dailyHazard = -log(1 - SimulatedWorld.yearlyJobChangeRate) / 365
            tenureDays = min(companyAgeDays, max(1, -log(1 - random.unit()) / dailyHazard))
        }
        return SimulatedPerson(
            company: company, title: title, isFounder: isFounder, location: drawLocation(company, random: &random),
            roleStart: today.addingTimeInterval(-tenureDays.rounded(.down) * 86_400))
    }

    /// Mostly the headquarters, else another office; some work remotely within the country.
    private static func drawLocation(_ company: SimulatedCompany, random: inout SeededRandom) -> String {
        guard let headquarters = company.offices.first, let country = company.country else {
            return random.pick(SimulatedWorld.anywhere) ?? "New York, NY, United States"
        }
        let roll = random.unit()
        if roll < 0.08 { return country }
        if roll < 0.6 || company.offices.count == 1 { return headquarters }
        return random.pick(Array(company.offices.dropFirst())) ?? headquarters
    }

    /// The location as people write it on X: "Austin, TX", "Berlin", or the country.
    var shortLocation: String {
        let parts = location.split(separator: ",").map(\.withoutSurroundingSpaces)
        guard parts.count >= 3 else { return parts.first ?? location }
        return parts[1].count <= 3 ? "\(parts[0]), \(parts[1])" : parts[0]
    }
}

extension Substring {
    /// The text without the whitespace at either end: `trimmingCharacters(in: .whitespaces)` for
    /// the world's one-line place names, without Foundation's character sets (a person's
    /// locations took 4% of the profile stage's CPU samples in a benchmark run).
    var withoutSurroundingSpaces: String {
        var text = self
        while text.first?.isWhitespace == true { text.removeFirst() }
        while text.last?.isWhitespace == true { text.removeLast() }
        return String(text)
    }
}
