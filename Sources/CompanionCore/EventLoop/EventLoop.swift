// EventLoop: one thread, one EpollBackend, the server's listeners (shared, EPOLLEXCLUSIVE),
// connections, deadline heap and Date cache. Nothing inside a loop is locked:
// other threads talk to it only through `post(_:)` (a `Locked` mailbox
// plus an eventfd wake-up), which is how reloads and shutdown arrive.
import CLinux
import Glibc

/// Messages other threads send to a loop.
enum LoopMessage: Sendable {
    /// Serve new requests with this state; `applied` is told when this loop has switched.
    case reload(ServerState, applied: Countdown)
    case stop(graceMilliseconds: Int)
    /// A page rendered on the BackgroundQueue for this loop's connections.
    /// A page rendered off the loop, for the file cache's generation when it was asked for.
    case rendered(DeferredPage, RenderedPage, generation: UInt64)
}

final class EventLoop: @unchecked Sendable {
    // @unchecked Sendable: created on the main thread and then used only by its own
    // thread (inside `run()`), except `post(_:)`, which goes through `mailbox`
    // (a `Locked`) and `backend.wake()` (an eventfd write, safe from any thread).
    let index: Int
    private let backend: EpollBackend
    private let mailbox = Locked<[LoopMessage]>([])
    private var listeners: [Listener]
    private var acceptPausedUntil: Int64?
    private var loggedAcceptError = false

    /// Connections by fd; a slot's generation is packed into the token.
    // @exclusivity(unchecked): loop-thread state, never accessed inout while another
    // access to it is open (see Connection for the measured cost of the checks).
    @exclusivity(unchecked) private var connections: [Connection?] = []
    private var generation: UInt64 = 0
    private(set) var connectionCount = 0
    @exclusivity(unchecked) private var deadlines = DeadlineHeap()

    private(set) var state: ServerState { didSet { parserLimits = state.parserLimits } }
    /// `state.parserLimits`, read by every parse without retaining the state for it.
    private(set) var parserLimits: ParserLimits
    /// File bytes on their way into SSL_write, for all of this loop's TLS connections.
    private(set) lazy var tlsScratch = TLSScratch()
    @exclusivity(unchecked) var dates = DateCache()
    /// Access-log rows completed during this loop turn (connections move their rows
    /// here); handed to the writer in one batch at the end of the turn (one lock per
    /// turn instead of one per request).
    @exclusivity(unchecked) var completedLogs = AccessLogQueue()
    /// Buffers of connections that are waiting idle (see BufferPool.swift).
    @exclusivity(unchecked) var bufferPool = BufferPool()
    /// Renders pages off the loop (shared by all loops); nil renders them here.
    private let background: BackgroundQueue?
    /// Pages being rendered on `background`: the tokens of the connections waiting for each.
    private var pendingPages: [PendingPage: [UInt64]] = [:]

    /// A page being rendered: which one, and the file cache's generation when it was asked
    /// for (a request after a change waits for a rendering that started after it).
    private struct PendingPage: Hashable {
        let key: FileCache.Key
        let generation: UInt64
    }

    /// Resolved files of this loop's requests (see FileCache.swift).
    let fileCache: FileCache
    /// This loop's counters for /metrics (written only here).
    let metrics: LoopMetrics
    private(set) var nowMs: Int64 = monotonicMilliseconds()
    /// Wall clock minus monotonic clock, in microseconds, refreshed every loop turn:
    /// turns a request's monotonic start into its wall-clock time without a clock read.
    private(set) var wallClockOffsetMicros: Int64 = wallClockMicroseconds() - monotonicMicroseconds()
    private(set) var isStopping = false
    private var stopDeadline: Int64 = 0

    private static let listenerTokenBase: UInt64 = 1 << 62
    /// The file cache's inotify descriptor (connections' tokens stay below 1 << 62; the
    /// backend's own wake-up is `UInt64.max`).
    private static let watcherToken: UInt64 = 1 << 63

    /// When the file cache next drops its expired entries (and their descriptors).
    private var nextCacheSweepMs: Int64 = 0

    init(index: Int, state: ServerState, listeners: [Listener], metrics: LoopMetrics = LoopMetrics(),
         fileCacheMilliseconds: Int, fileCacheWatches: Bool = true, fileCacheEntries: Int = 512, fileWatchLimit: Int = 4096,
         background: BackgroundQueue? = nil) throws(Errno) {
        self.index = index
        self.metrics = metrics
        self.background = background
        self.fileCache = FileCache(ttlMilliseconds: fileCacheMilliseconds, maxEntries: fileCacheEntries, watches: fileCacheWatches,
                                   watchLimit: fileWatchLimit, metrics: metrics)
        self.state = state
        self.parserLimits = state.parserLimits
        self.listeners = listeners
        self.backend = try EpollBackend()
        for (i, listener) in listeners.enumerated() {
            try backend.registerListener(fd: listener.fd, token: Self.listenerTokenBase | UInt64(i))
        }
    }

    /// Hands a message to the loop from any thread.
    func post(_ message: LoopMessage) {
        mailbox.withLock { $0.append(message) }
        backend.wake()
    }

    /// Runs until a `.stop` message has been handled and every connection is done
    /// (or the grace period ended).
    func run() {
        dates.refresh()
        while true {
            nowMs = monotonicMilliseconds()
            let timeout = nextTimeout()
            registerFileWatcherIfNew()
            do {
                try backend.wait(timeoutMilliseconds: timeout, before: { ready in
                    // The clock is read again when the wait returns, before the first event is
                    // handled: `nowMs` from before a one-second wait made a connection accepted
                    // after it start its header timeout up to a second early.
                    let nowMicros = refreshClocks()
                    // Before this turn's requests: a file changed before they arrived is seen by
                    // them. The watcher's descriptor is in the wait: when it is not in a complete
                    // list, nothing is pending, and no read(2) is needed to know it.
                    if watcher.registered != nil && !ready.isFull && !ready.contains(token: Self.watcherToken) {
                        fileCache.noteNoChangesPending(now: nowMicros)
                    } else {
                        metrics.turnReadFileChanges()
                        fileCache.applyChanges(now: nowMicros)
                    }
                }) { token, events in
                    dispatch(token, events)
                }
            } catch {
                writeLineToStandardError("companion: loop \(index): \(error)")
            }
            continueWrites()
            handOverLogs()
            refreshClocks()
            drainMailbox()
            fireDeadlines()
            if nowMs >= nextCacheSweepMs {
                // Deleted files' descriptors close without a request (a registered watcher
                // wakes the wait for that instead).
                if watcher.registered == nil { fileCache.applyChanges() }
                fileCache.sweep(now: nowMs)
                nextCacheSweepMs = nowMs + max(100, fileCache.ttlMilliseconds)
                releaseIdleBuffers()
                if deadlines.count > 2 * connectionCount + 64 { sweepDeadlines() }
                trimMemoryAfterStorm()
                publishConnectionStates()
            }
            metrics.publishFileCache(hits: fileCache.hits, lookups: fileCache.lookups)
            resumeAcceptingIfDue()
            handOverLogs()   // timeouts and closes above may have completed records
            if isStopping {
                if connectionCount == 0 { break }
                if nowMs >= stopDeadline {
                    for connection in connections { connection?.close() }
                    handOverLogs()
                    break
                }
            }
        }
        listeners.removeAll()
    }

    /// Connections whose write budget ran out this turn with the socket still writable.
    var writeAgain: [Connection] = []
    private var writingNow: [Connection] = []

    /// Gives the connections of `writeAgain` their next turn's writes.
    private func continueWrites() {
        guard !writeAgain.isEmpty else { return }
        swap(&writeAgain, &writingNow)
        for connection in writingNow { connection.continueWriting() }
        writingNow.removeAll(keepingCapacity: true)
    }

    /// Most connections open at once since the last trim.
    private var peakConnections = 0
    /// Idle connections that gave their buffers back since the last trim.
    private var releasedSinceTrim = 0

    /// Connections idle for a second give their buffers back (Connection.releaseBuffersIfIdle).
    private func releaseIdleBuffers() {
        for case let connection? in connections
        where connection.releaseBuffersIfIdle(now: nowMs, idleMs: 1000) {
            releasedSinceTrim += 1
        }
    }
    /// The open connections by activity, for the `companion_connections` gauge.
    private func publishConnectionStates() {
        var counts = [Int](repeating: 0, count: ConnectionActivity.allCases.count)
        for case let connection? in connections where !connection.isAdmin {
            counts[connection.activity.rawValue] += 1
        }
        metrics.publishConnectionStates(counts, deadlineEntries: deadlines.count)
    }

    /// Connections that must have closed since the peak before memory is handed back.
    static let stormConnections = 256

    /// The scheduler slice a loop thread asks for (WorkerGroup): the kernel's minimum, 0.1 ms.
    static let schedulerSliceNanoseconds: UInt64 = 100_000

    /// After a storm of connections has passed (at least `stormConnections` fewer open than
    /// at the peak, or as many gone idle and released their buffers), hands the allocator's
    /// free pages back to the kernel. glibc keeps freed
    /// chunks in its arenas: without this, RSS stayed +33 MiB after 5,000 idle connections
    /// closed. At most once a second per loop (the cache sweep), and only after a storm:
    /// malloc_trim walks the heap.
    private func trimMemoryAfterStorm() {
        if peakConnections - connectionCount >= Self.stormConnections || releasedSinceTrim >= Self.stormConnections {
            _ = malloc_trim(0)
            peakConnections = connectionCount
            releasedSinceTrim = 0
        }
    }

    /// The loop's notion of now: the monotonic milliseconds, the Date header and the
    /// wall-clock offset. Returns the monotonic microseconds it read.
    @discardableResult
    private func refreshClocks() -> Int64 {
        nowMs = monotonicMilliseconds()
        dates.refresh()
        let monotonic = monotonicMicroseconds()
        wallClockOffsetMicros = wallClockMicroseconds() - monotonic
        return monotonic
    }

    /// The file cache's inotify instance in `backend` (level-triggered, so a wait reports it
    /// while events are unread), and when to try again after a failed registration.
    private var watcher = WatcherRegistration()

    /// Registers the file cache's watcher with `backend` when it is new (at start, and after
    /// the cache reset its watches with a new instance; closing the old one removed it from
    /// the epoll set). While that fails, every turn reads the watcher instead.
    private func registerFileWatcherIfNew() {
        guard let instance = watcher.instanceToRegister(current: fileCache.watcherDescriptor, now: nowMs) else { return }
        do {
            try backend.registerLevelReadable(fd: instance.fd, token: Self.watcherToken)
            watcher.succeeded(instance)
        } catch {
            if watcher.failed(instance, now: nowMs) {
                writeLineToStandardError("companion: loop \(index): file changes are read every turn: \(error) (retried every second)")
            }
        }
    }

    private func handOverLogs() {
        guard !completedLogs.isEmpty else { return }
        if let writer = state.accessLog {
            var isBehind = false
            if let mirror = state.accessLogMirror {
                var copy = completedLogs
                isBehind = mirror.append(rows: &copy)
            }
            if writer.append(rows: &completedLogs) || isBehind { giveTheLogWriterTime() }
        } else {
            completedLogs.removeAllKeepingStorage()
        }
    }

    /// A log writer is behind and working (`AccessLogWriter.append(rows:)`): this loop
    /// sleeps for `logPressureNapMicros`, and the writer, which shares its core under a
    /// saturating load (and runs at nice 5, so it gets a quarter of it while the loop is
    /// busy), runs meanwhile. Each turn that finds it still behind sleeps again: requests
    /// slow to what the log can write, and the queue stays near `pressureRows`.
    private func giveTheLogWriterTime() {
        var request = timespec(tv_sec: 0, tv_nsec: Self.logPressureNapMicros * 1000)
        nanosleep(&request, nil)
    }

    /// About one turn of a saturated loop with 64 connections (~64 requests).
    static let logPressureNapMicros = 200

    private func nextTimeout() -> Int32 {
        if !writeAgain.isEmpty { return 0 }
        var earliest = deadlines.earliest
        if let paused = acceptPausedUntil { earliest = min(earliest ?? paused, paused) }
        if isStopping { earliest = min(earliest ?? stopDeadline, stopDeadline) }
        guard let earliest else { return 1000 }
        // Wake at least once a second so the Date cache stays fresh for idle loops.
        return Int32(max(0, min(1000, earliest - nowMs + 1)))
    }

    private func dispatch(_ token: UInt64, _ events: IOEvents) {
        // Its events were read before the turn's first event (`run`).
        if token == Self.watcherToken { return }
        if token & Self.listenerTokenBase != 0 {
            acceptConnections(listenerIndex: Int(token & 0xFFFF))
            return
        }
        // nil: an event for a closed (and maybe reused) fd.
        connection(for: token)?.handleEvents(events)
    }

    // MARK: - Accepting

    private func acceptConnections(listenerIndex: Int) {
        guard listenerIndex < listeners.count, acceptPausedUntil == nil, !isStopping else { return }
        let listener = listeners[listenerIndex]
        for _ in 0..<64 {
            let accepted: (fd: Int32, peer: sockaddr_storage)
            do {
                switch try Socket.accept(listener.fd) {
                case .wouldBlock:
                    // The backlog is drained: a descriptor shortage, if there was one, is over.
                    loggedAcceptError = false
                    return
                case .done(let value): accepted = value
                }
            } catch {
                handleAcceptError(error)
                return
            }
            let peer = Socket.hostString(accepted.peer)
            // SECURITY: a PROXY header names the client; only the trusted load balancers may
            // send one, so anyone else is closed before a byte is read.
            if listener.address.proxyProtocol && !state.config.trustedProxies.contains(peer) {
                Glibc.close(accepted.fd)
                continue
            }
            // TCP_NODELAY comes from the listening socket (Listener.setNoDelay).
            // This turn may have served other clients since its changes were read.
            fileCache.applyChanges(ifOlderThan: FileCache.acceptWindowMicros)
            adopt(fd: accepted.fd, client: peer, tls: listener.address.tls, admin: listener.isAdmin,
                  proxyProtocol: listener.address.proxyProtocol)
        }
    }

    /// EMFILE/ENFILE/ENOBUFS/ENOMEM: stop accepting for 100 ms instead of spinning on a
    /// listener that stays readable; say so once per episode. An episode ends when an accept
    /// finds the backlog empty, not at the first accept that succeeds: a descriptor freed now
    /// and then during a shortage would otherwise log a line every 100 ms.
    private func handleAcceptError(_ error: Errno) {
        switch error.code {
        case EMFILE, ENFILE, ENOBUFS, ENOMEM:
            if !loggedAcceptError {
                writeLineToStandardError("companion: accept: \(error.message); pausing accepts for 100 ms")
                loggedAcceptError = true
            }
            acceptPausedUntil = nowMs + 100
            for listener in listeners { backend.deregister(fd: listener.fd) }
            // Cached files hold descriptors until their file changes: give them back now.
            if error.code == EMFILE || error.code == ENFILE { fileCache.releaseDescriptors() }
        default:
            break  // ECONNABORTED, EPROTO, ...: that client is gone; keep going.
        }
    }

    private func resumeAcceptingIfDue() {
        guard let until = acceptPausedUntil, nowMs >= until, !isStopping else { return }
        acceptPausedUntil = nil
        for (i, listener) in listeners.enumerated() {
            try? backend.registerListener(fd: listener.fd, token: Self.listenerTokenBase | UInt64(i))
        }
    }

    private func adopt(fd: Int32, client: String, tls: Bool, admin: Bool, proxyProtocol: Bool) {
        var session: TLSSession?
        if tls {
            guard let contexts = state.tls, let made = TLSSession(descriptor: fd, contexts: contexts, scratch: tlsScratch) else {
                Glibc.close(fd)
                return
            }
            session = made
        }
        generation &+= 1
        let token = (generation & 0x3FFF_FFFF) << 32 | UInt64(UInt32(fd))
        let connection = Connection(fd: fd, token: token, client: client, loop: self, now: nowMs, tls: session,
                                    admin: admin, proxyProtocol: proxyProtocol)
        if !admin { metrics.connectionAccepted() }
        do {
            try backend.register(fd: fd, token: token)
        } catch {
            Glibc.close(fd)
            return
        }
        let slot = Int(fd)
        if slot >= connections.count {
            connections.append(contentsOf: repeatElement(nil, count: slot - connections.count + 64))
        }
        connections[slot] = connection
        connectionCount += 1
        peakConnections = max(peakConnections, connectionCount)
        connection.updateDeadline()
        // Read now: a request that already arrived is answered in this turn, and a client that
        // already left frees its descriptor before the next accept (without this read, a burst
        // of accepts under a small descriptor limit ran out again; ServeOptionsTests).
        connection.handleEvents([.readable])
    }

    /// The open connection with `token`, if it is still there.
    private func connection(for token: UInt64) -> Connection? {
        let fd = Int(token & 0xFFFF_FFFF)
        guard fd < connections.count, let connection = connections[fd], connection.token == token else { return nil }
        return connection
    }

    /// Has `deferred` rendered off the loop for `connection` (which then waits for
    /// `deferredPageArrived`); one job per page however many connections ask. False: the
    /// background queue is full (or absent) and the connection must answer otherwise.
    func renderInBackground(_ deferred: DeferredPage, for connection: Connection) -> Bool {
        let generation = fileCache.generation
        let key = PendingPage(key: deferred.pageKey, generation: generation)
        if pendingPages[key] != nil {
            pendingPages[key]!.append(connection.token)
            return true
        }
        guard let background else { return false }
        let accepted = background.submit { [self] in
            let page = deferred.render()
            self.post(.rendered(deferred, page, generation: generation))
        }
        if accepted { pendingPages[key] = [connection.token] }
        return accepted
    }

    /// Called by a connection when it closed its fd.
    func connectionClosed(_ connection: Connection) {
        let slot = Int(connection.fd)
        if slot < connections.count, connections[slot] === connection {
            connections[slot] = nil
            connectionCount -= 1
            if !connection.isAdmin { metrics.connectionClosed() }
        }
    }

    // MARK: - Deadlines

    /// Makes sure the heap has an entry no later than `connection.deadline`.
    func schedule(_ connection: Connection) {
        if let existing = connection.heapEntryAt, existing <= connection.deadline { return }
        connection.heapEntryAt = connection.deadline
        deadlines.push(.init(at: connection.deadline, token: connection.token))
        if deadlines.count >= deadlineSweepAt { sweepDeadlines() }
    }

    /// Heap size at which `schedule` sweeps out stale entries: twice what was current at
    /// the last sweep (at least 1024), so a sweep's O(n) is paid for by n pushes.
    private var deadlineSweepAt = 1024

    /// Drops the entries of closed connections and superseded deadlines.
    private func sweepDeadlines() {
        deadlines.compact { currentConnection(of: $0) != nil }
        deadlineSweepAt = max(1024, 2 * deadlines.count)
    }

    /// The open connection whose current heap entry `entry` is, if any.
    private func currentConnection(of entry: DeadlineHeap.Entry) -> Connection? {
        let fd = Int(entry.token & 0xFFFF_FFFF)
        guard fd < connections.count, let connection = connections[fd], connection.token == entry.token,
              connection.heapEntryAt == entry.at else { return nil }
        return connection
    }

    private func fireDeadlines() {
        while let entry = deadlines.popExpired(now: nowMs) {
            guard let connection = currentConnection(of: entry) else { continue }
            connection.heapEntryAt = nil
            if connection.deadline > nowMs {
                schedule(connection)  // moved later since it was pushed
            } else {
                connection.deadlineExpired()
            }
        }
    }

    // MARK: - Messages

    private func drainMailbox() {
        let messages = mailbox.withLock { box -> [LoopMessage] in
            defer { box.removeAll() }
            return box
        }
        for message in messages {
            switch message {
            case .rendered(let deferred, let page, let generation):
                fileCache.store(page, for: deferred.cacheKey, directory: deferred.directory, in: deferred.site, generation: generation)
                for token in pendingPages.removeValue(forKey: PendingPage(key: deferred.pageKey, generation: generation)) ?? [] {
                    connection(for: token)?.deferredPageArrived(page)
                }
            case .reload(let newState, let applied):
                state = newState
                fileCache.removeAll()
                applied.arrive()
            case .stop(let grace):
                guard !isStopping else { continue }
                isStopping = true
                stopDeadline = nowMs + Int64(grace)
                for listener in listeners { backend.deregister(fd: listener.fd) }
                listeners.removeAll()
                for connection in connections { connection?.beginShutdown() }
            }
        }
    }
}
