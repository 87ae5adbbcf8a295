import Foundation
import JSONCodec
@testable import LeadModel
import XCTest

/// The profile's parts write their JSON themselves (`Profiles+JSONWritable.swift`); these tests
/// hold the hand-written members to what each type's `Encodable` conformance writes, which
/// Foundation's encoder uses. The full profile sets every field of every writable part, and a test
/// checks that it does: a field added to a type fails here until the fixture sets it, and then
/// until its writer writes it.
final class JSONWritableTests: XCTestCase {
    private static let day = Date(timeIntervalSince1970: 1_767_225_600.25)

    static func fullProfile() -> EnrichedProfile {
        let day = Self.day
        var linkedin = LinkedInProfile(
            publicIdentifier: "ada-l", fullName: "Ada \"AL\" Lovelace", headline: "Engines\nand notes", jobTitle: "VP Engineering",
            company: "Analytical Ltd", companyLinkedInID: "li-42", location: "London, UK",
            experiences: [
                Experience(company: "Analytical Ltd", companyLinkedInID: "li-42", title: "VP Engineering",
                           startDate: day.addingTimeInterval(-86_400 * 400), endDate: day.addingTimeInterval(-86_400)),
            ],
            education: [Education(school: "Home", degree: "BSc", field: "Mathematics", endYear: 1833)],
            skills: ["Analysis", "Écriture"], certifications: ["CKA"], languages: ["English", "French"], connections: 500,
            followers: 1_200)
        linkedin.sources = [FieldSource(group: .identity, vendor: "pdl", confidence: 0.875)]
        let x = XProfile(
            userID: "x-1", name: "Ada", username: "ada", bio: "Engines / notes", followersCount: 10, followingCount: 20,
            isVerified: true, profileImageURL: "https://img.example/ada.png", canDM: false, isProtected: false,
            location: "London", url: "https://ada.example")
        let company = Company(
            name: "Analytical Ltd", linkedInID: "li-42", employeeCount: 250, revenueUSD: 12_000_000, industry: "Computer Software",
            domain: "analytical.example", headquarters: "London")
        let activity = Activity(
            posts: [Post(id: "p1", platform: .x, date: day, text: "Looking for a tool \u{1F4A1}", likes: 3, replies: 1, reposts: 0,
                         url: "https://x.example/p1")],
            plainText: "Looking for a tool", orbit: [
                OrbitTarget(platform: .linkedin, handle: "rival", name: "Rival Inc", classification: .adjacentVendor, interactionCount: 4,
                            firstSeen: day.addingTimeInterval(-3_600), lastSeen: day),
            ],
            signalDate: day,
            clusters: [OrbitCluster(handles: ["rival", "peer"], hasCompetitor: true, interactionCount: 6, firstSeen: day, lastSeen: day,
                                    velocityPerWeek: 1.5, isNew: true, names: ["Rival Inc", "Peer"])])
        let scores = ScoreCard(
            fit: 80, intent: -5, timing: 30, composite: 61, buyerState: .poorFit,
            fitReasons: [ScoreReason(signal: "title matches", points: 20, source: "linkedin")],
            intentReasons: [ScoreReason(signal: "no posts", points: -5, source: "x")],
            timingReasons: [ScoreReason(signal: "recent post", points: 30, source: "activity")],
            stateReason: "hot", scorer: "rules-v3", scoredAt: day,
            evidence: ScoreEvidence(completeness: 90, missing: ["revenue"], sources: ["linkedin", "x"]))
        var profile = EnrichedProfile(
            leadID: "lead-1", name: "Ada Lovelace", linkedinURL: "https://www.linkedin.com/in/ada-l", xURL: "https://x.com/ada",
            linkedin: linkedin, x: x, company: company, linkedinOutcome: .failed(reason: "rate limited", isRetriable: true),
            xOutcome: .skipped(reason: "no handle"), activity: activity, activityOutcome: .succeeded, signalDate: day, scores: scores,
            skippedPhases: [PhaseSkip(phase: .activity, reason: "provider down", at: day)])
        profile.web = WebEnrichment(
            leadID: "lead-1", searchID: nil, domain: "analytical.example", url: "https://analytical.example", status: .completed,
            name: "Analytical", fetchedAt: day)
        return profile
    }

    /// Every optional of every writable part is set and every array has an element.
    func testTheFullProfileSetsEveryField() {
        var unset: [String] = []
        Self.collectUnsetFields(of: Self.fullProfile(), path: "profile", into: &unset)
        XCTAssertEqual(unset, [], "set these in fullProfile(), then check their writers")
    }

    func testTheWritersWriteWhatEncodableWrites() throws {
        var sparse = EnrichedProfile(leadID: "lead-2", name: "Plain")
        sparse.activity = .empty
        var profiles = [Self.fullProfile(), sparse]
        for outcome in [PlatformOutcome.succeeded, .failed(reason: "x", isRetriable: false), .skipped(reason: "y")] {
            var variant = sparse
            variant.linkedinOutcome = outcome
            profiles.append(variant)
        }
        for profile in profiles {
            try assertSameJSON(profile)
        }
        try assertSameJSON(Activity.WithoutPlainText(activity: Self.fullProfile().activity!))
        try assertSameJSON([Self.fullProfile().scores!])  // writable values inside an array
    }

    /// The stream encoder (which uses the writers) and Foundation's encoder (which uses
    /// `encode(to:)`) write the same bytes.
    private func assertSameJSON<T: Encodable>(_ value: T, file: StaticString = #filePath, line: UInt = #line) throws {
        let written = String(decoding: try JSONStreamEncoder.encode(value), as: UTF8.self)
        let encoded = String(decoding: try JSONStreamEncoder.foundationEncoder().encode(value), as: UTF8.self)
        XCTAssertEqual(written, encoded, file: file, line: line)
    }

    /// The paths of the nil optionals and empty arrays in `value`, looking inside the values
    /// that write themselves (the others are written through `encode(to:)` either way).
    private static func collectUnsetFields(of value: Any, path: String, into unset: inout [String]) {
        for child in Mirror(reflecting: value).children {
            let name = path + "." + (child.label ?? "?")
            let mirror = Mirror(reflecting: child.value)
            var inner = child.value
            if mirror.displayStyle == .optional {
                guard let wrapped = mirror.children.first?.value else {
                    unset.append(name)
                    continue
                }
                inner = wrapped
            }
            if let array = inner as? [Any] {
                if array.isEmpty { unset.append(name) }
                for element in array where element is any JSONWritable { collectUnsetFields(of: element, path: name + "[]", into: &unset) }
            } else if inner is any JSONWritable {
                collectUnsetFields(of: inner, path: name, into: &unset)
            }
        }
    }
}
