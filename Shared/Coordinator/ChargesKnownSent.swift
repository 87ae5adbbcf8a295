import LeadModel

/// Of the leads of the owned `lead.state` partitions, those every charge of whose last state
/// this coordinator knows acknowledged, and those it does not: a lead an earlier owner wrote,
/// which may have stopped between the state's acknowledgement and its charges' (they go to other
/// partitions). A restored machine of the second kind sends a charge again, under its
/// idempotency key, when a phase's answer is repeated (``LeadStateMachine``); one of the first
/// kind does not.
///
/// Per partition, the line is the changelog end its restore read: a lead whose last state is
/// before it was written by an earlier owner. One at or after it was written here, in a batch
/// this coordinator saw acknowledged before it retired the lead or gave the partition up, unless
/// the lead's machine was itself made from an earlier owner's state (`inherited`: restored
/// running, or loaded ready from before the line): what that owner charged stays unknown for
/// the lead's life here.
///
/// A partition given up with every record written for it acknowledged (``handOver(_:)``), whose
/// records from the line on were all this instance's (each acknowledged at the offset after the
/// previous one), and assigned again with nothing written to it meanwhile (the changelog ends
/// where this instance's records did) keeps its line and inherited leads: a rebalance, which
/// revokes and assigns every partition, makes no lead an earlier owner's. Anything else (another
/// owner's record, even one between two of this instance's, or a loss before the hand-over)
/// draws the line afresh, which errs towards sending a charge again.
struct ChargesKnownSent {
    private struct Partition {
        var line: Int64
        /// One past the last changelog record acknowledged to this instance (the line until one is).
        var written: Int64
        /// Whether every record from the line to `written` is this instance's.
        var isOnlyWriter = true
        /// Leads whose machine was made from an earlier owner's state.
        var inherited: Set<LeadID>
    }

    private var owned: [Int32: Partition] = [:]
    /// Partitions handed over with a line worth keeping, not assigned again since.
    private var handedOver: [Int32: Partition] = [:]

    /// `partition` was restored, its changelog read to `end`; `running` are the leads restored
    /// running (not ready, queued or refused), whose last states are all before `end`.
    mutating func restored(_ partition: Int32, end: Int64, running: [LeadID]) {
        if let left = handedOver.removeValue(forKey: partition), left.written == end {
            owned[partition] = left
        } else {
            owned[partition] = Partition(line: end, written: end, inherited: Set(running))
        }
    }

    /// Records of this instance were acknowledged at `offsets` (ascending) of changelog `partition`.
    mutating func acknowledged(_ partition: Int32, offsets: [Int64]) {
        guard var state = owned[partition] else { return }
        for offset in offsets {
            if offset != state.written { state.isOnlyWriter = false }  // someone else's record before it
            state.written = max(state.written, offset + 1)
        }
        owned[partition] = state
    }

    /// `lead`, of `partition`, has a machine made from an earlier owner's state.
    mutating func inherit(_ lead: LeadID, partition: Int32) {
        owned[partition]?.inherited.insert(lead)
    }

    /// `partition` is being given up with every record written for it acknowledged.
    mutating func handOver(_ partition: Int32) {
        guard let state = owned[partition], state.isOnlyWriter else { return }
        handedOver[partition] = state
    }

    /// `partition` is gone (handed over or lost).
    mutating func revoked(_ partition: Int32) {
        owned[partition] = nil
    }

    /// Whether every charge of `lead`'s last state, at `offset` of `partition`, is known sent.
    func contains(_ lead: LeadID, partition: Int32, offset: Int64) -> Bool {
        guard let owned = owned[partition] else { return false }
        return offset >= owned.line && !owned.inherited.contains(lead)
    }
}
