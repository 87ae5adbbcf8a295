import Foundation
import LeadModel

/// A profile made smaller, and what was left out of it, each part named as a pool entry's
/// `omitted` names it.
public struct FittedProfile: Hashable, Sendable {
    /// The profile, smaller.
    public var profile: EnrichedProfile
    /// What was left out: what the profile had left out before, then each step taken.
    public var omitted: [String]
    /// The Unicode scalars the profile's texts were cut at, when they were; nil otherwise.
    public var textLimit: Int? = nil
}

extension MessageCodec {
    /// Whether `message`'s JSON and `framing` more bytes (its record's key and headers) are
    /// within ``maxRecordBytes``.
    func fits(_ message: some Message, framing: Int) -> Bool {
        guard let value = try? encode(message) else { return false }
        return value.count + framing <= maxRecordBytes
    }
}

extension FittedProfile {
    /// `omitted` and the `dropped` oldest of `count` posts: said once, of all the posts there
    /// were, where `omitted` has the posts left out of the same activity before (the activity
    /// stage, then the coordinator, then the pool entry, each left out some of what the one
    /// before kept: `count` is what that one kept).
    public static func omitting(oldestPosts dropped: Int, of count: Int, after omitted: [String]) -> [String] {
        var omitted = omitted
        if let index = omitted.lastIndex(where: { postsOmitted(in: $0) != nil }), let earlier = postsOmitted(in: omitted[index]),
           earlier.count - earlier.dropped == count {
            omitted[index] = postsOmitted(dropped + earlier.dropped, of: earlier.count)
            return omitted
        }
        return omitted + [postsOmitted(dropped, of: count)]
    }

    /// `omitted` and `part`: an `activity.posts` part is said once with the posts `omitted`
    /// has (``omitting(oldestPosts:of:after:)``); a part `omitted` has is not said twice.
    static func omitting(_ part: String, after omitted: [String]) -> [String] {
        if let posts = postsOmitted(in: part) { return omitting(oldestPosts: posts.dropped, of: posts.count, after: omitted) }
        return omitted.contains(part) ? omitted : omitted + [part]
    }

    /// `omitted` without what an output of `phase` gives again: what a run folds in replaces what
    /// an earlier one left out (``ProfileMerger``). An activity output replaces the activity; a
    /// profile output each of the LinkedIn profile, the X profile and the company it has.
    static func forgetting(_ omitted: [String], replacedBy payload: PhasePayload, of phase: Phase) -> [String] {
        var replaced: [String] = []
        switch phase {
        case .activity where payload.activity != nil:
            replaced = ["activity"]
        case .profile:
            if payload.profile?.linkedin != nil { replaced.append("linkedin") }
            if payload.profile?.x != nil { replaced.append("x ") }
            if payload.profile?.company != nil { replaced.append("company ") }
        default:
            break
        }
        guard !replaced.isEmpty else { return omitted }
        return omitted.filter { part in !replaced.contains { part.hasPrefix($0) } }
    }

    /// How a cut of the texts of `profile` (`linkedin`, `x` or `company`) at `limit` is named,
    /// by the profile stage (``ProfilePhaseOutput/bounded(toAbout:size:)``) and record fitting alike.
    private static func textsOmitted(of profile: String, pastScalars limit: Int) -> String { "\(textsPrefix(profile))\(limit) characters" }

    /// `omitted` and the texts of `profile` cut at `limit`: said once, at the shorter of this
    /// cut and one `omitted` has (the profile stage cut them, then a record cut them shorter).
    static func omitting(textsOf profile: String, pastScalars limit: Int, after omitted: [String]) -> [String] {
        let prefix = textsPrefix(profile)
        guard let index = omitted.firstIndex(where: { $0.hasPrefix(prefix) }) else {
            return omitted + [textsOmitted(of: profile, pastScalars: limit)]
        }
        let earlier = Int(omitted[index].dropFirst(prefix.count).prefix { $0.isNumber }) ?? .max
        var omitted = omitted
        omitted[index] = textsOmitted(of: profile, pastScalars: min(limit, earlier))
        return omitted
    }

    private static func textsPrefix(_ profile: String) -> String { "\(profile) texts past " }

    /// `omitted` and the texts cut at `limit` of each of the LinkedIn profile, the X profile and
    /// the company that the cut changed (``omitting(textsOf:pastScalars:after:)``).
    static func omitting(textsCutAt limit: Int, linkedin: Bool, x: Bool, company: Bool, after omitted: [String]) -> [String] {
        var omitted = omitted
        for (part, isCut) in [("linkedin", linkedin), ("x", x), ("company", company)] where isCut {
            omitted = omitting(textsOf: part, pastScalars: limit, after: omitted)
        }
        return omitted
    }

    /// This profile with each text of its LinkedIn profile, X profile and company cut at `limit`
    /// Unicode scalars, each profile cut named after ``omitted``.
    func cuttingTexts(at limit: Int) -> FittedProfile {
        var cut = self
        cut.profile.linkedin = profile.linkedin?.cuttingTexts(at: limit)
        cut.profile.x = profile.x?.cuttingTexts(at: limit)
        cut.profile.company = profile.company?.cuttingTexts(at: limit)
        cut.omitted = Self.omitting(textsCutAt: limit, linkedin: cut.profile.linkedin != profile.linkedin, x: cut.profile.x != profile.x,
                                    company: cut.profile.company != profile.company, after: omitted)
        cut.textLimit = limit
        return cut
    }

    private static func postsOmitted(_ dropped: Int, of count: Int) -> String { "\(postsPrefix)\(dropped) oldest of \(count)" }

    private static let postsPrefix = "activity.posts: the "

    /// The posts left out that `entry` names, if it is an `activity.posts` entry a stage could
    /// have written: at most as many left out as there were, and no more than an `Int32` counts
    /// (the entry comes from a record, and its numbers are added and subtracted).
    private static func postsOmitted(in entry: String) -> (dropped: Int, count: Int)? {
        guard entry.hasPrefix(postsPrefix) else { return nil }
        let words = entry.dropFirst(postsPrefix.count).split(separator: " ")
        guard words.count == 4, words[1] == "oldest", words[2] == "of", let dropped = Int(words[0]), let count = Int(words[3]),
              0 <= dropped, dropped <= count, count <= Int(Int32.max) else {
            return nil
        }
        return (dropped, count)
    }
}

extension EnrichedProfile {
    /// What a fitted profile keeps of the LinkedIn experiences: current ones, the one the scorer
    /// reads for the role's tenure first.
    public static let keptCurrentExperiences = 3

    /// This profile made to fit where it is too large for a record, or nil when it cannot be.
    ///
    /// A finished profile is all that pool matching and sales have of a lead, so one without its
    /// oldest posts is worth more than a lead that never finishes. The activity holds the posts
    /// (and, in a pool entry, their rendered text), so a profile grows most there. Left out
    /// until it fits, each step named after `omitted`:
    /// 1. the end of each text of the LinkedIn profile, the X profile and the company longer than
    ///    half of ``FieldLimit/text`` (in Unicode scalars): a pool profile brings texts the
    ///    profile stage never bounded, at up to six bytes of JSON a character, and the end of
    ///    such a text is worth less than a post;
    /// 2. the oldest posts (the newest that fit are kept, in their order, and a rendered text is
    ///    rendered again for them as of `now`);
    /// 3. the activity (orbit, clusters and text);
    /// 4. the LinkedIn profile's lists (``LinkedInProfile/withoutLists()``);
    /// 5. the end of the texts again, the limit halved while it does not fit, down to
    ///    ``ProfilePhaseOutput/minimumTextLimit`` (an identifier or link that would be cut is left
    ///    out whole where it may be: ``LinkedInProfile/cuttingTexts(at:)``).
    ///
    /// What is left is the lead's own fields (within the input limits), the phases' outcomes and
    /// skips, the web enrichment and the score card (which quotes the profile's words at
    /// ``RuleBasedScorer/quotedLength``): it fits unless those are near the bound.
    /// - Parameter fits: whether a profile, with what it leaves out, fits; called about
    ///   log2(posts) + 12 times.
    public func fitted(renderingAt now: Date, omitted: [String] = [], _ fits: (FittedProfile) throws -> Bool) rethrows -> FittedProfile? {
        var fitting = FittedProfile(profile: self, omitted: omitted)
        var limit = FieldLimit.text / 2
        let longTextsCut = fitting.cuttingTexts(at: limit)
        if longTextsCut.profile != fitting.profile {
            if try fits(longTextsCut) { return longTextsCut }
            fitting = longTextsCut
        }
        if let activity = fitting.profile.activity, !activity.posts.isEmpty {
            let posts = activity.posts
            // Newest first; of two as old, the smaller id.
            let byAge = posts.indices.sorted { (posts[$0].date, posts[$1].id) > (posts[$1].date, posts[$0].id) }
            func keeping(_ count: Int) -> FittedProfile {
                let kept = Set(byAge.prefix(count))
                var trimmed = fitting
                let keptPosts = posts.indices.filter(kept.contains).map { posts[$0] }
                trimmed.profile.activity?.posts = keptPosts
                if !activity.plainText.isEmpty {
                    trimmed.profile.activity?.plainText = ActivityBuilder.renderPlainText(keptPosts, now: now)
                }
                trimmed.omitted = FittedProfile.omitting(oldestPosts: posts.count - count, of: posts.count, after: fitting.omitted)
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
            fitting = keeping(0)
        }
        if fitting.profile.activity != nil {
            fitting.profile.activity = nil
            // The whole activity: what was said of its parts goes.
            fitting.omitted = FittedProfile.omitting("activity", after: fitting.omitted.filter { !$0.hasPrefix("activity.") })
            if try fits(fitting) { return fitting }
        }
        if let linkedin = fitting.profile.linkedin, linkedin.withoutLists() != linkedin {
            fitting.profile.linkedin = linkedin.withoutLists()
            fitting.omitted = FittedProfile.omitting(LinkedInProfile.listsOmitted, after: fitting.omitted)
            if try fits(fitting) { return fitting }
        }
        while limit > ProfilePhaseOutput.minimumTextLimit {
            limit = max(ProfilePhaseOutput.minimumTextLimit, limit / 2)
            let cut = fitting.cuttingTexts(at: limit)
            if cut.profile != fitting.profile, try fits(cut) { return cut }
        }
        return nil
    }
}

extension LinkedInProfile {
    /// What ``withoutLists()`` leaves out, as `omitted` says it.
    public static let listsOmitted = "linkedin: past experiences, education, skills, certifications, languages, sources"

    /// This profile without its lists: up to ``EnrichedProfile/keptCurrentExperiences`` current
    /// experiences stay, the one the scorer reads for the role's tenure first; no past ones, no
    /// education, skills, certifications, languages or field sources.
    public func withoutLists() -> LinkedInProfile {
        var linkedin = self
        let main = RuleBasedScorer.mainExperience(of: self)
        let current = experiences.filter { $0.isCurrent && $0 != main }
        linkedin.experiences = Array(((main.map { [$0] } ?? []) + current).prefix(EnrichedProfile.keptCurrentExperiences))
        linkedin.education = []
        linkedin.skills = []
        linkedin.certifications = []
        linkedin.languages = []
        linkedin.sources = nil
        return linkedin
    }
}

extension ProfilePhaseOutput {
    /// This output within about `bytes` of JSON, and what it left out (empty: the output as it
    /// was). A provider's answer has no bound of its own, and a result above MAX_RECORD_BYTES is
    /// dead-lettered: the lead would be charged again on each attempt and go on without a profile.
    /// Left out while it is above `bytes`:
    /// 1. the LinkedIn profile's lists (``LinkedInProfile/withoutLists()``);
    /// 2. the end of each text longer than a sixteenth of `bytes` (in Unicode scalars, at most
    ///    ``FieldLimit/text``; halved while the output is still above `bytes`, down to
    ///    ``minimumTextLimit``): names, headline, bio, location, the company's fields; an id or
    ///    link that would be cut is left out whole.
    ///
    /// Within `bytes` then, unless the lists that stay (up to three experiences, the output's
    /// outcomes) are themselves near it.
    /// - Parameter size: the JSON size of an output.
    public func bounded(toAbout bytes: Int, size: (ProfilePhaseOutput) -> Int) -> (output: ProfilePhaseOutput, omitted: [String]) {
        guard size(self) > bytes else { return (self, []) }
        var output = self
        var omitted: [String] = []
        if let linkedin, linkedin != linkedin.withoutLists() {
            output.linkedin = linkedin.withoutLists()
            omitted.append(LinkedInProfile.listsOmitted)
            if size(output) <= bytes { return (output, omitted) }
        }
        // Halving the limit until the output fits, down to ``minimumTextLimit``.
        var limit = max(Self.minimumTextLimit, min(FieldLimit.text, bytes / 16))
        var cut = output.cuttingTexts(at: limit)
        while size(cut) > bytes && limit > Self.minimumTextLimit {
            limit = max(Self.minimumTextLimit, limit / 2)
            cut = output.cuttingTexts(at: limit)
        }
        omitted = FittedProfile.omitting(textsCutAt: limit, linkedin: cut.linkedin != output.linkedin, x: cut.x != output.x,
                                         company: cut.company != output.company, after: omitted)
        return (cut, omitted)
    }

    /// The shortest a bounded output's texts are cut to.
    public static let minimumTextLimit = 64

    /// This output with each text cut at `limit` Unicode scalars.
    private func cuttingTexts(at limit: Int) -> ProfilePhaseOutput {
        var output = self
        output.linkedin = linkedin?.cuttingTexts(at: limit)
        output.x = x?.cuttingTexts(at: limit)
        output.company = company?.cuttingTexts(at: limit)
        return output
    }
}

/// Cuts a text, or an optional one, at `limit` Unicode scalars.
private func cut(_ text: inout String, at limit: Int) { text = text.prefix(scalars: limit) }

private func cut(_ text: inout String?, at limit: Int) { text = text?.prefix(scalars: limit) }

/// Leaves out an identifier or a link longer than `limit` Unicode scalars: a part of one is none.
private func drop(_ value: inout String?, over limit: Int) {
    if value?.hasMoreScalars(than: limit) == true { value = nil }
}

extension LinkedInProfile {
    /// This profile with each text cut at `limit` Unicode scalars: names, headline, location, and
    /// those of its experiences, education, skills, certifications and languages. A company id
    /// longer than that is left out (a part of an id is none); the public identifier, which a
    /// profile cannot be without, is cut.
    func cuttingTexts(at limit: Int) -> LinkedInProfile {
        var linkedin = self
        for index in linkedin.experiences.indices {
            cut(&linkedin.experiences[index].company, at: limit)
            drop(&linkedin.experiences[index].companyLinkedInID, over: limit)
            cut(&linkedin.experiences[index].title, at: limit)
        }
        for index in linkedin.education.indices {
            cut(&linkedin.education[index].school, at: limit)
            cut(&linkedin.education[index].degree, at: limit)
            cut(&linkedin.education[index].field, at: limit)
        }
        for list in [\LinkedInProfile.skills, \.certifications, \.languages] {
            for index in linkedin[keyPath: list].indices { cut(&linkedin[keyPath: list][index], at: limit) }
        }
        for text in [\LinkedInProfile.publicIdentifier, \.fullName, \.headline, \.jobTitle, \.company, \.location] {
            cut(&linkedin[keyPath: text], at: limit)
        }
        drop(&linkedin.companyLinkedInID, over: limit)
        return linkedin
    }
}

extension XProfile {
    /// This profile with each text cut at `limit` Unicode scalars: id, names, bio, location. A
    /// link longer than that (image, website) is left out.
    func cuttingTexts(at limit: Int) -> XProfile {
        var x = self
        for text in [\XProfile.userID, \.name, \.username, \.bio] { cut(&x[keyPath: text], at: limit) }
        cut(&x.location, at: limit)
        for link in [\XProfile.profileImageURL, \.url] { drop(&x[keyPath: link], over: limit) }
        return x
    }
}

extension Company {
    /// This company with each text cut at `limit` Unicode scalars: name, industry, headquarters.
    /// An id or domain longer than that is left out.
    func cuttingTexts(at limit: Int) -> Company {
        var company = self
        cut(&company.name, at: limit)
        for text in [\Company.industry, \.headquarters] { cut(&company[keyPath: text], at: limit) }
        for id in [\Company.linkedInID, \.domain] { drop(&company[keyPath: id], over: limit) }
        return company
    }
}

extension LeadPoolEntry {
    /// ``fitted(renderingAt:_:)`` for a record of `codec`: the entry's JSON and `framing` more
    /// bytes (the record's key and headers) within ``MessageCodec/maxRecordBytes``. What the
    /// finalize stage and the coordinator call for an entry whose record is above the bound.
    public func fitted(codec: MessageCodec, framing: Int, renderingAt now: Date) -> LeadPoolEntry? {
        fitted(renderingAt: now) { codec.fits($0, framing: framing) }
    }

    /// This entry made to fit where it is too large for a record, or nil when it cannot be: its
    /// profile made smaller (``EnrichedProfile/fitted(renderingAt:omitted:_:)``), each part left
    /// out named in ``omitted``, ``skills`` left out with the LinkedIn lists, and the summary's
    /// texts cut with the profile's.
    /// - Parameter fits: whether an entry fits; called about log2(posts) + 12 times.
    public func fitted(renderingAt now: Date, _ fits: (LeadPoolEntry) throws -> Bool) rethrows -> LeadPoolEntry? {
        func entry(_ fitting: FittedProfile) -> LeadPoolEntry {
            var entry = self
            entry.profile = fitting.profile
            entry.omitted = fitting.omitted
            if fitting.profile.linkedin?.skills.isEmpty ?? true { entry.skills = [] }
            if let limit = fitting.textLimit {  // the summary repeats the profile's texts
                for text in [\LeadPoolEntry.role, \.bio, \.industry, \.company, \.location] { cut(&entry[keyPath: text], at: limit) }
            }
            return entry
        }
        return try profile.fitted(renderingAt: now, omitted: omitted ?? []) { try fits(entry($0)) }.map(entry)
    }
}

extension PhaseRequest {
    /// ``fitted(_:)`` for a record of `codec`: the request's JSON and `framing` more bytes (the
    /// record's key and headers) within ``MessageCodec/maxRecordBytes``. What the coordinator
    /// calls for a request whose record is above the bound.
    public func fitted(codec: MessageCodec, framing: Int) -> PhaseRequest? {
        fitted { codec.fits($0, framing: framing) }
    }

    /// This request made to fit where it is too large for a record, or nil when it cannot be.
    ///
    /// A request the coordinator cannot write is never answered: finalize would be tried again
    /// forever, and another phase timed out, tried again and skipped. So the request carries the
    /// lead without its pool profile, and, for a phase that reads the profile, the profile put
    /// together (``DocumentAssembly``) as the document's base, with no outputs and without its
    /// activity's rendered text (the stages render it again from the posts): then, as the
    /// profile needs, made smaller
    /// (``EnrichedProfile/fitted(renderingAt:omitted:_:)``), what it left out named in the
    /// document's ``DocumentParts/omitted`` after what its outputs left out
    /// (``DocumentAssembly/omitted(of:)``), which the pool entry repeats. The same request
    /// gives the same result, so a retried attempt gets the same input.
    /// - Parameter fits: whether a request fits; called about log2(posts) + 13 times.
    public func fitted(_ fits: (PhaseRequest) throws -> Bool) rethrows -> PhaseRequest? {
        var request = self
        request.lead.poolProfile = nil  // the run started from it: the profile has what it gave
        guard phase.readsEnrichedProfile else { return try fits(request) ? request : nil }
        var whole = DocumentAssembly.profile(of: self, withActivityText: false)
        if whole.activity?.posts.isEmpty == false { whole.activity?.plainText = "" }  // a base from a pool entry has it
        func carrying(_ fitting: FittedProfile) -> PhaseRequest {
            var fitted = request
            fitted.profile = fitting.profile
            fitted.document = DocumentParts(base: fitting.profile, skippedPhases: fitting.profile.skippedPhases,
                                            web: fitting.profile.web, override: document?.override,
                                            omitted: fitting.omitted.isEmpty ? nil : fitting.omitted)
            return fitted
        }
        let started = FittedProfile(profile: whole, omitted: DocumentAssembly.omitted(of: self) ?? [])
        if try fits(carrying(started)) { return carrying(started) }
        return try whole.fitted(renderingAt: requestedAt, omitted: started.omitted) { try fits(carrying($0)) }.map(carrying)
    }
}

extension LeadState {
    /// ``fitted(_:)`` for a record of `codec`: the state's JSON and `framing` more bytes (the
    /// record's key and headers) within ``MessageCodec/maxRecordBytes``. What the coordinator
    /// calls for a changelog record above the bound.
    public func fitted(codec: MessageCodec, framing: Int) -> LeadState? {
        fitted { codec.fits($0, framing: framing) }
    }

    /// This state made to fit where it is too large for a record, or nil when it cannot be.
    ///
    /// A changelog record not written is a lead a restore does not know. The profiles the record
    /// carries are made smaller (``EnrichedProfile/fitted(renderingAt:omitted:_:)``), each as far
    /// as it must, in this order: the lead's pool profile, the run's base, the profile (each only
    /// where the record carries it: ``LeadState/recordCarriesRunBase``,
    /// ``LeadState/recordCarriesProfile``). Before that, at no loss, they lose their
    /// activities' rendered text, which the stages render again. What was left out of a profile a restore goes on
    /// from is named in ``omitted``, which the run's requests carry on to its pool entry; the pool
    /// profile of a lead whose record carries its base or profile is made smaller unnamed (the
    /// restored lead does not read it). The state in memory keeps them whole.
    /// - Parameter fits: whether a state fits.
    public func fitted(_ fits: (LeadState) throws -> Bool) rethrows -> LeadState? {
        var state = self
        // A profile that is only the run's start goes as an empty document (`LeadState`): it
        // stays so, from the smaller pool profile.
        let isItsStart = !recordCarriesProfile && isProfileLoaded && profile == start(of: lead)
        let startsFromPool = !recordCarriesProfile && runBase == nil && status != .ready
        let slots: [(path: WritableKeyPath<LeadState, EnrichedProfile?>, isWritten: Bool, isNamed: Bool)] = [
            (\.lead.poolProfile, true, startsFromPool), (\.runBase, recordCarriesRunBase, true), (\.storedProfile, true, true),
        ]
        func placing(_ fitting: FittedProfile, in slot: (path: WritableKeyPath<LeadState, EnrichedProfile?>, isWritten: Bool, isNamed: Bool))
            -> LeadState {
            var fitted = state
            fitted[keyPath: slot.path] = fitting.profile
            if isItsStart && slot.path == \LeadState.lead.poolProfile { fitted.profile = fitted.start(of: fitted.lead) }
            if slot.isNamed { fitted.omitted = fitting.omitted.isEmpty ? nil : fitting.omitted }
            return fitted
        }
        // Free first: the rendered texts, in every profile.
        var cleared = false
        for slot in slots where slot.isWritten {
            guard var profile = state[keyPath: slot.path], profile.activity?.posts.isEmpty == false,
                  profile.activity?.plainText.isEmpty == false else { continue }
            profile.activity?.plainText = ""
            state = placing(FittedProfile(profile: profile, omitted: state.omitted ?? []), in: slot)
            cleared = true
        }
        if cleared, try fits(state) { return state }
        for slot in slots where slot.isWritten {
            guard let profile = state[keyPath: slot.path] else { continue }
            func with(_ fitting: FittedProfile) -> LeadState { placing(fitting, in: slot) }
            var smallest = FittedProfile(profile: profile, omitted: state.omitted ?? [])
            let fitted = try profile.fitted(renderingAt: updatedAt, omitted: smallest.omitted) { fitting in
                smallest = fitting  // when none fits, the last tried leaves out the most
                return try fits(with(fitting))
            }
            if let fitted { return with(fitted) }
            state = with(smallest)
        }
        return nil
    }

    /// What a first run of `lead` starts from, with this state's skipped phases and web enrichment.
    private func start(of lead: LeadDiscovered) -> EnrichedProfile {
        var start = EnrichedProfile(startingRunOf: lead)
        start.skippedPhases = profile.skippedPhases
        start.web = profile.web
        return start
    }

    /// ``profile`` where the record carries it (``recordCarriesProfile``); nil otherwise, and
    /// setting nil leaves it as it is.
    private var storedProfile: EnrichedProfile? {
        get { recordCarriesProfile ? profile : nil }
        set { if let newValue { profile = newValue } }
    }
}
