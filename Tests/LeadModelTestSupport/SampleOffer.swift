import Foundation
import LeadModel

extension OfferConfig {
    /// The outbound automation offer the coordinator and system tests configure.
    public static func sample(offerID: OfferID, accountID: AccountID) -> OfferConfig {
        OfferConfig(
            offerID: offerID, accountID: accountID, name: "Outbound autopilot",
            productKeywords: ["outbound automation"],
            icp: IdealCustomerProfile(
                titles: ["VP of Demand Generation", "Head of Sales", "Revenue Operations"],
                seniorities: [.vp, .director], industries: ["B2B software", "SaaS"],
                minimumEmployees: 50, maximumEmployees: 2000, locations: ["United States"],
                painPoints: ["manual prospecting", "low reply rates", "outbound automation"],
                competitors: ["Outreach", "Apollo"], customIntentKeywords: ["sequence"]),
            signalLikelihood: .medium, updatedAt: Date())
    }
}
