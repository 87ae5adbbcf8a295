import Foundation
import Kafka
import LeadModel
import LeadRules
import Runtime
import Stages
import Streaming
import XCTest

/// A pool entry above MAX_RECORD_BYTES. The request is within the bound, yet its entry is not:
/// the entry holds the posts and their rendered plain text too. Most such entries are made to
/// fit (the oldest posts left out, then the activity, then the profile's lists, then the end of
/// long texts), and say what they lack; one that cannot fit dead-letters its finalize request, and the run is not remembered
/// as written: the retried attempt tries the entry again instead of answering "completed" without
/// one, so a lead is never ready without its entry. No broker: the processor is fed records
/// directly.
final class FinalizeUnwrittenEntryTests: XCTestCase {
    let topics = Topics(namespace: "ns")
    let codec = MessageCodec(maxRecordBytes: 100_000)

    private func processor(codec: MessageCodec? = nil) -> StageRecordProcessor {
        StageRecordProcessor(
            handler: FinalizeStageHandler(now: Fixtures.clock), codec: codec ?? self.codec, topics: topics, service: "test",
            logger: Logger(service: "test", level: .error, sink: { _ in }))
    }

    /// 300 posts, post `i` `i / 10` days old.
    private func posts() -> [Post] {
        let text = String(repeating: "Comparing sales engagement tools for our SDR team this quarter. ", count: 2)
        return (0..<300).map {
            Post(id: "p\($0)", platform: .x, date: Fixtures.daysAgo(Double($0) / 10), text: text, likes: 1, replies: 0, reposts: 0,
                 url: "https://x.com/janedoe/status/\($0)")
        }
    }

    private func request(attempt: Int, profile: EnrichedProfile, codec: MessageCodec? = nil) throws -> ConsumerRecord {
        let codec = codec ?? self.codec
        let request = Fixtures.request(.finalize, attempt: attempt, profile: profile)
        let record = try codec.record(request, topic: topics.phaseRequests(.finalize), key: request.leadID.rawValue)
        XCTAssertLessThanOrEqual(record.value?.count ?? 0, codec.maxRecordBytes, "the request itself is within the bound")
        return ConsumerRecord(topic: record.topic, partition: 0, offset: Int64(attempt), key: record.key, value: record.value,
                              headers: record.headers)
    }

    func testAnEntryAboveTheBoundKeepsTheNewestPostsThatFitAndSaysWhatItLeftOut() async throws {
        var profile = Fixtures.profile(posts: posts())
        profile.activity?.plainText = ""
        let outputs = await processor().process(try request(attempt: 1, profile: profile))
        XCTAssertEqual(outputs.records.map(\.topic), [topics.leadPool], "the entry, then the result once it is acknowledged")
        let record = try XCTUnwrap(outputs.records.first)
        XCTAssertLessThanOrEqual(record.byteCount, codec.maxRecordBytes)
        let entry = try codec.decode(LeadPoolEntry.self, from: try XCTUnwrap(record.value))
        let kept = try XCTUnwrap(entry.profile.activity?.posts)
        XCTAssertGreaterThan(kept.count, 100, "as many posts as fit")
        XCTAssertLessThan(kept.count, 300)
        XCTAssertEqual(Set(kept.map(\.id)), Set((0..<kept.count).map { "p\($0)" }), "the newest")
        XCTAssertEqual(entry.profile.activity?.plainText, ActivityBuilder.renderPlainText(kept, now: Fixtures.now),
                       "the text of the posts kept")
        XCTAssertEqual(entry.omitted, ["activity.posts: the \(300 - kept.count) oldest of 300"])
        XCTAssertEqual(entry.profile.linkedin, Fixtures.profile().linkedin, "the rest whole")

        // Past the newest posts: the activity, then the profile's lists, go.
        let small = MessageCodec(maxRecordBytes: 4_000)
        var lists = Fixtures.profile(posts: Array(posts().prefix(3)))
        lists.linkedin?.skills = (0..<150).map { "Skill number \($0)" }
        let bare = try XCTUnwrap(try LeadPoolEntry(profile: lists, accountID: "acct-1", offerID: "offer-1", finishedAt: Fixtures.now)
            .fitted(renderingAt: Fixtures.now) { small.oversizeReason(try small.record($0, topic: "pool", key: "k")) == nil })
        XCTAssertNil(bare.profile.activity?.posts.first)
        XCTAssertEqual(bare.profile.linkedin?.skills, [])
        XCTAssertEqual(bare.skills, [])
        XCTAssertEqual(bare.omitted, ["activity", "linkedin: past experiences, education, skills, certifications, languages, sources"],
                       "the whole activity, not its posts then it")
        XCTAssertEqual(bare.profile.linkedin?.jobTitle, lists.linkedin?.jobTitle)
    }

    func testAnEntryWhoseLongTextIsRepeatedInItsSummaryIsWrittenWithTheTextsCut() async throws {
        // Twice in the entry (the headline is its bio too), and in no list it could leave out.
        let codec = MessageCodec(maxRecordBytes: 15_000)
        var profile = Fixtures.profile()
        profile.linkedin?.headline = String(repeating: "Revenue operations and pipeline. ", count: 270)
        profile.x = nil
        let outputs = await processor(codec: codec).process(try request(attempt: 1, profile: profile, codec: codec))
        XCTAssertEqual(outputs.records.map(\.topic), [topics.leadPool])
        let entry = try codec.decode(LeadPoolEntry.self, from: try XCTUnwrap(outputs.records.first?.value))
        let kept = try XCTUnwrap(entry.profile.linkedin?.headline)
        XCTAssertTrue(profile.linkedin?.headline.hasPrefix(kept) ?? false)
        XCTAssertLessThanOrEqual(kept.count, FieldLimit.text / 2)
        XCTAssertEqual(entry.bio, kept, "the summary cut as the profile")
        XCTAssertEqual(entry.omitted?.last, "linkedin texts past \(kept.count) characters")
        XCTAssertEqual(entry.profile.linkedin?.jobTitle, profile.linkedin?.jobTitle, "short texts whole")
    }

    func testAnEntryThatCannotFitIsDeadLetteredAndARetriedAttemptTriesItAgain() async throws {
        // Nothing to leave out (no activity, no lists, texts as short as fitting cuts them), an
        // outcome's long reason, which fitting keeps, and the request at the bound: the entry's
        // summary repeats five texts, so the entry is above it.
        let text = String(repeating: "r", count: ProfilePhaseOutput.minimumTextLimit)
        var profile = Fixtures.profile()
        profile.activity = nil
        profile.x = nil
        var linkedin = try XCTUnwrap(profile.linkedin).withoutLists()
        (linkedin.headline, linkedin.jobTitle, linkedin.company, linkedin.location) = (text, text, text, text)
        profile.linkedin = linkedin
        profile.company = Company(name: text, industry: text)
        profile.xOutcome = .failed(reason: String(repeating: "The provider said no. ", count: 600), isRetriable: false)
        let request = Fixtures.request(.finalize, attempt: 1, profile: profile)
        let written = try self.codec.record(request, topic: topics.phaseRequests(.finalize), key: request.leadID.rawValue)
        let codec = MessageCodec(maxRecordBytes: try XCTUnwrap(written.value).count)
        let processor = processor(codec: codec)
        for attempt in 1...3 {
            let outputs = await processor.process(try self.request(attempt: attempt, profile: profile, codec: codec))
            XCTAssertEqual(outputs.records.map(\.topic), [topics.deadLetters], "attempt \(attempt): a dead letter, not a result")
            let letter = try codec.decode(DeadLetter.self, from: try XCTUnwrap(outputs.records.first?.value))
            XCTAssertTrue(letter.reason.contains("lead.pool") && letter.reason.contains("above MAX_RECORD_BYTES"), letter.reason)
            // Then a failed answer, so the coordinator retries (finalize until it completes)
            // after its backoff, with the reason, instead of waiting out the attempt's timeout
            // for an answer that never comes.
            let reports = [DeliveryReport(topic: topics.deadLetters, partition: 0, offset: Int64(attempt))]
            let answer = try XCTUnwrap(outputs.next?(reports).records)
            XCTAssertEqual(answer.map(\.topic), [topics.phaseResults])
            let result = try codec.decode(PhaseResultEnvelope.self, from: try XCTUnwrap(answer.first?.value))
            XCTAssertEqual(result.attempt, attempt)
            guard case .failed(let reason, let isRetriable) = result.outcome else { return XCTFail("\(result.outcome)") }
            XCTAssertFalse(isRetriable, "the output cannot be written: another phase is skipped at once")
            XCTAssertTrue(reason.contains("dead-lettered") && reason.contains("above MAX_RECORD_BYTES"), reason)
        }
    }
}
