import Foundation

/// A person or system asks to refresh parts of an existing lead: the LinkedIn profile, the X
/// profile and/or the recent activity. The coordinator starts a new run in mode
/// ``Mode/reEnrich(_:)`` with these types.
///
/// Published on the input topic ``Topics/leadsDiscovered``, keyed by lead id, next to
/// ``LeadDiscovered`` records; readers dispatch on the ``MessageHeaders/schema`` header.
///
/// Wire example:
/// ```json
/// {"schema": "lead.reenrich.requested", "version": 1, "leadID": "lead-1",
///  "types": ["activity", "linkedin"], "requestedAt": "2025-01-31T12:00:00.000Z",
///  "requestedBy": "ops@example.com"}
/// ```
public struct ReEnrichRequested: Message, Hashable {
    /// `lead.reenrich.requested`.
    public static let schemaName = "lead.reenrich.requested"
    /// Version 1.
    public static let schemaVersion = 1

    /// The lead to refresh; also the record key.
    public var leadID: LeadID
    /// What to refresh; at least one, no duplicates.
    public var types: [ReEnrichType]
    /// When the request was made.
    public var requestedAt: Date
    /// Who asked (a person's login, a service name); for the lead's history.
    public var requestedBy: String

    /// Creates a request.
    public init(leadID: LeadID, types: [ReEnrichType], requestedAt: Date, requestedBy: String) {
        self.leadID = leadID
        self.types = types
        self.requestedAt = requestedAt
        self.requestedBy = requestedBy
    }

    /// The mode the re-enrich run uses.
    public var mode: Mode { .reEnrich(Set(types)) }

    /// Other systems write it: held to the input rules.
    public static var isExternalInput: Bool { true }

    /// The id and `requestedBy` at most ``FieldLimit/identifier`` scalars.
    public func checkFieldLengths() throws(FieldTooLong) {
        try FieldLimit.check(leadID, "leadID")
        try FieldLimit.check(requestedBy, "requestedBy", limit: FieldLimit.identifier)
    }

    /// At least one type, no type twice, and a non-empty `requestedBy`.
    public func validate() throws(ReEnrichValidationError) {
        if types.isEmpty { throw .noTypes }
        if Set(types).count != types.count {
            let repeated = Dictionary(grouping: types, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
            throw .duplicateTypes(repeated)
        }
        if requestedBy.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw .emptyRequester }
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
