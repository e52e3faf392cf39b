// Connection: one client socket, owned by one EventLoop thread. It reads into a
// reusable buffer, parses request heads in place, runs each request through its
// site's chain, and queues responses in order (pipelining) behind a write queue
// with back-pressure. Bodies go out with sendfile; small files are read into
// the head's buffer so a response is one send.
//
// Life cycle (darkhttpd's loop stages, as states):
//   reading → (request complete) → queued response → writing → reading ...
//   any error status from the parser → response with `Connection: close` → lingering close
//   timeouts: header (partial head), idle (keep-alive, no bytes), write (no progress)
import CLinux
import Glibc

final class Connection {
    enum OutputItem {
        /// `bytes[offset..<end]` still to send; `more` = more of the response follows
        /// (MSG_MORE). `owned`: this connection made the array (a head, a small body), so it
        /// may be reused as scratch space once sent. A body from a cache (compressed variant,
        /// rendered listing) is shared, not owned: the queue holds a reference, never a copy,
        /// so slow readers of one large cached body do not each pin a copy of it (issue 9 #5).
        case bytes([UInt8], offset: Int, end: Int, more: Bool, owned: Bool)
        case file(OpenFile, offset: Int, end: Int)
    }

    /// A response whose bytes are still being written, for the access log (only kept while
    /// logging): its row is the first of `pendingLogs` not yet moved to the loop.
    struct InFlight {
        var total: Int
        var headLength: Int
        var sent: Int = 0
        var startMicros: Int64
    }

    let fd: Int32
    let token: UInt64
    let client: String
    /// `client` as bytes, for access-log rows; made at the first logged response.
    private lazy var clientUTF8: [UInt8] = Array(client.utf8)
    /// unowned(unsafe): the loop owns its connections (its `connections` table) and
    /// outlives them, and a checked `unowned` reference cost a retain and release on
    /// every access (measured ~1% of a small-file request).
    unowned(unsafe) let loop: EventLoop

    // Read side. Owned by the loop thread.
    //
    // @exclusivity(unchecked) on the buffers and queues below: they are only touched by
    // the loop thread, and never by overlapping inout accesses (no method passes one of
    // them inout while calling back into this object), so the runtime's dynamic
    // exclusivity check on each access (~7% of the loop's instructions under callgrind)
    // guards nothing here.
    @exclusivity(unchecked) private var buffer: [UInt8]
    private var readStart = 0
    private var readEnd = 0
    private var discardRemaining = 0
    private var peerClosed = false
    /// The last event said the peer may have closed (EPOLLRDHUP/HUP): a short read then does
    /// not mean the socket is drained, because the FIN can come in the same edge as the last
    /// data and no further edge follows (issue 9 #1). Read on until EOF or EAGAIN.
    private var hangupSignalled = false
    private var socketMayHaveData = false
    private var headStartMs: Int64 = 0
    private var requestStartMicros: Int64 = 0
    private var servedAny = false
    private var lastActivityMs: Int64

    /// How far the parser got in the incomplete head at `readStart` (resumed on the next read).
    private var parseProgress = ParseProgress()
    /// The arrays of the last finished request head, reused by the next parse.
    @exclusivity(unchecked) private var headStorage = RequestHead.Storage()

    // Write side.
    @exclusivity(unchecked) private var output: [OutputItem] = []
    private var queuedBytes = 0
    @exclusivity(unchecked) private var inFlight: [InFlight] = []
    /// Access-log rows of the responses in `inFlight` (in order), waiting for their byte counts.
    @exclusivity(unchecked) private var pendingLogs = AccessLogBatch()
    @exclusivity(unchecked) private var spare: [UInt8] = []
    private(set) var closeAfterWrite = false
    /// Set by error responses to requests that were not read to the end.
    private var mustLinger = false
    private var lingering = false
    private(set) var isClosed = false

    // Deadlines (see Deadlines.swift): `deadline` is current; `heapEntryAt` is the
    // time of this connection's single entry in the loop's heap, if any.
    var deadline: Int64 = 0
    var heapEntryAt: Int64?

    static let smallFileLimit = 16 * 1024
    static let backPressureBytes = 256 * 1024

    init(fd: Int32, token: UInt64, client: String, loop: EventLoop, now: Int64) {
        self.fd = fd
        self.token = token
        self.client = client
        self.loop = loop
        // The bytes are always written by read(2) before they are parsed: no need to zero them.
        self.buffer = [UInt8](unsafeUninitializedCapacity: 4096) { _, count in count = 4096 }
        self.lastActivityMs = now
    }

    // MARK: - Events

    func handleEvents(_ events: IOEvents) {
        if events.contains(.hangup) || events.contains(.error) { hangupSignalled = true }
        if events.contains(.writable) && !output.isEmpty { flush() }
        if isClosed { return }
        if events.contains(.readable) || events.contains(.hangup) || events.contains(.error) { readAvailable() }
        if !isClosed { updateDeadline() }
    }

    private var isBackPressured: Bool {
        guard !output.isEmpty else { return false }
        if queuedBytes > Self.backPressureBytes { return true }
        if case .file = output.last! { return true }
        return false
    }

    private func readAvailable() {
        while !isClosed {
            if lingering {
                drainLingering()
                return
            }
            if isBackPressured || closeAfterWrite {
                socketMayHaveData = true
                return
            }
            if readEnd == buffer.count {
                if readStart > 0 {
                    compact()
                } else if buffer.count < maxBufferSize {
                    buffer.append(contentsOf: repeatElement(0, count: min(buffer.count, maxBufferSize - buffer.count)))
                } else {
                    respondWithoutSite(.requestHeaderFieldsTooLarge)
                    return
                }
            }
            let wanted = buffer.count - readEnd
            let start = readEnd
            let result: IOResult<Int>
            do {
                result = try buffer.withUnsafeMutableBytes { raw throws(Errno) in
                    try Syscall.io("read") { Glibc.read(fd, raw.baseAddress! + start, wanted) }
                }
            } catch {
                close()
                return
            }
            switch result {
            case .wouldBlock:
                socketMayHaveData = false
                return
            case .done(0):
                peerClosed = true
                socketMayHaveData = false
                if output.isEmpty { close() }
                return
            case .done(let count):
                lastActivityMs = loop.nowMs
                if readStart == readEnd && discardRemaining == 0 {
                    headStartMs = loop.nowMs
                    requestStartMicros = monotonicMicroseconds()
                }
                readEnd += count
                processBuffer()
                flush()
                if count < wanted && !hangupSignalled {
                    // A short read drained the socket (stream sockets) and no FIN came with
                    // this edge: the next edge will tell us of more data or the FIN.
                    socketMayHaveData = false
                    return
                }
            }
        }
    }

    private var maxBufferSize: Int {
        let limits = loop.state.parserLimits
        return limits.maxRequestLineBytes + limits.maxHeaderBytes + 4096
    }

    private func compact() {
        let count = readEnd - readStart
        if count > 0 {
            buffer.withUnsafeMutableBytes { raw in
                _ = memmove(raw.baseAddress!, raw.baseAddress! + readStart, count)
            }
        }
        readStart = 0
        readEnd = count
    }

    /// Parses and answers every complete request in the buffer, in order, until the
    /// output needs to drain first (back-pressure) or the connection will close.
    private func processBuffer() {
        while readStart < readEnd && !closeAfterWrite && !isBackPressured && !isClosed {
            if discardRemaining > 0 {
                let take = min(discardRemaining, readEnd - readStart)
                readStart += take
                discardRemaining -= take
                if discardRemaining == 0 && readStart < readEnd {
                    headStartMs = loop.nowMs
                    requestStartMicros = monotonicMicroseconds()
                }
                continue
            }
            let parser = RequestParser(limits: loop.state.parserLimits)
            let start = readStart
            let end = readEnd
            let result = buffer.withUnsafeBytes { raw in
                parser.parse(UnsafeRawBufferPointer(rebasing: raw[start..<end]), progress: &parseProgress,
                             reusing: &headStorage)
            }
            switch result {
            case .needMore:
                if readStart > 0 && readEnd == buffer.count { compact() }
                return
            case .reject(let status):
                respondWithoutSite(status)
                return
            case .complete(let head, let consumed):
                readStart += consumed
                handle(head)
                headStorage = RequestHead.Storage(reclaiming: head)
                if readStart < readEnd && discardRemaining == 0 {
                    headStartMs = loop.nowMs
                    requestStartMicros = monotonicMicroseconds()
                }
            }
        }
        if readStart == readEnd {
            readStart = 0
            readEnd = 0
        }
    }

    // MARK: - Requests

    private func handle(_ head: RequestHead) {
        let state = loop.state
        servedAny = true
        var keepAlive = head.isKeepAlive && !loop.isStopping
        if head.contentLength > state.config.limits.maxBodyBytes {
            mustLinger = true   // the body we refuse may still be arriving
            respond(.error(.contentTooLarge), head: head, site: nil, keepAlive: false, state: state)
            return
        }
        discardRemaining = head.contentLength
        if head.isAsteriskForm {
            var response = Response(status: .noContent)
            response.extraHeaders.append(("Allow", StaticFileMiddleware.allow))
            respond(response, head: head, site: nil, keepAlive: keepAlive, state: state)
            return
        }
        let siteIndex: Int
        if let hostRange = head.routingHostBytes {
            siteIndex = head.bytes.withUnsafeBufferPointer { state.router.route(hostHeader: UnsafeBufferPointer(rebasing: $0[hostRange])) }
        } else {
            siteIndex = state.config.defaultSiteIndex
        }
        let site = state.sites[siteIndex]
        let rawPath = head.bytes[head.path]
        let normalized = rawPath.isEmpty ? Result<String, HTTPStatus>.success("/") : PathNormalizer.normalize(rawPath)
        let response: Response
        switch normalized {
        case .failure(let status):
            response = .error(status)
            keepAlive = keepAlive && status != .badRequest
        case .success(let path):
            response = site.chain.respond(to: Request(head: head, path: path, site: site, client: client, files: loop.fileCache))
            if response.closesConnection { keepAlive = false }
        }
        respond(response, head: head, site: site, keepAlive: keepAlive, state: state)
    }

    /// Finalizes `response` and queues its bytes behind earlier responses.
    private func respond(_ response: consuming Response, head: RequestHead, site: Site?, keepAlive: Bool, state: ServerState) {
        var out = takeSpare()
        let encoding = response.contentEncoding
        let finalized = ResponseFinalizer.finalize(response, head: head, keepAlive: keepAlive, dates: &loop.dates, into: &out)
        let headLength = out.count
        enqueue(finalized.body, head: consume out)
        if !keepAlive { closeAfterWrite = true }
        if state.accessLog != nil {
            AccessLogRecorder.appendRow(for: head, site: site, client: clientUTF8, encoding: encoding,
                                        status: finalized.status.code, timeMicros: requestWallClockMicros(),
                                        to: &pendingLogs)
            inFlight.append(InFlight(total: headLength + finalized.bodyLength, headLength: headLength,
                                     startMicros: requestStartMicros))
        }
    }

    /// Answers a request the parser refused (or `OPTIONS *`-like requests without a
    /// site): an error page, `Connection: close`, then a lingering close.
    private func respondWithoutSite(_ status: HTTPStatus) {
        let state = loop.state
        var out = takeSpare()
        let bodyLength = ResponseFinalizer.writeBare(.error(status), keepAlive: false, versionMinor: 1, isHead: false,
                                                     dates: &loop.dates, into: &out)
        queueBytes(out, more: false)
        closeAfterWrite = true
        mustLinger = true
        readStart = 0
        readEnd = 0
        parseProgress = ParseProgress()
        if state.accessLog != nil {
            AccessLogRecorder.appendBareRow(client: clientUTF8, status: status.code, timeMicros: requestWallClockMicros(),
                                            to: &pendingLogs)
            inFlight.append(InFlight(total: out.count, headLength: out.count - bodyLength,
                                     startMicros: requestStartMicros))
        }
        flush()
    }

    /// `out` is consumed so appending the body reuses its buffer (a borrowed array
    /// copied here cost an allocation and a copy per response).
    private func enqueue(_ body: BodyPlan, head out: consuming [UInt8]) {
        switch body {
        case .none:
            queueBytes(out, more: false)
        case .bytes(let bytes, let range):
            if range.count <= Self.smallFileLimit {
                out.append(contentsOf: bytes[range])
                queueBytes(out, more: false)
            } else {
                queueBytes(out, more: true)
                queueShared(bytes, range)
            }
        case .file(let file, let range):
            if let contents = file.contents {
                out.append(contentsOf: contents[range])
                queueBytes(out, more: false)
            } else if range.count <= Self.smallFileLimit, appendFile(file, range, to: &out) {
                queueBytes(out, more: false)
            } else {
                queueBytes(out, more: true)
                queueFile(file, range)
            }
        case .multipart(let source, let parts, let closing):
            for part in parts {
                out.append(contentsOf: part.header)
                switch source {
                case .empty: break
                case .bytes(let bytes) where part.range.count > Self.smallFileLimit:
                    queueBytes(out, more: true)
                    queueShared(bytes, part.range)
                    out = []
                case .bytes(let bytes): out.append(contentsOf: bytes[part.range])
                case .file(let file):
                    if !appendFile(file, part.range, to: &out) {
                        queueBytes(out, more: true)
                        queueFile(file, part.range)
                        out = []
                    }
                }
            }
            out.append(contentsOf: closing)
            queueBytes(out, more: false)
        }
    }

    /// Reads a small file range into `out` with pread (one send instead of send + sendfile).
    private func appendFile(_ file: OpenFile, _ range: Range<Int>, to out: inout [UInt8]) -> Bool {
        guard range.count <= Self.smallFileLimit else { return false }
        let base = out.count
        out.reserveCapacity(base + range.count)
        out.append(contentsOf: repeatElement(0, count: range.count))
        var done = 0
        let ok = file.withDescriptor { fd in
            out.withUnsafeMutableBytes { raw -> Bool in
                while done < range.count {
                    let n = pread(fd, raw.baseAddress! + base + done, range.count - done, off_t(range.lowerBound + done))
                    if n < 0 && companion_errno() == EINTR { continue }
                    if n <= 0 { return false }
                    done += n
                }
                return true
            }
        }
        if !ok { out.removeLast(out.count - base) }
        return ok
    }

    private func takeSpare() -> [UInt8] {
        var out = spare
        spare = []
        out.removeAll(keepingCapacity: true)
        return out
    }

    private func queueBytes(_ bytes: [UInt8], more: Bool) {
        guard !bytes.isEmpty else { return }
        queuedBytes += bytes.count
        output.append(.bytes(bytes, offset: 0, end: bytes.count, more: more, owned: true))
    }

    /// Queues a range of a body that others hold too (a cache's array): by reference.
    private func queueShared(_ bytes: [UInt8], _ range: Range<Int>) {
        guard !range.isEmpty else { return }
        queuedBytes += range.count
        output.append(.bytes(bytes, offset: range.lowerBound, end: range.upperBound, more: false, owned: false))
    }

    private func queueFile(_ file: OpenFile, _ range: Range<Int>) {
        guard !range.isEmpty else { return }
        output.append(.file(file, offset: range.lowerBound, end: range.upperBound))
    }

    // MARK: - Writing

    /// Writes queued output until the socket would block or the queue is empty.
    func flush() {
        while !output.isEmpty && !isClosed {
            switch output[0] {
            case .bytes(let bytes, let offset, let end, let more, let owned):
                let flags = Int32(MSG_NOSIGNAL) | (more ? Int32(MSG_MORE) : 0)
                let result: IOResult<Int>
                do {
                    result = try bytes.withUnsafeBytes { raw throws(Errno) in
                        try Syscall.io("send") { send(fd, raw.baseAddress! + offset, end - offset, flags) }
                    }
                } catch {
                    close()
                    return
                }
                guard case .done(let n) = result else { return }
                lastActivityMs = loop.nowMs
                queuedBytes -= n
                account(n)
                if offset + n == end {
                    output.removeFirst()
                    if owned && bytes.capacity <= 64 * 1024 { spare = bytes }
                } else {
                    output[0] = .bytes(bytes, offset: offset + n, end: end, more: more, owned: owned)
                }
            case .file(let file, let offset, let end):
                var position = off_t(offset)
                let result: IOResult<Int>
                do {
                    result = try file.withDescriptor { fileFD throws(Errno) in
                        try Syscall.io("sendfile") { Glibc.sendfile(fd, fileFD, &position, min(end - offset, 1 << 21)) }
                    }
                } catch {
                    close()
                    return
                }
                guard case .done(let n) = result else { return }
                if n == 0 {
                    // The file shrank under us: the promised Content-Length cannot be met.
                    close()
                    return
                }
                lastActivityMs = loop.nowMs
                account(n)
                if offset + n >= end {
                    output.removeFirst()
                } else {
                    output[0] = .file(file, offset: offset + n, end: end)
                }
            }
        }
        if isClosed || !output.isEmpty { return }
        if closeAfterWrite {
            // Like nginx's `lingering_close on`: linger only when the client may still be
            // sending (an error answered before its request was read, or bytes left in our
            // buffer); a plain `Connection: close` exchange closes at once.
            if mustLinger || readEnd > readStart || discardRemaining > 0 || peerClosed == false && socketMayHaveData {
                startLingeringClose()
            } else {
                close()
            }
            return
        }
        // Requests that arrived before a FIN are still answered, then the connection closes.
        if readStart < readEnd { processBuffer() }
        if !output.isEmpty {
            flush()
        } else if peerClosed {
            close()
        } else if socketMayHaveData {
            readAvailable()
        }
    }

    /// Attributes `count` written bytes to the responses in flight and logs completed ones.
    private func account(_ count: Int) {
        guard !inFlight.isEmpty else { return }
        var remaining = count
        while remaining > 0, !inFlight.isEmpty {
            let need = inFlight[0].total - inFlight[0].sent
            let take = min(need, remaining)
            inFlight[0].sent += take
            remaining -= take
            if inFlight[0].sent == inFlight[0].total { completeLog(inFlight.removeFirst()) }
        }
    }

    private func completeLog(_ entry: InFlight) {
        pendingLogs.moveFirstRow(to: &loop.completedLogs, bytes: max(0, entry.sent - entry.headLength),
                                 durationMicros: Int(max(0, monotonicMicroseconds() - entry.startMicros)))
    }

    // MARK: - Closing and timeouts

    /// SECURITY/robustness: after an error response we stop reading requests but keep
    /// draining what the client still sends for a moment, so the kernel does not
    /// answer unread bytes with a RST that would destroy our response in flight.
    private func startLingeringClose() {
        lingering = true
        shutdown(fd, Int32(SHUT_WR))
        readStart = 0
        readEnd = 0
        deadline = loop.nowMs + 2000
        loop.schedule(self)
        drainLingering()
    }

    /// Bytes a lingering close reads (and drops) in one loop turn, and in all: a client
    /// that keeps its socket full must not hold the loop thread (issue 9 #7). Stopping
    /// before EAGAIN is safe with edge-triggered epoll: every new segment that arrives
    /// raises a new edge, and a client that went quiet is closed at the linger deadline.
    static let lingerBytesPerTurn = 64 * 1024
    static let lingerBytesTotal = 1 << 20
    private var lingeredBytes = 0

    /// Reads and drops what the client still sends, within the budgets; closes at EOF, on
    /// an error or when the total budget is spent.
    private func drainLingering() {
        var thisTurn = 0
        while thisTurn < Self.lingerBytesPerTurn {
            let n = buffer.withUnsafeMutableBytes { raw in Glibc.read(fd, raw.baseAddress!, raw.count) }
            if n > 0 {
                thisTurn += n
                lingeredBytes += n
                if lingeredBytes >= Self.lingerBytesTotal { break }
                continue
            }
            if n < 0 && companion_errno() == EINTR { continue }
            if n < 0 && companion_errno() == EAGAIN { return }
            break   // EOF or an error
        }
        if thisTurn < Self.lingerBytesPerTurn || lingeredBytes >= Self.lingerBytesTotal { close() }
    }

    /// Recomputes the connection's deadline from its state and tells the loop.
    func updateDeadline() {
        guard !isClosed, !lingering else { return }
        let limits = loop.state.config.limits
        let next: Int64
        if !output.isEmpty {
            next = lastActivityMs + Int64(limits.idleTimeoutMs)
        } else if readEnd > readStart || discardRemaining > 0 {
            next = headStartMs + Int64(limits.headerTimeoutMs)
        } else {
            next = lastActivityMs + Int64(servedAny ? limits.idleTimeoutMs : limits.headerTimeoutMs)
        }
        deadline = next
        loop.schedule(self)
    }

    /// Called by the loop when `deadline` has passed.
    func deadlineExpired() {
        if lingering || !output.isEmpty {
            close()
        } else if readEnd > readStart {
            respondWithoutSite(.requestTimeout)   // some bytes of a head arrived: 408
        } else {
            close()   // nothing of a request arrived: a silent close
        }
    }

    /// The wall-clock time at which the current request's first byte was read (the loop
    /// keeps the wall-minus-monotonic offset, so this costs no clock read).
    private func requestWallClockMicros() -> Int64 {
        requestStartMicros + loop.wallClockOffsetMicros
    }

    /// Graceful shutdown: idle connections close now; busy ones finish their
    /// current response and then close.
    func beginShutdown() {
        if output.isEmpty && readEnd == readStart {
            close()
        } else {
            closeAfterWrite = true
        }
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        for entry in inFlight { completeLog(entry) }
        inFlight.removeAll()
        output.removeAll()
        Glibc.close(fd)
        loop.connectionClosed(self)
    }
}
