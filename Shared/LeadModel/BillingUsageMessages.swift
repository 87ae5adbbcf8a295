import Foundation

/// One charged phase (topic ``Topics/billingUsage``; key: account id). Billing deduplicates on
/// ``idempotencyKey``, so a retried or redelivered phase is never charged twice.
public struct BillingUsage: Message, Hashable {
    /// `billing.usage`.
    public static let schemaName = "billing.usage"
    /// Version 1.
    public static let schemaVersion = 1

    /// `account:lead:run:phase:provider`; deliberately without the attempt number.
    public var idempotencyKey: String
    /// The account charged.
    public var accountID: AccountID
    /// The lead.
    public var leadID: LeadID
    /// The run.
    public var runID: RunID
    /// The phase.
    public var phase: Phase
    /// The provider.
    public var provider: String
    /// Units.
    public var units: Int
    /// When charged.
    public var chargedAt: Date

    /// Creates a usage record with its idempotency key.
    public init(
        accountID: AccountID, leadID: LeadID, runID: RunID, phase: Phase, provider: String, units: Int,
        chargedAt: Date
    ) {
        self.idempotencyKey = Self.makeIdempotencyKey(
            accountID: accountID, leadID: leadID, runID: runID, phase: phase, provider: provider)
        self.accountID = accountID
        self.leadID = leadID
        self.runID = runID
        self.phase = phase
        self.provider = provider
        self.units = units
        self.chargedAt = chargedAt
    }

    /// `account:lead:run:phase:provider`. The provider is part of the key because one phase may
    /// charge two providers (LinkedIn and X in the profile phase).
    public static func makeIdempotencyKey(
        accountID: AccountID, leadID: LeadID, runID: RunID, phase: Phase, provider: String
    ) -> String {
        "\(accountID):\(leadID):\(runID):\(phase.rawValue):\(provider)"
    }
}
