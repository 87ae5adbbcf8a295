import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What other threads tell an ``HTTPConnectionLoop``: stop, and the responses routers finished.
/// Each message also writes a byte to a pipe the loop polls, so it wakes at once.
final class HTTPLoopInbox: Sendable {
    private struct State {
        var isStopRequested = false
        /// Set by the loop as it ends; from then on nobody writes to the pipe (it is closed).
        var hasLoopEnded = false
        var responses: [(connection: UInt64, response: HTTPResponse)] = []
    }

    /// The end of the wake-up pipe the loop polls.
    let wakeReader: Int32
    private let wakeWriter: Int32
    private let state = Mutex(State())
    private let listenerClosed = DispatchSemaphore(value: 0)

    /// Opens the wake-up pipe.
    /// - Throws: ``HTTPServerError`` when `pipe` fails.
    init() throws(HTTPServerError) {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw HTTPServerError(operation: "pipe", code: errno) }
        for end in ends {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        wakeReader = ends[0]
        wakeWriter = ends[1]
    }

    /// Asks the loop to close its listening socket and waits until it has; later calls return
    /// at once.
    func stop() {
        let isFirst = state.withLock { state in
            defer { state.isStopRequested = true }
            if !state.isStopRequested { wake(state) }
            return !state.isStopRequested
        }
        if isFirst { listenerClosed.wait() }
    }

    /// Hands the router's `response` for `connection` to the loop.
    func deliver(_ response: HTTPResponse, to connection: UInt64) {
        state.withLock { state in
            state.responses.append((connection, response))
            wake(state)
        }
    }

    /// Everything sent since the last call.
    func take() -> (isStopRequested: Bool, responses: [(connection: UInt64, response: HTTPResponse)]) {
        var scratch = [UInt8](repeating: 0, count: 64)
        while read(wakeReader, &scratch, scratch.count) > 0 {}
        return state.withLock { state in
            defer { state.responses.removeAll() }
            return (state.isStopRequested, state.responses)
        }
    }

    /// Called by the loop once it has closed its listening socket.
    func acknowledgeStop() {
        listenerClosed.signal()
    }

    /// Called by the loop as it ends: closes the pipe, after which messages only queue.
    func closeAsLoopEnds() {
        state.withLock { $0.hasLoopEnded = true }
        close(wakeReader)
        close(wakeWriter)
    }

    /// Runs under the lock, so the pipe cannot be closed meanwhile; a full pipe already wakes.
    private func wake(_ state: State) {
        guard !state.hasLoopEnded else { return }
        var byte: UInt8 = 1
        _ = write(wakeWriter, &byte, 1)
    }
}

/// The one thread of an ``HTTPServer``: accepts, reads, routes and answers every connection with
/// `poll(2)` on non-blocking sockets, within the server's ``HTTPServer/Limits``.
///
/// Its state is touched only on that thread (it is not Sendable); routers run as Tasks and hand
/// their responses back through the ``HTTPLoopInbox``.
struct HTTPConnectionLoop {
    private enum Phase {
        /// Waiting for the rest of the request.
        case reading(HTTPRequestReader)
        /// The router has the request; no deadline, the fd is not polled.
        case routing
        /// Sending the response.
        case writing([UInt8], sent: Int)
        /// Response sent and our side shut: reading until the peer closes, so closing with unread
        /// bytes cannot reset the connection before the peer has read the response.
        case lingering

        var isLingering: Bool {
            if case .lingering = self { true } else { false }
        }
    }

    private struct Connection {
        let fd: Int32
        /// Taken beyond ``HTTPServer/Limits/maxConnections``: answers probes only.
        let isReserved: Bool
        let acceptedAt: ContinuousClock.Instant
        var deadline: ContinuousClock.Instant?
        var phase: Phase

        /// Closing it loses no request already being answered (one may still arrive).
        var isEvictable: Bool {
            switch phase {
            case .reading, .lingering: true
            case .routing, .writing: false
            }
        }
    }

    private var listener: Int32
    private let limits: HTTPServer.Limits
    private let probePaths: Set<String>
    private let router: HTTPServer.Router
    private let inbox: HTTPLoopInbox
    private let clock = ContinuousClock()
    private var connections: [UInt64: Connection] = [:]
    private var reservedCount = 0
    private var nextID: UInt64 = 0
    /// Set when accept ran out of descriptors: the listener is not polled until then.
    private var acceptPausedUntil: ContinuousClock.Instant?
    private var scratch = [UInt8](repeating: 0, count: 16 * 1024)
    private static let acceptsPerTurn = 16

    init(listener: Int32, limits: HTTPServer.Limits, probePaths: Set<String>, router: @escaping HTTPServer.Router,
         inbox: HTTPLoopInbox) {
        self.listener = listener
        self.limits = limits
        self.probePaths = probePaths
        self.router = router
        self.inbox = inbox
    }

    /// Serves until stopped and every accepted connection is answered; then closes the pipe.
    mutating func run() {
        while true {
            let messages = inbox.take()
            for (id, response) in messages.responses { startWriting(id, response) }
            if messages.isStopRequested, listener >= 0 {
                close(listener)
                listener = -1
                inbox.acknowledgeStop()
            }
            closeExpired()
            if listener < 0, connections.isEmpty { break }
            waitAndServe()
        }
        inbox.closeAsLoopEnds()
    }

    private mutating func waitAndServe() {
        let now = clock.now
        if let until = acceptPausedUntil, until <= now { acceptPausedUntil = nil }
        var polled = [pollfd(fd: inbox.wakeReader, events: Int16(POLLIN), revents: 0)]
        var owners: [UInt64] = [0]
        let isListening = listener >= 0 && acceptPausedUntil == nil
        if isListening {
            polled.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0))
            owners.append(0)
        }
        var nextDeadline = acceptPausedUntil
        for (id, connection) in connections {
            if let deadline = connection.deadline { nextDeadline = min(nextDeadline ?? deadline, deadline) }
            let events: Int32
            switch connection.phase {
            case .reading, .lingering: events = Int32(POLLIN)
            case .writing: events = Int32(POLLOUT)
            case .routing: continue
            }
            polled.append(pollfd(fd: connection.fd, events: Int16(events), revents: 0))
            owners.append(id)
        }
        let timeout = nextDeadline.map { Self.milliseconds(until: $0, from: now) } ?? -1
        guard poll(&polled, nfds_t(polled.count), timeout) > 0 else { return }  // timeout or EINTR

        // Connections first, new ones last: a request already here is read before a flood of
        // new connections can evict it.
        let firstConnection = isListening ? 2 : 1
        for index in polled.indices.dropFirst(firstConnection) where polled[index].revents != 0 {
            serve(owners[index])
        }
        if isListening, polled[1].revents != 0 { acceptBatch() }
    }

    private mutating func serve(_ id: UInt64) {
        guard let connection = connections[id] else { return }
        switch connection.phase {
        case .reading: read(id)
        case .writing: continueWriting(id)
        case .lingering: discardInput(id)
        case .routing: break
        }
    }

    // MARK: accepting

    /// Accepts up to ``acceptsPerTurn`` connections: enough to keep the backlog short, few enough
    /// that requests already arrived are read between batches rather than evicted by a flood.
    private mutating func acceptBatch() {
        for _ in 0..<Self.acceptsPerTurn where listener >= 0 {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else {
                switch errno {
                case EINTR, ECONNABORTED: continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM: acceptPausedUntil = clock.now + .milliseconds(100)
                default: break  // EAGAIN: backlog drained
                }
                return
            }
            admit(fd)
        }
    }

    private mutating func admit(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        #if canImport(Darwin)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &yes, socklen_t(MemoryLayout<Int32>.size))
        #endif
        let isReserved = connections.count - reservedCount >= limits.maxConnections
        if isReserved {
            guard !probePaths.isEmpty, limits.reservedConnections > 0,
                reservedCount < limits.reservedConnections || evictOldestReserved()
            else {
                Self.sendOnce(HTTPRequestRejection.serverIsBusy.response, to: fd)
                close(fd)
                return
            }
        }
        let now = clock.now
        let id = nextID
        nextID += 1
        connections[id] = Connection(
            fd: fd, isReserved: isReserved, acceptedAt: now, deadline: now + limits.requestTimeout,
            phase: .reading(HTTPRequestReader(limits: limits)))
        if isReserved { reservedCount += 1 }
        // The request often arrives with the connection: read it before accepting more.
        read(id)
    }

    /// Frees a reserved slot: closes the connection accepted first among those already answered
    /// (lingering), else among those whose request has not arrived. A request that has arrived is
    /// read and answered instead, so a probe is lost only when its bytes are slower than a flood of
    /// ``HTTPServer/Limits/reservedConnections`` connections behind it.
    private mutating func evictOldestReserved() -> Bool {
        var answering: Set<UInt64> = []
        while let (id, connection) = oldestEvictableReserved(excluding: answering) {
            if !connection.phase.isLingering { read(id) }
            // Reading may have closed it (peer gone) or started answering it.
            guard let current = connections[id] else { return true }
            if current.isEvictable {
                closeConnection(id)
                return true
            }
            answering.insert(id)
        }
        return false
    }

    private func oldestEvictableReserved(excluding: Set<UInt64>) -> (UInt64, Connection)? {
        var oldest: (id: UInt64, connection: Connection)?
        for (id, connection) in connections where connection.isReserved && connection.isEvictable && !excluding.contains(id) {
            guard let current = oldest else {
                oldest = (id, connection)
                continue
            }
            // Answered connections go first, then the ones accepted first.
            let isOlder = connection.phase.isLingering != current.connection.phase.isLingering
                ? connection.phase.isLingering : connection.acceptedAt < current.connection.acceptedAt
            if isOlder { oldest = (id, connection) }
        }
        return oldest.map { ($0.id, $0.connection) }
    }

    // MARK: reading

    private mutating func read(_ id: UInt64) {
        guard let fd = connections[id]?.fd, let isReserved = connections[id]?.isReserved,
            case .reading(var reader)? = connections[id]?.phase
        else { return }
        // Taken out of the table while it grows, so appending does not copy its buffer.
        connections[id]?.phase = .routing
        let received = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if received < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                connections[id]?.phase = .reading(reader)
            } else {
                closeConnection(id)
            }
            return
        }
        if received == 0 {
            if reader.hasBytes { startWriting(id, HTTPRequestRejection.requestIsIncomplete.response) } else { closeConnection(id) }
            return
        }
        switch reader.append(scratch[0..<received]) {
        case .needsMoreBytes:
            connections[id]?.phase = .reading(reader)
        case .rejected(let rejection):
            startWriting(id, rejection.response)
        case .complete(let request):
            if isReserved, request.method != "GET" || !probePaths.contains(request.path) {
                startWriting(id, HTTPRequestRejection.serverIsBusy.response)
                return
            }
            connections[id]?.phase = .routing
            connections[id]?.deadline = nil
            let router = self.router
            let inbox = self.inbox
            Task {
                let response = await router(request)
                inbox.deliver(response, to: id)
            }
        }
    }

    // MARK: answering

    private mutating func startWriting(_ id: UInt64, _ response: HTTPResponse) {
        guard connections[id] != nil else { return }
        let deadline = clock.now + limits.requestTimeout
        connections[id]?.phase = .writing(response.serialized(), sent: 0)
        connections[id]?.deadline = deadline
        continueWriting(id)
    }

    private mutating func continueWriting(_ id: UInt64) {
        guard let connection = connections[id], case .writing(let bytes, var sent) = connection.phase else { return }
        while sent < bytes.count {
            let result = bytes[sent...].withUnsafeBytes { Self.send($0, to: connection.fd) }
            if result < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                    connections[id]?.phase = .writing(bytes, sent: sent)
                } else {
                    closeConnection(id)
                }
                return
            }
            sent += result
        }
        shutdown(connection.fd, Int32(SHUT_WR))
        let deadline = clock.now + min(limits.requestTimeout, .seconds(1))
        connections[id]?.phase = .lingering
        connections[id]?.deadline = deadline
    }

    private mutating func discardInput(_ id: UInt64) {
        guard let connection = connections[id] else { return }
        let received = scratch.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
        if received == 0 || (received < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            closeConnection(id)
        }
    }

    // MARK: closing

    /// Closes connections past their deadline; one cut off mid-request is told so (408) and then
    /// lingers like any answered connection, so a byte arriving meanwhile cannot reset the 408 away.
    private mutating func closeExpired() {
        let now = clock.now
        for (id, connection) in connections {
            guard let deadline = connection.deadline, deadline <= now else { continue }
            if case .reading(let reader) = connection.phase, reader.hasBytes {
                startWriting(id, HTTPRequestRejection.requestTimedOut.response)
            } else {
                closeConnection(id)
            }
        }
    }

    private mutating func closeConnection(_ id: UInt64) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        if connection.isReserved { reservedCount -= 1 }
        close(connection.fd)
    }

    // MARK: sockets

    /// One non-blocking attempt: for short answers on a connection about to be closed.
    private static func sendOnce(_ response: HTTPResponse, to fd: Int32) {
        _ = response.serialized().withUnsafeBytes { send($0, to: fd) }
    }

    /// `send` that never raises SIGPIPE.
    private static func send(_ bytes: UnsafeRawBufferPointer, to fd: Int32) -> Int {
        #if canImport(Glibc)
        Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
        #else
        Darwin.send(fd, bytes.baseAddress, bytes.count, 0)
        #endif
    }

    /// Milliseconds for `poll` until `deadline`, rounded up so it does not wake early.
    private static func milliseconds(until deadline: ContinuousClock.Instant, from now: ContinuousClock.Instant) -> Int32 {
        let remaining = (now.duration(to: deadline) / .milliseconds(1)).rounded(.up)
        return Int32(max(0, min(remaining, Double(Int32.max))))
    }
}
