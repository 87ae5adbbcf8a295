import LeadModel

extension Coordinator {
    /// The standard leads queued in `leads.backlog` (state pending) of the owned partitions, each
    /// with its partition. Like ``FinishedLeads`` it is only looked up, never listed, and it
    /// holds every lead waiting for room, however many were published at once, so it is keyed by
    /// the id's ``LeadDigest``: with 300,000 ids as long as a UUID, a table keyed by the id took
    /// 136 bytes a lead and one keyed by the digest 40 (41 MB against 12; ids of at most 15 bytes
    /// are stored inline either way).
    struct QueuedLeads {
        private var partitions: [LeadDigest: Int32] = [:]

        /// Whether no lead is queued.
        var isEmpty: Bool { partitions.isEmpty }

        /// How many leads are queued.
        var count: Int { partitions.count }

        /// The queued lead's partition; nil for a lead not queued here.
        subscript(leadID: LeadID) -> Int32? {
            get { partitions[LeadDigest(leadID)] }
            set { partitions[LeadDigest(leadID)] = newValue }
        }

        /// Takes the lead out; its partition, or nil when it was not queued.
        mutating func remove(_ leadID: LeadID) -> Int32? {
            partitions.removeValue(forKey: LeadDigest(leadID))
        }

        /// Forgets the leads of `given` (partitions given up).
        mutating func removeAll(inPartitions given: Set<Int32>) {
            partitions = partitions.filter { !given.contains($0.value) }
        }

        /// Takes `other`'s leads, its partition winning for a lead in both.
        mutating func merge(_ other: QueuedLeads) {
            partitions.merge(other.partitions) { _, new in new }
        }
    }
}
