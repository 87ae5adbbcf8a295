import Foundation
import JSONCodec

/// What a phase's result contributed to the lead's document: the result's payload, as the stage
/// wrote it, and the phase it belongs to.
///
/// The payload stays the JSON the result held: the coordinator passes it on into the requests
/// without reading it, and only the stage that puts the profile together (`DocumentAssembly` in
/// the pipeline rules) decodes it (``decodedPayload()``). A stage reads it with the request, from
/// the request's index (`init(reading:)`), rather than parsing the same bytes a second time.
public struct PhaseOutput: Codable, Hashable, Sendable {
    /// The phase that produced it.
    public var phase: Phase
    /// The result's payload, as the result held it.
    public var payload: RawJSON {
        didSet { read = nil }
    }
    /// The payload read along with the message that carried it; not part of the value.
    var read: PhasePayload?

    private enum CodingKeys: String, CodingKey {
        case phase, payload
    }

    /// An output of `payload` as its result held it.
    public init(phase: Phase, payload: RawJSON) {
        self.phase = phase
        self.payload = payload
    }

    /// An output of `payload`, written as a stage writes it.
    public init(phase: Phase, payload: PhasePayload) throws {
        self.init(phase: phase, payload: try RawJSON(encoding: payload))
    }

    /// The payload, read.
    public func decodedPayload() throws -> PhasePayload {
        if let read { return read }
        return try payload.decoded(as: PhasePayload.self)
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
///
/// A request that would be above MAX_RECORD_BYTES carries the profile put together as ``base``,
/// no outputs, and parts of it left out, named in ``omitted`` (`PhaseRequest.fitted` in the
/// pipeline rules).
public struct DocumentParts: Codable, Hashable, Sendable {
    /// The document the run started from when the discovery does not give it: for a re-enrich
    /// run, the lead's profile as its last run left it. Nil: start from the lead.
    @Indirect public var base: EnrichedProfile?
    /// The outputs of this run's completed phases, in the order they completed.
    public var outputs: [PhaseOutput]
    /// The phases this run skipped so far, with the reasons.
    public var skippedPhases: [PhaseSkip]
    /// The lead's latest completed web enrichment, if any.
    public var web: WebEnrichment?
    /// The lead's override in force when the request was sent, if any.
    public var override: LeadOverride?
    /// What the coordinator left out of the document so that its request fits in a record, as
    /// a pool entry's `omitted` says it; nil when nothing. The pool entry made from it says so too.
    public var omitted: [String]?

    /// Creates the parts.
    public init(
        base: EnrichedProfile? = nil, outputs: [PhaseOutput] = [], skippedPhases: [PhaseSkip] = [],
        web: WebEnrichment? = nil, override: LeadOverride? = nil, omitted: [String]? = nil
    ) {
        self._base = Indirect(wrappedValue: base)
        self.outputs = outputs
        self.skippedPhases = skippedPhases
        self.web = web
        self.override = override
        self.omitted = omitted
    }

    private enum CodingKeys: String, CodingKey {
        case base, outputs, skippedPhases, web, override, omitted
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            base: try container.decodeIfPresent(EnrichedProfile.self, forKey: .base),
            outputs: try container.decode([PhaseOutput].self, forKey: .outputs),
            skippedPhases: try container.decode([PhaseSkip].self, forKey: .skippedPhases),
            web: try container.decodeIfPresent(WebEnrichment.self, forKey: .web),
            override: try container.decodeIfPresent(LeadOverride.self, forKey: .override),
            omitted: try container.decodeIfPresent([String].self, forKey: .omitted))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(base, forKey: .base)
        try container.encode(outputs, forKey: .outputs)
        try container.encode(skippedPhases, forKey: .skippedPhases)
        try container.encodeIfPresent(web, forKey: .web)
        try container.encodeIfPresent(override, forKey: .override)
        try container.encodeIfPresent(omitted, forKey: .omitted)
    }
}
