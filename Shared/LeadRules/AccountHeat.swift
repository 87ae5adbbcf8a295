import Foundation
import LeadModel

/// The heat of one account's companies, owned by the one aggregator that reads the account's
/// contributions: a pure value, fed contributions in order, whose every change is a set of
/// ``AccountHeatState`` records to write to the changelog and the ``AccountSignal``s to publish.
///
/// - A lead's latest contribution replaces its earlier ones (``AccountSignalAggregator``); a lead
///   whose company changed leaves the old company. Latest by scoring time; of two runs scored in
///   the same instant, the greater run id (an arbitrary choice, since run ids are hashes, but one
///   that does not depend on the order of arrival, which a restore does not know).
/// - Replays count once: each applied contribution's lead and run is kept in the state of the
///   company it changed (``AccountHeatState/counted``), so a contribution read again after a crash
///   (its offset not committed, its changelog record written) changes nothing. A contribution
///   earlier than the lead's latest (a late replay of an earlier run) changes nothing either, also
///   for a lead that left every company.
/// - Bounded by ``window``: contributions scored more than the window before the latest one
///   applied are dropped, with their leads and their counted entries, once a day (of contribution
///   time); contributions arriving that old are ignored, so a forgotten entry cannot count again.
/// - Heat is computed at the contribution's ``AccountSignalContribution/scoredAt``, so the same
///   contributions give the same heat whichever process applies them and when; and once a day
///   at that day (``refresh(at:)``), so that it cools without contributions. Never back in time:
///   a contribution scored before the latest time the account's heat was computed at (a backlog
///   of earlier days read after a day's refresh, or after a later contribution) counts, and the
///   heat is computed at that latest time, which a restore reads from the states.
/// - Trend: against the heat computed on an earlier UTC day (``AccountHeatState/earlierDayHeat``).
/// - People, not leads: leads with one ``AccountSignalContribution/personKey`` (a lead and its
///   pool match in another offer) count as one person at a company (``AccountSignalAggregator``);
///   each lead is still recorded, replaced and forgotten on its own, so the rules below hold per
///   lead, and a "lead count" is a count of people.
/// - Published: a company's signal when it has two or more people and its heat, category, trend,
///   lead count or listed signals differ from the signal last published for it; and once, heat 0
///   and cool with its lead count, when a company whose last signal counted two or more falls
///   below two (its leads left, were forgotten past the window, were disqualified, or count at an
///   `li:` company).
/// - Disqualified leads count in no heat: a lead whose override in force is `disqualified`
///   (``LeadOverridePolicy/isExcludedFromHeat(_:)``) is not scored again, so no contribution of it
///   would take it out, and a student or a competitor's employee kept their old company hot. It
///   stays recorded where its contribution put it, and is replaced, moved, dropped and forgotten
///   as any lead (its `li:` company still names the colleagues known by name), so a cleared
///   override (a tombstone, `cleared`, `manual`) counts it again at once, without a re-score
///   (``setExcluded(_:at:)``). Which leads are out is not written to the changelog: the overrides
///   say, and the owner passes them to ``apply(_:isExcluded:)`` and to a restore
///   (``init(accountID:restoring:excluding:)``), which so computes the heat the live instance does.
/// - One company under two keys: a lead whose LinkedIn gives the company's id is keyed `li:<id>`,
///   a colleague known only by the company's name (an X-only lead, a provider without ids, a job
///   change LinkedIn does not show yet) `name:<normalised name>`. A contribution is recorded
///   under its own key. While the account has exactly one `li:` company of that normalised name
///   with leads, the leads recorded at the `name:` company count in its heat; with two, which one
///   is meant is unknown, and the `name:` company counts apart. Where a lead is
///   recorded never depends on which companies exist, so a replay after a crash (which meets the
///   companies written since) records it where it was; and nothing moves between records, so no
///   crash between two writes can lose a lead. A company's heat can so count up to twice
///   ``maxLeadsPerCompany`` leads, from two records.
public struct AccountHeat: Sendable {
    /// What one contribution changed.
    public struct Change: Sendable, Hashable {
        /// The changed company states to write to the changelog, by company key; nil for a
        /// company with nothing left to remember (write a tombstone).
        public var states: [String: AccountHeatState?] = [:]
        /// The account signals to publish.
        public var signals: [AccountSignal] = []

        /// Whether nothing changed.
        public var isEmpty: Bool { states.isEmpty && signals.isEmpty }
    }

    /// Contributions older than this, before the latest one applied, are dropped: 180 days, the
    /// horizon of the activity the signals come from (heat halves every 30 days, so a signal that
    /// old weighs under 2% of a fresh one).
    public static let window: TimeInterval = 180 * 86_400

    /// A company counts at most this many leads, its newest (by scoring time), so its changelog
    /// record stays within a record's size at any scale (about 0.55 KB a lead, 275 KB when full). At
    /// this many people (fewer when some leads are one person's) the heat multiplier is over a
    /// hundred: any signal makes the company hot, and the older leads change nothing a
    /// salesperson sees but the count of people, which stops here.
    public static let maxLeadsPerCompany = 500

    /// The account.
    public let accountID: AccountID
    /// The state of each company with leads or counted contributions, by company key.
    public private(set) var companies: [String: AccountHeatState] = [:]
    private var aggregator: AccountSignalAggregator
    private var companyOfLead: [LeadID: String] = [:]
    /// The company whose state holds each counted contribution.
    private var counted: [LeadRun: String] = [:]
    /// The leads whose latest contribution took them out of every company (it had none), with
    /// its run, within the window: an earlier contribution of one (``isEarlier(_:_:)``) changes
    /// nothing.
    private var departed: [LeadID: RunTime] = [:]
    /// The latest contribution time applied.
    private var latest: Date?
    /// The latest time heat was computed at (a contribution's time, a refresh's or an override's
    /// clock): heat is never computed at an earlier one (``finish(_:now:isContributionTime:)``).
    private var heatTime: Date?
    /// The UTC day of the last sweep of entries older than the window.
    private var sweptDay: Int?
    /// The `li:` companies with leads, by normalised name (``heatKey(_:)``).
    private var identified: [String: Set<String>] = [:]
    /// The normalised name of each `li:` company (of its state's display name).
    private var nameOfIdentified: [String: String] = [:]
    /// The leads recorded at a company that count in no heat: those a person's override
    /// disqualifies (``setExcluded(_:at:)``). Only leads with a company (``companyOfLead``).
    private var excluded: Set<LeadID> = []

    private struct LeadRun: Hashable, Sendable {
        var leadID: LeadID
        var runID: RunID
    }

    /// When a run of a lead scored it, and which run.
    private typealias RunTime = (scoredAt: Date, runID: RunID)

    /// Of two runs of one lead, whether `lhs` counts before `rhs`: by scoring time, and two
    /// scored in the same instant by run id (the greater counts last), so that the one that
    /// counts does not depend on the order they are met in (the live instance meets them as they
    /// arrive, a restore by company key).
    private static func isEarlier(_ lhs: RunTime, _ rhs: RunTime) -> Bool {
        (lhs.scoredAt, lhs.runID.rawValue) < (rhs.scoredAt, rhs.runID.rawValue)
    }

    /// An account without heat.
    public init(accountID: AccountID) {
        self.accountID = accountID
        self.aggregator = AccountSignalAggregator(accountID: accountID)
    }

    /// The account as its changelog left it: `states` are the latest records of its companies.
    /// A change whose records were written in part before a crash can leave a lead at two
    /// companies, or at one it left: it counts at the company where its contribution is the later,
    /// and nowhere when a later contribution of it was counted (that one moved it, or took it out
    /// of every company, in a record that was written; the replay of a move brings it back where
    /// it went).
    ///
    /// - Parameter isExcluded: whether a lead counts in no heat (its override in force
    ///   disqualifies it): the changelog does not say, so a restore asks what the live instance
    ///   was told (``setExcluded(_:at:)``).
    public init(accountID: AccountID, restoring states: [AccountHeatState], excluding isExcluded: (LeadID) -> Bool = { _ in false }) {
        self.init(accountID: accountID)
        var placed: [LeadID: (key: String, entry: HeatContribution)] = [:]
        var latestCounted: [LeadID: RunTime] = [:]
        for state in states.sorted(by: { $0.companyKey < $1.companyKey }) {
            companies[state.companyKey] = state
            for entry in state.leads {
                if let other = placed[entry.leadID],
                   !Self.isEarlier((other.entry.scoredAt, other.entry.runID), (entry.scoredAt, entry.runID)) { continue }
                placed[entry.leadID] = (state.companyKey, entry)
            }
            for entry in state.counted {
                counted[LeadRun(leadID: entry.leadID, runID: entry.runID)] = state.companyKey
                let run = (entry.scoredAt, entry.runID)
                if latestCounted[entry.leadID].map({ Self.isEarlier($0, run) }) ?? true { latestCounted[entry.leadID] = run }
            }
            latest = max(latest ?? state.updatedAt, state.updatedAt)
            // The latest the heat written was computed at: of its signal, or the start of its day.
            let dayStart = state.heatDay.map { Date(timeIntervalSince1970: Double($0) * 86_400) }
            let computed = max(state.updatedAt, state.published?.computedAt ?? state.updatedAt, dayStart ?? state.updatedAt)
            heatTime = max(heatTime ?? computed, computed)
        }
        placed = placed.filter { leadID, place in
            latestCounted[leadID].map { !Self.isEarlier((place.entry.scoredAt, place.entry.runID), $0) } ?? true
        }
        for (leadID, run) in latestCounted where placed[leadID] == nil { departed[leadID] = run }
        for (key, state) in companies {
            // Oldest first, as this type keeps them (records written before it kept that order may not be).
            companies[key]?.leads = state.leads.filter { placed[$0.leadID]?.key == key }.sorted(by: Self.isOlder)
            companies[key]?.counted = state.counted.sorted(by: Self.isOlder)
        }
        for (key, state) in companies where !state.leads.isEmpty { index(key) }
        for (leadID, place) in placed.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            companyOfLead[leadID] = place.key
            if isExcluded(leadID) { excluded.insert(leadID) }
            count(place.entry, recordedAt: place.key)
        }
    }

    /// How many people the leads counting at the company are.
    public func leadCount(companyKey: String) -> Int {
        aggregator.leadCount(companyKey: companyKey)
    }

    /// The heat at `now` of up to `limit` companies (in key order) that published a signal of
    /// two or more people and whose heat was last computed on an earlier UTC day: their states to
    /// write, and their signals when they changed (cooler, the trend against the day before).
    /// Empty once none is left for the day. Heat decays with time (weights halve every 30
    /// days), and contributions recompute it only when they come: without this a company whose
    /// leads stopped coming stayed hot, and rising, for good. The states keep their
    /// ``AccountHeatState/updatedAt`` (the latest contribution's time, which a restore reads).
    public mutating func refresh(at now: Date, limit: Int = .max) -> Change {
        let day = Self.day(of: now)
        let stale = companies.filter { _, state in
            (state.published?.leadCount ?? 0) >= 2 && state.heatDay.map { $0 < day } ?? true
        }
        guard !stale.isEmpty else { return Change() }
        return finish(Set(stale.keys.sorted().prefix(max(1, limit))), now: now, isContributionTime: false)
    }

    /// Applies one contribution of this account (see the type's documentation).
    /// - Parameter isExcluded: whether the lead's override in force disqualifies it now: it is
    ///   recorded, and its contribution counted as applied, but it counts in no heat until
    ///   ``setExcluded(_:at:)`` counts it again. A contribution that changes nothing (a replay, one
    ///   too old) leaves the lead's exclusion as it was.
    public mutating func apply(_ contribution: AccountSignalContribution, isExcluded: Bool = false) -> Change {
        let at = contribution.scoredAt
        let run = (at, contribution.runID)
        if let latest, at < latest.addingTimeInterval(-Self.window) { return Change() }
        let leadRun = LeadRun(leadID: contribution.leadID, runID: contribution.runID)
        guard counted[leadRun] == nil else { return Change() }
        // Earlier than the lead's latest contribution, which moved it or took it out of every company.
        let oldKey = companyOfLead[contribution.leadID]
        if let oldKey, let current = companies[oldKey]?.leads.first(where: { $0.leadID == contribution.leadID }),
           Self.isEarlier(run, (current.scoredAt, current.runID)) {
            return Change()
        }
        if let left = departed[contribution.leadID], Self.isEarlier(run, left) { return Change() }
        let newKey = contribution.companyKey
        guard oldKey != nil || newKey != nil else { return Change() }  // no company before or now
        if let newKey, oldKey != newKey, let state = companies[newKey], state.leads.count >= Self.maxLeadsPerCompany,
           let oldest = state.leads.first, !Self.isOlder(oldest, than: (contribution.leadID, at)) {
            return Change()  // older than every lead the full company counts: it would leave at once
        }
        latest = max(latest ?? at, at)
        var touched: Set<String> = []

        if let oldKey, oldKey != newKey {
            companies[oldKey]?.leads.removeAll { $0.leadID == contribution.leadID }
            touched.insert(oldKey)
        }
        let entry = HeatContribution(leadID: contribution.leadID, runID: contribution.runID, scoredAt: at,
                                     personKey: contribution.personKey, signals: contribution.signals,
                                     clusterSignals: contribution.clusterSignals)
        if let newKey {
            // Changed where it lies: a copy taken out would copy the company's leads on the first change.
            if oldKey == newKey {
                companies[newKey]?.leads.removeAll { $0.leadID == contribution.leadID }
            }
            Self.insert(entry, into: &companies[newKey, default: AccountHeatState(
                accountID: accountID, companyKey: newKey, companyName: contribution.companyName ?? newKey, updatedAt: at)].leads)
            touched.insert(newKey)
        }
        let countedAt = newKey ?? oldKey!
        if companies[countedAt] != nil {
            Self.insert(CountedContribution(leadID: contribution.leadID, runID: contribution.runID, scoredAt: at),
                        into: &companies[countedAt]!.counted)
        }
        counted[leadRun] = countedAt
        departed[contribution.leadID] = newKey == nil ? run : nil
        companyOfLead[contribution.leadID] = newKey
        if isExcluded && newKey != nil {
            excluded.insert(contribution.leadID)
        } else {
            excluded.remove(contribution.leadID)
        }
        count(entry, recordedAt: newKey)
        if let newKey { dropLeadsBeyondTheBound(of: newKey) }
        touched.formUnion(sweepIfNewDay(at: at))
        return finish(touched, now: at)
    }

    /// Takes each lead of `exclusions` whose value is true out of the heat (a person's override
    /// disqualifies it), and counts again each whose value is false (the override was cleared, or
    /// set to `manual`), and returns the heat of the companies that changed, computed at `now`:
    /// a company that falls below two people publishes its heat-0 signal as for any other reason.
    /// A lead stays recorded while excluded, replaced, moved and forgotten as the others, so one
    /// counted again brings back the heat it had, without a new contribution. Leads this account
    /// does not hold, and leads already so, change nothing. The states' ``AccountHeatState/updatedAt``
    /// stay (the time of contributions, which a restore reads).
    ///
    /// Costs the leads whose exclusion changed, each at most its company's leads: `exclusions` is
    /// looked through, or this account's leads when it holds fewer.
    public mutating func setExcluded(_ exclusions: [LeadID: Bool], at now: Date) -> Change {
        let changed: [LeadID]
        do {
            // In a scope of its own: the excluded leads still held at the insertions below would be copied.
            let held = companyOfLead, wasExcluded = excluded
            func isChanged(_ leadID: LeadID, to isExcluded: Bool) -> Bool {
                held[leadID] != nil && wasExcluded.contains(leadID) != isExcluded
            }
            changed = exclusions.count <= held.count
                ? exclusions.filter { isChanged($0.key, to: $0.value) }.map(\.key)
                : held.keys.filter { leadID in exclusions[leadID].map { isChanged(leadID, to: $0) } ?? false }
        }
        guard !changed.isEmpty else { return Change() }
        var touched: Set<String> = []
        for leadID in changed.sorted(by: { $0.rawValue < $1.rawValue }) {
            if exclusions[leadID]! { excluded.insert(leadID) } else { excluded.remove(leadID) }
            let key = companyOfLead[leadID]!
            guard let entry = companies[key]?.leads.first(where: { $0.leadID == leadID }) else { continue }
            count(entry, recordedAt: key)
            touched.insert(key)
        }
        return finish(touched, now: now, isContributionTime: false)
    }

    /// The heat at `now` of the companies whose last written signal may not say who counts, for
    /// an owner that restored this account (``init(accountID:restoring:excluding:)``): the
    /// changelog does not say which leads are out, so a previous owner that excluded a lead, or
    /// counted one again when its override was cleared, and stopped before writing the heat it
    /// changed (or an override that reached no owner before the account was handed over) left
    /// those companies' last signals saying otherwise. Those are the companies that hold excluded
    /// leads, and those whose last published lead count is not the people they count now (two or
    /// more on either side). Their signals when they differ from the last published (heat 0 and
    /// cool for one below two people), and the states whose heat changed; empty when what was
    /// written says it already. The states keep their ``AccountHeatState/updatedAt``.
    public mutating func refreshRestored(at now: Date) -> Change {
        var keys = Set(excluded.compactMap { companyOfLead[$0] })
        for (key, state) in companies {
            let published = state.published?.leadCount ?? 0
            let counted = aggregator.leadCount(companyKey: key)
            if published != counted && max(published, counted) >= 2 { keys.insert(key) }
        }
        guard !keys.isEmpty else { return Change() }
        return finish(keys, now: now, isContributionTime: false)
    }

    /// Counts a lead recorded at the company under `key` in the heat of the company that counts
    /// it (``heatKey(_:)``), or, when it is excluded or has no company, takes it out of every heat.
    private mutating func count(_ entry: HeatContribution, recordedAt key: String?) {
        guard let key, !excluded.contains(entry.leadID) else {
            aggregator.remove(leadID: entry.leadID)
            return
        }
        let heatCompany = heatKey(key)
        aggregator.add(leadID: entry.leadID, person: entry.personKey, companyKey: heatCompany,
                       companyName: companies[heatCompany]?.companyName ?? heatCompany, signals: entry.allSignals)
    }

    /// The company whose heat counts the leads recorded under `key`: for a `name:` key, the
    /// account's one `li:` company of that name with leads, if it has exactly one; else `key`.
    private func heatKey(_ key: String) -> String {
        let prefix = AccountSignalAggregator.namePrefix
        guard key.hasPrefix(prefix), let keys = identified[String(key.dropFirst(prefix.count))], keys.count == 1 else { return key }
        return keys.first!
    }

    /// Notes an `li:` company under its normalised name; returns the name and the `li:` companies
    /// it had before.
    @discardableResult
    private mutating func index(_ key: String) -> (name: String, before: Set<String>)? {
        guard key.hasPrefix(AccountSignalAggregator.identifierPrefix),
              let name = companies[key].flatMap({ AccountSignalAggregator.normalizedCompanyName($0.companyName) }) else { return nil }
        let before = identified[name] ?? []
        identified[name, default: []].insert(key)
        nameOfIdentified[key] = name
        return (name, before)
    }

    /// Notes an `li:` company that has leads now; returns the companies whose heat changed
    /// (``recount(name:before:)``).
    private mutating func register(_ key: String) -> Set<String> {
        guard let (name, before) = index(key) else { return [] }
        return recount(name: name, before: before)
    }

    /// Forgets an `li:` company that has no leads now; returns the companies whose heat changed.
    private mutating func unregister(_ key: String) -> Set<String> {
        guard let name = nameOfIdentified.removeValue(forKey: key) else { return [] }
        let before = identified[name] ?? []
        identified[name]?.remove(key)
        if identified[name]?.isEmpty == true { identified[name] = nil }
        return recount(name: name, before: before)
    }

    /// Counts the leads recorded at `name:<name>` in the heat of the company that counts them now
    /// (``heatKey(_:)``), after the `li:` companies of that name changed from `before`; returns
    /// the companies whose heat they left and joined.
    private mutating func recount(name: String, before: Set<String>) -> Set<String> {
        let nameKey = AccountSignalAggregator.namePrefix + name
        let previous = before.count == 1 ? before.first! : nameKey
        let current = heatKey(nameKey)
        guard previous != current, let leads = companies[nameKey]?.leads, !leads.isEmpty else { return [] }
        for entry in leads { count(entry, recordedAt: nameKey) }
        return [previous, current]
    }

    /// Drops a company's oldest leads beyond ``maxLeadsPerCompany``, with the counted entries
    /// as old (those of its kept leads' current runs stay). A replay of a dropped contribution
    /// is older than every lead kept, so it is ignored while the company is full.
    ///
    /// Costs the leads dropped, not the company's: both lists are kept oldest first.
    private mutating func dropLeadsBeyondTheBound(of key: String) {
        guard let count = companies[key]?.leads.count, count > Self.maxLeadsPerCompany else { return }
        let excess = count - Self.maxLeadsPerCompany
        let dropped = Array(companies[key]!.leads.prefix(excess))
        let horizon = dropped[dropped.count - 1].scoredAt
        // Only a kept lead scored at the horizon can have a counted entry as old as the dropped ones.
        let kept = Set(companies[key]!.leads.dropFirst(excess).prefix { $0.scoredAt <= horizon }
            .map { LeadRun(leadID: $0.leadID, runID: $0.runID) })
        for entry in dropped {
            aggregator.remove(leadID: entry.leadID)
            companyOfLead[entry.leadID] = nil
            excluded.remove(entry.leadID)
        }
        companies[key]!.leads.removeFirst(excess)
        // A copy of the few old entries: a slice still held at the change would copy them all.
        let old = Array(companies[key]!.counted.prefix { $0.scoredAt <= horizon })
        let keptCounts = old.filter { kept.contains(LeadRun(leadID: $0.leadID, runID: $0.runID)) }
        for entry in old where !kept.contains(LeadRun(leadID: entry.leadID, runID: entry.runID)) {
            counted[LeadRun(leadID: entry.leadID, runID: entry.runID)] = nil
        }
        companies[key]!.counted.replaceSubrange(0..<old.count, with: keptCounts)
    }

    /// Forgets, at the company under `key`, the leads and the counted entries the predicates
    /// pick: the leads' signals leave the heat, the entries' contributions are no longer known as
    /// counted. Returns whether anything was forgotten.
    @discardableResult
    private mutating func forget(at key: String, leads isForgottenLead: (HeatContribution) -> Bool,
                                 counted isForgottenCount: (CountedContribution) -> Bool) -> Bool {
        // The state is looked at in a scope of its own: a copy still held at the removals below
        // would make them copy the company's leads.
        let leads: [HeatContribution], countedEntries: [CountedContribution]
        if let state = companies[key] {
            leads = state.leads.filter(isForgottenLead)
            countedEntries = state.counted.filter(isForgottenCount)
        } else {
            return false
        }
        guard !leads.isEmpty || !countedEntries.isEmpty else { return false }
        for entry in leads {
            aggregator.remove(leadID: entry.leadID)
            companyOfLead[entry.leadID] = nil
            excluded.remove(entry.leadID)
        }
        for entry in countedEntries { counted[LeadRun(leadID: entry.leadID, runID: entry.runID)] = nil }
        companies[key]!.leads.removeAll(where: isForgottenLead)
        companies[key]!.counted.removeAll(where: isForgottenCount)
        return true
    }

    /// Older by scoring time, ties by lead id: the order a company keeps its leads and counted
    /// entries in, and in which a full company drops its leads.
    private static func isOlder(_ lhs: some ScoredEntry, _ rhs: some ScoredEntry) -> Bool {
        isOlder(lhs, than: (rhs.leadID, rhs.scoredAt))
    }

    private static func isOlder(_ lhs: some ScoredEntry, than rhs: (leadID: LeadID, scoredAt: Date)) -> Bool {
        (lhs.scoredAt, lhs.leadID.rawValue) < (rhs.scoredAt, rhs.leadID.rawValue)
    }

    /// Inserts `entry` where `entries`, oldest first, keep that order: at the end, for an entry
    /// newer than every other, as most are.
    private static func insert<Entry: ScoredEntry>(_ entry: Entry, into entries: inout [Entry]) {
        var low = entries.startIndex, high = entries.endIndex
        while low < high {
            let middle = (low + high) / 2
            if isOlder(entries[middle], entry) { low = middle + 1 } else { high = middle }
        }
        entries.insert(entry, at: low)
    }

    /// Drops, once per UTC day of contribution time, leads and counted entries scored more than
    /// ``window`` before the latest contribution; returns the companies changed.
    private mutating func sweepIfNewDay(at now: Date) -> Set<String> {
        let day = Self.day(of: now)
        guard sweptDay != day else { return [] }
        sweptDay = day
        guard let latest else { return [] }
        let horizon = latest.addingTimeInterval(-Self.window)
        departed = departed.filter { $0.value.scoredAt >= horizon }
        var changed: Set<String> = []
        for key in Array(companies.keys) where forget(at: key, leads: { $0.scoredAt < horizon }, counted: { $0.scoredAt < horizon }) {
            changed.insert(key)
        }
        return changed
    }

    /// Forgets the companies of `touched` left with nothing, recomputes the heat of the companies
    /// that count `touched`'s leads at `now`, or at the latest time heat was computed at when that
    /// is later (``heatTime``: a backlog of contributions of earlier days, read after a day's
    /// refresh or a later contribution, never takes the heat, its day and its trend back in
    /// time), and returns the states to write and the signals to publish.
    /// - Parameter isContributionTime: whether `now` is a contribution's time, which the states'
    ///   ``AccountHeatState/updatedAt`` follow; not for the clock's time of a refresh or an override.
    private mutating func finish(_ touched: Set<String>, now requested: Date, isContributionTime: Bool = true) -> Change {
        let now = max(requested, heatTime ?? requested)
        heatTime = now
        var touched = touched
        let day = Self.day(of: now)
        var change = Change()
        var forgotten: Set<String> = []
        for key in touched.sorted() {
            guard let state = companies[key], state.leads.isEmpty, state.counted.isEmpty else { continue }
            if let published = state.published, published.leadCount >= 2 {
                change.signals.append(cooled(published, leadCount: 0, previous: Self.previousHeat(of: state, day: day), now: now))
            }
            companies[key] = nil
            forgotten.insert(key)
        }
        // An `li:` company counts the leads recorded under its name while it has leads of its own
        // (one kept only for contributions it counted is no company of that name now).
        for key in touched.filter({ $0.hasPrefix(AccountSignalAggregator.identifierPrefix) }).sorted() {
            let hasLeads = companies[key].map { !$0.leads.isEmpty } ?? false
            if hasLeads && nameOfIdentified[key] == nil {
                touched.formUnion(register(key))
            } else if !hasLeads && nameOfIdentified[key] != nil {
                touched.formUnion(unregister(key))
            }
        }
        // Each touched company's own heat, and that of the company its leads count at.
        let heatKeys = touched.union(touched.map(heatKey)).filter { companies[$0] != nil }
        touched.formUnion(heatKeys)
        var previousHeat: [String: Int] = [:]
        for key in heatKeys {
            previousHeat[key] = companies[key].flatMap { Self.previousHeat(of: $0, day: day) }
        }
        var signals = aggregator.signals(of: heatKeys, previousHeat: previousHeat, now: now)
        // A company that fell below two people after a signal of two or more says once that its
        // heat is gone: else its last signal stays the word on it while its leads count elsewhere.
        let computed = Set(signals.map(\.companyKey))
        for key in heatKeys.subtracting(computed).sorted() {
            guard let published = companies[key]?.published, published.leadCount >= 2 else { continue }
            signals.append(cooled(published, leadCount: aggregator.leadCount(companyKey: key), previous: previousHeat[key], now: now))
        }
        // Without a contribution, only the states whose heat changed are written.
        var heatChanged: Set<String> = []
        for signal in signals {
            guard var state = companies[signal.companyKey] else { continue }
            let before = (state.heatDay, state.heatScore, state.earlierDayHeat)
            if let heatDay = state.heatDay, heatDay < day {
                state.earlierDayHeat = state.heatScore
            }
            state.heatDay = day
            state.heatScore = signal.heatScore
            if !Self.isSame(signal, state.published) {
                state.published = signal
                change.signals.append(signal)
                heatChanged.insert(signal.companyKey)
            } else if before != (state.heatDay, state.heatScore, state.earlierDayHeat) {
                heatChanged.insert(signal.companyKey)
            }
            companies[signal.companyKey] = state
        }
        for key in touched {
            if forgotten.contains(key) {
                change.states[key] = .some(nil)
                continue
            }
            guard isContributionTime || heatChanged.contains(key), var state = companies[key] else { continue }
            if isContributionTime { state.updatedAt = max(state.updatedAt, requested) }
            companies[key] = state
            change.states[key] = state
        }
        return change
    }

    /// The heat a company's trend compares with on `day`: the last heat computed on an earlier day.
    private static func previousHeat(of state: AccountHeatState, day: Int) -> Int? {
        guard let heatDay = state.heatDay else { return nil }
        return heatDay < day ? state.heatScore : state.earlierDayHeat
    }

    /// The signal of a company whose heat is gone (fewer than two people count at it): heat 0,
    /// cool, its lead count, no signals listed.
    private func cooled(_ published: AccountSignal, leadCount: Int, previous: Int?, now: Date) -> AccountSignal {
        AccountSignal(accountID: accountID, companyKey: published.companyKey, companyName: published.companyName, heatScore: 0,
                      category: .cool, trend: AccountSignalAggregator.trend(heat: 0, previous: previous), leadCount: leadCount,
                      signals: [], computedAt: now)
    }

    /// Whether `signal` says what `previous` said, apart from when it was computed.
    static func isSame(_ signal: AccountSignal, _ previous: AccountSignal?) -> Bool {
        guard let previous else { return false }
        func counted(_ s: AccountSignal) -> [String] { s.signals.map { "\($0.leadID)|\($0.kind)|\($0.detail)" }.sorted() }
        return signal.heatScore == previous.heatScore && signal.category == previous.category && signal.trend == previous.trend
            && signal.leadCount == previous.leadCount && counted(signal) == counted(previous)
    }

    /// Days since 1970, UTC, within ``AccountHeatState/heatDays`` (the first or last of them for
    /// a date before or after: a state restored with another day, past the codec, is computed
    /// with, never trapped on).
    public static func day(of date: Date) -> Int {
        let days = (date.timeIntervalSince1970 / 86_400).rounded(.down)
        let range = AccountHeatState.heatDays
        guard days >= Double(range.lowerBound) else { return range.lowerBound }  // NaN too
        guard days <= Double(range.upperBound) else { return range.upperBound }
        return Int(days)
    }
}

/// An entry a company keeps oldest first.
private protocol ScoredEntry {
    var leadID: LeadID { get }
    var scoredAt: Date { get }
}

extension HeatContribution: ScoredEntry {}
extension CountedContribution: ScoredEntry {}
