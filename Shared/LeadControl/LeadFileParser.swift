import Foundation
import JSONCodec
import LeadModel

/// One non-blank line (CSV: one row) of a lead file, parsed and validated.
public struct LeadLine: Sendable, Hashable {
    /// 1-based line number where the line (or CSV row) starts; the CSV header is line 1.
    public var lineNumber: Int
    /// The line as written (a CSV row spanning lines keeps its line breaks).
    public var raw: String
    /// The lead id, when the line names one (even when the line is invalid): the record key.
    public var key: String?
    /// The validated lead, or why the line is not one.
    public var result: Result<LeadDiscovered, LeadLineError>
    /// Whether ``raw`` is the whole line as written; false for a line too long to hold (`raw` is
    /// its start) or one that is not UTF-8 (its bad bytes replaced): such a line cannot be
    /// published as it is.
    public var isWhole: Bool
    /// What `publish --publish-invalid` sends for an invalid line: the line with what a valid
    /// one is given when it leaves it out (`schema`, `version`, `discoveredAt`; a CSV row's
    /// `source` and `mode`) filled in, as JSON, so the pipeline refuses it for its own defect.
    /// Nil for a valid line, and for one that cannot be read as a lead's members (not a JSON
    /// object the strict reader parses, a CSV row with more or fewer fields than the header):
    /// such a line is sent as written (``raw``).
    public var withDefaults: String?

    /// Creates a parsed line.
    public init(lineNumber: Int, raw: String, key: String?, result: Result<LeadDiscovered, LeadLineError>, isWhole: Bool = true,
                withDefaults: String? = nil) {
        self.lineNumber = lineNumber
        self.raw = raw
        self.key = key
        self.result = result
        self.isWhole = isWhole
        self.withDefaults = withDefaults
    }

    /// The lead, when the line is valid.
    public var lead: LeadDiscovered? { try? result.get() }

    /// Why the line is invalid, or nil.
    public var error: LeadLineError? {
        if case .failure(let error) = result { return error }
        return nil
    }
}

/// Why one line of a lead file is not a valid lead.
public struct LeadLineError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A sentence naming the field and what to change.
    public let reason: String
    /// Creates an error.
    public init(_ reason: String) { self.reason = reason }
    /// The reason.
    public var description: String { reason }
}

/// A lead file that cannot be read at all (as opposed to single bad lines).
public struct LeadFileError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong with the file.
    public let description: String
    /// Creates an error.
    public init(_ description: String) { self.description = description }
}

/// Reads leads from JSON Lines or CSV text, validating every line with
/// ``LeadDiscovered/validate()``.
///
/// JSON Lines: each non-blank line is a ``LeadDiscovered`` in its wire form; `schema`, `version`
/// and `discoveredAt` may be left out (the given `now` is used for the date).
///
/// CSV (RFC 4180: quoted fields may hold commas, doubled quotes and line breaks): a header row
/// naming the columns in any order. Required: `lead_id`, `account_id`, `offer_id`, `search_id`,
/// `name`. Optional: `source` (default `csv-import`), `linkedin_url`, `x_url`, `mode` (default
/// `full`), `reenrich_types` (`linkedin;x;activity`, separated by `;`, `|` or `,`),
/// `discovered_at` (ISO-8601; default `now`). An unknown column fails the whole file, so a
/// misspelt column cannot drop data silently.
public enum LeadFileParser {
    /// The CSV columns, in the documented order.
    public static let csvColumns = [
        "lead_id", "account_id", "offer_id", "search_id", "source", "name", "linkedin_url", "x_url", "mode",
    ]
    /// Optional extra CSV columns.
    public static let optionalCSVColumns = ["reenrich_types", "discovered_at"]
    static let requiredCSVColumns: Set<String> = ["lead_id", "account_id", "offer_id", "search_id", "name"]

    /// Parses `text` in `format`.
    /// - Throws: ``LeadFileError`` when the file as a whole is unusable (CSV header problems).
    public static func parse(_ text: String, format: LeadFileFormat, now: Date) throws(LeadFileError) -> [LeadLine] {
        switch format {
        case .jsonl: parseJSONLines(text, now: now)
        case .csv: try parseCSV(text, now: now)
        }
    }

    // MARK: JSON Lines

    /// Parses JSON Lines; blank lines are skipped.
    public static func parseJSONLines(_ text: String, now: Date) -> [LeadLine] {
        parseJSONLines(Array(text.utf8)[...], firstLine: 1, now: now, codec: MessageCodec())
    }

    /// Parses the JSON Lines of `bytes`, whose first line is line `firstLine` of the file; blank
    /// lines are skipped, a line that is not UTF-8 or longer than `maxLineBytes` is an invalid line.
    static func parseJSONLines(_ bytes: ArraySlice<UInt8>, firstLine: Int, now: Date, codec: MessageCodec,
                               maxLineBytes: Int = .max) -> [LeadLine] {
        var lines: [LeadLine] = []
        for (index, var line) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            guard line.count <= maxLineBytes else {
                lines.append(LeadLine(lineNumber: firstLine + index, raw: String(decoding: line.prefix(200), as: UTF8.self), key: nil,
                                      result: .failure(LeadLineError("longer than \(maxLineBytes) bytes; not read")), isWhole: false))
                continue
            }
            guard let text = String(bytes: line, encoding: .utf8) else {
                lines.append(LeadLine(lineNumber: firstLine + index, raw: String(decoding: line.prefix(200), as: UTF8.self), key: nil,
                                      result: .failure(LeadLineError("not UTF-8 text")), isWhole: false))
                continue
            }
            if text.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            lines.append(parseJSONLine(text, lineNumber: firstLine + index, now: now, codec: codec))
        }
        return lines
    }

    /// The fields of a published lead (`lead.discovered`, version 1): a JSON line with another
    /// is refused, as the schema refuses it (`additionalProperties: false`) and as an unknown
    /// CSV column is, rather than dropped without a word.
    public static let leadFields: Set<String> = (LeadDiscovered.fieldNames ?? []).union(["schema", "version"])

    private static func parseJSONLine(_ line: String, lineNumber: Int, now: Date, codec: MessageCodec) -> LeadLine {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])
        } catch {
            return LeadLine(lineNumber: lineNumber, raw: line, key: nil,
                            result: .failure(LeadLineError("malformed JSON: \(describeJSONError(error))")))
        }
        guard var fields = object as? [String: Any] else {
            return LeadLine(lineNumber: lineNumber, raw: line, key: nil,
                            result: .failure(LeadLineError("the line is JSON but not an object")))
        }
        let key = (fields["leadID"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        let leftOut = LeftOutMembers(of: LeadDiscovered.self, dateField: "discoveredAt", now: now)
        func failure(_ reason: String) -> LeadLine {
            LeadLine(lineNumber: lineNumber, raw: line, key: key, result: .failure(LeadLineError(reason)), withDefaults: leftOut.filling(line))
        }
        if let problem = StrictJSON.problem(in: Array(line.utf8)) { return failure(problem) }
        let unknown = fields.keys.filter { !leadFields.contains($0) }.sorted()
        guard unknown.isEmpty else {
            let named = unknown.map { field in
                leadFields.first { $0.lowercased() == field.lowercased() }.map { "\"\(field)\" (did you mean \"\($0)\"?)" } ?? "\"\(field)\""
            }
            return failure("unknown field\(unknown.count == 1 ? "" : "s") \(named.joined(separator: ", ")); a lead has only the fields of docs/schemas/lead.discovered.v1.schema.json")
        }
        leftOut.fill(&fields)
        do {
            let bytes = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
            let lead = try codec.decode(LeadDiscovered.self, from: Array(bytes))
            return LeadLine(lineNumber: lineNumber, raw: line, key: key, result: .success(lead))
        } catch let error as DecodeError {
            return failure(reason(for: error))
        } catch {
            return failure("cannot read the line: \(error)")
        }
    }

    /// The decode error without the codec's generic "invalid content:" prefix for rule errors.
    private static func reason(for error: DecodeError) -> String {
        if case .invalidContent(let text) = error { return text }
        return error.description
    }

    private static func describeJSONError(_ error: any Error) -> String {
        let nsError = error as NSError
        return (nsError.userInfo[NSDebugDescriptionErrorKey] as? String) ?? nsError.localizedDescription
    }

    // MARK: CSV

    /// Parses CSV with a header row; blank rows are skipped.
    public static func parseCSV(_ text: String, now: Date) throws(LeadFileError) -> [LeadLine] {
        var rows = CSVLeadRows()
        let lines = try rows.parse(text, firstLine: 1, isFinal: true, now: now).lines
        try rows.finish()
        return lines
    }

    /// The rows of a CSV lead file given in pieces of whole lines: the header, then leads.
    struct CSVLeadRows {
        /// The header's column names, once read.
        private var columns: [String]?

        /// The leads of `text`, whose first line is line `firstLine` of the file, and the row it
        /// ends inside a quoted field of, when it is not the end of the file (`isFinal`): its text
        /// and line, to be given again with what follows.
        mutating func parse(_ text: String, firstLine: Int, isFinal: Bool, now: Date)
            throws(LeadFileError) -> (lines: [LeadLine], unfinished: (text: String, line: Int)?) {
            var (rows, unfinished) = try CSVReader.rows(text, isFinal: isFinal, firstLine: firstLine)
            if columns == nil {
                guard let index = rows.firstIndex(where: { !$0.isBlank }) else { return ([], unfinished) }
                columns = try Self.columns(of: rows[index])
                rows.removeFirst(index + 1)
            }
            return (rows.filter { !$0.isBlank }.map { parseCSVRow($0, columns: columns!, now: now) }, unfinished)
        }

        /// Throws when the file ended without a header.
        func finish() throws(LeadFileError) {
            if columns == nil {
                throw LeadFileError("the CSV file is empty; expected a header row: \(csvColumns.joined(separator: ","))")
            }
        }

        private static func columns(of header: CSVReader.Row) throws(LeadFileError) -> [String] {
            let columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            let known = Set(csvColumns + optionalCSVColumns)
            if let unknown = columns.first(where: { !known.contains($0) }) {
                throw LeadFileError(
                    "line \(header.lineNumber): unknown column \"\(unknown)\"; known columns: \((csvColumns + optionalCSVColumns).joined(separator: ", "))")
            }
            if let repeated = columns.first(where: { name in columns.filter { $0 == name }.count > 1 }) {
                throw LeadFileError("line \(header.lineNumber): column \"\(repeated)\" appears twice")
            }
            let missing = requiredCSVColumns.subtracting(columns).sorted()
            if !missing.isEmpty {
                throw LeadFileError("line \(header.lineNumber): the header lacks column(s) \(missing.joined(separator: ", "))")
            }
            return columns
        }
    }

    private static func parseCSVRow(_ row: CSVReader.Row, columns: [String], now: Date) -> LeadLine {
        var values: [String: String] = [:]
        for (column, field) in zip(columns, row.fields) {
            let trimmed = field.trimmingCharacters(in: .whitespaces)
            if !trimmed.isEmpty { values[column] = trimmed }
        }
        let key = values["lead_id"]
        let isWhole = row.fields.count == columns.count  // else which value is which column's is not known
        func failure(_ reason: String) -> LeadLine {
            LeadLine(lineNumber: row.lineNumber, raw: row.raw, key: key, result: .failure(LeadLineError(reason)),
                     withDefaults: isWhole ? csvLeadJSON(values, now: now) : nil)
        }
        if !isWhole {
            return failure("has \(row.fields.count) fields but the header has \(columns.count) columns")
        }
        for column in csvColumns where requiredCSVColumns.contains(column) && values[column] == nil {
            return failure("\(column) is empty")
        }
        let source: LeadSource
        if let text = values["source"] {
            guard let parsed = LeadSource(rawValue: text.lowercased()) else {
                return failure("source \(LeadSource.unknownName(text))")
            }
            source = parsed
        } else {
            source = .csvImport
        }
        var mode = ModeName.full
        if let text = values["mode"] {
            guard let parsed = ModeName(rawValue: text.lowercased()) else {
                return failure("mode \(ModeName.unknownName(text))")
            }
            mode = parsed
        }
        var types: [ReEnrichType]?
        if let text = values["reenrich_types"] {
            var parsed: [ReEnrichType] = []
            for name in csvList(text) {
                guard let type = ReEnrichType(rawValue: name) else {
                    return failure("reenrich_types: \(ReEnrichType.unknownName(name))")
                }
                parsed.append(type)
            }
            types = parsed
        }
        var discoveredAt = now
        if let text = values["discovered_at"] {
            guard let date = ISO8601.parse(text) else {
                return failure("discovered_at \"\(text)\" is not an ISO-8601 date-time such as 2025-01-31T12:00:00Z")
            }
            discoveredAt = date
        }
        let lead = LeadDiscovered(
            leadID: LeadID(values["lead_id"]!), accountID: AccountID(values["account_id"]!),
            offerID: OfferID(values["offer_id"]!), sourceSearchID: SearchID(values["search_id"]!), source: source,
            name: values["name"]!, linkedinURL: values["linkedin_url"], xURL: values["x_url"], mode: mode,
            reEnrichTypes: types, discoveredAt: discoveredAt)
        do {
            try lead.validate()
            try lead.checkFieldLengths()  // as the codec holds a published lead (the JSON lines' path)
        } catch let error as FieldTooLong {
            return failure(error.description)
        } catch {
            return failure(String(describing: error))
        }
        return LeadLine(lineNumber: row.lineNumber, raw: row.raw, key: key, result: .success(lead))
    }

    /// The JSON member each CSV column gives its value to as it is (`source`, `mode`,
    /// `reenrich_types` and `discovered_at` are read: ``csvLeadJSON(_:now:)``).
    private static let csvMembers = [
        "lead_id": "leadID", "account_id": "accountID", "offer_id": "offerID", "search_id": "sourceSearchID", "name": "name",
        "linkedin_url": "linkedinURL", "x_url": "xURL",
    ]

    /// The items of a CSV list (`linkedin;x`, separated by `;`, `|` or `,`), lower-cased.
    private static func csvList(_ text: String) -> [String] {
        text.split(whereSeparator: { ";|,".contains($0) }).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
    }

    /// The lead a CSV row's `values` describe, as a JSON line, with what a valid row is given
    /// when it leaves it out: what `--publish-invalid` sends for an invalid row, so that the
    /// pipeline refuses it for its defect (sent as CSV, its dead letter said "malformed JSON").
    private static func csvLeadJSON(_ values: [String: String], now: Date) -> String? {
        var fields: [String: Any] = [:]
        for (column, member) in csvMembers { fields[member] = values[column] }
        fields["source"] = values["source"]?.lowercased() ?? LeadSource.csvImport.rawValue
        fields["mode"] = values["mode"]?.lowercased() ?? ModeName.full.rawValue
        fields["reEnrichTypes"] = values["reenrich_types"].map(csvList)
        fields["discoveredAt"] = values["discovered_at"]
        LeftOutMembers(of: LeadDiscovered.self, dateField: "discoveredAt", now: now).fill(&fields)
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return nil
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// An RFC 4180 reader that remembers where each row starts.
enum CSVReader {
    struct Row {
        /// 1-based line of the row's first character.
        var lineNumber: Int
        var fields: [String]
        var raw: String
        var isBlank: Bool { fields.allSatisfy { $0.trimmingCharacters(in: .whitespaces).isEmpty } }
    }

    /// The rows of `text`, numbered from `firstLine`. Text that ends inside a quoted field is an
    /// error when `isFinal` (the end of the file); else that row is left `unfinished` (its text and
    /// line), to be read again with what follows.
    static func rows(_ text: String, isFinal: Bool = true, firstLine: Int = 1)
        throws(LeadFileError) -> (rows: [Row], unfinished: (text: String, line: Int)?) {
        var rows: [Row] = []
        var fields: [String] = []
        var field = ""
        var raw = ""
        var isQuoted = false
        var wasQuoted = false
        var line = firstLine
        var rowStart = firstLine
        var characters = Array(text.unicodeScalars)
        if characters.first == "\u{FEFF}" { characters.removeFirst() }  // a byte-order mark
        var index = 0
        var rowStartIndex = 0

        func endRow() {
            fields.append(field)
            rows.append(Row(lineNumber: rowStart, fields: fields, raw: raw))
            fields = []
            field = ""
            raw = ""
            wasQuoted = false
        }

        while index < characters.count {
            let c = characters[index]
            index += 1
            if isQuoted {
                if c == "\"" {
                    if index < characters.count && characters[index] == "\"" {
                        field.unicodeScalars.append("\"")
                        raw += "\"\""
                        index += 1
                    } else {
                        isQuoted = false
                        raw += "\""
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                    raw.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"" where field.trimmingCharacters(in: .whitespaces).isEmpty && !wasQuoted:
                isQuoted = true
                wasQuoted = true
                field = ""
                raw += "\""
            case ",":
                fields.append(field)
                field = ""
                wasQuoted = false
                raw += ","
            case "\r" where index < characters.count && characters[index] == "\n":
                continue
            case "\n":
                endRow()
                line += 1
                rowStart = line
                rowStartIndex = index
            default:
                field.unicodeScalars.append(c)
                raw.unicodeScalars.append(c)
            }
        }
        if isQuoted {
            guard isFinal else {
                var rest = String.UnicodeScalarView()
                rest.append(contentsOf: characters[rowStartIndex...])
                return (rows, (String(rest), rowStart))
            }
            throw LeadFileError("line \(rowStart): a quoted field is not closed before the end of the file")
        }
        if !field.isEmpty || !fields.isEmpty || !raw.isEmpty { endRow() }
        return (rows, nil)
    }
}

/// What the pipeline's readers refuse in a JSON document that Foundation's parser takes: a key
/// given twice (Foundation keeps the last, so the file said one thing and the record another),
/// a trailing comma. `leadctl` reads its files with Foundation to fill in defaults, then writes
/// them again: checked first, so that what it publishes is what the file says.
enum StrictJSON {
    private struct Anything: Decodable {
        init(from decoder: any Decoder) throws {}
    }

    /// Why the pipeline would refuse `bytes`; nil when it would not (for these rules).
    static func problem(in bytes: [UInt8]) -> String? {
        do {
            _ = try JSONIndexDecoder.decode(Anything.self, from: bytes)
            return nil
        } catch let rejected as JSONIndexDecoder.Rejected {
            guard case .duplicateKey(let key, let object) = rejected.error else { return nil }  // the codec says the rest
            return DecodeError.duplicateKey(key, object: object).description
        } catch {
            return "malformed JSON (a trailing comma, a comment?): the services read strict JSON"
        }
    }
}
