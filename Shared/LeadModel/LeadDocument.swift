import Foundation
import JSONCodec

/// What a phase's result contributed to the lead's document: the result's payload, as the stage
/// wrote it, and the phase it belongs to.
///
/// The coordinator passes an output on unread: it keeps the payload's JSON as the result held it
/// (``payloadJSON``) and writes those bytes into the request, instead of encoding the payload
/// again. Two outputs are equal when their phase and payload are, however they were read.
public struct PhaseOutput: Codable, Hashable, Sendable {
    /// The phase that produced it.
    public var phase: Phase
    /// The result's payload.
    public var payload: PhasePayload
    /// The payload's JSON as the result held it, written in its place when present.
    public var payloadJSON: RawJSON?

    /// Creates an output.
    public init(phase: Phase, payload: PhasePayload, payloadJSON: RawJSON? = nil) {
        self.phase = phase
        self.payload = payload
        self.payloadJSON = payloadJSON
    }

    private enum CodingKeys: String, CodingKey {
        case phase, payload
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        phase = try container.decode(Phase.self, forKey: .phase)
        payload = try container.decode(PhasePayload.self, forKey: .payload)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(phase, forKey: .phase)
        if let payloadJSON {
            try container.encode(payloadJSON, forKey: .payload)
        } else {
            try container.encode(payload, forKey: .payload)
        }
    }

    public static func == (lhs: PhaseOutput, rhs: PhaseOutput) -> Bool {
        lhs.phase == rhs.phase && lhs.payload == rhs.payload
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(phase)
        hasher.combine(payload)
    }
}

/// The lead's document in the form a version 2 ``PhaseRequest`` carries it: not the profile
/// merged by the coordinator, but the pieces it is made of, which the coordinator passes on as
/// the stages wrote them. The stage that reads the profile (scoring, finalize) puts them
/// together (`DocumentAssembly` in the pipeline rules):
///
/// 1. start from ``base``, or, without one, from the lead's discovery (its pool profile, if it
///    was matched from the pool);
/// 2. take the profile URLs from the request's lead (a found profile adds one);
/// 3. fold in ``outputs`` in order, as each phase's result would have been merged;
/// 4. set ``skippedPhases`` and ``web``, and apply ``override`` to the score card.
public struct DocumentParts: Codable, Hashable, Sendable {
    /// The document the run started from when the discovery does not give it: for a re-enrich
    /// run, the lead's profile as its last run left it. Nil: start from the lead.
    public var base: EnrichedProfile?
    /// The outputs of this run's completed phases, in the order they completed.
    public var outputs: [PhaseOutput]
    /// The phases this run skipped so far, with the reasons.
    public var skippedPhases: [PhaseSkip]
    /// The lead's latest completed web enrichment, if any.
    public var web: WebEnrichment?
    /// The lead's override in force when the request was sent, if any.
    public var override: LeadOverride?

    /// Creates the parts.
    public init(
        base: EnrichedProfile? = nil, outputs: [PhaseOutput] = [], skippedPhases: [PhaseSkip] = [],
        web: WebEnrichment? = nil, override: LeadOverride? = nil
    ) {
        self.base = base
        self.outputs = outputs
        self.skippedPhases = skippedPhases
        self.web = web
        self.override = override
    }
}
