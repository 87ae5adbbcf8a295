import Foundation
import LeadModel
import LeadRules
import Runtime
import Stages

extension Scenarios {
    // MARK: - g) the message codec

    /// Time per message to encode and decode one lead's records with ``MessageCodec`` and with
    /// Foundation's `JSONEncoder`/`JSONDecoder` configured to write the same bytes, alternating
    /// between the two in every round.
    mutating func codecCost() async throws {
        let rounds = 5
        let iterations = 300
        let lead = SequentialJob.lead(0, prefix: "codec-", source: .csvImport)
        let (exchanges, profile) = try await SequentialJob(simulation: .instant).run(lead)
        var machine = LeadStateMachine()
        _ = machine.handle(.discovered(lead, runID: exchanges[0].request.runID, at: Date()))
        guard var state = machine.state, let last = exchanges.last else { throw BenchError("the in-process lead did not finish") }
        state.profile = profile
        let poolEntry = LeadPoolEntry(profile: profile, accountID: lead.accountID, offerID: lead.offerID, finishedAt: last.result.finishedAt)
        var messages: [(name: String, message: any Message)] = []
        for (request, result) in exchanges {
            messages.append(("phase.request (\(request.phase.rawValue))", request))
            messages.append(("phase.result (\(result.phase.rawValue))", result))
        }
        messages.append(("lead.state (ready)", state))
        messages.append(("lead.pool", poolEntry))

        var rows: [CodecRow] = messages.map { CodecRow(name: $0.name, bytes: 0) }
        for round in 0..<rounds {
            for (index, entry) in messages.enumerated() {
                let measured = try measure(entry.message, iterations: iterations, foundationFirst: round % 2 == 0)
                rows[index].add(measured)
                rows[index].bytes = measured.bytes
            }
        }
        rows = rows.map { $0.averaged(over: rounds) }
        var total = CodecRow(name: "one lead's requests, results, state and pool entry", bytes: 0)
        for row in rows {
            total.add(row)
            total.bytes += row.bytes
        }
        log(String(format: "codec: %.0f µs per lead with Foundation, %.0f µs with MessageCodec", total.foundationTotal, total.codecTotal))
        let command = command("g")
        report.add("g) codec: encode + decode one lead's 10 records, Foundation JSON", String(format: "%.0f µs", total.foundationTotal), latency: "")
        report.add("g) codec: the same with `MessageCodec`", String(format: "%.0f µs (%.1f× faster)", total.codecTotal,
                                                                     total.foundationTotal / total.codecTotal), latency: "")
        var table = "| record | bytes | encode: Foundation | encode: MessageCodec | decode: Foundation | decode: MessageCodec |\n|---|---|---|---|---|---|\n"
        for row in rows + [total] {
            table += "| \(row.name) | \(row.bytes) | " + [row.foundationEncode, row.codecEncode, row.foundationDecode, row.codecDecode]
                .map { String(format: "%.1f µs", $0) }.joined(separator: " | ") + " |\n"
        }
        // What the scoring and finalize stages do with a request before their own work.
        var assembly = "| request | bytes | decode and put the profile together |\n|---|---|---|\n"
        var outputs: [PhaseOutput] = []
        for (request, result) in exchanges {
            if request.phase.readsEnrichedProfile {
                var sent = request  // as the coordinator sends it: the document, not the profile
                sent.document = DocumentParts(outputs: outputs)
                let codec = MessageCodec()
                let bytes = try codec.encode(sent)
                var best = Double.infinity
                for _ in 0..<rounds {
                    best = min(best, try microseconds(perCallOf: iterations) {
                        _ = DocumentAssembly.profile(of: try codec.decode(PhaseRequest.self, from: bytes))
                    })
                }
                assembly += "| phase.request (\(request.phase.rawValue)) | \(bytes.count) | \(String(format: "%.1f µs", best)) |\n"
            }
            outputs.append(try PhaseOutput(phase: result.phase, payload: result.payload))
        }
        report.sections.append("""
        ### g) The message codec against Foundation's JSON coders

        Command: \(command) (no broker; in the benchmark process)

        One lead run through the four stage handlers in-process (as the sequential job of c), with
        instant simulated providers; its records as the pipeline writes them. Each record encoded
        and decoded \(iterations) times per round, \(rounds) rounds, the two coders alternating which goes
        first; times are per record. Foundation: one `JSONEncoder` (sorted keys, dates as
        ISO-8601 strings, `MessageCodec.foundationEncoder()`) and one `JSONDecoder`
        (`MessageCodec.foundationDecoder()`), reused. `MessageCodec` writes the same bytes plus
        the `schema` and `version` fields, and its decode checks them and the record's rules.

        \(table)
        The requests that carry the lead's document, read as the scoring and finalize stages read
        them: decoded with `MessageCodec` and the profile put together (`DocumentAssembly.profile(of:)`),
        \(iterations) times per round, the fastest of \(rounds) rounds, per request:

        \(assembly)
        """)
    }

    private func measure<T: Message>(_ message: T, iterations: Int, foundationFirst: Bool) throws -> CodecRow {
        let codec = MessageCodec()
        let encoder = MessageCodec.foundationEncoder()
        let decoder = MessageCodec.foundationDecoder()
        let bytes = try codec.encode(message)
        let data = Data(bytes)
        var row = CodecRow(name: "", bytes: bytes.count)
        for foundation in foundationFirst ? [true, false] : [false, true] {
            if foundation {
                row.foundationEncode += try microseconds(perCallOf: iterations) { _ = try encoder.encode(message) }
                row.foundationDecode += try microseconds(perCallOf: iterations) { _ = try decoder.decode(T.self, from: data) }
            } else {
                row.codecEncode += try microseconds(perCallOf: iterations) { _ = try codec.encode(message) }
                row.codecDecode += try microseconds(perCallOf: iterations) { _ = try codec.decode(T.self, from: bytes) }
            }
        }
        return row
    }
}

/// Microseconds per call of `body`, called `iterations` times in a row.
private func microseconds(perCallOf iterations: Int, _ body: () throws -> Void) rethrows -> Double {
    let started = ContinuousClock.now
    for _ in 0..<iterations { try body() }
    return (ContinuousClock.now - started).timeInterval * 1e6 / Double(iterations)
}

/// Microseconds per record of one record type, summed over rounds until ``averaged(over:)``.
struct CodecRow {
    var name: String
    var bytes: Int
    var foundationEncode = 0.0
    var codecEncode = 0.0
    var foundationDecode = 0.0
    var codecDecode = 0.0

    var foundationTotal: Double { foundationEncode + foundationDecode }
    var codecTotal: Double { codecEncode + codecDecode }

    /// Adds another round of the same record, or another record's times for a lead's total.
    mutating func add(_ other: CodecRow) {
        foundationEncode += other.foundationEncode
        codecEncode += other.codecEncode
        foundationDecode += other.foundationDecode
        codecDecode += other.codecDecode
    }

    func averaged(over rounds: Int) -> CodecRow {
        var row = self
        row.foundationEncode /= Double(rounds)
        row.codecEncode /= Double(rounds)
        row.foundationDecode /= Double(rounds)
        row.codecDecode /= Double(rounds)
        return row
    }
}
