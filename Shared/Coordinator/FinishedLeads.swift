import LeadModel

extension Coordinator {
    /// The ready leads of the owned partitions, each with where its last state is in the
    /// changelog (``ChangelogPointer``).
    ///
    /// A ready lead is only looked up, never listed: a discovery of a known lead starts nothing,
    /// and a re-enrich, a found profile or a web enrichment reads its state back from the
    /// pointer. So the table is keyed by a 128-bit digest of the lead's id (``LeadDigest``), not
    /// by the id. It holds every ready lead of the partitions for as long as they are owned, so
    /// its size per lead is the coordinator's memory per lead ever finished: with ids as long as
    /// a UUID, a million entries took 163 and 166 bytes each (two runs) keyed by the id and 67
    /// keyed by the digest (ids of at most 15 bytes are stored inline either way, at the 67).
    struct FinishedLeads {
        private var pointers: [LeadDigest: ChangelogPointer] = [:]

        /// How many ready leads there are.
        var count: Int { pointers.count }

        /// Where the ready lead's last state is; nil for a lead that is not ready here.
        subscript(leadID: LeadID) -> ChangelogPointer? {
            get { pointers[LeadDigest(leadID)] }
            set { pointers[LeadDigest(leadID)] = newValue }
        }

        /// Forgets the leads of `partitions` (given up).
        mutating func removeAll(inPartitions partitions: Set<Int32>) {
            pointers = pointers.filter { !partitions.contains($0.value.partition) }
        }

        /// Takes `other`'s leads, its pointer winning for a lead in both.
        mutating func merge(_ other: FinishedLeads) {
            pointers.merge(other.pointers) { _, new in new }
        }
    }
}
