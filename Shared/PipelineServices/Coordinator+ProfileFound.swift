import Foundation
import Kafka
import LeadModel
import Pipeline

extension Coordinator {
    /// Applies a ``ProfileFound`` record from the input topic to the lead it names.
    ///
    /// - Unknown lead (never discovered here, or owned by another instance's partition: it cannot
    ///   be, the record is keyed by lead id): a dead letter with the reason.
    /// - The lead already has a URL for the platform: nothing (a redelivered record, or discovery
    ///   knew the profile already).
    /// - Otherwise the URL is added to the lead and its profile. A ready lead gets a re-enrich run
    ///   of that platform: the returned event, which the caller applies to the lead's machine (it
    ///   persists the new state). A lead still running keeps its run: the new state is persisted
    ///   here, and the run's profile phase uses the URL if it has not been sent yet (waiting on
    ///   billing or the outreach window); otherwise the next run does.
    ///
    /// The re-enrich run id derives from the record's place, so a replay after a crash asks for
    /// the same run.
    /// - Returns: the lead and the event to apply, or nil when there is nothing more to do.
    /// - Throws: ``DecodeError`` for a record that is not a valid ``ProfileFound`` (the caller
    ///   dead-letters it).
    func profileFound(
        _ record: ConsumerRecord, _ environment: PipelineEnvironment, at now: Date,
        _ state: inout State, _ outputs: inout Outputs
    ) throws -> (leadID: LeadID, event: LeadStateMachine.Event)? {
        let topics = environment.topics
        let found = try environment.inputCodec.decode(ProfileFound.self, record: record)
        if let key = record.keyString, key != found.leadID.rawValue {
            outputs.append(environment.codec.deadLetter(
                for: record, reason: "record key '\(key)' differs from leadID '\(found.leadID)'",
                service: environment.service, topics: topics))
            return nil
        }
        guard var entry = state.leads[found.leadID], let current = entry.machine.state else {
            outputs.append(environment.codec.deadLetter(
                for: record, reason: "profile found for unknown lead \(found.leadID)", service: environment.service, topics: topics))
            return nil
        }
        guard let updated = ProfileFinding.adding(found, to: current, at: now) else { return nil }
        entry.machine = LeadStateMachine(configuration: entry.machine.configuration, restoring: updated)
        state.leads[found.leadID] = entry
        guard updated.status == .ready else {
            var job = EncodeJob(leadID: found.leadID)
            job.append(updated, topic: topics.leadState, key: found.leadID.rawValue, isChangelog: true)
            outputs.append(job)
            return nil
        }
        let hash = StableHash.fnv1a("profile-found/\(record.topic)/\(record.partition)/\(record.offset)/\(found.leadID)")
        let runID = RunID("run-pf-" + String(hash, radix: 16))
        let mode = Mode.reEnrich([ProfileFinding.reEnrichType(for: found.platform)])
        return (found.leadID, .reEnrich(mode, runID: runID, at: now))
    }
}
