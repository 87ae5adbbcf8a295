import Foundation
import LeadModel

/// Folds a phase's output into the lead's accumulated profile.
///
/// Rules: only the fields of the phase that ran are read; a platform's data is replaced only when
/// the phase brought new data (a failed platform keeps what an earlier run fetched, with the new
/// outcome recorded); the signal date only ever moves forward.
public enum ProfileMerger {
    /// Returns `profile` with `payload` of `phase` merged in.
    public static func merge(_ payload: PhasePayload, of phase: Phase, into profile: EnrichedProfile) -> EnrichedProfile {
        var merged = profile
        switch phase {
        case .profile:
            guard let output = payload.profile else { break }
            if let outcome = output.linkedinOutcome { merged.linkedinOutcome = outcome }
            if let outcome = output.xOutcome { merged.xOutcome = outcome }
            if let linkedin = output.linkedin { merged.linkedin = linkedin }
            if let x = output.x { merged.x = x }
            if let company = output.company {
                merged.company = company
            } else if let linkedin = output.linkedin, let kept = merged.company, !isEmployer(kept, of: linkedin) {
                // The fresh LinkedIn profile names another employer or none: the record kept from an
                // earlier run is a former employer's, which fit and account heat would go on reading.
                merged.company = nil
            }
        case .activity:
            if let outcome = payload.activityOutcome { merged.activityOutcome = outcome }
            if let activity = payload.activity {
                merged.activity = activity
                merged.signalDate = laterDate(merged.signalDate, activity.signalDate)
            }
        case .scoring:
            if let scores = payload.scores { merged.scores = scores }
        case .finalize:
            break
        }
        return merged
    }

    /// Whether `company` is the current employer `linkedin` names: the same LinkedIn company id
    /// when both have one, else the same name once normalised (legal suffixes and case aside).
    static func isEmployer(_ company: Company, of linkedin: LinkedInProfile) -> Bool {
        if let id = company.linkedInID, let current = linkedin.companyLinkedInID, !id.isEmpty, !current.isEmpty { return id == current }
        guard let name = AccountSignalAggregator.normalizedCompanyName(company.name),
              let current = AccountSignalAggregator.normalizedCompanyName(linkedin.company) else { return false }
        return name == current
    }

    /// The later of two optional dates; nil only when both are nil.
    public static func laterDate(_ first: Date?, _ second: Date?) -> Date? {
        switch (first, second) {
        case (nil, nil): nil
        case (let date?, nil), (nil, let date?): date
        case (let a?, let b?): max(a, b)
        }
    }
}
