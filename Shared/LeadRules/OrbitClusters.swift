import Foundation
import LeadModel

/// Forms orbit clusters: the accounts a lead engaged with together recently (DOMAIN: "targets
/// engaged together within a recent window form a cluster; a new cluster is an intent signal, a
/// competitor cluster the strongest").
///
/// The rule, pure and deterministic for the same targets and `now`:
/// - **Recent**: only targets last seen at or after `now − windowDays` (30 days) take part.
/// - **Together**: two recent targets are engaged together when their engagement spans
///   `[firstSeen, lastSeen]` overlap; a cluster is a group of targets connected by overlaps
///   (spans merged in order of first interaction), across platforms.
/// - **Size**: a cluster has at least two distinct handles; the same handle on two platforms is
///   one account, so it alone forms no cluster.
/// - ``OrbitCluster/isNew``: the cluster formed within the window, i.e. every target of it was
///   first seen at or after `now − windowDays`.
/// - ``OrbitCluster/hasCompetitor``: a target is classified ``OrbitClassification/competitor``.
/// - ``OrbitCluster/names``: the targets' names, each shortened to ``maxNameLength``.
/// - ``OrbitCluster/interactionCount``: the targets' interactions, summed; first and last seen
///   are the earliest first and the latest last interaction.
/// - ``OrbitCluster/velocityPerWeek``: interactions per week over the cluster's span, the span
///   counted as at least one week (so a burst of 9 interactions in two days is 9 a week, not 31).
/// - **Order**: strongest first: competitor clusters, then new ones, then higher velocity, then
///   by handles and first interaction.
public enum OrbitClusters {
    /// The recent window, in days.
    public static let windowDays = 30
    /// The most Unicode scalars of a name a cluster keeps (``OrbitCluster/names``, shortened
    /// where the cluster forms, so an activity record keeps no longer one): half of
    /// ``SignalDetector/maxOrbitDetailLength``, as ``listedNames(of:)`` lists them.
    public static let maxNameLength = SignalDetector.maxOrbitDetailLength / 2

    /// The clusters among `orbit` at `now` (see the type's documentation).
    public static func form(_ orbit: [OrbitTarget], now: Date) -> [OrbitCluster] {
        let windowStart = now.addingTimeInterval(-Double(windowDays) * 86_400)
        let recent = orbit.filter { $0.lastSeen >= windowStart }
            .sorted { ($0.firstSeen, $0.handle, $0.platform.rawValue) < ($1.firstSeen, $1.handle, $1.platform.rawValue) }
        var groups: [[OrbitTarget]] = []
        var groupEnd = Date.distantPast
        for target in recent {
            if let last = groups.indices.last, target.firstSeen <= groupEnd {
                groups[last].append(target)
                groupEnd = max(groupEnd, target.lastSeen)
            } else {
                groups.append([target])
                groupEnd = target.lastSeen
            }
        }
        return groups.compactMap { cluster(of: $0, windowStart: windowStart) }.sorted(by: isStronger)
    }

    /// The clusters the activity record carries, judged again at `now`, else (a record written
    /// before clusters were computed) those formed from its orbit at `now`. The record's were
    /// formed when the activity was fetched, from an orbit a record may since have cut, so they
    /// are kept as formed (the scorer weighs each by the recency of its last interaction); but a
    /// lead scored later (a pool profile matched weeks on) has each judged new as of now: one
    /// first seen before the window is not new, whatever it was when formed.
    public static func clusters(of activity: Activity, now: Date) -> [OrbitCluster] {
        guard let stored = activity.clusters else { return form(activity.orbit, now: now) }
        let windowStart = now.addingTimeInterval(-Double(windowDays) * 86_400)
        return stored.map { cluster in
            var judged = cluster
            judged.isNew = cluster.isNew && cluster.firstSeen >= windowStart
            return judged
        }.sorted(by: isStronger)
    }

    /// The cluster's display names joined for a sentence: "Outreach", "Outreach and Apollo",
    /// "Apollo, Outreach and Lemlist"; the handles when the record has no names. Within
    /// ``SignalDetector/maxOrbitDetailLength`` scalars (it is a cluster signal's detail and is
    /// quoted in its card): each name shortened to half of it, and when they do not all fit, the
    /// first that do and how many others ("Apollo, Outreach and 38 others").
    public static func listedNames(of cluster: OrbitCluster) -> String {
        let limit = SignalDetector.maxOrbitDetailLength
        let names = (cluster.names ?? cluster.handles).map { $0.shortened(toScalars: maxNameLength) }
        guard let last = names.last, names.count > 1 else { return names.first ?? "" }
        let all = names.dropLast().joined(separator: ", ") + " and " + last
        guard all.hasMoreScalars(than: limit) else { return all }
        func others(_ count: Int) -> String { " and \(count) other" + (count == 1 ? "" : "s") }
        var listed = [names[0]]
        var length = names[0].unicodeScalars.count
        for name in names.dropFirst().dropLast() {
            let next = length + 2 + name.unicodeScalars.count
            guard next + others(names.count - listed.count - 1).unicodeScalars.count <= limit else { break }
            listed.append(name)
            length = next
        }
        return listed.joined(separator: ", ") + others(names.count - listed.count)
    }

    /// Whether `lhs` comes before `rhs` in the order of ``form(_:now:)``.
    public static func isStronger(_ lhs: OrbitCluster, than rhs: OrbitCluster) -> Bool {
        if lhs.hasCompetitor != rhs.hasCompetitor { return lhs.hasCompetitor }
        if lhs.isNew != rhs.isNew { return lhs.isNew }
        if lhs.velocityPerWeek != rhs.velocityPerWeek { return lhs.velocityPerWeek > rhs.velocityPerWeek }
        if lhs.handles != rhs.handles { return lhs.handles.lexicographicallyPrecedes(rhs.handles) }
        return lhs.firstSeen < rhs.firstSeen
    }

    /// The cluster of one group of overlapping targets; nil when it has fewer than two handles.
    private static func cluster(of targets: [OrbitTarget], windowStart: Date) -> OrbitCluster? {
        // A handle seen on several platforms takes the name of its first platform by name.
        var nameOfHandle: [String: String] = [:]
        for target in targets.sorted(by: { ($0.handle, $0.platform.rawValue) < ($1.handle, $1.platform.rawValue) })
        where nameOfHandle[target.handle] == nil {
            nameOfHandle[target.handle] = target.name
        }
        guard nameOfHandle.count >= 2, let first = targets.map(\.firstSeen).min(),
              let last = targets.map(\.lastSeen).max() else { return nil }
        let handles = nameOfHandle.keys.sorted()
        // Held at `Int.max`: the counts come from outside (a pool profile) and may be anything.
        let count = targets.reduce(0) { $0.addingSaturated(max(0, $1.interactionCount)) }
        let weeks = max(1, last.timeIntervalSince(first) / (7 * 86_400))
        return OrbitCluster(
            handles: handles, hasCompetitor: targets.contains { $0.classification == .competitor },
            interactionCount: count, firstSeen: first, lastSeen: last, velocityPerWeek: Double(count) / weeks,
            isNew: first >= windowStart, names: handles.map { nameOfHandle[$0, default: $0].shortened(toScalars: maxNameLength) })
    }
}
