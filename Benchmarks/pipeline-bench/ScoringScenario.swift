import Foundation
import LeadModel
import LeadRules

extension Scenarios {
    // MARK: - j) scoring one lead

    /// CPU time per lead of the scoring stage's rules work: the card (``RuleBasedScorer``) and
    /// the lead's account-signal contribution, the contribution reading the scorer's evidence and
    /// signals as the stage does, against the contribution gathering and detecting them again.
    /// Rounds alternate the two on the same simulated leads.
    mutating func scoringCost() async throws {
        let leads = options.scoringLeads
        let rounds = 6
        let offer = PipelineRun.offer("offer-bench", "acct-bench")
        let profiles = try await Self.simulatedProfiles(leads, offer: offer)
        let scorer = RuleBasedScorer()
        let detector = SignalDetector(offer: offer)
        let now = Self.scoringNow
        var seconds = (handed: 0.0, again: 0.0)
        var handed = 0
        var differing = 0
        // A round not timed first, so neither way pays for building the offer's reading and
        // first use. The thread's CPU clock spans `evaluate`, which never suspends.
        for profile in profiles { _ = await scorer.evaluate(profile: profile, offer: offer, source: .csvImport, now: now) }
        for round in 0..<(2 * rounds) {
            let handsOver = round % 2 == (round / 2) % 2  // handed, again, again, handed, …: neither always first
            let started = scoringThreadCPUSeconds()
            var contributions: [AccountSignalContribution] = []
            contributions.reserveCapacity(leads)
            for profile in profiles {
                let evaluation = await scorer.evaluate(profile: profile, offer: offer, source: .csvImport, now: now)
                contributions.append(AccountSignalAggregator.contribution(
                    of: profile, leadID: profile.leadID, runID: "run-1", accountID: "acct-bench", offer: offer, at: now,
                    detector: detector, evidence: handsOver ? evaluation.evidence : nil,
                    activitySignals: handsOver ? evaluation.activitySignals : nil))
                if round == 0 && evaluation.activitySignals != nil { handed += 1 }
            }
            let spent = scoringThreadCPUSeconds() - started
            if handsOver { seconds.handed += spent } else { seconds.again += spent }
            if round == 0 {  // handed over: each contribution against the one detected again
                for (profile, contribution) in zip(profiles, contributions) {
                    let own = AccountSignalAggregator.contribution(
                        of: profile, leadID: profile.leadID, runID: "run-1", accountID: "acct-bench", offer: offer, at: now,
                        detector: detector)
                    if own != contribution { differing += 1 }
                }
            }
        }
        let perLead = (handed: seconds.handed * 1e6 / Double(rounds * leads), again: seconds.again * 1e6 / Double(rounds * leads))
        log(String(format: "scoring: %.1f µs per lead handing over, %.1f µs detecting again", perLead.handed, perLead.again))
        report.add("j) scoring stage's rules work per lead (card and contribution)",
                   String(format: "%.1f µs, against %.1f µs detecting again (%.2f×)", perLead.handed, perLead.again,
                          perLead.again > 0 ? perLead.handed / perLead.again : 0), latency: "")
        report.sections.append("""
        ### j) Scoring one lead

        Command: `\(Options.invokedPath) --scenario j --scoring-leads \(leads)` (no broker; in the benchmark process)

        The rules work of the scoring stage per lead: the card (`RuleBasedScorer.evaluate`) and the
        lead's account-signal contribution (`AccountSignalAggregator.contribution`), over \(leads)
        simulated leads (LinkedIn, X and activity of the simulated providers against the benchmark's
        offer), \(rounds) rounds each way, alternating. Handing over (what the stage does): the
        contribution reads the employer from the card's fit evidence and counts the signals the rules
        detected when they read the whole activity (\(handed) of the \(leads) leads: made at the time
        they are scored, none has a post past the horizon, an upper bound of the stage's share).
        Detecting again: the contribution parses the X bio and detects the activity's signals
        itself, beside today's card (which also lists the clusters' signals for the hand-over, as
        the card before it did not). Decoding the request and Kafka are not in it. CPU time of the
        benchmark's thread, after a round not timed.

        | | CPU per lead |
        |---|---|
        | handing over | \(String(format: "%.1f µs", perLead.handed)) |
        | detecting again | \(String(format: "%.1f µs", perLead.again)) |
        | ratio | \(String(format: "%.2f×", perLead.again > 0 ? perLead.handed / perLead.again : 0)) |

        Contributions that differ between the two ways: \(differing) of \(leads).

        """)
    }

    static let scoringNow = Date(timeIntervalSince1970: 1_796_083_200)  // 2026-12-01T00:00:00Z

    /// `count` profiles as the simulated providers make them (``SimulatedProfiles``), without
    /// the activity's text, as the scoring stage reads them.
    static func simulatedProfiles(_ count: Int, offer: OfferConfig) async throws -> [EnrichedProfile] {
        var profiles: [EnrichedProfile] = []
        for index in 0..<count {
            profiles.append(try await SimulatedProfiles.profile(index, offer: offer, now: scoringNow, withText: false))
        }
        return profiles
    }
}

/// CPU time of the calling thread, in seconds.
private func scoringThreadCPUSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}
