import Foundation
import Kafka
import KafkaTestSupport
import LeadModel
import Streaming
import XCTest

/// Ready leads' states get their profiles back from the pool entries they refer to, on the real
/// broker; an entry no longer at its position is found further on in its partition.
final class PoolEntryReaderTests: XCTestCase {
    private let codec = MessageCodec()

    private func entry(_ id: String, headline: String) -> LeadPoolEntry {
        var profile = EnrichedProfile(discovered: Fixtures.lead(id: id))
        profile.linkedin = LinkedInProfile(
            publicIdentifier: id, fullName: "Jane Doe", headline: headline, jobTitle: "VP Sales", company: "Acme", companyLinkedInID: nil,
            location: "Berlin", experiences: [], education: [], skills: [], certifications: [], languages: [], connections: 1, followers: 1)
        return LeadPoolEntry(profile: profile, accountID: "acct-1", offerID: "offer-1", finishedAt: Fixtures.now)
    }

    private func referringState(_ id: String, to position: RecordPosition) throws -> LeadState {
        var state = LeadState(lead: Fixtures.lead(id: id), runID: "run-1", mode: .full, status: .ready, plan: [.finalize], phaseIndex: 1,
                              inFlight: nil, profile: EnrichedProfile(discovered: Fixtures.lead(id: id)), history: [],
                              createdAt: Fixtures.now, updatedAt: Fixtures.now, readyAt: Fixtures.now)
        state.poolEntry = position
        return try codec.decode(LeadState.self, from: codec.encode(state))  // as read from the changelog: not loaded
    }

    func testStatesTakeTheProfilesOfTheirEntriesAndAMovedEntryIsFoundFurtherOn() async throws {
        try await withTestTopic(partitions: 1, prefix: "pool") { topic in
            let producer = try KafkaProducer(configuration: TestBroker.configuration())
            // Offsets 0..3: a's entry, b's first entry, c's entry, b's second entry (the same run written again).
            var fitted = entry("c", headline: "C")
            fitted.omitted = ["activity.posts: the 120 oldest of 300"]
            let entries = [entry("a", headline: "A"), entry("b", headline: "B first"), fitted, entry("b", headline: "B again")]
            let reports = try await producer.send(entries.map { try codec.record($0, topic: topic, key: $0.leadID.rawValue) })
            await producer.close()
            let offsets = reports.map(\.offset)
            func position(_ index: Int) -> RecordPosition { RecordPosition(topic: topic, partition: 0, offset: offsets[index]) }

            var states: [LeadID: LeadState] = [
                "a": try referringState("a", to: position(0)),
                // b's state names offset 2, which holds c's entry (as if b's entry there was compacted away
                // and the offset reused in this test): b's later entry is found further on.
                "b": try referringState("b", to: position(2)),
                "c": try referringState("c", to: position(2)),
                "d": try referringState("d", to: position(3)),  // nothing of d's anywhere
            ]
            XCTAssertTrue(states.values.allSatisfy { !$0.isProfileLoaded })
            let unloaded = try await PoolEntryReader.loadProfiles(&states, codec: codec, configuration: TestBroker.configuration())
            XCTAssertEqual(unloaded.all, ["d"])
            XCTAssertEqual(unloaded.omitted, ["c": ["activity.posts: the 120 oldest of 300"]], "what a fitted entry lacks, for `leadctl show`")
            XCTAssertEqual(states["a"]?.profile, entries[0].profile)
            XCTAssertEqual(states["b"]?.profile.linkedin?.headline, "B again")
            XCTAssertEqual(states["c"]?.profile, entries[2].profile)
            XCTAssertEqual([states["a"], states["b"], states["c"]].map { $0?.isProfileLoaded }, [true, true, true])
            XCTAssertEqual(states["d"]?.isProfileLoaded, false)
        }
    }

    /// An entry no longer at its position is looked for further on for a bounded time (30 s in
    /// the services): a pool partition too long to read in that time leaves the lead unreadable,
    /// with the reason, as an entry this version cannot read does (the coordinator dead-letters
    /// the records that needed it, and writes no entry from the placeholder profile). The
    /// reading-on used to throw, which stopped the coordinator, and its restart met the same
    /// record: a crash loop.
    func testAnEntryNotFoundInTimeFurtherOnIsUnreadableNotAnError() async throws {
        try await withTestTopic(partitions: 1, prefix: "pool") { topic in
            let producer = try KafkaProducer(configuration: TestBroker.configuration())
            let entries = [entry("a", headline: "A"), entry("c", headline: "C"), entry("b", headline: "B again")]
            let reports = try await producer.send(entries.map { try codec.record($0, topic: topic, key: $0.leadID.rawValue) })
            await producer.close()
            func position(_ index: Int) -> RecordPosition { RecordPosition(topic: topic, partition: 0, offset: reports[index].offset) }
            var states: [LeadID: LeadState] = [
                "a": try referringState("a", to: position(0)),
                "b": try referringState("b", to: position(1)),  // c's entry there; b's is further on
            ]
            let unloaded = try await PoolEntryReader.loadProfiles(&states, codec: codec, configuration: TestBroker.configuration(),
                                                                  readingOnFor: .zero)
            XCTAssertEqual(states["a"]?.profile, entries[0].profile)
            XCTAssertEqual(unloaded.missing, [])
            XCTAssertEqual(Array(unloaded.unreadable.keys), ["b"])
            XCTAssertTrue(unloaded.unreadable["b"]?.contains("not found") == true, unloaded.unreadable["b"] ?? "")
            XCTAssertEqual(states["b"]?.isProfileLoaded, false)
        }
    }

    /// An entry at its position that this version cannot read (a newer schema version, written by
    /// a finalize stage upgraded first) is told apart from a missing one, with the reason: a lead
    /// whose entry was taken for missing started its next run from the placeholder profile, and
    /// that run's entry replaced the good one with an empty profile.
    func testAnEntryThisVersionCannotReadIsUnreadableNotMissing() async throws {
        try await withTestTopic(partitions: 1, prefix: "pool") { topic in
            let producer = try KafkaProducer(configuration: TestBroker.configuration())
            var newer = try codec.record(entry("a", headline: "A"), topic: topic, key: "a")
            newer.headers = [KafkaHeader(key: MessageHeaders.schema, value: Array(LeadPoolEntry.schemaName.utf8)),
                             KafkaHeader(key: MessageHeaders.version, value: Array("99".utf8))]
            let reports = try await producer.send([newer])
            await producer.close()
            var states: [LeadID: LeadState] = [
                "a": try referringState("a", to: RecordPosition(topic: topic, partition: 0, offset: reports[0].offset)),
                "d": try referringState("d", to: RecordPosition(topic: topic, partition: 0, offset: reports[0].offset + 1)),
            ]
            let unloaded = try await PoolEntryReader.loadProfiles(&states, codec: codec, configuration: TestBroker.configuration())
            XCTAssertEqual(unloaded.missing, ["d"])
            XCTAssertEqual(Array(unloaded.unreadable.keys), ["a"])
            XCTAssertTrue(unloaded.unreadable["a"]?.contains("99") == true, unloaded.unreadable["a"] ?? "")
            XCTAssertEqual(states["a"]?.isProfileLoaded, false)
        }
    }

    /// A ready lead's state names its entry's position, and a state of any shape may name a topic
    /// or a partition the broker does not have: reading there failed (the broker's
    /// UNKNOWN_TOPIC_OR_PART is no outage to wait out), which stopped the coordinator, and its
    /// restart met the same record that needed the entry: a crash loop. Such a lead is unreadable
    /// now, with the reason (its records are dead-lettered), and the other leads load.
    func testAnEntryOnATopicOrPartitionTheBrokerDoesNotHaveIsUnreadableNotAnError() async throws {
        try await withTestTopic(partitions: 1, prefix: "pool") { topic in
            let producer = try KafkaProducer(configuration: TestBroker.configuration())
            let reports = try await producer.send([try codec.record(entry("a", headline: "A"), topic: topic, key: "a")])
            await producer.close()
            func referring() throws -> [LeadID: LeadState] {
                [
                    "a": try referringState("a", to: RecordPosition(topic: topic, partition: 0, offset: reports[0].offset)),
                    "x": try referringState("x", to: RecordPosition(topic: topic + "-none", partition: 0, offset: 0)),
                    "y": try referringState("y", to: RecordPosition(topic: topic, partition: 7, offset: 0)),
                    "z": try referringState("z", to: RecordPosition(topic: topic, partition: -1, offset: 0)),
                ]
            }
            var states = try referring()
            let unloaded = try await PoolEntryReader.loadProfiles(&states, codec: codec, configuration: TestBroker.configuration(),
                                                                  whileBrokerUnreachable: { _ in })  // as the coordinator reads
            XCTAssertEqual(states["a"]?.isProfileLoaded, true)
            XCTAssertEqual(unloaded.missing, [])
            XCTAssertEqual(unloaded.unreadable.keys.sorted(), ["x", "y", "z"])
            XCTAssertTrue(unloaded.unreadable["y"]?.contains("\(topic)[7]@0 is on no partition the broker has") == true,
                          unloaded.unreadable["y"] ?? "")
            // With the counts known (the coordinator's pool), as without a request.
            var known = try referring()
            let counted = try await PoolEntryReader.loadProfiles(&known, codec: codec, configuration: TestBroker.configuration(),
                                                                 partitionCounts: [topic: 1], whileBrokerUnreachable: { _ in })
            XCTAssertEqual(known["a"]?.isProfileLoaded, true)
            XCTAssertEqual(counted.unreadable.keys.sorted(), ["x", "y", "z"])
        }
    }
}
