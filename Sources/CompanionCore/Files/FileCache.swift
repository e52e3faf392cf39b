// FileCache: a per-loop cache of path resolutions and rendered listings. A lookup
// answers the same (site, path) without touching the disk: the open file (or the
// not-found answer), its content type and ETag, and for small files their bytes.
//
// Freshness: an answer is kept until the loop's FileWatcher (inotify) reports
// a change to something it depends on: the entry of each directory on its path from the
// site root (so a file written, replaced by a rename, deleted or created, and a directory
// or symlink on the way renamed or swapped, all count), and for a listing any entry of the
// listed directory. The loop applies the events at the start of each turn, before the
// requests of that turn, so the next request after a change sees it; the inotify
// descriptor is in the loop's epoll set, so a turn whose wait did not report it has
// nothing to read (and makes no read(2) for it). When a path cannot
// be watched (no inotify instance, the watch limit, permissions) its answer is kept for
// `ttl` milliseconds instead (lighttpd's one-second stat cache), the old behaviour.
//
// SECURITY: entries come only from the root-contained resolver, so a cached answer is one
// that was allowed when it was made; a symlink swapped in later is an event on its
// directory and drops the answers through it.
//
// Descriptors: each cached file holds its open descriptor, so the cache is sized
// from RLIMIT_NOFILE (`entryLimit`); deleted files are dropped on their event, and the
// loop sweeps TTL entries every `ttl` (`sweep`). A lookup that failed for lack of
// descriptors is never cached.
//
// Owned by one EventLoop; not thread-safe, and never shared.

import Glibc

final class FileCache {
    struct Key: Hashable {
        let site: ObjectIdentifier
        let path: String

        /// Byte for byte (`ExactPath`): two names Swift's String holds equal are two files.
        static func == (a: Key, b: Key) -> Bool { a.site == b.site && ExactPath.equal(a.path, b.path) }

        func hash(into hasher: inout Hasher) {
            hasher.combine(site)
            ExactPath.hash(path, into: &hasher)
        }
    }

    /// A resolved path and what the static-file stage derives from it.
    final class Entry {
        let result: Result<OpenFile, ResolveFailure>
        let expiresAt: Int64
        let contentType: String
        let etag: String
        /// The head of this file's plain 200 response, once one was written (ResponseTemplate).
        var template: ResponseTemplate?
        /// The precompressed sidecars of this file known not to exist (or not to be servable):
        /// bit `slot` for `GzipMiddleware.sidecars[slot]` (see `openSidecar`).
        var absentSidecars: UInt8 = 0

        init(result: Result<OpenFile, ResolveFailure>, path: String, expiresAt: Int64) {
            self.result = result
            self.expiresAt = expiresAt
            if case .success(let file) = result, !file.isDirectory {
                contentType = MIMETypes.contentType(forPath: path)
                etag = ETag.make(size: file.size, mtimeSeconds: file.mtimeSeconds, mtimeNanoseconds: file.mtimeNanoseconds)
            } else {
                contentType = ""
                etag = ""
            }
        }
    }

    let ttlMilliseconds: Int64
    /// At most this many entries; a full cache is emptied (cheap, and bounded work
    /// against clients that ask for endless distinct paths).
    let maxEntries: Int
    /// @exclusivity(unchecked): owned by one loop thread, never accessed inout while
    /// another access is open; the dynamic check cost an access-set insert per lookup.
    @exclusivity(unchecked) private var entries: [Key: Entry] = [:]
    /// The memo in front of `entries` (FileCache+Memo.swift); emptied whenever entries leave.
    @exclusivity(unchecked) var memo = [MemoSlot?](repeating: nil, count: FileCache.memoSlots)
    private var memoUsed = false
    private(set) var hits = 0
    /// Lookups of paths and pages, hits or not (for /metrics).
    private(set) var lookups = 0

    /// What an answer depends on: the entry `name` of the watched directory `wd` ("" for
    /// any entry of it: a listing).
    struct Dependency: Hashable {
        let wd: Int32
        let name: String
    }

    /// Watches the directories answers depend on; nil when answers expire by `ttl` only.
    let watcher: FileWatcher?
    /// The answers (entries and pages) that depend on each watched entry.
    private var dependents: [Dependency: Set<Key>] = [:]
    /// The names with dependents, per watch (a directory that goes away drops them all).
    private var watchedNames: [Int32: Set<String>] = [:]
    /// Counts invalidations: a page rendered off the loop is cached only if nothing changed
    /// since it was asked for.
    private(set) var generation: UInt64 = 0
    /// Answers kept until a change (not by `ttl`).
    static let untilChanged = Int64.max

    /// The loop's counters (sidecar opens), nil outside a loop.
    private let metrics: LoopMetrics?

    init(ttlMilliseconds: Int, maxEntries: Int = 512, watches: Bool = true, watchLimit: Int = 4096,
         metrics: LoopMetrics? = nil) {
        self.ttlMilliseconds = Int64(ttlMilliseconds)
        self.maxEntries = maxEntries
        self.metrics = metrics
        if watches && ttlMilliseconds > 0 {
            let watcher = FileWatcher(maxWatches: watchLimit)
            self.watcher = watcher.isAvailable ? watcher : nil
        } else {
            watcher = nil
        }
    }

    /// Entries per loop for `loops` loops under the process's descriptor limit: an eighth of
    /// the descriptors shared by the loops (the rest are for connections, listings and the
    /// log), between 8 and 512.
    static func entryLimit(loops: Int) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 512 }
        let share = Int(min(limit.rlim_cur, 1 << 30)) / (8 * max(1, loops))   // RLIM_INFINITY is UInt.max
        return min(512, max(8, share))
    }

    /// Drops every entry that has expired (and so closes its descriptor). The loop calls it
    /// once per `ttl`; cheap when the cache is small, bounded by `maxEntries` when not.
    func sweep(now: Int64) {
        clearMemo()   // it may hold entries replaced since (each with its descriptor)
        if !entries.isEmpty {
            entries = entries.filter { $0.value.expiresAt > now }
        }
        if !renderedBodies.isEmpty {
            renderedBodies = renderedBodies.filter { $0.value.expiresAt > now }
        }
    }

    /// The resolution of `path` in `site`, from the cache when fresh.
    func lookup(_ path: String, in site: Site) -> Entry {
        let nowMicros = monotonicMicroseconds()
        let now = nowMicros / 1000
        guard ttlMilliseconds > 0 else {
            return Entry(result: site.resolver.open(path), path: path, expiresAt: now)
        }
        // A keep-alive request read later in the same turn as other work: changes older than
        // `lookupWindowMicros` are applied first (one read(2) of ~0.25 µs at most that often).
        applyChanges(ifOlderThan: Self.lookupWindowMicros, now: nowMicros)
        let key = Key(site: ObjectIdentifier(site), path: path)
        lookups += 1
        if let entry = entries[key], entry.expiresAt > now {
            hits += 1
            return entry
        }
        let result = site.resolver.open(path)
        if case .success(let file) = result, file.isRegularFile, file.size <= Self.preloadLimit {
            file.preload()
        }
        if case .failure(.unavailable) = result {
            // Out of descriptors: say so now, look again next time (never cached), and give
            // back the descriptors the cache holds.
            releaseDescriptors()
            entries[key] = nil
            clearMemo()
            return Entry(result: result, path: path, expiresAt: now)
        }
        if entries.count >= maxEntries { emptyForSize() }
        let dependencies = self.dependencies(of: path, in: site, listing: false)
        let entry = Entry(result: result, path: path, expiresAt: dependencies == nil ? now + ttlMilliseconds : Self.untilChanged)
        entries[key] = entry
        if let dependencies { register(key, dependsOn: dependencies) }
        return entry
    }

    // MARK: - Sidecars

    /// The entry that answers `path` in `site` with `file`: the one a `lookup` earlier in the
    /// same request returned (it was fresh then, and a newer entry would hold another file),
    /// nil when it has left the cache. No lookup is counted and no change is applied: that
    /// lookup did both.
    func entry(for path: String, in site: Site, answering file: OpenFile) -> Entry? {
        guard ttlMilliseconds > 0, let entry = entries[Key(site: ObjectIdentifier(site), path: path)],
              case .success(let cached) = entry.result, cached === file
        else { return nil }
        return entry
    }

    /// Opens the sidecar `path + suffix` of the file `entry` answers `path` with, unless
    /// `entry` already knows that sidecar is absent (bit `slot` of `absentSidecars`).
    ///
    /// Every request that accepts an encoding asks for up to three sidecars, and most files
    /// have none: opened every time, that was three failed `openat2` calls a request. An
    /// absence is remembered on the file's entry, and
    /// the entry is made to depend on the sidecar's name too, so creating the sidecar (or
    /// renaming one into place) drops the entry and the next request looks again. Without a
    /// watch for that name the absence is remembered only as long as an entry that expires
    /// by `ttl` lives. A sidecar that exists is opened each time (it is served from that
    /// descriptor), and a lookup that failed for lack of descriptors is not remembered.
    func openSidecar(_ suffix: String, slot: Int, of path: String, entry: Entry, in site: Site) -> Result<OpenFile, ResolveFailure> {
        let bit = UInt8(1) << UInt8(slot)
        if entry.absentSidecars & bit != 0 { return .failure(.notFound) }
        let name = path + suffix
        let result = site.resolver.open(name)
        metrics?.openedSidecar()
        guard case .failure(let failure) = result, failure != .unavailable else { return result }
        if entry.expiresAt == Self.untilChanged {
            guard let dependencies = dependencies(of: name, in: site, listing: false) else { return result }
            register(Key(site: ObjectIdentifier(site), path: path), dependsOn: dependencies)
        }
        entry.absentSidecars |= bit
        return result
    }

    // MARK: - Changes

    /// The watched entries an answer for `path` depends on: for "/a/b.html", entry "a" of
    /// the root and entry "b.html" of "a"; a listing also depends on every entry of its
    /// directory. A directory on the way that does not exist ends the chain (its entry in
    /// its parent covers it being created). nil when some directory cannot be watched.
    private func dependencies(of path: String, in site: Site, listing: Bool) -> [Dependency]? {
        guard let watcher else { return nil }
        // A NUL never reaches the file system (the resolver refuses it): a permanent answer.
        if path.utf8.contains(0) { return [] }
        var directory = String(decoding: site.resolver.rootRealPath, as: UTF8.self)
        guard case .watching(var wd) = watcher.watch(directory) else { return nil }
        var result: [Dependency] = []
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        for (index, component) in components.enumerated() {
            result.append(Dependency(wd: wd, name: String(component)))
            if index == components.count - 1 && !listing { return result }
            directory += directory.hasSuffix("/") ? String(component) : "/" + component
            switch watcher.watch(directory) {
            case .watching(let next): wd = next
            case .absent: return result
            case .failed: return nil
            }
        }
        // The root itself: only its own deletion or move ("/" is no entry's name), unless listed.
        result.append(Dependency(wd: wd, name: listing ? "" : "/"))
        return result
    }

    private func register(_ key: Key, dependsOn dependencies: [Dependency]) {
        for dependency in dependencies {
            dependents[dependency, default: []].insert(key)
            watchedNames[dependency.wd, default: []].insert(dependency.name)
        }
    }

    /// When the watcher's events were last read (monotonic µs).
    private var lastChangesMicros: Int64 = 0
    /// Within a turn, a lookup reads the events again when they are this old: under load a
    /// turn serves many requests, and a change made while it runs must not wait for the next.
    /// 1 ms keeps a change visible well within the 10 ms. At 50 µs a saturated loop
    /// read the descriptor every ~5 requests, and under callgrind's slowed time on every
    /// request (a read(2) and the watcher's retains: ~200 instructions a request).
    static let lookupWindowMicros: Int64 = 1000
    /// Before a connection accepted in the middle of a turn (after others were served) reads
    /// its request: any change its client made before connecting is applied. Making a change
    /// and connecting takes longer than this, so only a read already that recent is enough.
    static let acceptWindowMicros: Int64 = 2

    /// The watcher's inotify descriptor and instance (see `FileWatcher.instance`), nil without
    /// one: the loop adds it to its epoll set, so that a turn learns from the wait itself
    /// whether any change is pending.
    var watcherDescriptor: WatcherRegistration.Instance? {
        guard let watcher, watcher.fd >= 0 else { return nil }
        return WatcherRegistration.Instance(fd: watcher.fd, instance: watcher.instance)
    }

    /// The loop's wait just reported the watcher's descriptor not readable: no change is
    /// pending as of `now`, as if the events had been read then (without the read(2)).
    /// `now` is read right after the wait returns; the kernel built its ready list a fraction
    /// of a microsecond earlier, far inside the windows above.
    func noteNoChangesPending(now: Int64) {
        lastChangesMicros = now
    }

    /// Applies the changes unless they were read less than `micros` ago.
    func applyChanges(ifOlderThan micros: Int64, now: Int64 = monotonicMicroseconds()) {
        if now - lastChangesMicros >= micros { applyChanges(now: now) }
    }

    /// Applies the changes the watcher reported since the last call. The loop calls it at the
    /// start of every turn that has events, before handling them.
    func applyChanges(now: Int64 = monotonicMicroseconds()) {
        guard let watcher else { return }
        lastChangesMicros = now
        watcher.drain { change in
            switch change {
            case .entry(let wd, let name):
                invalidate(Dependency(wd: wd, name: name))
                invalidate(Dependency(wd: wd, name: ""))
            case .directory(let wd):
                for name in watchedNames.removeValue(forKey: wd) ?? [] { invalidate(Dependency(wd: wd, name: name)) }
            case .everything:
                removeAll()
            }
        }
    }

    private func invalidate(_ dependency: Dependency) {
        guard let keys = dependents.removeValue(forKey: dependency) else { return }
        generation &+= 1
        clearMemo()
        for key in keys {
            entries[key] = nil
            renderedBodies[key] = nil
        }
    }

    /// Drops every cached file (and so closes its descriptor): the process ran out of them.
    func releaseDescriptors() {
        guard !entries.isEmpty else { return }
        entries.removeAll(keepingCapacity: true)
        generation &+= 1
        clearMemo()
    }

    /// A full cache is emptied (cheap, and bounded work against clients that ask for endless
    /// distinct paths); the watches go too when they reached their limit.
    private func emptyForSize() {
        entries.removeAll(keepingCapacity: true)
        renderedBodies.removeAll(keepingCapacity: true)
        dependents.removeAll()
        watchedNames.removeAll()
        generation &+= 1
        clearMemo()
        if let watcher, watcher.watchCount >= watcher.maxWatches { watcher.reset() }
    }

    /// Generated pages (directory listings) by key, kept like the files they list.
    private var renderedBodies: [Key: (page: RenderedPage, expiresAt: Int64)] = [:]

    /// The cached page for `key`, if it is fresh (nil when the cache is off).
    func cachedPage(_ key: String, in site: Site) -> RenderedPage? {
        guard ttlMilliseconds > 0 else { return nil }
        lookups += 1
        guard let entry = renderedBodies[Key(site: ObjectIdentifier(site), path: key)],
              entry.expiresAt > monotonicMilliseconds() else { return nil }
        hits += 1
        return entry.page
    }

    /// Keeps `page`, the listing of `directory`, until that directory changes (or for `ttl`
    /// when it cannot be watched). A page asked for before a change (`generation` is the
    /// cache's then) is not kept: it may show the directory as it was.
    func store(_ page: RenderedPage, for key: String, directory: String, in site: Site, generation asked: UInt64) {
        guard ttlMilliseconds > 0, asked == generation else { return }
        if renderedBodies.count >= maxEntries { emptyForSize() }
        let cacheKey = Key(site: ObjectIdentifier(site), path: key)
        let dependencies = self.dependencies(of: directory, in: site, listing: true)
        renderedBodies[cacheKey] = (page, dependencies == nil ? monotonicMilliseconds() + ttlMilliseconds : Self.untilChanged)
        if let dependencies { register(cacheKey, dependsOn: dependencies) }
    }

    /// Forgets everything (after a reload the sites are new objects anyway).
    func removeAll() {
        entries.removeAll()
        renderedBodies.removeAll()
        dependents.removeAll()
        watchedNames.removeAll()
        generation &+= 1
        clearMemo()
    }

    /// Counts a lookup answered by the memo, as a hit.
    func countHit() {
        lookups += 1
        hits += 1
    }

    /// Drops every remembered answer (a few hundred slots, only when something was remembered).
    func clearMemo() {
        guard memoUsed else { return }
        for i in memo.indices { memo[i] = nil }
        memoUsed = false
    }

    /// Notes that a slot was filled, so `clearMemo` has work.
    func noteMemoUsed() { memoUsed = true }

    /// Files up to this size keep their bytes in memory while cached.
    static let preloadLimit = 16 * 1024
}

/// A generated page (a listing) as it is sent, kept by `FileCache.store` for `ttl`.
struct RenderedPage: Sendable {
    var body: [UInt8]
    /// `gzip` when `body` is compressed.
    var contentEncoding: String? = nil
    /// Entries left out of a listing by its `maxEntries` cap.
    var omitted: Int = 0
}

/// Paths compared and hashed as the file system sees them: byte for byte. Swift's String
/// equality is canonical equivalence ("é" precomposed equals "e" and a combining accent, and
/// hashes alike), but to Linux those are two names, two files. Keys holding a path use this,
/// or one file's cached answer (or compressed variant) would be served for the other.
enum ExactPath {
    static func equal(_ a: String, _ b: String) -> Bool {
        if let same = a.utf8.withContiguousStorageIfAvailable({ equal($0, b) }) { return same }
        return a.utf8.elementsEqual(b.utf8)   // not reached on Linux: native strings are contiguous
    }

    /// Whether `bytes` are `path`'s UTF-8, byte for byte.
    static func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ path: String) -> Bool {
        if let same = path.utf8.withContiguousStorageIfAvailable({ equal(bytes, $0) }) { return same }
        return path.utf8.elementsEqual(bytes)   // not reached on Linux: native strings are contiguous
    }

    /// Whether `a` and `b` hold the same bytes.
    @inline(__always)
    static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        a.count == b.count && (a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
    }

    /// The UTF-8 bytes into `hasher` (the dictionary's seeded SipHash, as String's own hash,
    /// which also mixes in a terminator after checking the text is in normal form).
    static func hash(_ path: String, into hasher: inout Hasher) {
        let hashed: Void? = path.utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        if hashed == nil {
            for byte in path.utf8 { hasher.combine(byte) }
        }
    }
}
