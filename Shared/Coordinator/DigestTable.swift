import LeadModel
import LeadRules

extension Coordinator {
    /// A table of the owned partitions' leads that is only looked up, never listed, keyed by a
    /// 128-bit digest of the lead's id (``LeadDigest``), not by the id: it holds a lead for as
    /// long as its partition is owned, however many there are, and a digest is 16 bytes whatever
    /// the id's length. Each value names the lead's partition (`partition`), so a partition given
    /// up takes its own leads and no other's.
    struct DigestTable<Value> {
        private var values: [LeadDigest: Value] = [:]
        private let partition: KeyPath<Value, Int32>

        init(partitionOf partition: KeyPath<Value, Int32>) {
            self.partition = partition
        }

        /// Whether the table holds no lead.
        var isEmpty: Bool { values.isEmpty }

        /// How many leads it holds.
        var count: Int { values.count }

        /// The lead's value; nil for a lead not held here.
        subscript(leadID: LeadID) -> Value? {
            get { values[LeadDigest(leadID)] }
            set { values[LeadDigest(leadID)] = newValue }
        }

        /// Takes the lead out; its value, or nil when it was not held.
        mutating func remove(_ leadID: LeadID) -> Value? {
            values.removeValue(forKey: LeadDigest(leadID))
        }

        /// Forgets the leads of `given` (partitions given up).
        mutating func removeAll(inPartitions given: Set<Int32>) {
            let partition = partition
            values = values.filter { !given.contains($0.value[keyPath: partition]) }
        }

        /// Takes `other`'s leads, its value winning for a lead in both.
        mutating func merge(_ other: DigestTable) {
            values.merge(other.values) { _, new in new }
        }
    }

    /// The ready leads, each with where its last state is in the changelog
    /// (``ChangelogPointer``). A discovery of a known lead starts nothing, and a re-enrich, a
    /// found profile or a web enrichment reads the lead's state back from the pointer, so the
    /// table is only looked up. Its size per lead is the coordinator's memory per lead ever
    /// finished: with ids as long as a UUID, a million entries took 163 and 166 bytes each (two
    /// runs) keyed by the id and 67 keyed by the digest (ids of at most 15 bytes are stored
    /// inline either way, at the 67).
    typealias FinishedLeads = DigestTable<ChangelogPointer>

    /// A queued lead's partition, and the search it was found by.
    struct QueuedLead: Hashable {
        let partition: Int32
        let origin: SearchOrigin
    }

    /// The search a lead was found by, as 32 bits of a hash of its id: enough to tell a known
    /// lead found again by its own search (a copy, nothing to do) from one found by another
    /// (``SearchMembership``); two searches of one lead sharing a hash (about one chance in four
    /// billion) would count the second search's find nowhere. It fits the tables' values without
    /// growing them (a ``ChangelogPointer`` had 4 bytes of padding).
    struct SearchOrigin: Hashable {
        let hash: UInt32

        init(_ searchID: SearchID) {
            hash = UInt32(truncatingIfNeeded: StableHash.fnv1a(searchID.rawValue))
        }
    }

    /// The standard leads queued in `leads.backlog` (state pending), each with its partition. It
    /// holds every lead waiting for room, however many were published at once: with 300,000
    /// ids as long as a UUID, a table keyed by the id took 136 bytes a lead and this one 40 (41
    /// MB against 12).
    typealias QueuedLeads = DigestTable<QueuedLead>
}

extension Coordinator.DigestTable where Value == Coordinator.ChangelogPointer {
    init() { self.init(partitionOf: \.partition) }
}

extension Coordinator.DigestTable where Value == Coordinator.QueuedLead {
    init() { self.init(partitionOf: \.partition) }
}

extension Coordinator.DigestTable where Value == Int32 {
    init() { self.init(partitionOf: \.self) }
}
