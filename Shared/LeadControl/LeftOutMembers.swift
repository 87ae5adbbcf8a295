import Foundation
import JSONCodec
import LeadModel

/// The members a file given to `leadctl` may leave out, or give as null, and what they are then:
/// the message's `schema` and `version`, and its date field, now. One list for a valid lead line,
/// an invalid one sent as is (`publish --publish-invalid`) and a configuration file, so that a
/// line sent as is lacks nothing a valid one would have been given, and the pipeline refuses it
/// for its own defect rather than for a missing `discoveredAt`.
struct LeftOutMembers {
    /// Each member's name and value.
    let members: [(name: String, value: any Encodable & Sendable)]

    /// The members of `T`, whose date is `dateField`, at `now`.
    init<T: Message>(of type: T.Type, dateField: String, now: Date) {
        members = [("schema", T.schemaName), ("version", T.schemaVersion), (dateField, ISO8601.format(now))]
    }

    /// Fills in each member `fields` (a JSON object Foundation read) leaves out or gives as null.
    func fill(_ fields: inout [String: Any]) {
        for member in members where fields[member.name] == nil || fields[member.name] is NSNull {
            fields[member.name] = member.value
        }
    }

    /// `line`, one JSON object, with each member it leaves out or gives as null filled in, and
    /// every other member's value as written (its bytes, in its place: what is wrong with it
    /// stays wrong). Nil when `line` is not an object the pipeline's strict reader parses (not
    /// JSON, a key twice): the pipeline refuses such a line for that before it looks for any
    /// member, so it is sent as written.
    func filling(_ line: String) -> String? {
        guard let given = RawJSON.members(of: Array(line.utf8)) else { return nil }
        var written: [String] = []
        func add(_ name: String, _ json: [UInt8]) throws {
            written.append(String(decoding: try JSONStreamEncoder.encode(name), as: UTF8.self) + ":" + String(decoding: json, as: UTF8.self))
        }
        do {
            for (name, value) in given {
                if let value {
                    try add(name, value.bytes)
                } else if let member = members.first(where: { $0.name == name }) {
                    try add(name, try JSONStreamEncoder.encode(member.value))
                } else {
                    try add(name, Array("null".utf8))
                }
            }
            for member in members where !given.contains(where: { $0.name == member.name }) {
                try add(member.name, try JSONStreamEncoder.encode(member.value))
            }
        } catch {
            return nil  // a string or a number always encodes
        }
        return "{" + written.joined(separator: ",") + "}"
    }
}
