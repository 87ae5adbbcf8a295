import Foundation
import LeadModel

/// A lead file parsed as it is read, a block of whole lines at a time, so that a file of any size
/// takes bounded memory: a few times `chunkBytes`, or `maxLineBytes` for a file with lines that
/// long.
/// The lines it gives are those ``LeadFileParser/parse(_:format:now:)`` gives for the whole text,
/// except that a JSON line longer than `maxLineBytes` is an invalid line ("not read"), and a CSV
/// row that long is an error of the file (where such a row ends is not known). A line is never
/// held longer than `maxLineBytes`, so a file that is one endless line costs no more.
public struct LeadFileReader {
    private let format: LeadFileFormat
    private let now: Date
    private let chunkBytes: Int
    private let maxLineBytes: Int
    private let read: () throws -> [UInt8]
    private let codec = MessageCodec()
    /// Read and not given yet.
    private var pending: [UInt8] = []
    /// The line of the file `pending` starts at.
    private var pendingLine = 1
    /// A CSV piece that ended inside a quoted field, given again with what follows.
    private var carried: (bytes: [UInt8], firstLine: Int)?
    private var csv = LeadFileParser.CSVLeadRows()
    private var isAtEnd = false
    private var isFinished = false
    /// A problem of the file found after rows that were still given: thrown at the next call.
    private var failure: LeadFileError?

    /// A reader of `format` whose bytes come from `read`, `chunkBytes` at most per call and an
    /// empty array at the end.
    public init(format: LeadFileFormat, now: Date, chunkBytes: Int = 1 << 20, maxLineBytes: Int = 16 << 20,
                read: @escaping () throws -> [UInt8]) {
        self.format = format
        self.now = now
        self.chunkBytes = max(1, chunkBytes)
        self.maxLineBytes = max(1, maxLineBytes)
        self.read = read
    }

    /// A reader of the file at `path`, `-` for standard input.
    public init(path: String, format: LeadFileFormat, now: Date) throws(LeadControlError) {
        let handle: FileHandle
        if path == "-" {
            handle = .standardInput
        } else {
            do {
                handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            } catch {
                throw .unreadableFile(path: path, reason: (error as NSError).localizedDescription)
            }
        }
        let chunk = 1 << 20
        self.init(format: format, now: now, chunkBytes: chunk) {
            do {
                return Array(try handle.read(upToCount: chunk) ?? Data())
            } catch {
                throw LeadControlError.unreadableFile(path: path, reason: (error as NSError).localizedDescription)
            }
        }
    }

    /// The lines of the next block (possibly none: blank lines); nil once the file is read.
    /// - Throws: ``LeadFileError`` when the file as a whole is unusable (a CSV header, an unclosed
    ///   quote, a row too long), or what `read` throws.
    public mutating func next() throws -> [LeadLine]? {
        if let failure {
            isFinished = true
            self.failure = nil
            throw failure
        }
        guard !isFinished else { return nil }
        guard let (block, firstLine, isFinal) = try nextBlock() else {
            isFinished = true
            guard format == .csv else { return nil }
            if let carried {
                // The file ended inside the quoted field of the row carried: the parser says where.
                self.carried = nil
                let lines = try csv.parse(String(decoding: carried.bytes, as: UTF8.self), firstLine: carried.firstLine, isFinal: true, now: now).lines
                try csv.finish()
                return lines
            }
            try csv.finish()
            return nil
        }
        switch block {
        case .lines(let bytes):
            switch format {
            case .jsonl:
                return LeadFileParser.parseJSONLines(bytes[...], firstLine: firstLine, now: now, codec: codec, maxLineBytes: maxLineBytes)
            case .csv:
                let piece = (carried?.bytes ?? []) + bytes
                let start = carried?.firstLine ?? firstLine
                carried = nil
                guard let text = String(bytes: piece, encoding: .utf8) else {
                    // The rows before the bad line go out; the error comes at the next call.
                    let lines = piece.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                    let bad = lines.firstIndex { String(bytes: $0, encoding: .utf8) == nil } ?? 0
                    failure = LeadFileError("line \(start + bad): not UTF-8 text")
                    let before = lines[..<bad].map { String(decoding: $0, as: UTF8.self) + "\n" }.joined()
                    return try csv.parse(before, firstLine: start, isFinal: false, now: now).lines
                }
                let (lines, unfinished) = try csv.parse(text, firstLine: start, isFinal: isFinal, now: now)
                if let unfinished {
                    let rest = Array(unfinished.text.utf8)
                    if rest.count > maxLineBytes {
                        failure = LeadFileError("line \(unfinished.line): a row longer than \(maxLineBytes) bytes (a quoted field not closed?)")
                    } else {
                        carried = (rest, unfinished.line)
                    }
                }
                return lines
            }
        case .tooLong(let prefix):
            if format == .csv {
                throw LeadFileError("line \(carried?.firstLine ?? firstLine): a row longer than \(maxLineBytes) bytes (a quoted field not closed?)")
            }
            return [LeadLine(lineNumber: firstLine, raw: String(decoding: prefix, as: UTF8.self), key: nil,
                             result: .failure(LeadLineError("longer than \(maxLineBytes) bytes; not read")), isWhole: false)]
        }
    }

    private enum Block {
        /// Whole lines (the last one without its line break at the end of the file).
        case lines([UInt8])
        /// A line longer than `maxLineBytes`, read past and dropped but for its first bytes.
        case tooLong(prefix: [UInt8])
    }

    /// The next block of whole lines, the line it starts at, and whether the file ends with it.
    private mutating func nextBlock() throws -> (Block, firstLine: Int, isFinal: Bool)? {
        let newline = UInt8(ascii: "\n")
        while true {
            if let last = pending.lastIndex(of: newline) {
                let block = Array(pending[...last])
                pending.removeFirst(last + 1)
                let firstLine = pendingLine
                pendingLine += block.count { $0 == newline }
                return (.lines(block), firstLine, isAtEnd && pending.isEmpty)
            }
            if isAtEnd {
                guard !pending.isEmpty else { return nil }
                defer { pending = [] }
                return (.lines(pending), pendingLine, true)
            }
            if pending.count > maxLineBytes + 1 {  // + 1: a line of the bound may have its "\r" read
                return (.tooLong(prefix: Array(pending.prefix(200))), try skipLine(), isAtEnd)
            }
            let chunk = try read()
            if chunk.isEmpty { isAtEnd = true } else { pending += chunk }
        }
    }

    /// Drops what is pending and what follows up to the next line break; returns the dropped
    /// line's number.
    private mutating func skipLine() throws -> Int {
        let line = pendingLine
        pending = []
        while !isAtEnd {
            let chunk = try read()
            guard !chunk.isEmpty else {
                isAtEnd = true
                break
            }
            if let end = chunk.firstIndex(of: UInt8(ascii: "\n")) {
                pending = Array(chunk[(end + 1)...])
                break
            }
        }
        pendingLine = line + 1
        return line
    }
}
