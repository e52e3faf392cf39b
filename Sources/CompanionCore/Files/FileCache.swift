// FileCache: a per-loop cache of path resolutions (lighttpd's one-second stat
// cache idea). For `ttl` milliseconds after a lookup, the same (site, path) is
// answered without touching the disk: the open file (or the not-found answer),
// its content type and ETag, and for small files their bytes. After that the
// path is resolved again through the site's PathResolver.
//
// Trade-off (documented in the README): a file changed on disk is served as it
// was for at most `ttl` (default 1 s). SECURITY: entries come only from the
// root-contained resolver, so a cached answer is one that was allowed when it
// was made; a symlink swapped in later is seen within `ttl`.
//
// Descriptors: each cached file holds its open descriptor, so the cache is sized
// from RLIMIT_NOFILE (`entryLimit`) and the loop sweeps expired entries every `ttl`
// (`sweep`): an expired entry used to keep its descriptor until the same path was
// asked for again, ~500 per loop (issue 9 #3). A lookup that failed for lack of
// descriptors is never cached.
//
// Owned by one EventLoop; not thread-safe, and never shared.

import Glibc

final class FileCache {
    struct Key: Hashable {
        let site: ObjectIdentifier
        let path: String
    }

    /// A resolved path and what the static-file stage derives from it.
    final class Entry {
        let result: Result<OpenFile, ResolveFailure>
        let expiresAt: Int64
        let contentType: String
        let etag: String

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
    private(set) var hits = 0
    /// Lookups of paths and pages, hits or not (for /metrics).
    private(set) var lookups = 0

    init(ttlMilliseconds: Int, maxEntries: Int = 512) {
        self.ttlMilliseconds = Int64(ttlMilliseconds)
        self.maxEntries = maxEntries
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
        if !entries.isEmpty {
            entries = entries.filter { $0.value.expiresAt > now }
        }
        if !renderedBodies.isEmpty {
            renderedBodies = renderedBodies.filter { $0.value.expiresAt > now }
        }
    }

    /// The resolution of `path` in `site`, from the cache when fresh.
    func lookup(_ path: String, in site: Site) -> Entry {
        let now = monotonicMilliseconds()
        guard ttlMilliseconds > 0 else {
            return Entry(result: site.resolver.open(path), path: path, expiresAt: now)
        }
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
            // Out of descriptors: say so now, and look again next time (never cached).
            entries[key] = nil
            return Entry(result: result, path: path, expiresAt: now)
        }
        let entry = Entry(result: result, path: path, expiresAt: now + ttlMilliseconds)
        if entries.count >= maxEntries { entries.removeAll(keepingCapacity: true) }
        entries[key] = entry
        return entry
    }

    /// Generated pages (directory listings) by key, kept for `ttl` like the files they list.
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

    /// Keeps `page` for `ttl` (a page rendered off the loop).
    func store(_ page: RenderedPage, for key: String, in site: Site) {
        guard ttlMilliseconds > 0 else { return }
        if renderedBodies.count >= maxEntries { renderedBodies.removeAll(keepingCapacity: true) }
        renderedBodies[Key(site: ObjectIdentifier(site), path: key)] = (page, monotonicMilliseconds() + ttlMilliseconds)
    }

    /// Forgets everything (after a reload the sites are new objects anyway).
    func removeAll() {
        entries.removeAll()
        renderedBodies.removeAll()
    }

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
