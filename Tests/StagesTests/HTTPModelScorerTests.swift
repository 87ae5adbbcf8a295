import Foundation
import LeadModel
import LeadRules
import Runtime
import Stages
import Streaming
import XCTest

/// The model scorer against a stub chat-completions endpoint, and its fallback to the rules.
final class HTTPModelScorerTests: XCTestCase {
    static func chatReply(_ content: String) -> String {
        let escaped = String(decoding: try! JSONEncoder().encode(content), as: UTF8.self)
        return "{\"id\":\"c1\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\(escaped)},\"finish_reason\":\"stop\"}]}"
    }

    static let validContent = """
        {"fit": 82, "intent": 74, "timing": 40, "buyer_state": "active",
         "fit_reasons": [{"signal": "VP of Demand Generation at a software company", "points": 40}],
         "intent_reasons": ["asks for an alternative to Outreach"], "timing_reasons": [],
         "state_reason": "strong intent with good fit"}
        """

    private func scorer(_ stub: StubAPI, timeout: Double = 2) -> ModelScorer {
        ModelScorer(client: stub.client(name: "model", timeout: timeout, limiter: nil), model: "stub-model",
                    logger: Logger(service: "test", level: .error, sink: { _ in }))
    }

    func testValidReplyMakesTheCard() async throws {
        let stub = try StubAPI { _ in .json(Self.chatReply(Self.validContent)) }
        let offer = Fixtures.offer()
        let scoring = await scorer(stub).score(profile: Fixtures.profile(), offer: offer, source: .keywordSearch, now: Fixtures.now)
        XCTAssertNil(scoring.fallbackReason)
        XCTAssertEqual(scoring.card.scorer, "model:stub-model")
        XCTAssertEqual([scoring.card.fit, scoring.card.intent, scoring.card.timing], [82, 74, 40])
        XCTAssertEqual(scoring.card.buyerState, .active)
        XCTAssertEqual(scoring.card.composite, RuleBasedScorer.composite(fit: 82, intent: 74, timing: 40, likelihood: offer.signalLikelihood))
        XCTAssertEqual(scoring.card.fitReasons, [ScoreReason(signal: "VP of Demand Generation at a software company", points: 40)])
        XCTAssertEqual(scoring.card.intentReasons.map(\.signal), ["asks for an alternative to Outreach"])
        XCTAssertEqual(scoring.card.stateReason, "strong intent with good fit")

        let request = try XCTUnwrap(stub.requests.first)
        XCTAssertEqual(request.method, "POST")
        XCTAssertEqual(request.path, "/v1/chat/completions")
        let body = try XCTUnwrap(try JSONSerialization.jsonObject(with: request.body) as? [String: Any])
        XCTAssertEqual(body["model"] as? String, "stub-model")
        XCTAssertEqual((body["response_format"] as? [String: Any])?["type"] as? String, "json_object")
        XCTAssertEqual((body["messages"] as? [[String: Any]])?.count, 2)
    }

    /// A profile put together from phase results has no plain text (the scoring stage does not
    /// render it for the rules): the model is still sent the posts, rendered at scoring time.
    func testAProfileWithoutActivityTextIsSentItsPostsRendered() async throws {
        var profile = Fixtures.profile(posts: [Fixtures.post("Looking for an Outreach alternative", daysAgo: 2),
                                               Fixtures.post("Hiring SDRs", daysAgo: 9, id: "p2")])
        let rendered = try XCTUnwrap(profile.activity?.plainText)
        XCTAssertTrue(rendered.contains("Hiring SDRs"), rendered)
        for text in [rendered, ""] {
            profile.activity?.plainText = text
            let stub = try StubAPI { _ in .json(Self.chatReply(Self.validContent)) }
            _ = await scorer(stub).score(profile: profile, offer: Fixtures.offer(), source: .keywordSearch, now: Fixtures.now)
            let body = try XCTUnwrap(try JSONSerialization.jsonObject(with: try XCTUnwrap(stub.requests.first).body) as? [String: Any])
            let user = try XCTUnwrap((body["messages"] as? [[String: Any]])?.last?["content"] as? String)
            let lead = try XCTUnwrap(user.components(separatedBy: "Lead:\n").last)
            let sent = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lead.utf8)) as? [String: Any])
            XCTAssertEqual(sent["recentPosts"] as? String, rendered, "plain text \(text.isEmpty ? "empty" : "set")")
        }
    }

    /// The lead's orbit and orbit clusters reach the model's prompt with their names capped as
    /// a card quotes them (120 scalars, a cluster's names 60 each within 120 and how many
    /// others: ``OrbitClusters/listedNames(of:)``), so a profile with long orbit names sends a
    /// prompt of bounded size. Before, the 30 targets and 10 clusters sent were written whole:
    /// a cluster of 40 accounts with names of 2,000 scalars sent each name whole.
    func testOrbitAndClusterNamesAreCappedInThePrompt() async throws {
        let long = String(repeating: "y", count: 2_000)
        let orbit = (0..<40).map { index in
            OrbitTarget(platform: .x, handle: "peer\(index)", name: "Peer \(index) \(long)", classification: index == 0 ? .competitor : .peer,
                        interactionCount: 2, firstSeen: Fixtures.daysAgo(20), lastSeen: Fixtures.daysAgo(3))
        }
        var profile = Fixtures.profile()
        profile.activity?.orbit = orbit
        profile.activity?.clusters = OrbitClusters.form(orbit, now: Fixtures.now).map { cluster in
            var written = cluster  // as a record written before names were capped where clusters form
            written.names = cluster.handles.map { "Peer \($0) \(long)" }
            return written
        }
        let stub = try StubAPI { _ in .json(Self.chatReply(Self.validContent)) }
        let scoring = await scorer(stub).score(profile: profile, offer: Fixtures.offer(), source: .keywordSearch, now: Fixtures.now)
        XCTAssertNil(scoring.fallbackReason, "the prompt fits a request the endpoint takes (the stub's: 64 KiB)")
        let body = try XCTUnwrap(try JSONSerialization.jsonObject(with: try XCTUnwrap(stub.requests.first).body) as? [String: Any])
        let user = try XCTUnwrap((body["messages"] as? [[String: Any]])?.last?["content"] as? String)
        let lead = try XCTUnwrap(user.components(separatedBy: "Lead:\n").last)
        let sent = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lead.utf8)) as? [String: Any])
        func strings(in value: Any?) -> [String] {
            switch value {
            case let text as String: [text]
            case let array as [Any]: array.flatMap { strings(in: $0) }
            case let object as [String: Any]: object.values.flatMap { strings(in: $0) }
            default: []
            }
        }
        let orbitSent = strings(in: sent["orbit"])
        let clustersSent = strings(in: sent["orbitClusters"])
        XCTAssertTrue(orbitSent.contains { $0.hasPrefix("Peer 0 ") }, "the orbit is sent")
        XCTAssertTrue(clustersSent.contains { $0.hasPrefix("Peer ") }, "the cluster's names are sent")
        for text in orbitSent + clustersSent {
            XCTAssertLessThanOrEqual(text.unicodeScalars.count, SignalDetector.maxOrbitDetailLength + 1, String(text.prefix(30)))
        }
        XCTAssertLessThan(lead.utf8.count, 20_000)
    }

    func testFencedJSONIsAccepted() async throws {
        let stub = try StubAPI { _ in .json(Self.chatReply("```json\n" + Self.validContent + "\n```")) }
        let scoring = await scorer(stub).score(profile: Fixtures.profile(), offer: Fixtures.offer(), source: .csvImport, now: Fixtures.now)
        XCTAssertNil(scoring.fallbackReason)
    }

    func testEveryFailureFallsBackToTheRules() async throws {
        let rules = RuleBasedScorer().score(profile: Fixtures.profile(), offer: Fixtures.offer(), source: .keywordSearch, now: Fixtures.now)
        let failures: [(String, @Sendable (HTTPRequest) async -> HTTPResponse, String)] = [
            ("5xx", { _ in .json("{}", status: 502) }, "HTTP 502"),
            ("429", { _ in HTTPResponse.json("{}", status: 429, headers: [("Retry-After", "3")]) }, "rate limited"),
            ("401", { _ in .json("{}", status: 401) }, "HTTP 401"),
            ("timeout", { _ in try? await Task.sleep(for: .seconds(3)); return .json(Self.chatReply(Self.validContent)) }, "no answer within"),
            ("not a completion", { _ in .json("[1,2,3]") }, "not a chat completion"),
            ("not JSON content", { _ in .json(Self.chatReply("I think this lead is great")) }, "not a JSON object"),
            ("no choices", { _ in .json("{\"choices\":[]}") }, "no message content"),
            ("out of range", { _ in .json(Self.chatReply(#"{"fit": 120, "intent": 10, "timing": 5, "buyer_state": "monitor"}"#)) }, "fit 120.0"),
            ("fractional", { _ in .json(Self.chatReply(#"{"fit": 50.5, "intent": 10, "timing": 5, "buyer_state": "monitor"}"#)) }, "fit 50.5"),
            ("missing score", { _ in .json(Self.chatReply(#"{"fit": 50, "timing": 5, "buyer_state": "monitor"}"#)) }, "intent is missing"),
            ("unknown state", { _ in .json(Self.chatReply(#"{"fit": 50, "intent": 10, "timing": 5, "buyer_state": "hot"}"#)) }, "buyer_state \"hot\""),
            ("manual state", { _ in .json(Self.chatReply(#"{"fit": 50, "intent": 10, "timing": 5, "buyer_state": "manual"}"#)) }, "buyer_state \"manual\""),
            ("bad reasons", { _ in .json(Self.chatReply(#"{"fit": 50, "intent": 10, "timing": 5, "buyer_state": "monitor", "fit_reasons": 3}"#)) }, "fit_reasons"),
        ]
        for (name, route, expected) in failures {
            let stub = try StubAPI(route)
            let scoring = await scorer(stub, timeout: 1).score(
                profile: Fixtures.profile(), offer: Fixtures.offer(), source: .keywordSearch, now: Fixtures.now)
            let reason = try XCTUnwrap(scoring.fallbackReason, name)
            XCTAssertTrue(reason.contains(expected), "\(name): \(reason)")
            XCTAssertEqual(scoring.card.scorer, "rules-v2", name)
            XCTAssertEqual([scoring.card.fit, scoring.card.intent, scoring.card.timing], [rules.fit, rules.intent, rules.timing], name)
            XCTAssertTrue(scoring.card.stateReason.hasSuffix("(model unavailable: \(reason))"), name)
        }
    }

    /// The evaluation hands the account-signal contribution what was gathered for the card, as the
    /// rules' own does: after a fallback the rules' evidence and signals, after the model's card
    /// the evidence the competitor check read (the model detects no signals the contribution
    /// could count). Either way the contribution is the one it would gather itself.
    func testTheEvaluationHandsOverWhatTheCardWasMadeFrom() async throws {
        let offer = Fixtures.offer()
        let detector = SignalDetector(offer: offer)
        let (failingStub, answeringStub) = (try StubAPI { _ in .json("{}", status: 502) }, try StubAPI { _ in .json(Self.chatReply(Self.validContent)) })
        let (failing, answering) = (scorer(failingStub), scorer(answeringStub))
        var (signalsHanded, competitors) = (0, 0)
        for index in 0...20 {
            // Lead 0 works at a competitor: the rules' card, the model not asked.
            let profile = index == 0 ? Fixtures.profile(leadID: "lead-0", company: "Outreach")
                : try await SimulatedProfiles.profile(index, offer: offer, now: Fixtures.now, withText: false)
            func contribution(_ evaluation: Evaluation?) -> AccountSignalContribution {
                AccountSignalAggregator.contribution(of: profile, leadID: profile.leadID, runID: "run-1", accountID: offer.accountID, offer: offer,
                                                     at: Fixtures.now, detector: detector, evidence: evaluation?.evidence,
                                                     activitySignals: evaluation?.activitySignals)
            }
            let rules = await RuleBasedScorer().evaluate(profile: profile, offer: offer, source: .keywordSearch, now: Fixtures.now)
            let fallback = await failing.evaluate(profile: profile, offer: offer, source: .keywordSearch, now: Fixtures.now)
            XCTAssertEqual(fallback.evidence, rules.evidence, "lead \(index)")
            XCTAssertNotNil(fallback.evidence, "lead \(index)")
            // A competitor's employee is decided before the model or the rules read the activity.
            XCTAssertEqual(fallback.activitySignals, index == 0 ? nil : rules.activitySignals, "lead \(index)")
            if fallback.activitySignals.map({ !$0.signals.isEmpty }) == true { signalsHanded += 1 }
            XCTAssertEqual(contribution(fallback), contribution(nil), "lead \(index)")

            let modelled = await answering.evaluate(profile: profile, offer: offer, source: .keywordSearch, now: Fixtures.now)
            if modelled.competitorEmployer != nil { competitors += 1 }
            // A competitor's employee is the rules' published card, the model not asked.
            XCTAssertEqual(modelled.card.scorer, modelled.competitorEmployer == nil ? "model:stub-model" : "rules-v2",
                           "lead \(index): \(modelled.card.stateReason)")
            XCTAssertEqual(modelled.evidence, FitEvidence(profile: profile), "lead \(index)")
            XCTAssertNil(modelled.activitySignals, "the model detects no signals to count: lead \(index)")
            XCTAssertEqual(contribution(modelled), contribution(nil), "lead \(index)")
        }
        XCTAssertGreaterThan(signalsHanded, 0, "some simulated leads have signals")
        XCTAssertEqual(competitors, 1, "lead 0")
        XCTAssertEqual(answeringStub.requests.count, 20, "one model call a lead, none for a competitor's employee")
        withExtendedLifetime(failingStub) {}
    }

    /// A model that answers a buyer state of 100,000 characters falls back to the rules with a
    /// reason of bounded length (it was echoed whole into the card's state reason and the log,
    /// and could push the result past MAX_RECORD_BYTES); the request bounds the answer's tokens.
    func testAHugeInvalidAnswerIsQuotedBoundedAndTheAnswerIsBounded() async throws {
        let huge = String(repeating: "x", count: 100_000)
        let stub = try StubAPI { _ in .json(Self.chatReply(#"{"fit": 50, "intent": 10, "timing": 5, "buyer_state": "\#(huge)"}"#)) }
        let scoring = await scorer(stub, timeout: 5).score(
            profile: Fixtures.profile(), offer: Fixtures.offer(), source: .keywordSearch, now: Fixtures.now)
        let reason = try XCTUnwrap(scoring.fallbackReason)
        XCTAssertLessThan(reason.count, 300, "\(reason.prefix(120))…")
        XCTAssertLessThan(scoring.card.stateReason.count, 600)
        let body = try XCTUnwrap(try JSONSerialization.jsonObject(with: try XCTUnwrap(stub.requests.first).body) as? [String: Any])
        XCTAssertEqual(body["max_tokens"] as? Int, ModelScorer.maxAnswerTokens)
    }

    func testHandlerChargesTheModelOnlyWhenItScored() async throws {
        let offer = Fixtures.offer()
        for (route, charged) in [(HTTPResponse.json(Self.chatReply(Self.validContent)), true), (.json("{}", status: 500), false)] {
            let stub = try StubAPI { _ in route }
            let handler = ScoringStageHandler(
                scorer: scorer(stub), offers: { $0 == offer.offerID ? offer : nil }, now: Fixtures.clock)
            let output = await handler.handle(Fixtures.request(.scoring, profile: Fixtures.profile()))
            XCTAssertEqual(output.result.outcome, .completed)
            let card = try XCTUnwrap(output.result.payload.scores)
            XCTAssertEqual(card.scorer, charged ? "model:stub-model" : "rules-v2")
            XCTAssertEqual(output.result.charges.map(\.provider), charged ? [ModelScorer.modelProvider] : [])
        }
    }

    /// The published rules hold for a model's card too: intent of 70 or more with fit of 40 or
    /// more is active whatever state the model chose short of poor fit; a lead employed by a
    /// competitor is poor fit with zeroed scores, decided before any model call (none charged).
    func testTheModelsCardKeepsThePublishedRules() async throws {
        let offer = Fixtures.offer()
        let monitor = #"{"fit": 60, "intent": 90, "timing": 10, "buyer_state": "monitor", "state_reason": "wait and see"}"#
        let stub = try StubAPI { _ in .json(Self.chatReply(monitor)) }
        let scoring = await scorer(stub).score(profile: Fixtures.profile(), offer: offer, source: .keywordSearch, now: Fixtures.now)
        XCTAssertNil(scoring.fallbackReason)
        XCTAssertEqual(scoring.card.buyerState, .active, scoring.card.stateReason)
        XCTAssertTrue(scoring.card.stateReason.contains("intent 90 and fit 60"), scoring.card.stateReason)

        let competitorStub = try StubAPI { _ in .json(Self.chatReply(Self.validContent)) }
        let handler = ScoringStageHandler(scorer: scorer(competitorStub), offers: { $0 == offer.offerID ? offer : nil }, now: Fixtures.clock)
        let output = await handler.handle(Fixtures.request(.scoring, profile: Fixtures.profile(company: "Outreach")))
        let card = try XCTUnwrap(output.result.payload.scores)
        XCTAssertEqual(card.buyerState, .poorFit)
        XCTAssertEqual([card.fit, card.intent, card.timing, card.composite], [0, 0, 0, 0])
        XCTAssertEqual(competitorStub.count, 0, "no model call for a competitor's employee")
        XCTAssertTrue(output.result.charges.isEmpty)
    }

    func testUnknownOfferFailsWithoutCallingTheModel() async throws {
        let stub = try StubAPI { _ in .json(Self.chatReply(Self.validContent)) }
        let handler = ScoringStageHandler(scorer: scorer(stub), offers: { _ in nil }, now: Fixtures.clock)
        let output = await handler.handle(Fixtures.request(.scoring))
        XCTAssertEqual(output.result.outcome, .failed(reason: "unknown offer offer-1: not in this stage's offers table yet", isRetriable: true))
        XCTAssertEqual(stub.count, 0)
    }

    /// The scorer as the scoring stage builds it: one limiter for all its calls, so a 429 holds
    /// the calls of every lead, not only the one that got it.
    func test429HoldsEveryModelCallOfTheProcess() async throws {
        let stub = try StubAPI { _ in HTTPResponse.json("{}", status: 429, headers: [("Retry-After", "60")]) }
        let configuration = try ProviderConfiguration(environment: [
            "SCORER": "model", "MODEL_BASE_URL": stub.baseURL.absoluteString, "MODEL_NAME": "stub-model",
            "MODEL_API_KEY": "k", "MODEL_RATE_PER_MINUTE": "600", "MODEL_RATE_BURST": "3", "PROVIDER_MAX_WAIT_SECONDS": "1",
        ])
        let environment = try PipelineEnvironment(service: "test", environment: ["LOG_LEVEL": "error"])
        let scorer = try XCTUnwrap(try configuration.makeModelScorer(environment: environment))
        XCTAssertEqual(scorer.client.limiter?.maxWaitSeconds, 1, "the scorer has a limiter with the configured wait")
        let first = await scorer.score(profile: Fixtures.profile(), offer: Fixtures.offer(), source: .keywordSearch, now: Fixtures.now)
        XCTAssertTrue(first.fallbackReason?.contains("rate limited") == true, first.fallbackReason ?? "model answered")
        // Another lead, while the endpoint's Retry-After holds: scored by the rules without a call.
        let second = await scorer.score(profile: Fixtures.profile(), offer: Fixtures.offer(), source: .intentSearch, now: Fixtures.now)
        XCTAssertTrue(second.fallbackReason?.contains("rate limited") == true, second.fallbackReason ?? "model answered")
        XCTAssertEqual(stub.count, 1, "the second lead's call must not reach the endpoint")
    }
}

/// `PROVIDERS`, `SCORER` and the keys, read in one place.
final class HTTPProviderConfigurationTests: XCTestCase {
    private let environment = try! PipelineEnvironment(service: "test", environment: [:])

    func testDefaultsAreSimulatedAndRules() throws {
        let configuration = try ProviderConfiguration(environment: [:])
        XCTAssertEqual(configuration.providers, .simulated)
        XCTAssertEqual(configuration.scorer, .rules)
        XCTAssertEqual(configuration.x.baseURL?.absoluteString, "https://api.x.com")
        XCTAssertTrue(try configuration.makeXProvider(environment: environment) is SimulatedXProvider)
        XCTAssertTrue(try configuration.makeLinkedInProvider(environment: environment) is SimulatedLinkedInProvider)
        XCTAssertTrue(try configuration.makeActivityProvider(environment: environment) is SimulatedActivityProvider)
        XCTAssertNil(try configuration.makeModelScorer(environment: environment))
    }

    func testHTTPWithoutAKeyNamesTheVariable() throws {
        let configuration = try ProviderConfiguration(environment: ["PROVIDERS": "http", "LINKEDIN_API_BASE_URL": "https://api.example.com"])
        XCTAssertThrowsError(try configuration.makeXProvider(environment: environment)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.variable, "X_BEARER_TOKEN")
        }
        XCTAssertThrowsError(try configuration.makeLinkedInProvider(environment: environment)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.variable, "LINKEDIN_API_KEY")
        }
        let noBase = try ProviderConfiguration(environment: ["PROVIDERS": "http", "LINKEDIN_VENDORS": "profile-api", "LINKEDIN_API_KEY": "k"])
        XCTAssertThrowsError(try noBase.makeLinkedInProvider(environment: environment)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.variable, "LINKEDIN_API_BASE_URL")
        }
        let noVendorKey = try ProviderConfiguration(environment: ["PROVIDERS": "http", "LINKEDIN_API_KEY": "k"])
        XCTAssertThrowsError(try noVendorKey.makeLinkedInProvider(environment: environment)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.variable, "PDL_API_KEY", "without a profile API, People Data Labs is the default vendor")
        }
        let model = try ProviderConfiguration(environment: ["SCORER": "model", "MODEL_BASE_URL": "http://127.0.0.1:8080", "MODEL_API_KEY": "k"])
        XCTAssertThrowsError(try model.makeModelScorer(environment: environment)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.variable, "MODEL_NAME")
        }
    }

    func testEveryRateBurstIsAWholeNumberOfCalls() throws {
        for variable in ["X_RATE_BURST", "LINKEDIN_RATE_BURST", "MODEL_RATE_BURST", "PDL_RATE_BURST", "APOLLO_RATE_BURST"] {
            for bad in ["2.9", "0", "many"] {
                XCTAssertThrowsError(try ProviderConfiguration(environment: [variable: bad]), "\(variable)=\(bad)") { error in
                    XCTAssertEqual((error as? ConfigurationError)?.variable, variable, "\(error)")
                }
            }
        }
        XCTAssertEqual(try ProviderConfiguration(environment: ["X_RATE_BURST": "7"]).x.burst, 7)
    }

    /// Deploy/k8s/secret.yaml ships every key as `replace-me`. A key still at it stops the
    /// provider that would call with it, naming the variable, and nothing else: the simulated
    /// providers, the rules and a vendor not listed never read it.
    func testAPlaceholderKeyStopsOnlyTheProviderThatNeedsIt() throws {
        let placeholders = Dictionary(uniqueKeysWithValues: ["X_BEARER_TOKEN", "LINKEDIN_API_KEY", "PDL_API_KEY", "APOLLO_API_KEY", "MODEL_API_KEY"]
            .map { ($0, "replace-me") })
        let simulated = try ProviderConfiguration(environment: placeholders.merging(["PROVIDERS": "simulated", "SCORER": "rules"]) { $1 })
        XCTAssertTrue(try simulated.makeXProvider(environment: environment) is SimulatedXProvider)
        XCTAssertTrue(try simulated.makeLinkedInProvider(environment: environment) is SimulatedLinkedInProvider)
        XCTAssertTrue(try simulated.makeActivityProvider(environment: environment) is SimulatedActivityProvider)
        XCTAssertTrue(try simulated.makeProfileSearch(environment: environment, simulatedLatency: .zero) is SimulatedProfileSearchProvider)
        XCTAssertNil(try simulated.makeModelScorer(environment: environment))

        // HTTP with People Data Labs alone: Apollo's, the profile API's and the model's keys are never used.
        let pdl = try ProviderConfiguration(environment: placeholders.merging([
            "PROVIDERS": "http", "LINKEDIN_VENDORS": "pdl", "X_BEARER_TOKEN": "x-token", "PDL_API_KEY": "pdl-key",
        ]) { $1 })
        XCTAssertTrue(try pdl.makeLinkedInProvider(environment: environment) is VendorWaterfall)
        XCTAssertTrue(try pdl.makeXProvider(environment: environment) is HTTPXProvider)
        XCTAssertTrue(try pdl.makeActivityProvider(environment: environment) is HTTPActivityProvider)
        XCTAssertTrue(try pdl.makeProfileSearch(environment: environment, simulatedLatency: .zero) is VendorProfileSearch)
        XCTAssertNil(try pdl.makeModelScorer(environment: environment))

        let cases: [(variables: [String: String], make: (ProviderConfiguration) throws -> Any?, variable: String)] = [
            (["PROVIDERS": "http", "LINKEDIN_VENDORS": "pdl,apollo", "PDL_API_KEY": "pdl-key"],
             { try $0.makeLinkedInProvider(environment: self.environment) }, "APOLLO_API_KEY"),
            (["PROVIDERS": "http", "LINKEDIN_VENDORS": "apollo", "APOLLO_API_KEY": "apollo-key"],
             { try $0.makeXProvider(environment: self.environment) }, "X_BEARER_TOKEN"),
            (["PROVIDERS": "http", "LINKEDIN_VENDORS": "apollo", "APOLLO_API_KEY": "apollo-key"],
             { try $0.makeActivityProvider(environment: self.environment) }, "X_BEARER_TOKEN"),
            (["PROVIDERS": "http", "LINKEDIN_VENDORS": "pdl"],
             { try $0.makeProfileSearch(environment: self.environment, simulatedLatency: .zero) }, "PDL_API_KEY"),
            (["PROVIDERS": "http", "LINKEDIN_API_BASE_URL": "https://profiles.example.com"],
             { try $0.makeLinkedInProvider(environment: self.environment) }, "LINKEDIN_API_KEY"),
            (["SCORER": "model", "MODEL_BASE_URL": "https://models.example.com", "MODEL_NAME": "m"],
             { try $0.makeModelScorer(environment: self.environment) }, "MODEL_API_KEY"),
        ]
        for (variables, make, variable) in cases {
            let configuration = try ProviderConfiguration(environment: placeholders.merging(variables) { $1 })
            XCTAssertThrowsError(try make(configuration), "\(variables)") { error in
                XCTAssertEqual((error as? ConfigurationError)?.variable, variable, "\(variables)")
                XCTAssertTrue("\(error)".contains("placeholder"), "\(error)")
            }
        }
        // From a file, likewise.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("key-\(UUID().uuidString)")
        try "replace-me\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let fromFile = try ProviderConfiguration(environment: ["SCORER": "model", "MODEL_BASE_URL": "https://models.example.com",
                                                               "MODEL_NAME": "m", "MODEL_API_KEY_FILE": file.path])
        XCTAssertThrowsError(try fromFile.makeModelScorer(environment: environment)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.variable, "MODEL_API_KEY")
        }
    }

    func testKeysFromFilesAndHTTPProvidersBuilt() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)")
        try "  file-token\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let configuration = try ProviderConfiguration(environment: [
            "PROVIDERS": "HTTP", "X_BEARER_TOKEN_FILE": file.path, "LINKEDIN_API_BASE_URL": "https://nubela.co/proxycurl/",
            "LINKEDIN_API_KEY": "li-key", "X_RATE_PER_MINUTE": "3", "X_RATE_BURST": "2",
        ])
        XCTAssertEqual(configuration.x.key?.withValue { $0 }, "file-token")
        XCTAssertEqual(configuration.x.ratePerMinute, 3)
        XCTAssertEqual(configuration.linkedin.baseURL?.absoluteString, "https://nubela.co/proxycurl")
        XCTAssertTrue(try configuration.makeXProvider(environment: environment) is HTTPXProvider)
        XCTAssertTrue(try configuration.makeLinkedInProvider(environment: environment) is VendorWaterfall, "the profile API as the one vendor")
        XCTAssertTrue(try configuration.makeActivityProvider(environment: environment) is HTTPActivityProvider)
        XCTAssertEqual("\(configuration.x.key!)", "<redacted>", "keys never print")
        XCTAssertFalse(String(reflecting: configuration).contains("li-key"), "keys never print")
    }

    func testBadValuesNameTheirVariable() {
        let cases: [([String: String], String)] = [
            (["PROVIDERS": "real"], "PROVIDERS"),
            (["SCORER": "gpt"], "SCORER"),
            (["X_API_BASE_URL": "http://api.x.com"], "X_API_BASE_URL"),
            (["MODEL_BASE_URL": "https://user:pw@models.example.com"], "MODEL_BASE_URL"),
            (["LINKEDIN_API_BASE_URL": "not a url"], "LINKEDIN_API_BASE_URL"),
            (["X_RATE_PER_MINUTE": "0"], "X_RATE_PER_MINUTE"),
            (["MODEL_RATE_BURST": "none"], "MODEL_RATE_BURST"),
            (["MODEL_TIMEOUT_SECONDS": "soon"], "MODEL_TIMEOUT_SECONDS"),
            (["X_BEARER_TOKEN": "a", "X_BEARER_TOKEN_FILE": "/tmp/x"], "X_BEARER_TOKEN"),
            (["LINKEDIN_API_KEY_FILE": "/nonexistent/key"], "LINKEDIN_API_KEY_FILE"),
        ]
        for (variables, name) in cases {
            XCTAssertThrowsError(try ProviderConfiguration(environment: variables), name) { error in
                XCTAssertEqual((error as? ConfigurationError)?.variable, name)
            }
        }
    }
}
