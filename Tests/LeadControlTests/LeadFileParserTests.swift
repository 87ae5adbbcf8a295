import Foundation
import JSONCodec
import LeadControl
import LeadModel
import XCTest

/// CSV and JSON Lines parsing, with invalid lines and their reasons: no broker.
final class LeadFileParserTests: XCTestCase {
    let now = Samples.now

    func testJSONLinesValidAndInvalidLinesWithReasons() throws {
        let text = """
            {"leadID":"l1","accountID":"a","offerID":"o","sourceSearchID":"s","source":"keyword-search","name":"Jane Doe","linkedinURL":"linkedin.com/in/janedoe"}

            {"schema":"lead.discovered","version":1,"leadID":"l2","accountID":"a","offerID":"o","sourceSearchID":"s","source":"manual","name":"Ken Ito","xURL":"https://x.com/kenito","mode":"re-enrich","reEnrichTypes":["x"],"discoveredAt":"2025-01-31T12:00:00Z"}
            {"leadID":"l3","accountID":"a","offerID":"o","sourceSearchID":"s","source":"manual","name":"No Url"}
            {"leadID":"l4","accountID":"a","offerID":"o","sourceSearchID":"s","source":"manual","name":"Bad","linkedinURL":"https://www.linkedin.com/company/acme"}
            {"leadID":"l5","accountID":"a","offerID":"o","sourceSearchID":"s","source":"carrier-pigeon","name":"X","xURL":"x.com/ab"}
            {"leadID": "l6", "name": 
            [1, 2]
            {"leadID":"l8","accountID":"a","offerID":"o","sourceSearchID":"s","source":"manual","name":"  ","xURL":"x.com/abc"}
            {"leadID":"l9","accountID":"a","offerID":"o","sourceSearchID":"s","source":"manual","name":"Re","xURL":"x.com/abc","mode":"re-enrich"}
            {"schema":"lead.discovered","version":2,"leadID":"l10","accountID":"a","offerID":"o","sourceSearchID":"s","source":"manual","name":"V2","xURL":"x.com/abc"}
            {"accountID":"a","offerID":"o","sourceSearchID":"s","source":"manual","name":"No id","xURL":"x.com/abc"}
            """
        let lines = try LeadFileParser.parse(text, format: .jsonl, now: now)
        XCTAssertEqual(lines.map(\.lineNumber), [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])

        XCTAssertEqual(lines[0].lead?.discoveredAt, now, "a missing discoveredAt is the publish time")
        XCTAssertEqual(lines[0].lead?.mode, .full)
        XCTAssertEqual(lines[0].key, "l1")
        XCTAssertEqual(lines[1].lead?.resolvedMode, .reEnrich([.x]))
        XCTAssertEqual(lines[1].lead?.discoveredAt, ISO8601.parse("2025-01-31T12:00:00Z"))

        let reasons = Dictionary(uniqueKeysWithValues: lines.compactMap { line in line.error.map { (line.lineNumber, $0.reason) } })
        XCTAssertEqual(reasons[4], LeadValidationError.missingProfileURL.description)
        XCTAssertEqual(reasons[5]?.hasPrefix("\"linkedinURL\" \"https://www.linkedin.com/company/acme\" is not a LinkedIn profile URL"), true,
                       reasons[5] ?? "")
        XCTAssertEqual(reasons[6], "invalid value for field \"source\": \"carrier-pigeon\" is not one of: "
            + LeadSource.allCases.map(\.rawValue).joined(separator: ", "))
        XCTAssertEqual(reasons[7]?.hasPrefix("malformed JSON"), true, reasons[7] ?? "")
        XCTAssertEqual(reasons[8], "the line is JSON but not an object")
        XCTAssertEqual(reasons[9], LeadValidationError.emptyName.description)
        XCTAssertEqual(reasons[10], LeadValidationError.reEnrichWithoutTypes.description)
        XCTAssertEqual(reasons[11]?.hasPrefix("unsupported version 2 of \"lead.discovered\""), true, reasons[11] ?? "")
        XCTAssertEqual(reasons[12], "missing field \"leadID\"")
        XCTAssertEqual(lines[4].key, "l5", "an invalid line keeps its lead id as the key")
        XCTAssertEqual(lines[6].raw, "[1, 2]", "the raw line is kept as written")
    }

    /// A file saved with Windows line endings: Swift reads "\r\n" as one character, so a split
    /// on "\n" alone found no line and the whole file was one malformed line.
    /// A field the contract does not have is refused with its name and the field it is likely
    /// a misspelling of, as an unknown CSV column is: `linkedInURL` was ignored, and the lead
    /// went out X-only, its LinkedIn profile lost without a word.
    func testAJSONLineWithAFieldTheContractDoesNotHaveIsInvalid() throws {
        let line = #"{"leadID":"l1","accountID":"a","offerID":"o","sourceSearchID":"s","source":"manual","name":"Jane Doe","linkedInURL":"https://linkedin.com/in/jane","xURL":"x.com/jane"}"#
        let reason = try XCTUnwrap(try LeadFileParser.parse(line, format: .jsonl, now: now).first?.error?.reason)
        XCTAssertTrue(reason.contains("linkedInURL") && reason.contains("linkedinURL"), reason)
    }

    /// The fields a JSON line may have are the contract's, as docs/schemas publishes them.
    func testTheFieldsAJSONLineMayHaveAreTheSchemas() throws {
        let schema = Samples.projectRoot.appendingPathComponent("docs/schemas/lead.discovered.v1.schema.json")
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: schema)) as? [String: Any])
        let properties = try XCTUnwrap(object["properties"] as? [String: Any])
        XCTAssertEqual(LeadFileParser.leadFields, Set(properties.keys))
    }

    func testJSONLinesWithWindowsLineEndingsAreOneLeadALine() throws {
        let text = [
            #"{"leadID":"l1","accountID":"a","offerID":"o","sourceSearchID":"s","source":"manual","name":"Jane Doe","xURL":"x.com/jane"}"#,
            "",
            #"{"leadID":"l2","accountID":"a","offerID":"o","sourceSearchID":"s","source":"manual","name":"Ken Ito","xURL":"x.com/ken"}"#,
            #"{"leadID":"l3","accountID":"a","offerID":"o","sourceSearchID":"s","source":"manual","name":"Mixed","xURL":"x.com/mix"}"#,
        ].joined(separator: "\r\n") + "\n" + #"{"leadID":"l4","accountID":"a","offerID":"o","sourceSearchID":"s","source":"manual","name":"Lf","xURL":"x.com/lf"}"# + "\r\n"
        let lines = try LeadFileParser.parse(text, format: .jsonl, now: now)
        XCTAssertEqual(lines.map(\.lineNumber), [1, 3, 4, 5])
        XCTAssertEqual(lines.compactMap(\.lead?.leadID.rawValue), ["l1", "l2", "l3", "l4"], lines.compactMap(\.error?.reason).joined())
        XCTAssertFalse(lines.contains { $0.raw.contains("\r") }, "no line keeps its carriage return")
    }

    func testCSVWithQuotingOptionalColumnsAndInvalidRows() throws {
        let text = """
            lead_id,account_id,offer_id,search_id,source,name,linkedin_url,x_url,mode\r
            c1,a,o,s,csv-import,"Doe, Jane",https://www.linkedin.com/in/janedoe,,full\r
            c2,a,o,s,,"Ken ""KI"" Ito",,x.com/kenito,\r
            c3,a,o,s,csv-import,"Multi
            Line",https://www.linkedin.com/in/multiline,,enrich-only
            c4,a,o,s,csv-import,No Urls,,,full
            c5,a,o,s,telepathy,Bad Source,,x.com/abc,full
            c6,a,o,s,csv-import,Bad Mode,,x.com/abc,turbo
            c7,a,o,s,csv-import,Too Few
            ,a,o,s,csv-import,No Id,,x.com/abc,full
            c9,a,o,s,csv-import,Bad X,,https://x.com/home,full

            """
        let lines = try LeadFileParser.parse(text, format: .csv, now: now)
        XCTAssertEqual(lines.map(\.lineNumber), [2, 3, 4, 6, 7, 8, 9, 10, 11])
        XCTAssertEqual(lines[0].lead?.name, "Doe, Jane")
        XCTAssertEqual(lines[0].lead?.source, .csvImport)
        XCTAssertEqual(lines[1].lead?.name, "Ken \"KI\" Ito")
        XCTAssertEqual(lines[1].lead?.source, .csvImport, "an empty source is csv-import")
        XCTAssertEqual(lines[1].lead?.mode, .full, "an empty mode is full")
        XCTAssertEqual(lines[1].lead?.xURL, "x.com/kenito")
        XCTAssertNil(lines[1].lead?.linkedinURL)
        XCTAssertEqual(lines[2].lead?.name, "Multi\nLine")
        XCTAssertEqual(lines[2].lead?.mode, .enrichOnly)
        XCTAssertEqual(lines[0].lead?.discoveredAt, now)

        XCTAssertEqual(lines[3].error?.reason, LeadValidationError.missingProfileURL.description)
        XCTAssertEqual(lines[3].key, "c4")
        XCTAssertEqual(lines[4].error?.reason.hasPrefix("source \"telepathy\" is not one of: keyword-search"), true)
        XCTAssertEqual(lines[5].error?.reason, "mode \"turbo\" is not one of: full, scoring-only, enrich-only, re-enrich, no-op")
        XCTAssertEqual(lines[6].error?.reason, "has 6 fields but the header has 9 columns")
        XCTAssertEqual(lines[7].error?.reason, "lead_id is empty")
        XCTAssertNil(lines[7].key)
        XCTAssertEqual(lines[8].error?.reason.contains("is not an X profile URL"), true)
        XCTAssertEqual(lines[8].raw, "c9,a,o,s,csv-import,Bad X,,https://x.com/home,full")
    }

    func testCSVHeaderInAnyOrderWithOptionalColumns() throws {
        let text = """
            name,lead_id,search_id,offer_id,account_id,x_url,mode,reenrich_types,discovered_at
            Jane Doe,r1,s,o,a,x.com/janedoe,re-enrich,linkedin;activity,2025-02-01T08:30:00Z
            Jane Doe,r2,s,o,a,x.com/janedoe,re-enrich,,
            Jane Doe,r3,s,o,a,x.com/janedoe,full,,yesterday
            """
        let lines = try LeadFileParser.parse(text, format: .csv, now: now)
        XCTAssertEqual(lines[0].lead?.resolvedMode, .reEnrich([.linkedin, .activity]))
        XCTAssertEqual(lines[0].lead?.discoveredAt, ISO8601.parse("2025-02-01T08:30:00Z"))
        XCTAssertEqual(lines[1].error?.reason, LeadValidationError.reEnrichWithoutTypes.description)
        XCTAssertEqual(lines[2].error?.reason.hasPrefix("discovered_at \"yesterday\" is not an ISO-8601 date-time"), true)
    }

    /// A CSV line is held to the field lengths the pipeline holds a published lead to, as a JSON
    /// line is: a name of 301 characters was "published" and then dead-lettered.
    func testCSVFieldsLongerThanTheContractAllowsAreInvalidLines() throws {
        let text = """
            lead_id,account_id,offer_id,search_id,name,x_url
            r1,a,o,s,\(String(repeating: "n", count: 301)),x.com/janedoe
            \(String(repeating: "l", count: 201)),a,o,s,Jane Doe,x.com/janedoe
            r3,a,o,s,Jane Doe,x.com/janedoe
            """
        let lines = try LeadFileParser.parse(text, format: .csv, now: now)
        XCTAssertEqual(lines[0].error?.reason.contains("name"), true, "\(String(describing: lines[0].error))")
        XCTAssertEqual(lines[1].error?.reason.contains("leadID"), true, "\(String(describing: lines[1].error))")
        XCTAssertNotNil(lines[2].lead)
    }

    func testCSVFileErrors() {
        func fileError(_ text: String) -> String? {
            do {
                _ = try LeadFileParser.parse(text, format: .csv, now: now)
                return nil
            } catch {
                return error.description
            }
        }
        XCTAssertEqual(fileError("lead_id,account_id,offer_id,search_id,name,linkedin\n")?.hasPrefix("line 1: unknown column \"linkedin\""), true)
        XCTAssertEqual(fileError("lead_id,account_id,offer_id,name\n"), "line 1: the header lacks column(s) search_id")
        XCTAssertEqual(fileError("lead_id,lead_id,account_id,offer_id,search_id,name\n"), "line 1: column \"lead_id\" appears twice")
        XCTAssertEqual(fileError("")?.hasPrefix("the CSV file is empty"), true)
        XCTAssertEqual(fileError("lead_id,account_id,offer_id,search_id,name\nl1,a,o,s,\"open"),
                       "line 2: a quoted field is not closed before the end of the file")
    }

    func testProjectSamplesAreValid() throws {
        let samples = Samples.projectRoot.appendingPathComponent("docs/samples")
        let jsonl = try String(contentsOf: samples.appendingPathComponent("leads.jsonl"), encoding: .utf8)
        let jsonLeads = try LeadFileParser.parse(jsonl, format: .jsonl, now: now)
        XCTAssertGreaterThanOrEqual(jsonLeads.count, 12)
        XCTAssertEqual(jsonLeads.compactMap(\.error).map(\.reason), [])
        XCTAssertEqual(Set(jsonLeads.compactMap(\.lead?.mode)), Set(ModeName.allCases))
        let csv = try String(contentsOf: samples.appendingPathComponent("leads.csv"), encoding: .utf8)
        let csvLeads = try LeadFileParser.parse(csv, format: .csv, now: now)
        XCTAssertGreaterThanOrEqual(csvLeads.count, 8)
        XCTAssertEqual(csvLeads.compactMap(\.error).map(\.reason), [])
        XCTAssertEqual(csvLeads.first(where: { $0.key == "lead-0107" })?.lead?.name, "Grace O'Neill, MBA")
    }
    /// What `--publish-invalid` sends for an invalid line is the line as written (each member's
    /// value to the byte, in its place) with the defaults a valid line gets in place of what it
    /// leaves out or gives as null; a line the strict reader refuses goes as it is.
    func testAnInvalidLineIsSentAsWrittenWithTheDefaultsFilledIn() throws {
        let line = #"{ "leadID" : "l1", "name":"Jos\u00e9", "xURL" : null, "linkedinURL":"https://www.linkedin.com/company/acme", "discoveredAt":null, "mode":"full"}"#
        let parsed = try XCTUnwrap(try LeadFileParser.parse(line, format: .jsonl, now: now).first)
        XCTAssertNotNil(parsed.error)
        XCTAssertEqual(parsed.withDefaults, #"{"leadID":"l1","name":"Jos\u00e9","xURL":null,"linkedinURL":"https://www.linkedin.com/company/acme","#
            + #""discoveredAt":"\#(ISO8601.format(now))","mode":"full","schema":"lead.discovered","version":1}"#)
        let twice = #"{"leadID":"l2","leadID":"l3","name":"Jane"}"#
        XCTAssertNil(try XCTUnwrap(try LeadFileParser.parse(twice, format: .jsonl, now: now).first).withDefaults)
        let valid = #"{"leadID":"l4","accountID":"a","offerID":"o","sourceSearchID":"s","source":"manual","name":"Jane","xURL":"x.com/jane"}"#
        XCTAssertNil(try XCTUnwrap(try LeadFileParser.parse(valid, format: .jsonl, now: now).first).withDefaults)
    }

    /// A line with a key given twice, or with a trailing comma, is refused as the pipeline's
    /// readers refuse it: Foundation's parser took it, the last of the two keys winning, and the
    /// lead went out under the second id without a word.
    func testALineWithAKeyTwiceOrATrailingCommaIsRefused() throws {
        let twice = #"{"leadID": "m-11", "leadID": "m-11b", "accountID": "acct-1", "offerID": "offer-1", "sourceSearchID": "s", "source": "csv-import", "name": "Jane Doe", "linkedinURL": "https://www.linkedin.com/in/jane"}"#
        let twiceReason = try XCTUnwrap(try LeadFileParser.parse(twice, format: .jsonl, now: now).first?.error?.reason)
        XCTAssertTrue(twiceReason.contains("duplicate key \"leadID\""), twiceReason)
        let comma = #"{"leadID": "m-12", "accountID": "acct-1", "offerID": "offer-1", "sourceSearchID": "s", "source": "csv-import", "name": "Jane Doe", "linkedinURL": "https://www.linkedin.com/in/jane",}"#
        let commaLine = try XCTUnwrap(try LeadFileParser.parse(comma, format: .jsonl, now: now).first)
        XCTAssertNotNil(commaLine.error, "a trailing comma")
    }
}
