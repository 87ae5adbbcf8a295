import CRdKafka
import Foundation
import Runtime
import Synchronization

/// A librdkafka handle. librdkafka's client API is thread-safe, which is what makes sharing
/// the pointer across threads sound.
struct RDHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// Whether a client is closed, and the calls into it under way: a close marks it closed, then
/// waits for those calls to end before it frees the client, and refuses new ones. Both sides
/// order their two steps sequentially consistently, so one of them always sees the other. A task
/// a shutting-down process left behind (``ShutdownDeadline``) may still call its client while the
/// client is closed.
final class ClientGate: Sendable {
    private let closed = Atomic<Bool>(false)
    private let users = Atomic<Int>(0)

    var isClosed: Bool { closed.load(ordering: .sequentiallyConsistent) }

    /// Runs `body`, a call into the client that does not block, unless the client is closed or
    /// closing (nil then).
    func whileOpen<T>(_ body: () throws -> T) rethrows -> T? {
        users.wrappingAdd(1, ordering: .sequentiallyConsistent)
        defer { users.wrappingSubtract(1, ordering: .sequentiallyConsistent) }
        guard !isClosed else { return nil }
        return try body()
    }

    /// Marks the client closed and waits for the calls under way (microseconds: none blocks).
    /// False when it was closed already.
    func close() -> Bool {
        guard !closed.exchange(true, ordering: .sequentiallyConsistent) else { return false }
        while users.load(ordering: .sequentiallyConsistent) > 0 { sched_yield() }
        return true
    }
}

/// Creates an `rd_kafka_t`. `rd_kafka_new` takes ownership of `conf` only when it succeeds,
/// so this frees `conf` on failure.
func makeRDKafkaHandle(type: rd_kafka_type_t, conf: OpaquePointer, operation: String) throws -> RDHandle {
    var errstr = [CChar](repeating: 0, count: 512)
    guard let rk = rd_kafka_new(type, conf, &errstr, errstr.count) else {
        rd_kafka_conf_destroy(conf)
        throw KafkaError(code: RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue,
                         message: string(fromCBuffer: errstr), isRetriable: false, operation: operation)
    }
    return RDHandle(pointer: rk)
}

/// Reports librdkafka's error events on stderr; fatal ones are marked as such. The opaque, when
/// there is one, is the client's ``KafkaClientContext``, which counts the event for the
/// client's statistics.
let errorCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
    rk, code, reason, opaque in
    let fatal = code == RD_KAFKA_RESP_ERR__FATAL.rawValue
    let name = String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(code)))
    if let opaque {
        Unmanaged<KafkaClientContext>.fromOpaque(opaque).takeUnretainedValue().countError(name)
    }
    let text = reason.map { String(cString: $0) } ?? ""
    let client = rk.map { String(cString: rd_kafka_name($0)) } ?? ""
    writeLine(level: fatal ? "error" : "warning",
              fields: "\"client\":\(jsonQuoted(client)),\"error\":\(jsonQuoted(name)),\"message\":\(jsonQuoted(text))")
}

/// Writes one librdkafka line as the services write theirs: time (UTC, milliseconds), level,
/// service, `component: kafka`, then `fields` (already JSON). One write per line.
private func writeLine(level: String, fields: String) {
    let time = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    let line = "{\"time\":\"\(time)\",\"level\":\"\(level)\",\"service\":\(jsonQuoted(serviceName)),\"component\":\"kafka\",\(fields)}\n"
    FileHandle.standardError.write(Data(line.utf8))
}

/// The service a librdkafka line is from: the executable's name, which is the service's.
private let serviceName = ProcessInfo.processInfo.processName

/// Writes librdkafka's own log lines as JSON lines on stderr (syslog levels: 0-3 error,
/// 4 warning, 5-6 info, 7 debug), with time and service like every other line a service
/// writes. Called on librdkafka's threads; one write per line.
let logCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = {
    rk, level, facility, message in
    let name: String
    switch level {
    case ...3: name = "error"
    case 4: name = "warning"
    case 5, 6: name = "info"
    default: name = "debug"
    }
    let client = rk.map { String(cString: rd_kafka_name($0)) } ?? ""
    let text = message.map { String(cString: $0) } ?? ""
    writeLine(level: name, fields: "\"client\":\(jsonQuoted(client)),"
        + "\"facility\":\(jsonQuoted(facility.map { String(cString: $0) } ?? "")),\"message\":\(jsonQuoted(text))")
}

func jsonQuoted(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
        }
    }
    return out + "\""
}

/// A thread that calls `body` until stopped: librdkafka's blocking polls live here, never on
/// Swift's cooperative pool.
final class PollThread: Sendable {
    private let isRunning = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)

    /// - Parameter name: the thread's name in top and perf; Linux keeps at most 15 bytes.
    init(name: String, body: @escaping @Sendable () -> Void) {
        // The thread holds this object until stop() ends the loop.
        let thread = Thread { [self] in
            nameCurrentThread(name)
            while isRunning.load(ordering: .acquiring) {
                body()
            }
            finished.signal()
        }
        thread.start()
    }

    /// Stops the loop after its current iteration and waits for it.
    func stop() {
        if isRunning.exchange(false, ordering: .acquiringAndReleasing) {
            finished.wait()
        }
    }
}

/// Runs a blocking call (an admin request, a flush, a close) off the concurrency pool's threads
/// and resumes the caller when it returns. Each call gets a serial queue of its own, named
/// `name`, so no call waits behind another; libdispatch runs it on a thread of its overcommit
/// pool, which it keeps a few seconds between calls, so a process that asks the broker for
/// watermarks after every batch does not start a thread each time.
func runBlocking<T: Sendable>(_ name: String, _ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue(label: name).async { continuation.resume(returning: body()) }
    }
}

/// Copies the headers of the messages of one poll, reusing the arrays of an earlier message
/// whose headers are the same: most records of a batch carry the same schema name and version,
/// so a record costs one retain instead of an array for its list and one per header value.
struct HeaderReuse {
    /// Distinct header lists copied so far, at most ``capacity``; the oldest is replaced.
    private var recent: [[KafkaHeader]] = []
    private var next = 0
    static let capacity = 8

    /// The headers of `message`: an earlier list when equal to it, else a copy.
    mutating func headers(of message: UnsafeMutablePointer<rd_kafka_message_t>) -> [KafkaHeader] {
        var handle: OpaquePointer?
        guard rd_kafka_message_headers(message, &handle) == RD_KAFKA_RESP_ERR_NO_ERROR, let handle else { return [] }
        let count = rd_kafka_header_cnt(handle)
        if let earlier = recent.first(where: { $0.count == count && Self.matches($0, handle) }) { return earlier }
        var copied: [KafkaHeader] = []
        copied.reserveCapacity(count)
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while rd_kafka_header_get_all(handle, copied.count, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
            copied.append(KafkaHeader(key: name.map { String(cString: $0) } ?? "", value: bytes))
        }
        if recent.count < Self.capacity {
            recent.append(copied)
        } else {
            recent[next] = copied
            next = (next + 1) % Self.capacity
        }
        return copied
    }

    /// Whether `headers` has the same names and values, in the same order, as librdkafka's.
    private static func matches(_ headers: [KafkaHeader], _ handle: OpaquePointer) -> Bool {
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        for (index, header) in headers.enumerated() {
            guard rd_kafka_header_get_all(handle, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR,
                  let name, size == header.value.count else { return false }
            guard header.key.utf8.elementsEqual(UnsafeRawBufferPointer(start: name, count: strlen(name))) else { return false }
            // A header without a value (nil) reads as empty, as the copy does.
            let sameValue = size == 0 || header.value.withUnsafeBytes { memcmp($0.baseAddress!, value!, size) == 0 }
            guard sameValue else { return false }
        }
        return true
    }
}

/// Builds an `rd_kafka_topic_partition_list_t`; the caller destroys it.
func makePartitionList(_ partitions: [TopicPartition], offsets: [TopicPartition: Int64] = [:]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
    let list = rd_kafka_topic_partition_list_new(Int32(partitions.count))!
    for tp in partitions {
        let element = tp.topic.withCString { rd_kafka_topic_partition_list_add(list, $0, tp.partition)! }  // the name's own bytes, not a copy
        if let offset = offsets[tp] { element.pointee.offset = offset }
    }
    return list
}

/// Reads the elements of a partition list.
func partitionListElements(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [(TopicPartition, offset: Int64, error: rd_kafka_resp_err_t)] {
    (0..<Int(list.pointee.cnt)).map { i in
        let element = list.pointee.elems[i]
        return (TopicPartition(topic: String(cString: element.topic), partition: element.partition),
                element.offset, element.err)
    }
}

/// Text from a NUL-terminated C buffer that librdkafka filled.
func string(fromCBuffer buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
