import Foundation

/// One charged phase (topic ``Topics/billingUsage``; key: account id), with the provider calls
/// it charged. Billing deduplicates on ``idempotencyKey``, so a retried or redelivered phase is
/// never charged twice.
public struct BillingUsage: Message, Hashable {
    /// `billing.usage`.
    public static let schemaName = "billing.usage"
    /// Version 2: one record per charged phase, its providers in ``charges`` (version 1 was one
    /// record per provider, keyed `account:lead:run:phase:provider`).
    public static let schemaVersion = 2
    /// Versions 1 and 2: a version 1 record reads as a phase with one charge, its key as written.
    public static let supportedVersions = 1...2

    /// `account:lead:run:phase`; deliberately without the attempt number.
    public var idempotencyKey: String
    /// The account charged.
    public var accountID: AccountID
    /// The lead.
    public var leadID: LeadID
    /// The run.
    public var runID: RunID
    /// The phase.
    public var phase: Phase
    /// The provider calls charged, each with its units (the profile phase may charge LinkedIn
    /// and X); none with zero units.
    public var charges: [BillableCharge]
    /// When charged.
    public var chargedAt: Date

    /// Creates a usage record with its idempotency key.
    public init(accountID: AccountID, leadID: LeadID, runID: RunID, phase: Phase, charges: [BillableCharge], chargedAt: Date) {
        self.idempotencyKey = Self.makeIdempotencyKey(accountID: accountID, leadID: leadID, runID: runID, phase: phase)
        self.accountID = accountID
        self.leadID = leadID
        self.runID = runID
        self.phase = phase
        self.charges = charges
        self.chargedAt = chargedAt
    }

    /// `account:lead:run:phase`: the key the domain names (lead, run and phase), scoped to the
    /// account.
    public static func makeIdempotencyKey(accountID: AccountID, leadID: LeadID, runID: RunID, phase: Phase) -> String {
        "\(accountID):\(leadID):\(runID):\(phase.rawValue)"
    }

    private enum CodingKeys: String, CodingKey {
        case idempotencyKey, accountID, leadID, runID, phase, charges, chargedAt
    }

    /// Version 1's one charge.
    private enum VersionOneKeys: String, CodingKey {
        case provider, units
    }

    /// Decodes version 2, or version 1 (`provider` and `units`) as one charge.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        idempotencyKey = try container.decode(String.self, forKey: .idempotencyKey)
        accountID = try container.decode(AccountID.self, forKey: .accountID)
        leadID = try container.decode(LeadID.self, forKey: .leadID)
        runID = try container.decode(RunID.self, forKey: .runID)
        phase = try container.decode(Phase.self, forKey: .phase)
        if let charges = try container.decodeIfPresent([BillableCharge].self, forKey: .charges) {
            self.charges = charges
        } else {
            let one = try decoder.container(keyedBy: VersionOneKeys.self)
            charges = [BillableCharge(provider: try one.decode(String.self, forKey: .provider), units: try one.decode(Int.self, forKey: .units))]
        }
        chargedAt = try container.decode(Date.self, forKey: .chargedAt)
    }
}
