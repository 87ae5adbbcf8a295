import Foundation
import LeadModel

extension LeadPoolEntry {
    /// What a fitted entry keeps of the LinkedIn experiences: current ones, the one the scorer
    /// reads for the role's tenure first.
    static let keptCurrentExperiences = 3

    /// ``fitted(renderingAt:_:)`` for a record of `codec`: the entry's JSON and `framing` more
    /// bytes (the record's key and headers) within ``MessageCodec/maxRecordBytes``. What the
    /// finalize stage and the coordinator call for an entry whose record is above the bound.
    public func fitted(codec: MessageCodec, framing: Int, renderingAt now: Date) -> LeadPoolEntry? {
        fitted(renderingAt: now) { entry in
            guard let value = try? codec.encode(entry) else { return false }
            return value.count + framing <= codec.maxRecordBytes
        }
    }

    /// This entry made to fit where it is too large for a record, or nil when it cannot be.
    ///
    /// A finished profile is all that pool matching and sales have of a lead, so an entry without
    /// its oldest posts is worth more than a lead that never finishes. The entry's activity holds
    /// the posts and their rendered text, so a request within MAX_RECORD_BYTES can make an entry
    /// above it. Left out until the entry fits, each step named in ``omitted``:
    /// 1. the oldest posts (the newest that fit are kept, in their order, and the text is rendered
    ///    again for them as of `now`);
    /// 2. the activity (orbit, clusters and text);
    /// 3. the LinkedIn profile's lists: past experiences (up to ``keptCurrentExperiences``
    ///    current ones stay, the scorer's main one first), education, skills (here and in ``skills``), certifications,
    ///    languages and field sources.
    ///
    /// What is left is each phase's scalar fields and the score card: it fits unless a field is
    /// itself near the bound.
    /// - Parameter fits: whether an entry fits; called about log2(posts) + 3 times.
    public func fitted(renderingAt now: Date, _ fits: (LeadPoolEntry) throws -> Bool) rethrows -> LeadPoolEntry? {
        var entry = self
        var omitted = self.omitted ?? []
        if let activity = profile.activity, !activity.posts.isEmpty {
            let posts = activity.posts
            // Newest first; of two as old, the smaller id.
            let byAge = posts.indices.sorted { (posts[$0].date, posts[$1].id) > (posts[$1].date, posts[$0].id) }
            func keeping(_ count: Int) -> LeadPoolEntry {
                let kept = Set(byAge.prefix(count))
                var trimmed = entry
                let keptPosts = posts.indices.filter(kept.contains).map { posts[$0] }
                trimmed.profile.activity?.posts = keptPosts
                if !activity.plainText.isEmpty {
                    trimmed.profile.activity?.plainText = ActivityBuilder.renderPlainText(keptPosts, now: now)
                }
                trimmed.omitted = omitted + ["activity.posts: the \(posts.count - count) oldest of \(posts.count)"]
                return trimmed
            }
            // The most posts that fit, fewer than all (all do not), by halving.
            guard try !fits(keeping(0)) else {
                var low = 0, high = posts.count - 1
                while low < high {
                    let middle = (low + high + 1) / 2
                    if try fits(keeping(middle)) { low = middle } else { high = middle - 1 }
                }
                return keeping(low)
            }
            entry = keeping(0)
            omitted = entry.omitted ?? []
        }
        if entry.profile.activity != nil {
            entry.profile.activity = nil
            omitted.append("activity")
            entry.omitted = omitted
            if try fits(entry) { return entry }
        }
        if var linkedin = entry.profile.linkedin {
            // The one the scorer reads for tenure first, then the other current ones.
            let main = RuleBasedScorer.mainExperience(of: linkedin)
            let current = linkedin.experiences.filter { $0.isCurrent && $0 != main }
            linkedin.experiences = Array(((main.map { [$0] } ?? []) + current).prefix(Self.keptCurrentExperiences))
            linkedin.education = []
            linkedin.skills = []
            linkedin.certifications = []
            linkedin.languages = []
            linkedin.sources = nil
            entry.profile.linkedin = linkedin
            entry.skills = []
            omitted.append("linkedin: past experiences, education, skills, certifications, languages, sources")
            entry.omitted = omitted
            if try fits(entry) { return entry }
        }
        return nil
    }
}
