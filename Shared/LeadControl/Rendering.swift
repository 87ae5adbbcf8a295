import Foundation
import JSONCodec
import LeadModel

/// The text `leadctl show` prints for a ``LeadState``.
public enum LeadStateReport {
    /// The state of one phase of the current run's plan.
    public static func phaseState(_ state: LeadState, index: Int) -> String {
        let phase = state.plan[index]
        if index < state.phaseIndex {
            if let skip = state.profile.skippedPhases.last(where: { $0.phase == phase }) {
                return "skipped: \(skip.reason)"
            }
            return "done"
        }
        if state.status == .refused { return "not run" }  // the status line says why
        guard index == state.phaseIndex else { return "pending" }
        switch state.status {
        case .billingPaused: return "waiting: billing paused"
        case .outsideOutreachWindow: return "waiting: outside the outreach window"
        case .pending: return "queued"
        case .ready: return "done"
        case .refused: return "not run"
        case .processing: break
        }
        guard let inFlight = state.inFlight, inFlight.phase == phase else { return "starting" }
        if inFlight.isBackingOff {
            return "backing off, attempt \(inFlight.attempt) at \(ISO8601.format(inFlight.deadline))"
        }
        return "running, attempt \(inFlight.attempt), times out at \(ISO8601.format(inFlight.deadline))"
    }

    /// The override line under the state: the override in force, or that it was cleared; nil
    /// without any override record.
    public static func overrideLine(_ override: LeadOverride?) -> String? {
        guard let override else { return nil }
        let by = "by \(override.requestedBy) at \(ISO8601.format(override.at))"
        guard let state = override.stateInForce else {
            return "\noverride: none (cleared \(by)" + (override.reason.isEmpty ? ")" : ": \(override.reason))")
        }
        return "\noverride: \(state.rawValue), \(by): \(override.reason)"
            + (state == .disqualified ? "\n  not rescored, not enrolled, not matched from the pool" : "\n  scores update, the state stays; not enrolled")
    }

    /// The line `leadctl show` adds for a lead whose pool entry was made to fit MAX_RECORD_BYTES;
    /// nil for a whole entry.
    public static func omittedLine(_ omitted: [String]?) -> String? {
        guard let omitted, !omitted.isEmpty else { return nil }
        return "  pool entry  made to fit MAX_RECORD_BYTES, without: \(omitted.joined(separator: "; "))"
    }

    /// Several lines: header, plan, profile summary, scores and history.
    public static func render(_ state: LeadState) -> String {
        var lines: [String] = []
        let profile = state.profile
        lines.append("lead \(state.leadID): \(profile.name)")
        lines.append("  status    \(state.status.rawValue)")
        if state.status == .refused, let reason = state.history.last(where: { $0.kind == .refused })?.detail {
            lines.append("  refused   \(reason)")
        }
        lines.append("  run       \(state.runID)")
        lines.append("  mode      \(state.mode)")
        lines.append("  account   \(state.lead.accountID)   offer \(state.lead.offerID)   search \(state.lead.sourceSearchID)   source \(state.lead.source.rawValue)")
        lines.append("  created   \(ISO8601.format(state.createdAt))   updated \(ISO8601.format(state.updatedAt))"
            + (state.readyAt.map { "   ready \(ISO8601.format($0))" } ?? ""))
        lines.append("")
        lines.append("plan:")
        for index in state.plan.indices {
            let marker = index == state.phaseIndex ? "→" : " "
            lines.append("  \(marker) \(pad(state.plan[index].rawValue, 9)) \(phaseState(state, index: index))")
        }
        lines.append("")
        lines.append("profile:")
        lines.append("  name      \(profile.name)")
        if !state.isProfileLoaded {
            let phases = state.outputs.map(\.phase.rawValue).joined(separator: ", ")
            lines.append("  (running: the results of \(phases.isEmpty ? "no phase yet" : phases) hold the rest until the run is ready)")
        }
        if let linkedin = profile.linkedin {
            lines.append("  title     \(linkedin.jobTitle)")
            if !linkedin.location.isEmpty { lines.append("  location  \(linkedin.location)") }
        }
        if let companyLine = companySummary(profile) { lines.append("  company   \(companyLine)") }
        if let url = profile.linkedinURL { lines.append("  linkedin  \(url)" + outcomeSuffix(profile.linkedinOutcome)) }
        if let url = profile.xURL { lines.append("  x         \(url)" + outcomeSuffix(profile.xOutcome)) }
        if let x = profile.x {
            lines.append("  x stats   @\(x.username): \(x.followersCount) followers, \(x.followingCount) following"
                + (x.isVerified ? ", verified" : "") + (x.canDM ? ", open DMs" : ""))
            if !x.bio.isEmpty { lines.append("  x bio     \(x.bio)") }
        }
        if let activity = profile.activity {
            lines.append("  activity  \(activity.posts.count) recent post\(activity.posts.count == 1 ? "" : "s"), "
                + "\(activity.orbit.count) orbit target\(activity.orbit.count == 1 ? "" : "s")"
                + (profile.signalDate.map { ", signal date \(ISO8601.format($0))" } ?? "")
                + outcomeSuffix(profile.activityOutcome))
        }
        if let scores = profile.scores {
            lines.append("  scores    fit \(scores.fit), intent \(scores.intent), timing \(scores.timing), composite \(scores.composite)")
            lines.append("  buyer     \(scores.buyerState.rawValue): \(scores.stateReason)")
            if let evidence = scores.evidence {
                lines.append("  evidence  \(evidence.completeness)% complete from \(evidence.sources.isEmpty ? "nothing" : evidence.sources.joined(separator: ", "))"
                    + (evidence.missing.isEmpty ? "" : "; missing \(evidence.missing.joined(separator: ", "))"))
            }
            for (label, reasons) in [("fit", scores.fitReasons), ("intent", scores.intentReasons), ("timing", scores.timingReasons)]
            where !reasons.isEmpty {
                lines.append("  \(pad(label, 9)) " + reasons.map(\.description).joined(separator: "; "))
            }
        } else {
            lines.append("  buyer     \(profile.buyerState.rawValue)")
        }
        lines.append("")
        lines.append("history:")
        if state.history.isEmpty { lines.append("  (none)") }
        for entry in state.history {
            let phase = entry.phase?.rawValue ?? "-"
            let attempt = entry.attempt.map(String.init) ?? "-"
            lines.append("  \(ISO8601.format(entry.at))  \(pad(entry.kind.rawValue, 16)) \(pad(phase, 9)) \(pad(attempt, 3)) \(entry.detail ?? "")"
                .trimmingCharacters(in: .whitespaces))
        }
        // Each line on its own: the newlines between them are the report's.
        return lines.map(TerminalText.escaped).joined(separator: "\n")
    }

    private static func companySummary(_ profile: EnrichedProfile) -> String? {
        guard let name = profile.company?.name ?? profile.linkedin?.company else { return nil }
        var parts: [String] = []
        if let company = profile.company {
            if let employees = company.employeeCount.map(String.init) ?? company.employeeRange?.description {
                parts.append("\(employees) employees")
            }
            if let revenue = company.revenueUSD { parts.append("$\(formatMoney(revenue)) revenue") }
            if let industry = company.industry { parts.append(industry) }
        }
        return parts.isEmpty ? name : "\(name) (\(parts.joined(separator: ", ")))"
    }

    private static func formatMoney(_ amount: Int) -> String {
        switch amount {
        case 1_000_000_000...: String(format: "%.1fB", Double(amount) / 1e9)
        case 1_000_000...: String(format: "%.0fM", Double(amount) / 1e6)
        case 1_000...: String(format: "%.0fK", Double(amount) / 1e3)
        default: String(amount)
        }
    }

    private static func outcomeSuffix(_ outcome: PlatformOutcome?) -> String {
        guard let outcome else { return "" }
        if case .succeeded = outcome { return "" }
        return " (\(outcome))"
    }
}

/// The line `leadctl pool tail` prints for a ``LeadPoolEntry``.
public enum LeadPoolLine {
    /// `lead-1  Jane Doe  VP of Demand Generation @ Acme SaaS  fit 87 intent 72 timing 65 active  (acct-1/offer-1, <finished>)`,
    /// then what a fitted entry left out: `[without activity.posts: the 120 oldest of 300]`.
    public static func render(_ entry: LeadPoolEntry) -> String {
        let profile = entry.profile
        var parts = [entry.leadID.rawValue, profile.name]
        switch (entry.role, entry.company) {
        case (let role?, let company?): parts.append("\(role) @ \(company)")
        case (let role?, nil): parts.append(role)
        case (nil, let company?): parts.append("@ \(company)")
        case (nil, nil): break
        }
        if let scores = profile.scores {
            parts.append("fit \(scores.fit) intent \(scores.intent) timing \(scores.timing) \(scores.buyerState.rawValue)")
        } else {
            parts.append(profile.buyerState.rawValue)
        }
        parts.append("(\(entry.accountID)/\(entry.offerID), \(ISO8601.format(entry.finishedAt)))")
        if let omitted = entry.omitted, !omitted.isEmpty {
            parts.append("[without \(omitted.joined(separator: "; "))]")
        }
        return TerminalText.escaped(parts.joined(separator: "  "))
    }
}

/// Text from records, made safe to print on a terminal.
enum TerminalText {
    /// `text` with each control character (C0 and C1, DEL, the line and paragraph separators)
    /// written as `\u{…}`: a carriage return or an escape sequence in a record's bytes would
    /// otherwise move the cursor or rewrite the line an operator reads (and replays by).
    static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                result += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }
}

/// The line `leadctl dead-letters list` prints for a ``DeadLetter``.
public enum DeadLetterLine {
    /// `2025-… topic[3]@42 coordinator: reason | original: {"leadID": …`.
    public static func render(_ letter: DeadLetter) -> String {
        let original = letter.original.map { String(decoding: $0, as: UTF8.self) }
            ?? (letter.originalBase64 == nil ? "(not kept: \(letter.originalBytes ?? 0) bytes)" : "(corrupt base64)")
        let flattened = original.replacingOccurrences(of: "\n", with: " ")
        let preview = flattened.count > 80 ? String(flattened.prefix(80)) + "…" : flattened
        return "\(ISO8601.format(letter.failedAt))  \(TerminalText.escaped(letter.sourceTopic))[\(letter.partition)]@\(letter.offset)  "
            + "\(TerminalText.escaped(letter.service)): \(TerminalText.escaped(letter.reason))  | original: \(TerminalText.escaped(preview))"
    }

    /// The line `dead-letters list` prints: the dead letter's place in the dead letters topic
    /// (`PARTITION@OFFSET`, what `dead-letters replay` takes), then ``render(_:)``.
    public static func render(_ letter: DeadLetter, partition: Int32, offset: Int64) -> String {
        "\(partition)@\(offset)  " + render(letter)
    }
}

/// The line `leadctl heat` prints for a company's latest ``AccountSignal``.
public enum HeatLine {
    /// Account, company, heat, category, trend, people, when, and the strongest signal listed.
    public static func render(_ signal: AccountSignal) -> String {
        let leads = signal.leadCount == 1 ? "1 person" : "\(signal.leadCount) people"
        var line = "\(signal.accountID)  \(signal.companyKey) (\(signal.companyName))  heat \(signal.heatScore) "
            + "\(signal.category.rawValue) \(signal.trend.rawValue)  \(leads)  at \(ISO8601.format(signal.computedAt))"
        if let strongest = signal.signals.first {
            line += "  strongest: \(strongest.kind) \"\(strongest.detail)\" (\(strongest.leadID))"
        }
        return TerminalText.escaped(line)
    }
}
