import Foundation
import LeadModel
import LeadRules

extension Scenarios {
    // MARK: - i) account heat at scale

    /// CPU time per contribution of one account's heat (``AccountHeat/apply(_:)``, what the heat
    /// aggregator does for every scored lead) as the account grows to `--heat-leads` leads, its
    /// biggest companies past ``AccountHeat/maxLeadsPerCompany``.
    mutating func heatAtScale() throws {
        let leads = options.heatLeads
        let companies = 200
        let block = 1_000
        let contributions = Self.heatContributions(leads: leads, companies: companies)
        var heat = AccountHeat(accountID: "acct-bench")
        var blocks: [(through: Int, microseconds: Double, biggest: Int, full: Int)] = []
        var changes = 0
        var started = threadCPUSeconds()
        let total = threadCPUSeconds()
        for (index, contribution) in contributions.enumerated() {
            changes += heat.apply(contribution).states.count
            guard (index + 1) % block == 0 || index + 1 == leads else { continue }
            let now = threadCPUSeconds()
            let count = (index + 1) % block == 0 ? block : (index + 1) % block
            let sizes = heat.companies.values.map(\.leads.count)
            blocks.append((index + 1, (now - started) * 1e6 / Double(count), sizes.max() ?? 0,
                           sizes.filter { $0 >= AccountHeat.maxLeadsPerCompany }.count))
            started = threadCPUSeconds()
        }
        let totalSeconds = threadCPUSeconds() - total
        let codec = MessageCodec()
        let largest = heat.companies.values.max { $0.leads.count < $1.leads.count }
        let largestBytes = try largest.map { try codec.encode($0).count } ?? 0

        let marks = [block, 10_000, leads / 2, leads].filter { $0 <= leads }
        let picked = marks.compactMap { mark in blocks.first { $0.through >= mark } }
        let first = picked.first?.microseconds ?? 0
        let last = picked.last?.microseconds ?? 0
        log(String(format: "heat: %.1f µs per contribution over the first %d, %.1f µs over the last %d", first, block, last, block))
        report.add("i) account heat: CPU per contribution, first \(block) leads → last \(block) of \(leads)",
                   String(format: "%.1f µs → %.1f µs (%.2f×)", first, last, first > 0 ? last / first : 0), latency: "")
        var table = "| leads applied | CPU per contribution (the last \(block)) | leads at the biggest company | companies at the bound |\n|---|---|---|---|\n"
        for row in picked {
            table += "| \(row.through) | \(String(format: "%.1f µs", row.microseconds)) | \(row.biggest) | \(row.full) of \(companies) |\n"
        }
        report.sections.append("""
        ### i) Account heat at scale

        Command: `\(Options.invokedPath) --scenario i --heat-leads \(leads)` (no broker; in the benchmark process)

        One account's heat (`AccountHeat`, what the account heat aggregator of the scoring stage
        applies for each scored lead) fed \(leads) contributions, one per lead, one a second of
        contribution time, at \(companies) companies (company `⌊\(companies) u²⌋` for a uniform u: the biggest
        gets 7% of the leads, the smallest 0.25%, so more and more of them fill to
        \(AccountHeat.maxLeadsPerCompany) leads, the bound a company counts, and stay there), each lead with 0 to 3
        signals dated up to 120 days before it, from a seeded generator. CPU time of the
        benchmark's thread per contribution, over each block of \(block); the contributions are
        made before the clock starts. A full company drops its oldest lead for each new one, so the
        figure grows while companies fill and should stay flat once all are full.

        \(table)
        All \(leads): \(String(format: "%.2f s", totalSeconds)) of CPU, \(changes) company states changed. The biggest
        company's changelog record (`AccountHeatState`, \(largest?.leads.count ?? 0) leads): \(largestBytes) bytes.

        """)
    }

    /// `leads` contributions of one account, from a seeded generator.
    static func heatContributions(leads: Int, companies: Int) -> [AccountSignalContribution] {
        var random = SeededRandom(seed: 29)
        let kinds: [BuyingSignal.Kind] = [.recommendationRequest, .switchingIntent, .competitorMention, .painPoint,
                                          .competitorEngagement, .hiring, .funding, .adjacentEngagement]
        let start = Date(timeIntervalSince1970: 1_796_083_200)  // 2026-12-01T00:00:00Z
        return (0..<leads).map { index in
            let scoredAt = start.addingTimeInterval(Double(index))
            let u = Double.random(in: 0..<1, using: &random)
            let company = Int(Double(companies) * u * u)
            let signals = (0..<Int.random(in: 0...3, using: &random)).map { _ in
                BuyingSignal(kind: kinds.randomElement(using: &random)!, detail: "detail \(Int.random(in: 0..<6, using: &random))",
                             date: scoredAt.addingTimeInterval(-Double.random(in: 0...120, using: &random) * 86_400),
                             postID: String(random.next() % 1_000_000_000), count: Int.random(in: 1...5, using: &random))
            }
            return AccountSignalContribution(
                accountID: "acct-bench", leadID: LeadID("lead-\(index)"), runID: RunID("run-\(index)"), offerID: "offer-bench",
                companyKey: "name:company \(company)", companyName: "Company \(company)", signals: signals, scoredAt: scoredAt)
        }
    }
}

/// CPU time of the calling thread, in seconds.
private func threadCPUSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}
