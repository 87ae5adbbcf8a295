import Foundation
import LeadControl
import LeadModel
import Synchronization

/// Captures what a command prints.
final class CapturedConsole: Sendable {
    private let lines = Mutex<(output: [String], error: [String])>(([], []))

    var console: Console {
        Console(output: { line in self.lines.withLock { $0.output.append(line) } },
                error: { line in self.lines.withLock { $0.error.append(line) } })
    }

    var output: String { lines.withLock { $0.output.joined(separator: "\n") } }
    /// Each text written to the output, one element per call.
    var outputs: [String] { lines.withLock { $0.output } }
    var error: String { lines.withLock { $0.error.joined(separator: "\n") } }
}

enum Samples {
    static let now = Date(timeIntervalSince1970: 1_750_000_000)  // 2025-06-15T15:06:40Z

    /// The project's root, from this file's location.
    static let projectRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func lead(id: String = "lead-1", mode: ModeName = .full, types: [ReEnrichType]? = nil) -> LeadDiscovered {
        LeadDiscovered(
            leadID: LeadID(id), accountID: "acct-1", offerID: "offer-1", sourceSearchID: "search-1", source: .keywordSearch,
            name: "Jane Doe", linkedinURL: "https://www.linkedin.com/in/janedoe", xURL: "https://x.com/janedoe",
            mode: mode, reEnrichTypes: types, discoveredAt: now)
    }

    /// A fully enriched and scored profile.
    static func profile(id: String = "lead-1") -> EnrichedProfile {
        var profile = EnrichedProfile(discovered: lead(id: id))
        profile.linkedin = LinkedInProfile(
            publicIdentifier: "janedoe", fullName: "Jane Doe", headline: "VP of Demand Generation at Acme SaaS",
            jobTitle: "VP of Demand Generation", company: "Acme SaaS", companyLinkedInID: "1234",
            location: "San Francisco, CA, United States",
            experiences: [Experience(company: "Acme SaaS", companyLinkedInID: "1234", title: "VP of Demand Generation",
                                     startDate: now.addingTimeInterval(-400 * 86_400))],
            education: [Education(school: "Stanford University", degree: "BA", field: "Economics", endYear: 2012)],
            skills: ["Demand Generation", "Salesforce"], certifications: ["HubSpot Inbound"], languages: ["English"],
            connections: 500, followers: 1_200)
        profile.x = XProfile(userID: "42", name: "Jane Doe", username: "janedoe", bio: "Pipeline person.", followersCount: 3_400,
                             followingCount: 310, isVerified: false, profileImageURL: nil, canDM: true, isProtected: false)
        profile.company = Company(name: "Acme SaaS", linkedInID: "1234", employeeCount: 250, revenueUSD: 30_000_000,
                                  industry: "Computer Software", domain: "acmesaas.com", headquarters: "San Francisco, CA")
        profile.linkedinOutcome = .succeeded
        profile.xOutcome = .failed(reason: "HTTP 503 from provider", isRetriable: true)
        let post = Post(id: "p1", platform: .linkedin, date: now.addingTimeInterval(-3 * 86_400),
                        text: "Manual prospecting is killing our SDR team", likes: 12, replies: 4, reposts: 1,
                        url: "https://www.linkedin.com/posts/p1")
        profile.activity = Activity(
            posts: [post], plainText: "[3 days ago] Manual prospecting is killing our SDR team",
            orbit: [OrbitTarget(platform: .x, handle: "outreach_io", name: "Outreach", classification: .competitor,
                                interactionCount: 3, firstSeen: now.addingTimeInterval(-20 * 86_400), lastSeen: now)],
            signalDate: post.date)
        profile.activityOutcome = .skipped(reason: "no posts")
        profile.signalDate = post.date
        profile.scores = ScoreCard(
            fit: 87, intent: 72, timing: 65, composite: 78, buyerState: .active,
            fitReasons: [ScoreReason(signal: "title matches \"demand generation\"", points: 30)],
            intentReasons: [ScoreReason(signal: "post mentions pain point \"manual prospecting\"", points: 25)],
            timingReasons: [ScoreReason(signal: "recent engagement", points: 15)],
            stateReason: "intent 72 and fit 87", scorer: "rules-v1", scoredAt: now)
        profile.skippedPhases = [PhaseSkip(phase: .activity, reason: "timed out 3 times", at: now)]
        return profile
    }

    static func state(id: String = "lead-1", status: LeadStatus = .ready) -> LeadState {
        let runID = RunID("run-1")
        return LeadState(
            lead: lead(id: id), runID: runID, mode: .full, status: status, plan: Mode.full.phases, phaseIndex: 4,
            inFlight: nil, profile: profile(id: id),
            history: [
                HistoryEntry(at: now, kind: .discovered, runID: runID),
                HistoryEntry(at: now, kind: .phaseStarted, runID: runID, phase: .profile, attempt: 1),
                HistoryEntry(at: now, kind: .phaseFailed, runID: runID, phase: .activity, attempt: 1, detail: "timed out"),
                HistoryEntry(at: now, kind: .ready, runID: runID),
            ],
            createdAt: now, updatedAt: now, readyAt: now)
    }
}
