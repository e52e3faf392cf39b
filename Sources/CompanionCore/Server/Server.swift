// Server: binds the listeners, builds the ServerState, runs the event loops and
// owns the access-log writer. Signals are handled by Signals.swift, which calls
// `reload` and `stop`; tests call them directly on an in-process server.
import Glibc

/// A running companion server.
public final class Server: Sendable {
    /// Where each listener is bound (port 0 resolved), in config order.
    public let boundAddresses: [ListenAddress]
    /// Where the admin listener is bound (port 0 resolved), if the config has one.
    public let boundAdminAddress: ListenAddress?
    /// The counters behind the admin listener's /metrics.
    public let metrics: ServerMetrics
    /// The live report on the admin listener (see Dashboard).
    let dashboard: Dashboard?
    private let group: WorkerGroup
    private let current: Locked<ServerState>
    private let accessLog: AccessLogWriter?
    /// The PostgreSQL writer when the log goes to both the file and PostgreSQL.
    private let accessLogMirror: AccessLogWriter?
    private let gzipCache: GzipCache
    /// Compresses large files for `gzipCache` off the event loops; shut down in `stop`.
    /// Internal, not private: tests join its jobs instead of sleeping.
    let compressionQueue: CompressionQueue
    /// Renders listings off the loops (shared by all of them).
    let backgroundQueue: BackgroundQueue
    private let plugins: PluginRegistry
    private let stopped = Locked(false)
    /// HTTP-01 answers of the ACME client (nil without `acme`).
    let challenges: ACMEChallenges?
    /// Serialises reloads (SIGHUP, certificate file changes, ACME issuance): each builds
    /// on the state the previous one installed. Holds the number of reloads installed: a
    /// `Locked(())` made ThreadSanitizer report a race between two reloads that the lock
    /// orders (see `Locked`).
    private let reloading = Locked(0)
    /// Checks the certificate files every `certificateCheckMilliseconds` (nil without TLS).
    private let certificateWatcher: Ticker?
    /// Orders and renews the certificates of `"tls": "acme"` sites (nil without any).
    private let acme: ACMEManager?

    /// Binds and starts serving `config` on `config.workers` loops.
    /// - Throws: ServerError naming the address in use or the root that cannot be opened.
    /// - Parameter fileCacheMilliseconds: how long a loop reuses a path's resolution and a
    ///   small file's bytes (FileCache) when it cannot watch the path; 0 turns the cache off.
    /// - Parameter fileCacheWatches: keep answers until inotify reports a change (false: for
    ///   `fileCacheMilliseconds` only, with no inotify watches).
    /// - Parameter fileWatchLimit: inotify watches per loop; past it a loop starts over with a
    ///   new instance (tests make it small).
    /// - Parameter certificateCheckMilliseconds: how often the certificate and key files are
    ///   compared with what was loaded (two stat calls per TLS site).
    /// - Parameter acmeRetryMilliseconds: the first wait after a failed ACME order (it
    ///   doubles with each failure, up to a day).
    /// - Parameter inheritedSockets: listening sockets from systemd's socket activation; each
    ///   serves the `listen` (or `admin.listen`) address it is bound to instead of a new bind.
    /// - Parameter dashboardQueryParser: turns `/dashboard?...` parameters into a query (the
    ///   CLI parses them as `companion logs` options); nil serves no dashboard.
    public init(config: ServerConfig, plugins: PluginRegistry = .builtIn,
                fileCacheMilliseconds: Int = 1000, fileCacheWatches: Bool = true, fileWatchLimit: Int = 4096,
                certificateCheckMilliseconds: Int = 2000,
                acmeRetryMilliseconds: Int = 60_000, inheritedSockets: [Int32] = [],
                dashboardQueryParser: DashboardQueryParser? = nil) throws(ServerError) {
        self.plugins = plugins
        // sendfile(2) has no MSG_NOSIGNAL: a client that goes away mid-body would kill the
        // process with SIGPIPE. Every server (the CLI's or an embedding program's) ignores it.
        signal(SIGPIPE, SIG_IGN)
        Self.raiseOpenFileLimit()
        let workers = max(1, config.workers)
        var writer: AccessLogWriter?
        var mirror: AccessLogWriter?
        if let log = config.accessLog {
            // The SQLite file, a PostgreSQL database, or both: each sink has its own writer
            // thread and queue, so a slow or restarting PostgreSQL never holds up the file.
            var sinks: [(AccessLogSettings, String)] = []
            var base = AccessLogSettings(path: log.sqlite, flushMs: log.flushMs, retainDays: log.retainDays,
                                         anonymizeClients: log.anonymizeClients)
            if let hostName = log.hostName { base.hostName = hostName }
            if !log.sqlite.isEmpty { sinks.append((base, "accessLog.sqlite")) }
            if let url = log.postgres {
                var settings = base
                settings.path = PostgresConnection.redacted(url)
                settings.postgresURL = url
                sinks.append((settings, "accessLog.postgres"))
            }
            var writers: [AccessLogWriter] = []
            for (settings, key) in sinks {
                do {
                    writers.append(try AccessLogWriter(settings: settings))
                } catch {
                    for started in writers { started.shutdown() }
                    throw ServerError("\(key): \(error)")
                }
            }
            writer = writers.first
            mirror = writers.count > 1 ? writers[1] : nil
        }
        accessLog = writer
        accessLogMirror = mirror
        let cacheBytes = config.sites.map(\.gzip.cacheBytes).max() ?? (64 << 20)
        gzipCache = GzipCache(capacityBytes: cacheBytes)
        let compression = CompressionQueue(cache: gzipCache, workers: 1)
        let background = BackgroundQueue()
        compressionQueue = compression
        backgroundQueue = background
        let (startedLog, startedMirror) = (writer, mirror)
        // A start that fails after the threads began stops them again.
        func abandon() {
            compression.shutdown()
            background.shutdown()
            startedLog?.shutdown()
            startedMirror?.shutdown()
        }
        // One socket per address, shared by all loops (Listener.swift says why not SO_REUSEPORT).
        // A socket handed over by systemd (socket activation) serves the address it is bound to.
        var inherited: [(fd: Int32, address: ListenAddress)] = []
        for fd in inheritedSockets {
            do {
                inherited.append((fd, try Listener.inheritedAddress(fd)))
            } catch {
                abandon()
                throw ServerError("socket activation: descriptor \(fd) is not a listening TCP socket (\(error.message))")
            }
        }
        func listener(for address: ListenAddress, admin: Bool) throws(Errno) -> Listener {
            if let index = inherited.firstIndex(where: { $0.address.host == address.host && $0.address.port == address.port }) {
                let taken = inherited.remove(at: index)
                var served = address
                served.port = taken.address.port
                return Listener.adopting(taken.fd, as: served, admin: admin)
            }
            return try Listener.bind(address, admin: admin)
        }
        var listeners: [Listener] = []
        var bound: [ListenAddress] = []
        for address in config.listen {
            do {
                let made = try listener(for: address, admin: false)
                listeners.append(made)
                bound.append(made.address)
            } catch {
                abandon()
                throw ServerError("listen \(address): \(error.message)")
            }
        }
        boundAddresses = bound
        if let admin = config.admin {
            do {
                let made = try listener(for: admin.listen, admin: true)
                listeners.append(made)
                boundAdminAddress = made.address
            } catch {
                abandon()
                throw ServerError("admin.listen \(admin.listen): \(error.message)")
            }
        } else {
            boundAdminAddress = nil
        }
        if let unused = inherited.first {
            abandon()
            throw ServerError("socket activation: descriptor \(unused.fd) is bound to \(unused.address), which is not in listen or admin.listen")
        }
        let metrics = ServerMetrics(loopCount: workers)
        self.metrics = metrics
        if config.admin != nil, let log = config.accessLog, let parser = dashboardQueryParser {
            dashboard = Dashboard(source: log.sqlite.isEmpty ? (log.postgres ?? "") : log.sqlite, parse: parser) { source in
                if PostgresLogReader.isURL(source) { return try PostgresLogReader(url: source) }
                let database = try SQLiteDatabase(path: source, mode: .readOnly)
                database.setBusyTimeout(milliseconds: 2000)
                return try SQLiteLogReader(database: database)
            }
        } else {
            dashboard = nil
        }
        // Built once the ports are known (an https redirect names the TLS listener's port)
        // and before dropping privileges (key files are often readable by root only).
        var boundConfig = config
        boundConfig.listen = bound
        challenges = config.acme != nil ? ACMEChallenges() : nil
        let state: ServerState
        do {
            state = try ServerState(config: boundConfig, accessLog: writer, accessLogMirror: mirror, gzipCache: gzipCache,
                                    compressionQueue: compressionQueue, plugins: plugins, challenges: challenges,
                                    metrics: metrics, dashboard: dashboard)
        } catch {
            abandon()
            throw error
        }
        current = Locked(state)
        certificateWatcher = state.tls != nil ? Ticker(name: "companion-certs") : nil
        if let challenges, config.sites.contains(where: { $0.tls == .acme }) {
            acme = ACMEManager(challenges: challenges, retryMilliseconds: acmeRetryMilliseconds)
        } else {
            acme = nil
        }
        if let user = config.user { try Self.switchUser(to: user) }
        var loops: [EventLoop] = []
        let cacheEntries = FileCache.entryLimit(loops: workers)
        for i in 0..<workers {
            do {
                loops.append(try EventLoop(index: i, state: state, listeners: listeners, metrics: metrics.loops[i],
                                           fileCacheMilliseconds: fileCacheMilliseconds, fileCacheWatches: fileCacheWatches,
                                           fileCacheEntries: cacheEntries, fileWatchLimit: fileWatchLimit,
                                           background: backgroundQueue))
            } catch {
                abandon()
                throw ServerError("event loop: \(error)")
            }
        }
        group = WorkerGroup(loops: loops)
        group.start()
        certificateWatcher?.start { [weak self] in
            self?.reloadCertificatesIfChanged()
            return certificateCheckMilliseconds
        }
        acme?.start(config: { [weak self] in self?.state.config ?? config },
                    installed: { [weak self] in self?.reloadCertificatesIfChanged() })
    }

    /// A certificate or key file changed on disk: reload, so new handshakes use it (open
    /// connections keep theirs). A broken new file keeps the old certificate (TLSContextSet).
    private func reloadCertificatesIfChanged() {
        guard let tls = state.tls, tls.filesChanged() else { return }
        do {
            try reload(state.config)
            // The reload built the sites again, which is start-up code: give it back, as
            // `serve` does after a SIGHUP reload, or renewals pile it up (debug build: 3,108
            // of 5,304 KiB of code resident after three, against ~1,000 at ready).
            StartupPages.release()
            writeLineToStandardError("companion: certificates reloaded")
        } catch {
            writeLineToStandardError("companion: certificate reload failed: \(error)")
        }
    }

    /// Raises the soft RLIMIT_NOFILE to the hard limit (as nginx's worker_rlimit_nofile
    /// and most servers do): each connection and each cached file holds a descriptor.
    private static func raiseOpenFileLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    /// SPEC §2 `user`: when started as root, drop to `user` once the listeners are bound
    /// (so ports below 1024 work) and before any request is served. Not root: nothing to do.
    /// SECURITY: groups first, then gid, then uid; a failure stops the start rather than
    /// serving as root.
    private static func switchUser(to name: String) throws(ServerError) {
        guard getuid() == 0 else { return }
        guard let entry = getpwnam(name) else { throw ServerError("user: no such user \"\(name)\"") }
        let uid = entry.pointee.pw_uid
        let gid = entry.pointee.pw_gid
        guard initgroups(name, gid) == 0, setgid(gid) == 0, setuid(uid) == 0 else {
            throw ServerError("user: cannot switch to \"\(name)\": \(Errno(code: errno, call: "setuid").message)")
        }
    }

    /// The state new requests are served with.
    public var state: ServerState { current.withLock { $0 } }

    /// Applies a new config to new requests without dropping connections.
    /// Listen addresses, workers and the access-log path stay as started.
    /// - Throws: ServerError when a root cannot be opened or a plugin cannot be built;
    ///   the old config then stays in force.
    public func reload(_ config: ServerConfig) throws(ServerError) {
        var merged = config
        let old = state.config
        merged.listen = old.listen
        merged.workers = old.workers
        merged.accessLog = old.accessLog
        merged.admin = old.admin
        do {
            try reloading.withLock { installed throws(ServerError) in
                let newState = try ServerState(config: merged, accessLog: accessLog, accessLogMirror: accessLogMirror, gzipCache: gzipCache,
                                               compressionQueue: compressionQueue, plugins: plugins,
                                               previousTLS: state.tls, challenges: challenges, metrics: metrics,
                                               dashboard: dashboard)
                install(newState)
                installed += 1
            }
        } catch {
            metrics.reloaded(ok: false)
            throw error
        }
        metrics.reloaded(ok: true)
    }

    /// Counts a reload that failed before it reached `reload` (the new config did not load).
    public func recordFailedReload() {
        metrics.reloaded(ok: false)
    }

    /// Hands `newState` to new requests and to every loop.
    private func install(_ newState: ServerState) {
        current.withLock { $0 = newState }
        // Returns once every loop serves the new state (so a request sent after "config
        // reloaded" never gets the old one); a loop busy for more than 5 s does not hold
        // the caller longer, it switches when it reads its mailbox.
        let applied = Countdown(count: group.loops.count)
        group.post(.reload(newState, applied: applied))
        _ = applied.wait(milliseconds: 5000)
    }

    /// Stops accepting, lets responses in flight finish (at most `graceMilliseconds`),
    /// joins the loops and flushes the access log. Idempotent.
    public func stop(graceMilliseconds: Int = 10_000) {
        let first = stopped.withLock { value -> Bool in
            defer { value = true }
            return !value
        }
        guard first else { return }
        certificateWatcher?.stop()
        acme?.stop()
        group.post(.stop(graceMilliseconds: graceMilliseconds))
        group.join()
        compressionQueue.shutdown()
        backgroundQueue.shutdown()
        dashboard?.stop()
        accessLog?.shutdown()
        accessLogMirror?.shutdown()
    }

    /// ACME orders attempted and certificates issued since start.
    public var acmeCounts: (attempts: Int, issued: Int) {
        acme?.counts.withLock { $0 } ?? (0, 0)
    }

    /// The gzip cache shared by all loops (tests read its counters).
    public var compressedCache: GzipCache { gzipCache }
}
