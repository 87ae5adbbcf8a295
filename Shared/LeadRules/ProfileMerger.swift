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
            if let company = output.company { merged.company = company }
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

    /// The later of two optional dates; nil only when both are nil.
    public static func laterDate(_ first: Date?, _ second: Date?) -> Date? {
        switch (first, second) {
        case (nil, nil): nil
        case (let date?, nil), (nil, let date?): date
        case (let a?, let b?): max(a, b)
        }
    }
}
