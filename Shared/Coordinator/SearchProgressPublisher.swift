import Foundation
import Kafka
import LeadModel
import Streaming

/// What the progress tracker's search loop decides, without Kafka: the searches of the owned
/// partitions from the records read, and the records to publish (``ProgressTracker``).
///
/// Tombstones that remove a search from an account go before the record that stops saying the
/// search was counted there. `progress` is how the next owner of a search learns the account it
/// was published under; were a search's snapshot removed (forgotten) or replaced by one under
/// its new account (moved) and the account part's tombstone then lost, with a rebalance before
/// it was sent again, the next owner would never know to remove that part, and the old account
/// would count the search for good. So a poll sends the account parts' tombstones alone, and
/// the next publishing poll, once they are stored, the `progress` record.
struct SearchProgressPublisher {
    /// A forgotten search's tombstones still to send: its account parts' first (`accounts`),
    /// then, once those are stored (`accounts` empty), its `progress` snapshot's.
    struct Leaving: Equatable {
        var partition: Int32
        var accounts: Set<AccountID>
    }

    /// What the tracker knows of one search: its parts, and what it published.
    struct Search {
        /// The latest part of each partition of the lead-keyed topics.
        var parts: [Int32: SearchProgressPart] = [:]
        /// The partition of the parts the search is in.
        var partition: Int32
        var lastPublished: ProgressSnapshot?
        /// Every account the search was published under (its account part written there): by
        /// this member, or by the one before it as its last snapshot in `progress` says
        /// (``notePublished(under:)``, read on assignment). Kept when a
        /// publication is not stored, so that its accounts are still left.
        private(set) var publishedUnder: Set<AccountID> = []
        /// Accounts the search's parts name (or it was published under) other than its own, whose
        /// account part was removed (a tombstone on `progress.account-parts`).
        var leftAccounts: Set<AccountID> = []

        /// The accounts, other than `current`, the search was counted under and has not left yet:
        /// a total declared for another account (`leadctl search total --move-account`) moves it.
        func accountsToLeave(_ current: AccountID) -> Set<AccountID> {
            var named = Set(parts.values.map(\.accountID)).union(publishedUnder)
            if let previous = lastPublished?.accountID { named.insert(previous) }
            return named.subtracting([current]).subtracting(leftAccounts)
        }

        /// Whether the search was published, by this member or (as `progress` says) the one before it.
        var wasPublished: Bool { lastPublished != nil || !publishedUnder.isEmpty }

        /// Marks `accounts` left: their account parts' tombstones are on their way.
        mutating func markLeft(_ accounts: Set<AccountID>) {
            leftAccounts.formUnion(accounts)
        }

        /// The last publication, or the tombstones of a move, were not stored: the search is
        /// published again as it then stands, and leaves again each account it was counted under.
        mutating func notStored() {
            lastPublished = nil
            leftAccounts = []
        }

        /// Notes that the search was published under `account` by an earlier owner (its snapshot
        /// in `progress`), so that a move leaves that account too.
        mutating func notePublished(under account: AccountID) {
            publishedUnder.insert(account)
        }

        /// Records `snapshot` as the search's publication; false when nothing but the time
        /// changed since the last one, which is then not published again. The accounts a moved
        /// search leaves are asked for before (``accountsToLeave(_:)``, which counts the account
        /// of the last publication) and left first (``markLeft(_:)``).
        mutating func publish(_ snapshot: ProgressSnapshot) -> Bool {
            var comparable = snapshot
            comparable.updatedAt = lastPublished?.updatedAt ?? snapshot.updatedAt
            guard comparable != lastPublished else { return false }
            lastPublished = snapshot
            publishedUnder.insert(snapshot.accountID)
            leftAccounts.remove(snapshot.accountID)
            return true
        }

        /// Whether the search is forgotten at `now` (``ProgressRetention/forgetsSearch(parts:declared:at:)``).
        func isForgotten(declared: SearchTotalDeclared?, retention: ProgressRetention, at now: Date) -> Bool {
            retention.forgetsSearch(parts: parts.values, declared: declared, at: now)
        }

        /// Every account the search may be counted under: its parts', its total's and each one it
        /// was published under.
        func accounts(declared: SearchTotalDeclared?) -> Set<AccountID> {
            var accounts = Set(parts.values.map(\.accountID)).union(publishedUnder)
            if let account = lastPublished?.accountID { accounts.insert(account) }
            if let account = declared?.accountID { accounts.insert(account) }
            return accounts
        }

        /// The snapshot of the search now, with its declared total if any; nil until its
        /// account is known (from the total or a part).
        func snapshot(_ searchID: SearchID, declared: SearchTotalDeclared?, at now: Date) -> ProgressSnapshot? {
            guard let accountID = declared?.accountID ?? parts.values.first?.accountID else { return nil }
            let total = declared?.total
            let sum = { (count: (SearchProgressPart) -> Int) in parts.values.reduce(0) { $0 + count($1) } }
            let completed = sum(\.completed)
            let refused = sum(\.refused)
            let alreadyKnown = sum(\.alreadyKnown)
            let active = sum(\.enriching) + sum(\.scoring) + sum(\.finalizing)
            let paused = sum(\.billingPaused)
            let state: ProgressSnapshot.State
            if let total, completed + refused + alreadyKnown >= total {
                state = .completed
            } else if paused > 0 && active == 0 {
                state = .paused
            } else {
                state = .running
            }
            return ProgressSnapshot(searchID: searchID, accountID: accountID, state: state, total: total,
                                    pending: sum(\.pending), completed: completed, enriching: sum(\.enriching),
                                    scoring: sum(\.scoring), finalizing: sum(\.finalizing), billingPaused: paused,
                                    deferred: sum(\.deferred), refused: refused, alreadyKnown: alreadyKnown,
                                    updatedAt: now)
        }
    }

    private let topics: Topics
    private let codec: MessageCodec
    private let partitionCount: Int
    /// Partitions of `progress.account-parts`; nil when account progress is off.
    private let accountPartitions: Int?
    private let retention: ProgressRetention

    private(set) var searches: [SearchID: Search] = [:]
    private var changed: Set<SearchID> = []  // kept over the polls of a catch-up
    private var looked: Set<Int32> = []  // the owned partitions whose searches' totals were looked up
    private var sent: [SearchID] = []  // the search of each record last returned
    /// Forgotten searches whose tombstones are to be sent (again), and those of the records last returned.
    private(set) var forgetting: [SearchID: Leaving] = [:]
    private var forgotten: [SearchID: Leaving] = [:]
    /// Searches whose move's account tombstones were last returned: published once they are stored.
    private var movedAfterTombstones: Set<SearchID> = []
    /// The account each owned search was last published under, as `progress` says (nil: never
    /// published, or forgotten): read on assignment, before anything is published.
    private var recorded: [SearchID: AccountID] = [:]
    private var nextSweep = Date.distantPast

    init(topics: Topics, codec: MessageCodec, partitionCount: Int, accountPartitions: Int?, retention: ProgressRetention) {
        self.topics = topics
        self.codec = codec
        self.partitionCount = partitionCount
        self.accountPartitions = accountPartitions
        self.retention = retention
    }

    private func home(_ searchID: String) -> Int32 { KafkaPartitioner.partition(forKey: searchID, partitionCount: partitionCount) }

    /// Takes in a batch of `progress.parts` and `progress`, with the partitions owned now and the
    /// totals: the keys of those that changed, and all of them (asked only when a partition is
    /// newly owned).
    mutating func read(_ batch: [ConsumerRecord], owned: Set<Int32>, changedTotals: Set<String>,
                       allTotals: () -> [String: SearchTotalDeclared]) {
        searches = searches.filter { owned.contains($0.value.partition) }
        forgetting = forgetting.filter { owned.contains($0.value.partition) }
        forgotten = forgotten.filter { owned.contains($0.value.partition) }
        recorded = recorded.filter { owned.contains(home($0.key.rawValue)) }
        for record in batch {
            if record.topic == topics.progress {
                // What this member, or the one before it, last published of a search it owns.
                guard let key = record.keyString, owned.contains(home(key)) else { continue }
                if record.value == nil {
                    recorded[SearchID(key)] = nil
                } else if let snapshot = try? codec.decode(ProgressSnapshot.self, record: record) {
                    recorded[SearchID(key)] = snapshot.accountID
                }
                continue
            }
            if record.value == nil, let key = record.keyString, let slash = key.lastIndex(of: "/"),
               let partition = Int32(key[key.index(after: slash)...]) {
                // A part a coordinator forgot (its search forgotten here first).
                let searchID = SearchID(String(key[..<slash]))
                if searches[searchID]?.parts.removeValue(forKey: partition) != nil { changed.insert(searchID) }
                continue
            }
            guard let part = try? codec.decode(SearchProgressPart.self, record: record) else { continue }
            searches[part.searchID, default: Search(partition: record.partition)].parts[part.partition] = part
            changed.insert(part.searchID)
        }
        // The totals that changed, and all of those whose search is in a newly owned partition
        // (a search with no part yet is published with its total alone).
        var keys = changedTotals
        let newlyOwned = owned.subtracting(looked)
        looked = owned
        if !newlyOwned.isEmpty { keys.formUnion(allTotals().keys.filter { newlyOwned.contains(home($0)) }) }
        for key in keys {
            let partition = home(key)
            guard owned.contains(partition) else { continue }
            let searchID = SearchID(key)
            if searches[searchID] == nil { searches[searchID] = Search(partition: partition) }
            changed.insert(searchID)
        }
    }

    /// The records to send now: the tombstones of forgotten searches and the snapshots (with
    /// their account parts) of those that changed. The records last returned and not reported
    /// by ``unsent(_:)`` were stored.
    mutating func publish(totals: (String) -> SearchTotalDeclared?, at: Date) -> [ProducerRecord] {
        defer { changed = [] }
        // The last poll's account tombstones were stored: the next step of each.
        for (searchID, leaving) in forgotten where forgetting[searchID] == nil && searches[searchID] == nil {
            if !leaving.accounts.isEmpty { forgetting[searchID] = Leaving(partition: leaving.partition, accounts: []) }
        }
        changed.formUnion(movedAfterTombstones.filter { searches[$0] != nil })
        movedAfterTombstones = []
        var records: [ProducerRecord] = []
        sent = []
        if at >= nextSweep {
            // Searches change by their clock too: each is looked at for retention now and then.
            nextSweep = at.addingTimeInterval(retention.sweepInterval)
            changed.formUnion(searches.keys)
        }
        for searchID in changed {
            guard var held = searches[searchID] else { continue }
            if let account = recorded[searchID] {
                held.notePublished(under: account)
                searches[searchID] = held
            }
            let declared = totals(searchID.rawValue)
            if held.isForgotten(declared: declared, retention: retention, at: at) {
                searches[searchID] = nil
                // One never published, or forgotten already (a total read again on an
                // assignment: `search.totals` is upstream's and keeps it), has nothing to remove.
                guard held.wasPublished else { continue }
                forgetting[searchID] = Leaving(partition: held.partition,
                                               accounts: accountPartitions == nil ? [] : held.accounts(declared: declared))
            }
        }
        forgotten = forgetting
        forgetting = [:]
        for (searchID, leaving) in forgotten {
            guard let accountPartitions, !leaving.accounts.isEmpty else {
                records.append(ProducerRecord(topic: topics.progress, key: Array(searchID.rawValue.utf8), value: nil))
                sent.append(searchID)
                continue
            }
            for account in leaving.accounts {
                records.append(accountPartTombstone(account, searchID, accountPartitions: accountPartitions))
                sent.append(searchID)
            }
        }
        for searchID in changed {
            guard var search = searches[searchID],
                  let snapshot = search.snapshot(searchID, declared: totals(searchID.rawValue), at: at) else { continue }
            if let accountPartitions, case let leaving = search.accountsToLeave(snapshot.accountID), !leaving.isEmpty {
                // Moved: it leaves the accounts it was counted under first (also those only its
                // parts name: the part the owner before wrote there may be stored, its snapshot
                // in `progress` not).
                search.markLeft(leaving)
                searches[searchID] = search
                for account in leaving {
                    records.append(accountPartTombstone(account, searchID, accountPartitions: accountPartitions))
                    sent.append(searchID)
                }
                movedAfterTombstones.insert(searchID)
                continue
            }
            guard search.publish(snapshot) else { continue }
            searches[searchID] = search
            if let record = try? codec.record(snapshot, topic: topics.progress, key: searchID.rawValue) {
                records.append(record)
                sent.append(searchID)
            }
            if let accountPartitions,
               var part = try? codec.record(snapshot, topic: topics.accountProgressParts, key: AccountProgressSnapshot.partKey(snapshot)) {
                part.partition = KafkaPartitioner.partition(forKey: snapshot.accountID.rawValue, partitionCount: accountPartitions)
                records.append(part)
                sent.append(searchID)
            }
        }
        return records
    }

    /// The records at `positions` (in what ``publish(totals:at:)`` last returned) were not
    /// stored: published again, as they then stand, by the next poll that publishes (if still owned).
    mutating func unsent(_ positions: [Int]) {
        for searchID in Set(positions.map { sent[$0] }) {
            guard searches[searchID] != nil else {
                // A tombstone of a search forgotten: sent again.
                if let leaving = forgotten[searchID] { forgetting[searchID] = leaving }
                continue
            }
            searches[searchID]?.notStored()
            changed.insert(searchID)
        }
    }

    /// The records at `positions` (in what ``publish(totals:at:)`` last returned) were refused
    /// for what they are and left out: what was to follow them must not. A forgotten search's
    /// account part tombstone left out holds its `progress` tombstone back (the search stays in
    /// `progress` under the account, and is forgotten again, tombstones first, when its
    /// partition is next assigned); a moved search's holds its snapshot under the new account
    /// back until the search changes again, when its tombstones are sent first again. Either
    /// way the next owner still learns from `progress` the account to remove the search from.
    /// A snapshot left out is published again when its search next changes.
    mutating func leftOut(_ positions: [Int]) {
        for searchID in Set(positions.map { sent[$0] }) {
            if searches[searchID] == nil {
                forgotten[searchID] = nil
            } else if movedAfterTombstones.remove(searchID) != nil {
                searches[searchID]?.notStored()
            }
        }
    }

    /// The tombstone of `searchID`'s part under `account` on `progress.account-parts`, in the
    /// account's partition as its snapshots are: the search no longer counts there.
    private func accountPartTombstone(_ account: AccountID, _ searchID: SearchID, accountPartitions: Int) -> ProducerRecord {
        ProducerRecord(topic: topics.accountProgressParts,
                       partition: KafkaPartitioner.partition(forKey: account.rawValue, partitionCount: accountPartitions),
                       key: Array(AccountProgressSnapshot.partKey(account, searchID).utf8), value: nil)
    }
}
