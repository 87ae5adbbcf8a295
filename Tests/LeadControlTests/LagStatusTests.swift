import Kafka
import LeadControl
import LeadModel
import XCTest

/// `leadctl lag`'s statuses: sequences of samples judged ok, lagging or stalled, no broker.
final class LagStatusTests: XCTestCase {
    func testClassifyingALagSeries() {
        XCTAssertEqual(LagStatus.classify(lags: [], isCommittedMoving: false), .unknown)
        XCTAssertEqual(LagStatus.classify(lags: [0], isCommittedMoving: false), .ok, "no lag needs no trend")
        XCTAssertEqual(LagStatus.classify(lags: [7], isCommittedMoving: false), .unknown, "one sample: no trend")
        XCTAssertEqual(LagStatus.classify(lags: [5, 3, 0], isCommittedMoving: true), .ok, "drained")
        XCTAssertEqual(LagStatus.classify(lags: [4, 9, 0], isCommittedMoving: false), .ok, "lag 0 at the last sample")
        XCTAssertEqual(LagStatus.classify(lags: [50, 80, 40], isCommittedMoving: true), .ok, "consuming, not growing")
        XCTAssertEqual(LagStatus.classify(lags: [50, 50], isCommittedMoving: true), .ok, "consuming as fast as produced")
        XCTAssertEqual(LagStatus.classify(lags: [10, 30, 60], isCommittedMoving: true), .lagging, "consuming, falling behind")
        XCTAssertEqual(LagStatus.classify(lags: [5, 5, 5], isCommittedMoving: false), .stalled, "lag, nothing committed")
        XCTAssertEqual(LagStatus.classify(lags: [5, 8, 12], isCommittedMoving: false), .stalled, "growing, nobody consumes")
        XCTAssertEqual(LagStatus.classify(lags: [0, 0, 3], isCommittedMoving: false), .lagging, "records just arrived")
    }

    private static let partition = TopicPartition(topic: "ns.phase.profile.requests", partition: 0)
    private static let other = TopicPartition(topic: "ns.phase.profile.requests", partition: 1)
    private static let group = ConsumerGroup(id: "ns.stage.profile", topics: ["ns.phase.profile.requests"], kind: .stage,
                                             service: "profile-stage")

    private static func sample(_ time: Double, _ readings: [(TopicPartition, Int64?, Int64)]) -> LagSample {
        LagSample(time: time, groups: [group.id: readings.map { tp, committed, high in
            PartitionLag(partition: tp, committed: committed, watermarks: Watermarks(low: 0, high: high))
        }])
    }

    private func statuses(_ samples: [LagSample], window: Double = 10) -> (LagStatus, [LagStatus]) {
        var lagWindow = LagWindow(length: window)
        for sample in samples { lagWindow.append(sample) }
        let group = lagWindow.report(of: [Self.group]).groups[0]
        return (group.status, group.partitions.map(\.status))
    }

    func testAGroupWhoseConsumerDrainsIsOk() {
        let (group, partitions) = statuses([
            Self.sample(0, [(Self.partition, 10, 40)]), Self.sample(2, [(Self.partition, 25, 40)]), Self.sample(4, [(Self.partition, 40, 40)]),
        ])
        XCTAssertEqual(group, .ok)
        XCTAssertEqual(partitions, [.ok])
    }

    func testAGroupFallingBehindIsLagging() {
        let (group, _) = statuses([
            Self.sample(0, [(Self.partition, 10, 20)]), Self.sample(2, [(Self.partition, 15, 40)]), Self.sample(4, [(Self.partition, 20, 70)]),
        ])
        XCTAssertEqual(group, .lagging)
    }

    func testAGroupWithLagAndNoCommitsIsStalled() {
        // Never committed (no process ever ran in the group): lag is everything stored.
        let (never, _) = statuses([Self.sample(0, [(Self.partition, nil, 3)]), Self.sample(2, [(Self.partition, nil, 3)])])
        XCTAssertEqual(never, .stalled)
        // Committed once, then its consumer stopped while records keep coming.
        let (stopped, _) = statuses([Self.sample(0, [(Self.partition, 30, 35)]), Self.sample(2, [(Self.partition, 30, 50)])])
        XCTAssertEqual(stopped, .stalled)
        // The first commit of a group is movement.
        let (started, _) = statuses([Self.sample(0, [(Self.partition, nil, 30)]), Self.sample(2, [(Self.partition, 12, 30)])])
        XCTAssertEqual(started, .ok)
    }

    func testOneStuckPartitionInAMovingGroup() {
        let (group, partitions) = statuses([
            Self.sample(0, [(Self.partition, 10, 30), (Self.other, 4, 9)]),
            Self.sample(2, [(Self.partition, 20, 30), (Self.other, 4, 9)]),
        ])
        XCTAssertEqual(group, .ok, "the group consumes and its total lag falls")
        XCTAssertEqual(partitions, [.ok, .stalled], "partition 1 does not move")
    }

    func testTheWindowSlides() {
        var window = LagWindow(length: 4)
        // Stalled early on, then the consumer comes back and drains what remains slowly.
        for (time, committed) in [(0.0, 10), (2, 10), (4, 10), (6, 12), (8, 14)] as [(Double, Int64)] {
            window.append(Self.sample(time, [(Self.partition, committed, 30)]))
        }
        XCTAssertEqual(window.samples.map(\.time), [4, 6, 8], "the oldest that still spans 4 s is kept, older ones dropped")
        XCTAssertEqual(window.span, 4)
        XCTAssertEqual(window.report(of: [Self.group]).groups[0].status, .ok)
        XCTAssertEqual(window.report(of: [Self.group]).samples, 3)
        window.append(Self.sample(11, [(Self.partition, 14, 30)]))
        XCTAssertEqual(window.samples.map(\.time), [6, 8, 11], "at 11 s the sample at 6 s still spans the window")

        var single = LagWindow(length: 0)
        single.append(Self.sample(0, [(Self.partition, 10, 30)]))
        single.append(Self.sample(1, [(Self.partition, 10, 30)]))
        XCTAssertEqual(single.samples.count, 1, "a window of 0 s keeps one sample")
        XCTAssertEqual(single.report(of: [Self.group]).groups[0].status, .unknown)
    }

    func testUntrackedAndMissingGroups() {
        let progress = ConsumerGroup(id: "ns.coordinator.progress", topics: ["ns.progress.parts"], kind: .progressTracker,
                                     service: "coordinator", commitsOffsets: false)
        let missing = ConsumerGroup(id: "ns.web-enricher", topics: ["ns.web.enrichment.requests"], kind: .webEnricher, service: "web-enricher")
        var window = LagWindow(length: 10)
        window.append(Self.sample(0, []))
        let report = window.report(of: [progress, missing])
        XCTAssertEqual(report.groups.map(\.status), [.untracked, .unknown])
        XCTAssertEqual(report.groups.map(\.group), [progress.id, missing.id], "every group listed, even without partitions")
    }
}
