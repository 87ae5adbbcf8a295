import Foundation
import LeadModel

/// Sample configurations printed by `leadctl account sample` / `offer sample`: a B2B SaaS
/// company selling outbound automation.
public enum SampleConfigurations {
    /// An active account, outreach on weekdays 9-17 New York time, autopilot on for active buyers.
    public static func account(updatedAt: Date) -> AccountConfig {
        AccountConfig(
            accountID: "acct-demo", billingState: .active,
            outreachWindow: OutreachWindow(timeZoneID: "America/New_York", weekdays: [1, 2, 3, 4, 5], startHour: 9, endHour: 17),
            autopilot: AutopilotRule(isEnabled: true, minimumFit: 60, minimumIntent: 55, requiredBuyerState: .active),
            updatedAt: updatedAt)
    }

    /// An outbound automation offer with its ideal customer profile, pain points and competitors.
    public static func offer(updatedAt: Date) -> OfferConfig {
        OfferConfig(
            offerID: "offer-demo", accountID: "acct-demo", name: "Outbound Autopilot",
            productKeywords: ["outbound automation", "sales engagement platform", "ai sdr"],
            icp: IdealCustomerProfile(
                titles: ["demand generation", "sales development", "revenue operations", "growth", "head of sales"],
                seniorities: [.manager, .director, .vp, .cLevel, .founder],
                industries: ["software", "information technology", "internet", "computer software"],
                minimumEmployees: 20, maximumEmployees: 2_000,
                locations: ["United States", "Canada", "United Kingdom", "Germany", "Netherlands"],
                painPoints: [
                    "manual prospecting", "low reply rates", "lead enrichment", "outbound automation",
                    "sdr ramp time", "pipeline coverage",
                ],
                competitors: ["Outreach", "Salesloft", "Apollo", "Reply.io"],
                customIntentKeywords: ["looking for a sequencing tool", "switching from outreach", "cold email deliverability"]),
            signalLikelihood: .high, updatedAt: updatedAt)
    }
}
