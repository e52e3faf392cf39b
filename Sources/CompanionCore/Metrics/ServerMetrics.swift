// ServerMetrics: the counters behind the admin listener's /metrics (SPEC §7). Each event
// loop counts into its own LoopMetrics with relaxed atomic adds on cache lines no other
// thread writes (a few uncontended instructions per request, no lock); a scrape sums the
// loops. Per-site series are keyed by the configured site name (its first host), never by
// the raw Host header, so the label set is bounded by the config: a site keeps its slot
// across reloads, and a config with more than `LoopMetrics.siteSlots - 2` sites shares
// the last slot as "_other".
import Glibc
import Synchronization

/// One loop's counters. Written by the loop's thread only; read by any thread at scrape.
final class LoopMetrics: @unchecked Sendable {
    // @unchecked Sendable: `cells` is allocated once, never freed before deinit, and every
    // access is an atomic load or add on one of its `Atomic<Int>`s.
    static let siteSlots = 64
    /// 1xx … 5xx, then the body bytes of the site's responses.
    static let columnsPerSite = 6
    /// Upper bounds of the request-duration buckets, in microseconds (the last bucket is +Inf).
    static let durationBoundsMicros: [Int64] = [100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000,
                                                100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000]

    enum Cell {
        static let sites = 0
        static let durations = siteSlots * columnsPerSite
        static let durationSumMicros = durations + durationBoundsMicros.count + 1
        static let accepted = durationSumMicros + 1
        static let closed = accepted + 1
        static let fileCacheHits = closed + 1
        static let fileCacheLookups = fileCacheHits + 1
        /// Plain file requests answered from a response template (not exported; tests look at it).
        static let templateAnswers = fileCacheLookups + 1
        /// Gauges set once a second by the loop (ConnectionActivity order).
        /// Turns that began by reading the loop's inotify descriptor (not exported; tests
        /// look at it).
        static let turnFileChangeReads = templateAnswers + 1
        /// Writes a connection left for the next turn when its per-turn budget ran out
        /// (Connection.writeBytesPerTurn; not exported, tests look at it).
        static let writeTurnsYielded = turnFileChangeReads + 1
        /// Sidecar names the file cache opened (FileCache.openSidecar; not exported, tests
        /// look at it).
        static let sidecarOpens = writeTurnsYielded + 1
        static let connectionStates = sidecarOpens + 1
        /// Entries in the loop's deadline heap (set with the connection states).
        static let deadlineEntries = connectionStates + ConnectionActivity.allCases.count
        static let count = deadlineEntries + 1
    }

    private let cells: UnsafeMutablePointer<Atomic<Int>>

    init() {
        cells = .allocate(capacity: Cell.count)
        for i in 0..<Cell.count { (cells + i).initialize(to: Atomic(0)) }
    }

    deinit {
        cells.deinitialize(count: Cell.count)
        cells.deallocate()
    }

    @inline(__always)
    private func add(_ cell: Int, _ amount: Int) {
        cells[cell].wrappingAdd(amount, ordering: .relaxed)
    }

    func value(_ cell: Int) -> Int { cells[cell].load(ordering: .relaxed) }

    /// One response queued: its status, its bytes (head and body) and the time since its
    /// request's first byte.
    @inline(__always)
    func recordResponse(siteSlot: Int, status: Int, bytes: Int, durationMicros: Int64) {
        let statusClass = min(4, max(0, status / 100 - 1))
        let base = Cell.sites + siteSlot * Self.columnsPerSite
        add(base + statusClass, 1)
        add(base + 5, bytes)
        var bucket = 0
        let bounds = Self.durationBoundsMicros
        while bucket < bounds.count && durationMicros > bounds[bucket] { bucket += 1 }
        add(Cell.durations + bucket, 1)
        add(Cell.durationSumMicros, Int(durationMicros))
    }

    func connectionAccepted() { add(Cell.accepted, 1) }
    func connectionClosed() { add(Cell.closed, 1) }

    /// A turn began by reading the loop's inotify descriptor. Counted when it happens (not
    /// published at the end of the turn), so a client that has its response also sees the
    /// count of the turn that answered it.
    func turnReadFileChanges() { add(Cell.turnFileChangeReads, 1) }

    /// A connection's write budget ran out with its socket still writable.
    func yieldedWriteTurn() { add(Cell.writeTurnsYielded, 1) }

    /// The file cache opened a precompressed sidecar's name (found or not).
    func openedSidecar() { add(Cell.sidecarOpens, 1) }

    /// A response head copied from a template, counted before the response is queued (so a
    /// client that has the response sees it counted).
    func answeredFromTemplate() { add(Cell.templateAnswers, 1) }

    /// The loop's file cache counters (plain loop-thread integers), published once per turn.
    func publishFileCache(hits: Int, lookups: Int) {
        cells[Cell.fileCacheHits].store(hits, ordering: .relaxed)
        cells[Cell.fileCacheLookups].store(lookups, ordering: .relaxed)
    }

    /// Open connections by activity and the deadline heap's size, counted by the loop once a
    /// second (a scrape reads the last count; it does not ask for a new one).
    func publishConnectionStates(_ counts: [Int], deadlineEntries: Int) {
        for (i, count) in counts.enumerated() {
            cells[Cell.connectionStates + i].store(count, ordering: .relaxed)
        }
        cells[Cell.deadlineEntries].store(deadlineEntries, ordering: .relaxed)
    }
}

/// What an open connection is doing, for the `companion_connections` gauge.
enum ConnectionActivity: Int, CaseIterable {
    /// TLS handshake not finished yet.
    case handshake
    /// Part of a request head is buffered.
    case reading
    /// A response is being written (or made off the loop).
    case writing
    /// Keep-alive, waiting for the next request.
    case idle
    /// Closing: reading and dropping what the client still sends.
    case lingering

    var label: String {
        switch self {
        case .handshake: "handshake"
        case .reading: "reading"
        case .writing: "writing"
        case .idle: "idle"
        case .lingering: "lingering"
        }
    }
}

/// The server's metrics: the loops' counters, the site names of their slots and the
/// process-wide counts that are not per request.
public final class ServerMetrics: Sendable {
    let loops: [LoopMetrics]
    /// Site name → slot; slot 0 is requests answered before a site was chosen.
    private let slots = Locked<(bySite: [String: Int], names: [String])>(([:], ["_none"]))
    private let reloadsSucceeded = Atomic<Int>(0)
    private let reloadsFailed = Atomic<Int>(0)
    /// Wall-clock start, seconds since the epoch.
    let startTimeSeconds: Double

    init(loopCount: Int) {
        loops = (0..<loopCount).map { _ in LoopMetrics() }
        startTimeSeconds = Double(wallClockMicroseconds()) / 1_000_000
    }

    /// The slot of the site called `name` (its first host); the same name always gets the
    /// same slot, so a reload keeps the site's counters.
    func slot(forSite name: String) -> Int {
        slots.withLock { slots in
            if let slot = slots.bySite[name] { return slot }
            if slots.names.count == LoopMetrics.siteSlots - 1 { slots.names.append("_other") }
            if slots.names.count >= LoopMetrics.siteSlots { return LoopMetrics.siteSlots - 1 }
            slots.bySite[name] = slots.names.count
            slots.names.append(name)
            return slots.names.count - 1
        }
    }

    /// The label of each slot in use, by slot.
    var siteNames: [String] { slots.withLock { $0.names } }

    func reloaded(ok: Bool) {
        if ok {
            reloadsSucceeded.wrappingAdd(1, ordering: .relaxed)
        } else {
            reloadsFailed.wrappingAdd(1, ordering: .relaxed)
        }
    }

    var reloads: (succeeded: Int, failed: Int) {
        (reloadsSucceeded.load(ordering: .relaxed), reloadsFailed.load(ordering: .relaxed))
    }

    /// `cell` summed over the loops.
    func total(_ cell: Int) -> Int {
        loops.reduce(0) { $0 + $1.value(cell) }
    }
}
