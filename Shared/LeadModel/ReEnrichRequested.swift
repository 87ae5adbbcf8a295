import Foundation

/// A person or system asks to refresh parts of an existing lead: the LinkedIn profile, the X
/// profile and/or the recent activity. The coordinator starts a new run in mode
/// ``Mode/reEnrich(_:)`` with these types.
///
/// Published on ``Topics/leadCommands``, keyed by lead id, next to ``ProfileFound``; readers
/// dispatch on the ``MessageHeaders/schema`` header. (Versions before `lead.commands` existed
/// published it on the input topic ``Topics/leadsDiscovered`` or its priority twin; the
/// coordinator still reads it there during a rolling upgrade.)
///
/// Idempotent: the run's id derives from the lead id and ``requestID``, so the same request
/// delivered twice (a retrying client, a re-published record) is one run and one charge. Send a
/// new request id for each request, and the same one when sending a request again.
///
/// Wire example:
/// ```json
/// {"schema": "lead.reenrich.requested", "version": 2, "leadID": "lead-1",
///  "types": ["activity", "linkedin"], "requestedAt": "2025-01-31T12:00:00.000Z",
///  "requestedBy": "ops@example.com", "requestID": "9f0c3a52-6c1e-4d5b-9a43-2f7e1d2c8b10"}
/// ```
public struct ReEnrichRequested: Message, Hashable {
    /// `lead.reenrich.requested`.
    public static let schemaName = "lead.reenrich.requested"
    /// Version 2: adds ``requestID``, required.
    public static let schemaVersion = 2
    /// Versions 1 (no request id) and 2.
    public static let supportedVersions = 1...2

    /// The lead to refresh; also the record key.
    public var leadID: LeadID
    /// What to refresh; at least one, no duplicates.
    public var types: [ReEnrichType]
    /// When the request was made.
    public var requestedAt: Date
    /// Who asked (a person's login, a service name); for the lead's history.
    public var requestedBy: String
    /// The requester's id of this request; the same id twice is one run. Nil only in a version 1
    /// record, whose run id derives from the record's place in the topic, so a version 1
    /// request delivered twice still makes two runs.
    public var requestID: RequestID?

    /// Creates a request.
    public init(leadID: LeadID, types: [ReEnrichType], requestedAt: Date, requestedBy: String, requestID: RequestID) {
        self.leadID = leadID
        self.types = types
        self.requestedAt = requestedAt
        self.requestedBy = requestedBy
        self.requestID = requestID
    }

    private enum VersionKey: String, CodingKey {
        case version
    }

    /// Reads version 1 (without ``requestID``) and version 2 (which must carry it).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let version = try decoder.container(keyedBy: VersionKey.self).decodeIfPresent(Int.self, forKey: .version) ?? Self.schemaVersion
        leadID = try container.decode(LeadID.self, forKey: .leadID)
        types = try container.decode([ReEnrichType].self, forKey: .types)
        requestedAt = try container.decode(Date.self, forKey: .requestedAt)
        requestedBy = try container.decode(String.self, forKey: .requestedBy)
        requestID = version >= 2
            ? try container.decode(RequestID.self, forKey: .requestID)
            : try container.decodeIfPresent(RequestID.self, forKey: .requestID)
    }

    /// The mode the re-enrich run uses.
    public var mode: Mode { .reEnrich(Set(types)) }

    /// Other systems write it: held to the input rules.
    public static var isExternalInput: Bool { true }

    /// The ids and `requestedBy` at most ``FieldLimit/identifier`` scalars.
    public func checkFieldLengths() throws(FieldTooLong) {
        try FieldLimit.check(leadID, "leadID")
        try FieldLimit.check(requestID, "requestID")
        try FieldLimit.check(requestedBy, "requestedBy", limit: FieldLimit.identifier)
    }

    /// At least one type, no type twice, and a non-empty `requestedBy`.
    public func validate() throws(ReEnrichValidationError) {
        if types.isEmpty { throw .noTypes }
        if Set(types).count != types.count {
            let repeated = Dictionary(grouping: types, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
            throw .duplicateTypes(repeated)
        }
        if requestedBy.isBlank { throw .emptyRequester }
    }
}

/// Why a ``ReEnrichRequested`` is not acceptable; each description says what to change.
public enum ReEnrichValidationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// `types` is empty.
    case noTypes
    /// `types` names a type more than once.
    case duplicateTypes([ReEnrichType])
    /// `requestedBy` is empty.
    case emptyRequester

    /// What is wrong and how to fix it.
    public var description: String {
        switch self {
        case .noTypes:
            "\"types\" is empty; name at least one of linkedin, x, activity"
        case .duplicateTypes(let types):
            "\"types\" repeats \(types.map(\.rawValue).joined(separator: ", ")); name each type once"
        case .emptyRequester:
            "\"requestedBy\" is empty; say who asks for the re-enrich"
        }
    }
}
