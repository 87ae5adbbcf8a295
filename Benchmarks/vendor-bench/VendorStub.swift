import Foundation
import LeadRules
import Runtime
import Synchronization

/// A loopback stand-in for a person-data vendor, in a shape of its own (no real vendor's API):
///
/// - `GET /v1/person?profile=<handle>` → `{"match":{…}}`, or 404 for a handle starting `missing-`;
/// - `POST /v1/person/bulk` with `{"profiles":["<handle>",…]}` → `{"results":[{"status":200,
///   "match":{…}},{"status":404},…]}`, one entry per profile in order.
///
/// Every call, single or bulk, waits ``latency`` before answering and counts against one rate
/// limit of calls a minute (a token bucket with a burst); a call above it is answered 429 at
/// once with `Retry-After` in whole seconds, as vendors do.
final class VendorStub: Sendable {
    /// What the stub answered so far.
    struct Counts: Sendable {
        var singleCalls = 0
        var bulkCalls = 0
        var rejected = 0
        var bulkEntries = 0
    }

    let server: HTTPServer
    private let ledger: Ledger

    /// The stub's rate limit and counts, shared with its router.
    private final class Ledger: Sendable {
        let clock = ContinuousRateLimiterClock()
        let bucket: Mutex<TokenBucket>
        let counts = Mutex(Counts())

        init(ratePerMinute: Double, burst: Int) {
            bucket = Mutex(TokenBucket(ratePerMinute: ratePerMinute, burst: burst, now: clock.now()))
        }
    }

    /// Starts the stub on an ephemeral loopback port.
    init(latency: Duration, ratePerMinute: Double, burst: Int) throws {
        let ledger = Ledger(ratePerMinute: ratePerMinute, burst: burst)
        self.ledger = ledger
        server = try HTTPServer(limits: HTTPServer.Limits(maxConnections: 512)) { request in
            let decision = ledger.bucket.withLock { $0.reserve(now: ledger.clock.now(), maxWait: 0) }
            if case .refuse(let retryAfter) = decision {
                ledger.counts.withLock { $0.rejected += 1 }
                return .json(#"{"error":"rate limit exceeded"}"#, status: 429,
                             headers: [("Retry-After", String(Int(retryAfter.rounded(.up))))])
            }
            switch (request.method, request.path) {
            case ("GET", "/v1/person"):
                ledger.counts.withLock { $0.singleCalls += 1 }
                try? await Task.sleep(for: latency)
                guard let handle = request.query["profile"], !handle.hasPrefix("missing-") else {
                    return .json(#"{"error":"no match"}"#, status: 404)
                }
                return .json(#"{"match":\#(Self.person(handle))}"#)
            case ("POST", "/v1/person/bulk"):
                guard let bulk = try? JSONDecoder().decode(BulkRequest.self, from: request.body) else {
                    return .json(#"{"error":"bad request"}"#, status: 400)
                }
                ledger.counts.withLock {
                    $0.bulkCalls += 1
                    $0.bulkEntries += bulk.profiles.count
                }
                try? await Task.sleep(for: latency)
                let results = bulk.profiles.map { handle in
                    handle.hasPrefix("missing-") ? #"{"status":404}"# : #"{"status":200,"match":\#(Self.person(handle))}"#
                }
                return .json(#"{"results":[\#(results.joined(separator: ","))]}"#)
            default:
                return .json(#"{"error":"no such endpoint"}"#, status: 404)
            }
        }
    }

    deinit { server.stop() }

    var baseURL: URL { server.baseURL }
    var answered: Counts { ledger.counts.withLock { $0 } }

    /// The stub's person for `handle` (handles are `[a-z0-9-]`, so no escaping is needed).
    private static func person(_ handle: String) -> String {
        #"{"linkedin":"\#(handle)","full_name":"Person \#(handle)","job_title":"Head of Growth","company":"Example Co","likelihood":8}"#
    }
}

/// The stub's bulk request body.
struct BulkRequest: Codable {
    var profiles: [String]
}

/// The stub's person, as it answers it (snake_case keys in the JSON).
struct StubPerson: Codable {
    var linkedin, fullName, jobTitle, company: String
    var likelihood: Int
}
