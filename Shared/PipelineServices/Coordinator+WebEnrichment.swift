import Foundation
import Kafka
import LeadModel
import Pipeline

extension Coordinator {
    /// Merges a completed web enrichment of a lead (topic ``Topics/webEnrichments``, keyed by
    /// lead id, so co-partitioned with the lead's state) into the lead's profile and persists it;
    /// a lead that is already ready gets its lead-pool entry rewritten with it (the same key on a
    /// compacted topic: an update, not a second finish).
    ///
    /// Enrichments keyed by search, refused or failed ones, and those of leads this instance does
    /// not know change nothing here: readers join them on their key.
    func mergeWebEnrichment(_ record: ConsumerRecord, _ environment: PipelineEnvironment, at now: Date,
                            _ state: inout State, _ outputs: inout Outputs) throws {
        let enrichment = try environment.codec.decode(WebEnrichment.self, record: record)
        guard enrichment.status == .completed, let leadID = enrichment.leadID,
              var entry = state.leads[leadID], var current = entry.machine.state else { return }
        guard current.profile.web != enrichment else { return }  // a redelivered record
        current.profile.web = enrichment
        current.updatedAt = now
        entry.machine = LeadStateMachine(configuration: entry.machine.configuration, restoring: current)
        state.leads[leadID] = entry
        let topics = environment.topics
        var job = EncodeJob(leadID: leadID)
        job.append(current, topic: topics.leadState, key: leadID.rawValue, isChangelog: true)
        if current.status == .ready {
            let pool = LeadPoolEntry(profile: current.profile, accountID: current.lead.accountID,
                                     offerID: current.lead.offerID, finishedAt: current.readyAt ?? now)
            job.append(pool, topic: topics.leadPool, key: leadID.rawValue)
        }
        outputs.append(job)
    }
}
