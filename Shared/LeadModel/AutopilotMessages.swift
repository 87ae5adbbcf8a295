import Foundation

/// A lead enrolled automatically in an outreach sequence (topic ``Topics/autopilotEnrollments``;
/// key: lead id).
///
/// At most one enrollment per lead and run, but delivered at least once: the finalize stage
/// publishes it for the run's accepted scoring result and may be retried or redelivered, so a
/// reader dedupes on ``enrollmentID`` (`<lead id>:<run id>`), which every copy carries.
///
/// Version 2 added ``enrollmentID``; a version 1 record is still read, its id derived from its
/// lead and run.
public struct AutopilotEnrollment: Message, Hashable {
    /// `autopilot.enrollment`.
    public static let schemaName = "autopilot.enrollment"
    /// Version 2.
    public static let schemaVersion = 2
    /// Versions 1 and 2.
    public static let supportedVersions = 1...2

    /// `<lead id>:<run id>`: the same for every copy of one run's enrollment; readers dedupe on it.
    public var enrollmentID: String
    /// The lead enrolled.
    public var leadID: LeadID
    /// The run whose scoring result qualified it (one enrollment per run at most).
    public var runID: RunID
    /// The lead's account.
    public var accountID: AccountID
    /// The offer it was scored against.
    public var offerID: OfferID
    /// Fit at enrollment.
    public var fit: Int
    /// Intent at enrollment.
    public var intent: Int
    /// Buyer state at enrollment.
    public var buyerState: BuyerState
    /// Every rule checked, each `passed: …`.
    public var reasons: [String]
    /// When the enrollment was decided (the finalize stage's clock).
    public var enrolledAt: Date

    /// Creates an enrollment; its ``enrollmentID`` comes from the lead and the run.
    public init(
        leadID: LeadID, runID: RunID, accountID: AccountID, offerID: OfferID, fit: Int, intent: Int,
        buyerState: BuyerState, reasons: [String], enrolledAt: Date
    ) {
        self.enrollmentID = Self.makeEnrollmentID(leadID: leadID, runID: runID)
        self.leadID = leadID
        self.runID = runID
        self.accountID = accountID
        self.offerID = offerID
        self.fit = fit
        self.intent = intent
        self.buyerState = buyerState
        self.reasons = reasons
        self.enrolledAt = enrolledAt
    }

    /// `<lead id>:<run id>`.
    public static func makeEnrollmentID(leadID: LeadID, runID: RunID) -> String {
        "\(leadID.rawValue):\(runID.rawValue)"
    }

    private enum CodingKeys: String, CodingKey {
        case enrollmentID, leadID, runID, accountID, offerID, fit, intent, buyerState, reasons, enrolledAt
    }

    /// Decodes version 2, or version 1 with the id derived from the lead and the run.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        leadID = try container.decode(LeadID.self, forKey: .leadID)
        runID = try container.decode(RunID.self, forKey: .runID)
        enrollmentID = try container.decodeIfPresent(String.self, forKey: .enrollmentID)
            ?? Self.makeEnrollmentID(leadID: leadID, runID: runID)
        accountID = try container.decode(AccountID.self, forKey: .accountID)
        offerID = try container.decode(OfferID.self, forKey: .offerID)
        fit = try container.decode(Int.self, forKey: .fit)
        intent = try container.decode(Int.self, forKey: .intent)
        buyerState = try container.decode(BuyerState.self, forKey: .buyerState)
        reasons = try container.decode([String].self, forKey: .reasons)
        enrolledAt = try container.decode(Date.self, forKey: .enrolledAt)
    }
}
