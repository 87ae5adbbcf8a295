import Foundation
import JSONCodec

// The coordinator's changelog record writes itself (`JSONWritable`): the coordinator writes one
// or two per lead. Reading stays with `init(from:)`: a record is read only by a restore.
// Members in byte order of their keys; the same JSON as `encode(to:)` (`ProfileJSONTests`).

extension LeadState: JSONWritable {
    public func writeMembers(to object: inout JSONObjectWriter) throws {
        let document = storedDocument
        object.member("createdAt", createdAt)
        try object.member("document", document)
        object.member("foundDuringRun", foundDuringRun.map { $0.map(\.rawValue) })
        let currentRun = runID
        object.member("history", arraysOf: history) { entry, array in
            StoredHistoryEntry(entry, currentRun: currentRun).write(to: &array)
        }
        try object.member("inFlight", inFlight)
        try object.member("lead", lead)
        try object.member("mode", mode)
        object.member("nextAttempt", nextAttempt)
        object.member("omitted", omitted)
        object.member("phaseIndex", phaseIndex)
        object.member("plan", plan)
        if document == nil { try object.member("profile", profile) }
        object.member("readyAt", readyAt)
        object.member("runID", runID)
        object.member("status", status)
        object.member("updatedAt", updatedAt)
    }
}

extension StoredHistoryEntry {
    /// As `encode(to:)` writes it: up to the last value present, nulls before it.
    func write(to array: inout JSONArrayWriter) {
        array.date(at)
        array.rawValue(kind)
        let count = optionalsWritten
        if count > 0 { if let phase { array.rawValue(phase) } else { array.null() } }
        if count > 1 { if let attempt { array.int(attempt) } else { array.null() } }
        if count > 2 { if let detail { array.string(detail) } else { array.null() } }
        if count > 3, let runID { array.rawValue(runID) }
    }
}

extension InFlightAttempt: JSONWritable {
    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("attempt", attempt)
        object.member("deadline", deadline)
        object.member("isBackingOff", isBackingOff)
        object.member("phase", phase)
        if timedOutAttempts != 0 { object.member("timedOutAttempts", timedOutAttempts) }
    }
}

extension DocumentReferences: JSONWritable {
    public func writeMembers(to object: inout JSONObjectWriter) throws {
        try object.member("base", base)
        try object.member("outputs", outputs)
        try object.member("pool", pool)
        try object.member("skippedPhases", skippedPhases)
        try object.member("web", encoding: web)
    }
}

extension OutputReference: JSONWritable {
    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("offset", Int(offset))
        object.member("partition", Int(partition))
        object.member("phase", phase)
        object.member("topic", topic)
    }
}

extension RecordPosition: JSONWritable, JSONReadable {
    public init(reading object: inout JSONObjectReader) throws {
        // A partition beyond Int32 is rejected, with its place, by init(from:).
        guard let partition = Int32(exactly: try object.int("partition")) else { throw JSONObjectReader.Unexpected() }
        self.init(topic: try object.string("topic"), partition: partition, offset: Int64(try object.int("offset")))
    }

    public func writeMembers(to object: inout JSONObjectWriter) throws {
        object.member("offset", Int(offset))
        object.member("partition", Int(partition))
        object.member("topic", topic)
    }
}
