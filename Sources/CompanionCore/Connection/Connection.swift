// Connection: one client socket, owned by one EventLoop thread. It carries out what its
// state machine (ConnectionStateMachine.swift) decides, one step at a time: read into the
// ReadBuffer through the transport, parse a head in place and have the RequestDispatcher
// answer it, queue the finalized response in the OutputQueue, write, linger, close. What
// was queued and what was written is reported back to the machine as events. A response
// whose body is made off the loop (a listing, DeferredPage.swift) is parked until its page
// arrives; nothing behind it is parsed meanwhile.
//
// Pieces, one file each: Transport (the byte stream: plain TCP, or TLS through TLSSession), ReadBuffer,
// OutputQueue (with back-pressure), ResponseLog (access-log rows waiting for their byte
// counts), ConnectionStateMachine (states, deadlines, what to do next), BufferPool (the
// loop's spare buffers, which idle connections give back).
import CLinux
import Glibc

final class Connection {
    let token: UInt64
    /// The peer's address, or the one its PROXY protocol header gave.
    private(set) var client: String
    /// `client` as bytes, for access-log rows; made at the first logged response.
    private lazy var clientUTF8: [UInt8] = Array(client.utf8)
    /// A PROXY protocol listener's connection before its header was read (nothing else is
    /// read until then; see readProxyHeader).
    private var awaitingProxyHeader: Bool
    /// unowned(unsafe): the loop owns its connections (its `connections` table) and
    /// outlives them, and a checked `unowned` reference cost a retain and release on
    /// every access (measured ~1% of a small-file request).
    unowned(unsafe) let loop: EventLoop

    // @exclusivity(unchecked) on the stored properties below: they are only touched by the
    // loop thread, and never by overlapping inout accesses (no method passes one of them
    // inout while calling back into this object), so the runtime's dynamic exclusivity
    // check on each access (~7% of the loop's instructions under callgrind) guards nothing.
    @exclusivity(unchecked) private var transport: SocketTransport
    @exclusivity(unchecked) private var machine: ConnectionStateMachine
    @exclusivity(unchecked) private var input = ReadBuffer()
    @exclusivity(unchecked) private var output = OutputQueue()
    @exclusivity(unchecked) private var log = ResponseLog()
    /// Body bytes of an answered request still to be skipped as they arrive.
    private var bodyToSkip = 0
    /// The site the last plain request's Host was routed to (RoutingMemo.swift). Unchecked:
    /// passed inout once a request, on the loop's thread, never while another access is
    /// open (the dynamic check cost ~90 instructions a request).
    @exclusivity(unchecked) private var routing = RoutingMemo()
    /// How far the parser got in the incomplete head at the front of `input`.
    @exclusivity(unchecked) private var parseProgress = ParseProgress()
    /// The arrays of the last finished request head, reused by the next parse (in place).
    @exclusivity(unchecked) private var headStorage = RequestHead.Storage()
    /// Monotonic time of the current request's first byte, for the log's time and duration.
    private var requestStartMicros: Int64 = 0
    /// Bytes dropped by a lingering close so far.
    private var lingeredBytes = 0
    /// The socket is closed (the machine may have decided so earlier).
    private var closedSocket = false
    /// The last bytes went with MSG_MORE (`OutputQueue.writeSome`'s `finFollows`): the close
    /// shuts the write side first, so they leave with the FIN even when unread input would
    /// make close(2) send a reset and drop what the kernel still holds.
    private var heldForFIN = false
    /// Accepted on the admin listener: answered by AdminEndpoints, not logged, not counted.
    let isAdmin: Bool
    /// A response whose body is being rendered off the loop (DeferredPage.swift): nothing
    /// more is parsed or read until it is filled in and queued, so responses stay in order.
    private var parked: Parked?

    /// A class: `parked != nil` is asked on every step of `run`, and testing an optional
    /// struct this size copied it each time (memcpy showed up in callgrind).
    private final class Parked {
        var response: Response
        let head: RequestHead
        let site: Site?
        let keepAlive: Bool
        let startMicros: Int64
        let forwarded: ForwardedClient?

        init(response: Response, head: RequestHead, site: Site?, keepAlive: Bool, startMicros: Int64,
             forwarded: ForwardedClient?) {
            self.forwarded = forwarded
            self.response = response
            self.head = head
            self.site = site
            self.keepAlive = keepAlive
            self.startMicros = startMicros
        }
    }

    // Deadlines (see Deadlines.swift): `deadline` is current; `heapEntryAt` is the
    // time of this connection's single entry in the loop's heap, if any.
    var deadline: Int64 = 0
    var heapEntryAt: Int64?

    /// Bytes a lingering close reads (and drops) in one loop turn, and in all: a client that
    /// keeps its socket full must not hold the loop thread. Stopping before EAGAIN is safe
    /// with edge-triggered epoll: every new segment raises a new edge, and a client that
    /// went quiet is closed at the linger deadline.
    static let lingerBytesPerTurn = 64 * 1024
    static let lingerBytesTotal = 1 << 20

    var fd: Int32 { transport.descriptor }
    var isClosed: Bool { machine.isClosed }

    init(fd: Int32, token: UInt64, client: String, loop: EventLoop, now: Int64, tls: TLSSession? = nil,
         admin: Bool = false, proxyProtocol: Bool = false) {
        self.transport = SocketTransport(descriptor: fd, tls: tls)
        self.isAdmin = admin
        self.awaitingProxyHeader = proxyProtocol
        self.token = token
        self.client = client
        self.loop = loop
        self.machine = ConnectionStateMachine(now: now)
    }

    // MARK: - Driving the state machine

    func handleEvents(_ events: IOEvents) {
        if awaitingProxyHeader {
            readProxyHeader()
            if awaitingProxyHeader || closedSocket { return }
        }
        var readable = events.contains(.readable)
        var writable = events.contains(.writable)
        if let tls = transport.tls {
            // OpenSSL may need the other direction: a read that must first write (a handshake
            // message into a full socket) waits for writability, and the reverse.
            if tls.readWantsWrite && writable { readable = true }
            if tls.writeWantsRead && readable { writable = true }
        }
        machine.readinessChanged(readable: readable, writable: writable,
                                 hangup: events.contains(.hangup) || events.contains(.error))
        runTurn(loop)
    }

    /// Bytes a connection writes in one turn before the loop moves on to the others (what
    /// lighttpd writes a connection a round). Writing until EAGAIN, one sendfile could put a
    /// whole 1 MiB body into the socket at once, ~375 µs a call against lighttpd's ~25 µs for
    /// each of its 256 KiB, and on loopback (server on one core, wrk on the other) the 1 MiB
    /// cell fell to 2.1-3.0k responses a second in some runs (lighttpd 5.8-7.4k) and the
    /// 64 MiB one ran at 30-34 a second (lighttpd 54). With 256 KiB a turn: 5.5-6.4k in
    /// every run, and 45-53; with 128 KiB about the same; with 1 MiB the slow runs again.
    static let writeBytesPerTurn = 256 * 1024
    /// What this turn may still write.
    private var writeBudget = Connection.writeBytesPerTurn
    /// In the loop's `writeAgain` list: its budget ran out with the socket still writable.
    var isQueuedToWrite = false

    /// Called by the loop in the turn after the budget ran out (the socket was still
    /// writable, so no edge will come for it).
    func continueWriting() {
        isQueuedToWrite = false
        guard !machine.isClosed else { return }
        runTurn(loop)
    }

    /// `run` with this turn's write budget: every way into a turn (socket events, the turn
    /// after the budget ran out, a deferred page) starts here.
    private func runTurn(_ loop: EventLoop) {
        writeBudget = Self.writeBytesPerTurn
        run(loop)
    }

    private var buffers: ConnectionStateMachine.Buffers {
        ConnectionStateMachine.Buffers(outputPending: !output.isEmpty, backPressured: output.isBackPressured,
                                       partialHead: !input.isEmpty, inputPending: !input.isEmpty || bodyToSkip > 0,
                                       awaitingResponse: parked != nil)
    }

    /// Carries out the machine's actions until it waits for the socket or closes.
    ///
    /// `loop` is `self.loop`, passed down the request's path as an argument: the caller's
    /// reference is borrowed for the call, where a `let loop = self.loop` in each step
    /// retained and released it (three times a request under callgrind).
    private func run(_ loop: EventLoop) {
        while true {
            switch machine.nextAction(buffers, now: loop.nowMs) {
            case .parse: parseNext(loop)
            case .write:
                if writeBudget <= 0 {
                    if !isQueuedToWrite {
                        isQueuedToWrite = true
                        loop.writeAgain.append(self)
                        loop.metrics.yieldedWriteTurn()
                    }
                    updateDeadline()
                    return
                }
                writeNext(loop)
            case .read: readNext(loop)
            case .startLingering: startLingering()
            case .drainLingering: drainLingering()
            case .close:
                close()
                return
            case .wait:
                // With more connections than the pool holds, every wait gives the buffers
                // back, so memory follows the connections that are busy, not those that are
                // open (5,000 idle keep-alive connections: 6.6 KB -> 1 KB each). With fewer,
                // they stay (the churn cost ~400 instructions a request) until the sweep.
                if loop.connectionCount > BufferPool.maxKept { releaseIdleBuffers() }
                updateDeadline()
                return
            }
        }
    }

    /// Called by the loop's once-a-second sweep: a connection that has waited with nothing
    /// buffered for at least `idleMs` gives its buffers back (BufferPool.swift). Returns true
    /// when it released something.
    func releaseBuffersIfIdle(now: Int64, idleMs: Int64) -> Bool {
        guard !closedSocket, parked == nil, machine.lastActivityMs <= now - idleMs,
              input.isEmpty, bodyToSkip == 0, output.isEmpty, input.hasStorage || output.hasSpare || log.hasRows
        else { return false }
        releaseIdleBuffers()
        return true
    }

    /// The read buffer, the spare head buffer and the log rows' buffer go back to the loop's pool.
    private func releaseIdleBuffers() {
        input.release(to: &loop.bufferPool)   // only when nothing is buffered
        output.release(to: &loop.bufferPool)
        log.release(to: &loop.bufferPool)
    }

    // MARK: - The PROXY protocol header

    /// Reads the PROXY protocol header that starts a connection of a `proxyProtocol` listener:
    /// peeks at the socket, parses (ProxyProtocolHeader), then consumes exactly the header, so
    /// what follows (a TLS handshake, a request) stays in the socket for the transport. A
    /// malformed header, or a connection that ends first, is closed without an answer (the
    /// PROXY protocol's rule: the other side is not speaking it); one that stalls meets the
    /// header timeout. The header's source address becomes the client.
    private func readProxyHeader() {
        var peeked = [UInt8](repeating: 0, count: ProxyProtocolHeader.maxLength)
        let n = peeked.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_PEEK)) }
        if n < 0 && (errno == EAGAIN || errno == EINTR) { return }
        guard n > 0 else {
            close()
            return
        }
        switch ProxyProtocolHeader.parse(peeked[0..<n]) {
        case .needMore:
            if n == peeked.count { close() }   // cannot happen for a valid header; bounded anyway
        case .invalid:
            close()
        case .complete(let length, let source):
            let consumed = peeked.withUnsafeMutableBytes { recv(fd, $0.baseAddress, length, 0) }
            guard consumed == length else {
                close()
                return
            }
            if let source { client = source.text }
            awaitingProxyHeader = false
        }
    }

    // MARK: - Reading

    private var maxBufferSize: Int {
        let limits = loop.parserLimits
        return limits.maxRequestLineBytes + limits.maxHeaderBytes + 4096
    }

    private func readNext(_ loop: EventLoop) {
        guard input.makeRoom(limit: maxBufferSize, pool: &loop.bufferPool) else {
            answerWithoutSite(.requestHeaderFieldsTooLarge)
            return
        }
        let startsHead = input.isEmpty && bodyToSkip == 0
        let (result, short) = input.read(from: &transport)
        switch result {
        case .bytes(let count):
            if startsHead { headStarted() }
            machine.read(count, short: transport.readDrained(short: short), now: loop.nowMs)
        case .wouldBlock: machine.readWouldBlock()
        case .endOfStream: machine.readEndOfStream()
        case .failed: machine.failed()
        }
    }

    private func headStarted() {
        machine.headStarted(now: loop.nowMs)
        requestStartMicros = monotonicMicroseconds()
    }

    /// Skips refused body bytes, then parses and answers the request at the front of the buffer.
    private func parseNext(_ loop: EventLoop) {
        if bodyToSkip > 0 {
            let take = min(bodyToSkip, input.count)
            input.consume(take)
            bodyToSkip -= take
            if bodyToSkip == 0 && !input.isEmpty { headStarted() }
        }
        if input.isEmpty {
            machine.parseNeedsMore()
            return
        }
        let parser = RequestParser(limits: loop.parserLimits)
        // Parsed into a local head that holds the last head's arrays, answered from there, and
        // its arrays kept again for the next one.
        var head = RequestHead(reusing: &headStorage)
        let step = input.withUnconsumed { parser.parse($0, progress: &parseProgress, into: &head) }
        switch step {
        case .needMore:
            headStorage.reclaim(&head)
            input.compactIfFull()
            machine.parseNeedsMore()
        case .reject(let status):
            headStorage.reclaim(&head)
            answerWithoutSite(status)
        case .complete(let consumed):
            input.consume(consumed)
            answer(head, loop: loop)
            headStorage.reclaim(&head)
            if !input.isEmpty && bodyToSkip == 0 { headStarted() }
        }
    }

    // MARK: - Answering

    private var security: ConnectionSecurity {
        guard let tls = transport.tls else { return .plain }
        return ConnectionSecurity(isSecure: true, serverNameSite: tls.serverNameSite, forwardedHTTPS: false)
    }

    /// What this connection is doing, for the `companion_connections` gauge.
    var activity: ConnectionActivity {
        if case .lingering = machine.state { return .lingering }
        if awaitingProxyHeader { return .reading }
        if let tls = transport.tls, !tls.handshakeDone { return .handshake }
        if !output.isEmpty || parked != nil { return .writing }
        if !input.isEmpty || bodyToSkip > 0 { return .reading }
        return .idle
    }

    private func answer(_ head: RequestHead, loop: EventLoop) {
        let state = loop.state
        var templateFor: FileCache.Entry?
        if !isAdmin && state.config.trustedProxies.isEmpty,
           let plain = RequestDispatcher.plainRequest(head, state: state, files: loop.fileCache, security: security,
                                                      routing: &routing) {
            switch plain {
            case .template(let template, let file, let site):
                answer(head, from: template, file: file, site: site, state: state, loop: loop)
                return
            case .noTemplateYet(let entry):
                templateFor = entry
            }
        }
        // Behind trusted proxies the client and scheme come from X-Forwarded-For/-Proto.
        let forwarded = state.config.trustedProxies.isEmpty || isAdmin
            ? nil : ForwardedHeaders.resolve(head, peer: client, trusted: state.config.trustedProxies)
        var security = self.security
        if forwarded?.https == true { security.forwardedHTTPS = true }
        var dispatched = isAdmin
            ? RequestDispatcher.dispatchAdmin(head, state: state, stopping: loop.isStopping)
            : RequestDispatcher.dispatch(head, client: forwarded?.client ?? client, state: state, files: loop.fileCache,
                                         stopping: loop.isStopping, security: security)
        bodyToSkip = dispatched.bodyToSkip
        // The response is moved out (an empty one left in its place): passed on as a field of
        // `dispatched`, which is read again below, it was copied whole (~400 instructions).
        var response = Response(status: .ok)
        swap(&response, &dispatched.response)
        if let deferred = response.deferred {
            if loop.renderInBackground(deferred, for: self) {
                parked = Parked(response: response, head: head, site: dispatched.site,
                                keepAlive: dispatched.keepAlive, startMicros: requestStartMicros, forwarded: forwarded)
            } else {
                queue(StaticFileMiddleware.unavailable(), head: head, site: dispatched.site,   // the queue is full
                      keepAlive: dispatched.keepAlive, state: state, startMicros: requestStartMicros, forwarded: forwarded,
                      loop: loop)
            }
        } else {
            queue(consume response, head: head, site: dispatched.site, keepAlive: dispatched.keepAlive, state: state,
                  startMicros: requestStartMicros, forwarded: forwarded, templateFor: templateFor, loop: loop)
        }
        machine.requestAnswered(keepAlive: dispatched.keepAlive, linger: dispatched.linger)
    }

    /// Answers a plain request from its template (ResponseTemplate.swift): the same bytes the
    /// chain and the finalizer wrote for it, with the current Date. `file`: the 200's body
    /// (nil: a 404, whose page the template holds).
    private func answer(_ head: RequestHead, from template: ResponseTemplate, file: OpenFile?, site: Site, state: ServerState,
                        loop: EventLoop) {
        bodyToSkip = 0
        loop.metrics.answeredFromTemplate()
        let keepAlive = head.isKeepAlive && !loop.isStopping
        var out = output.takeSpare(pool: &loop.bufferPool)
        template.write(into: &out, date: loop.dates.dateBytes,
                       connectionLine: ResponseFinalizer.connectionLine(keepAlive: keepAlive, versionMinor: head.versionMinor))
        let headLength = out.count
        // A body in memory goes behind the head here, as OutputQueue.enqueue would copy it:
        // handed over as a body plan, the file or page was retained and released on its way
        // (~25 instructions a request under callgrind).
        let finalized = if head.method == .head {
            FinalizedResponse(status: template.status, body: .none, bodyLength: 0)
        } else if let file {
            if file.appendContents(to: &out) {
                FinalizedResponse(status: template.status, body: .none, bodyLength: file.size)
            } else {
                FinalizedResponse(status: template.status, body: .file(file, 0..<file.size), bodyLength: file.size)
            }
        } else if template.page.count <= OutputQueue.smallBodyLimit {
            FinalizedResponse(status: template.status, body: .none, bodyLength: appendPage(template, to: &out))
        } else {
            FinalizedResponse(status: template.status, body: .bytes(template.page, 0..<template.page.count),
                              bodyLength: template.page.count)
        }
        send(consume out, finalized, headLength: headLength, head: head, site: site, encoding: nil, state: state,
             startMicros: requestStartMicros, loop: loop)
        machine.requestAnswered(keepAlive: keepAlive, linger: false)
    }

    /// The page of the parked response arrived (on the loop thread, through its mailbox).
    func deferredPageArrived(_ page: RenderedPage) {
        guard let waiting = parked, let deferred = waiting.response.deferred else { return }
        parked = nil
        deferred.fill(&waiting.response, page)
        waiting.response.deferred = nil
        let loop = self.loop
        queue(waiting.response, head: waiting.head, site: waiting.site, keepAlive: waiting.keepAlive,
              state: loop.state, startMicros: waiting.startMicros, forwarded: waiting.forwarded, loop: loop)
        runTurn(loop)
    }

    /// Finalizes `response` and queues its bytes behind earlier responses.
    /// `templateFor`: the cache entry of a plain request's path, which keeps the head written
    /// here as its template when the response is that file's 200 or the 404 of a path that
    /// resolved to nothing.
    private func queue(_ response: consuming Response, head: RequestHead, site: Site?, keepAlive: Bool,
                       state: ServerState, startMicros: Int64, forwarded: ForwardedClient? = nil,
                       templateFor entry: FileCache.Entry? = nil, loop: EventLoop) {
        var out = output.takeSpare(pool: &loop.bufferPool)
        let encoding = response.contentEncoding
        let body = entry == nil ? nil : response.body
        let finalized = ResponseFinalizer.finalize(consume response, head: head, keepAlive: keepAlive, dates: &loop.dates, into: &out)
        if let entry, let site, let body, encoding == nil {
            keepTemplate(for: entry, head: head, keepAlive: keepAlive, site: site, status: finalized.status, body: body, written: out[...])
        }
        send(consume out, finalized, head: head, site: site, encoding: encoding, state: state,
             startMicros: startMicros, forwarded: forwarded, loop: loop)
    }

    /// Keeps `written`, the head of `entry`'s plain answer, as the entry's template when the
    /// answer is what the entry says: its file's 200, or the 404 of a path that resolves to
    /// nothing (a file changed between the two lookups gives another answer, and no template).
    private func keepTemplate(for entry: FileCache.Entry, head: RequestHead, keepAlive: Bool, site: Site,
                              status: HTTPStatus, body: ResponseBody, written: ArraySlice<UInt8>) {
        let file: OpenFile?
        let page: [UInt8]
        switch (entry.result, status, body) {
        case (.success(let cached), .ok, .file(let served)) where cached === served:
            (file, page) = (served, [])
        case (.failure(.notFound), .notFound, .bytes(let bytes)):
            (file, page) = (nil, bytes)
        default:
            return
        }
        entry.template = ResponseTemplate(
            head: written, connectionLine: ResponseFinalizer.connectionLine(keepAlive: keepAlive, versionMinor: head.versionMinor),
            site: site, https: security.isHTTPS, status: status, file: file, contentType: entry.contentType, page: page,
            dates: loop.dates)
    }

    /// Appends a template's page (a 404's) to `out`; its length.
    private func appendPage(_ template: ResponseTemplate, to out: inout [UInt8]) -> Int {
        out.append(contentsOf: template.page)
        return template.page.count
    }

    /// Queues a finalized response (`out` holds its head, and the body when it is already
    /// behind the head: `headLength` then says where the head ends) and accounts for it:
    /// metrics and the access-log row.
    private func send(_ out: consuming [UInt8], _ finalized: FinalizedResponse, headLength: Int? = nil, head: RequestHead,
                      site: Site?, encoding: String?, state: ServerState, startMicros: Int64,
                      forwarded: ForwardedClient? = nil, loop: EventLoop) {
        let headLength = headLength ?? out.count
        output.enqueue(finalized.body, head: consume out, fillRecord: transport.tls != nil)
        guard !isAdmin else { return }
        loop.metrics.recordResponse(siteSlot: site?.metricsSlot ?? 0, status: finalized.status.code,
                                    bytes: headLength + finalized.bodyLength,
                                    durationMicros: monotonicMicroseconds() - startMicros)
        guard state.accessLog != nil else { return }
        let client = forwarded?.client.map { Array($0.utf8) } ?? clientUTF8
        let tlsVersion = transport.tls?.protocolVersion
        let https = tlsVersion != nil || forwarded?.https == true
        log.append(total: headLength + finalized.bodyLength, headLength: headLength, startMicros: startMicros,
                   pool: &loop.bufferPool) {
            AccessLogRecorder.appendRow(for: head, site: site, client: client, encoding: encoding, https: https, tlsVersion: tlsVersion,
                                        status: finalized.status.code, timeMicros: wallClockMicros(from: startMicros), to: &$0)
        }
    }

    /// Answers a head the parser refused, one that grew too large or timed out: an error page
    /// with `Connection: close`, then a lingering close. Nothing more is read as requests.
    private func answerWithoutSite(_ status: HTTPStatus) {
        var out = output.takeSpare(pool: &loop.bufferPool)
        let bodyLength = ResponseFinalizer.writeBare(.error(status), keepAlive: false, versionMinor: 1, isHead: false,
                                                     dates: &loop.dates, into: &out)
        let total = out.count
        output.append(out, more: false)
        input.clear()
        parseProgress = ParseProgress()
        machine.requestRejected()
        guard !isAdmin else { return }
        loop.metrics.recordResponse(siteSlot: 0, status: status.code, bytes: total,
                                    durationMicros: monotonicMicroseconds() - requestStartMicros)
        guard loop.state.accessLog != nil else { return }
        let client = clientUTF8
        let tlsVersion = transport.tls?.protocolVersion
        log.append(total: total, headLength: total - bodyLength, startMicros: requestStartMicros,
                   pool: &loop.bufferPool) {
            AccessLogRecorder.appendBareRow(client: client, tlsVersion: tlsVersion, status: status.code, timeMicros: wallClockMicros(from: requestStartMicros),
                                            to: &$0)
        }
    }

    /// The wall-clock time of a monotonic `startMicros` (the loop keeps the wall-minus-monotonic
    /// offset, so this costs no clock read).
    private func wallClockMicros(from startMicros: Int64) -> Int64 {
        startMicros + loop.wallClockOffsetMicros
    }

    // MARK: - Writing

    private func writeNext(_ loop: EventLoop) {
        let finFollows = machine.closesAfterOutput && parked == nil
        switch output.writeSome(to: &transport, pool: &loop.bufferPool, finFollows: finFollows, maxFileBytes: writeBudget) {
        case .wrote(let count):
            writeBudget -= count
            if finFollows && output.isEmpty { heldForFIN = true }
            machine.wrote(now: loop.nowMs)
            log.wrote(count, completing: &loop.completedLogs)
        case .wouldBlock:
            machine.writeWouldBlock()
        case .failed:
            machine.failed()
        }
    }

    // MARK: - Lingering close, timeouts, closing

    private func startLingering() {
        transport.shutdownWrite()
        heldForFIN = false
        input.clear()
        updateDeadline()
    }

    private func drainLingering() {
        let budget = min(Self.lingerBytesPerTurn, Self.lingerBytesTotal - lingeredBytes)
        let (dropped, last) = input.drain(from: &transport, budget: budget, pool: &loop.bufferPool)
        lingeredBytes += dropped
        switch last {
        case .wouldBlock:
            machine.lingerDrained(.paused)
        case .bytes where lingeredBytes < Self.lingerBytesTotal:
            machine.lingerDrained(.paused)   // this turn's budget is spent
        default:
            machine.lingerDrained(.finished)   // EOF, an error, or the total budget
        }
    }

    /// Recomputes the connection's deadline from its state and tells the loop.
    func updateDeadline() {
        guard !machine.isClosed else { return }
        let limits = loop.state.config.limits
        deadline = machine.deadline(buffers, timeouts: .init(headerMs: limits.headerTimeoutMs, idleMs: limits.idleTimeoutMs))
        loop.schedule(self)
    }

    /// Called by the loop when `deadline` has passed.
    func deadlineExpired() {
        switch machine.deadlinePassed(buffers) {
        case .close: break
        case .answerRequestTimeout: answerWithoutSite(.requestTimeout)   // some bytes of a head arrived: 408
        }
        run(loop)
    }

    /// Graceful shutdown: idle connections close now; busy ones finish their current
    /// response and then close.
    func beginShutdown() {
        machine.shutdownRequested(buffers)
        run(loop)
    }

    /// Closes the socket now (also used by the loop when the shutdown grace period ends).
    func close() {
        guard !closedSocket else { return }
        closedSocket = true
        machine.closed()
        log.completeAll(into: &loop.completedLogs)
        output.removeAll()
        input.clear()
        parked = nil
        releaseIdleBuffers()   // for the next connection of this loop
        if heldForFIN { transport.shutdownWrite() }
        transport.close()
        loop.connectionClosed(self)
    }
}
