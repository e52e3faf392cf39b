// GzipCache: the bounded, least-recently-used store of compressed file bodies
// (gzip, brotli and zstd variants) shared by all event loops, so a file is
// compressed once per coding, not once per request (SPEC §3 Compression), plus the
// in-flight guard and counters.
import Synchronization

/// Compressed bodies keyed by file path, size, mtime and level, bounded by total
/// bytes, evicting the least recently used entry first.
///
/// Thread safety: one instance is shared by every event-loop thread and the
/// `CompressionQueue` workers. All entries, the LRU list, the byte count and the
/// in-flight set live in one `State` value guarded by `state` (a `Locked` (pthread mutex)); no
/// field is read or written outside `state.withLock`. Each lock is held for a
/// few dictionary and index operations only, never while compressing or doing
/// I/O. The counters are `Atomic`s and need no lock. Bodies are `[UInt8]`
/// values, so a lookup hands out a reference to immutable storage, not a copy.
///
/// Invalidation: a file is identified by `path` and `level`; its version by size
/// and mtime. A lookup or insert with a different version of the same file
/// drops the old entry, so a changed file is never served from the cache.
public final class GzipCache: Sendable {
    /// Identifies one compressed variant: which file, which version of it (size
    /// and mtime from `fstat`), and at which level it was compressed.
    public struct Key: Hashable, Sendable {
        public var path: String
        public var size: Int
        public var mtimeSeconds: Int
        public var mtimeNanoseconds: Int
        public var level: Int
        /// Which coding (`level` is zlib's level, brotli's quality or zstd's level).
        public var coding: ContentCoding

        /// The path byte for byte (`ExactPath`), the rest as usual.
        public static func == (a: Key, b: Key) -> Bool {
            ExactPath.equal(a.path, b.path) && a.size == b.size && a.mtimeSeconds == b.mtimeSeconds
                && a.mtimeNanoseconds == b.mtimeNanoseconds && a.level == b.level && a.coding == b.coding
        }

        public func hash(into hasher: inout Hasher) {
            ExactPath.hash(path, into: &hasher)
            hasher.combine(size)
            hasher.combine(mtimeSeconds)
            hasher.combine(mtimeNanoseconds)
            hasher.combine(level)
            hasher.combine(coding)
        }

        public init(path: String, size: Int, mtimeSeconds: Int, mtimeNanoseconds: Int, level: Int, coding: ContentCoding = .gzip) {
            self.path = path
            self.size = size
            self.mtimeSeconds = mtimeSeconds
            self.mtimeNanoseconds = mtimeNanoseconds
            self.level = level
            self.coding = coding
        }

        /// The file this key is a version of; one entry per file and coding is kept.
        var file: LRUStore.File { LRUStore.File(path: path, level: level, coding: coding) }
    }

    /// SPEC §3: `gzip.cacheBytes` defaults to 64 MiB.
    public static let defaultCapacityBytes = 64 << 20

    /// The most compressed bytes held at once (entry bodies only).
    public let capacityBytes: Int

    // Guarded by its own mutex; see the type's comment.
    private let state: Locked<LRUStore>
    private let hitCount = Atomic<Int>(0)
    private let missCount = Atomic<Int>(0)
    private let compressionCount = Atomic<Int>(0)

    /// Creates an empty cache holding at most `capacityBytes` of compressed
    /// bodies. A capacity of 0 stores nothing.
    public init(capacityBytes: Int = GzipCache.defaultCapacityBytes) {
        self.capacityBytes = max(0, capacityBytes)
        self.state = Locked(LRUStore())
    }

    /// Returns the compressed body for `key` and marks it most recently used, or
    /// nil (a miss). An entry for another version of the same file is dropped.
    public func lookup(_ key: Key) -> [UInt8]? {
        let found = state.withLock { $0.lookup(key, touch: true) }
        if found == nil {
            missCount.add(1, ordering: .relaxed)
        } else {
            hitCount.add(1, ordering: .relaxed)
        }
        return found
    }

    /// Like `lookup` but counts neither a hit nor a miss: for re-checking the
    /// cache after winning `beginCompression`, and for the variants a client would
    /// prefer before the one it gets.
    func peek(_ key: Key) -> [UInt8]? {
        state.withLock { $0.lookup(key, touch: false) }
    }

    /// Stores `compressed` for `key` as the most recently used entry, replacing
    /// any entry for the same file, then evicts least recently used entries
    /// until the total fits `capacityBytes`. A body bigger than the whole
    /// capacity is not stored (the old version is still dropped).
    public func insert(_ key: Key, _ compressed: [UInt8]) {
        let capacity = capacityBytes
        state.withLock { store in
            store.remove(key.file)
            guard compressed.count <= capacity, capacity > 0 else { return }
            store.pushNewest(key, compressed)
            while store.byteCount > capacity {
                store.evictOldest()
            }
        }
    }

    /// Claims the right to compress `key`. Returns true when no other thread is
    /// compressing it; the caller must then call `endCompression(key)` exactly
    /// once, after inserting the result (or failing). Returns false when another
    /// thread is already at it: the caller does not wait (an event loop never
    /// blocks) but serves the identity body this time, or, through
    /// `CompressionQueue.submit`, waits for the running job's result.
    public func beginCompression(_ key: Key) -> Bool {
        state.withLock { $0.inFlight.insert(key).inserted }
    }

    /// Releases a claim taken with `beginCompression(key)`.
    public func endCompression(_ key: Key) {
        _ = state.withLock { $0.inFlight.remove(key) }
    }

    /// Returns the cached body for `key`, or compresses `body` (the file's
    /// contents) inline, stores and returns it. For small bodies already in
    /// memory; large files go through `CompressionQueue`. Returns nil when
    /// another thread is compressing the same key or zlib fails: serve identity.
    public func lookupOrCompress(_ key: Key, body: UnsafeRawBufferPointer) -> [UInt8]? {
        if let cached = lookup(key) { return cached }
        guard beginCompression(key) else { return nil }
        defer { endCompression(key) }
        // Another thread may have finished between the lookup and the claim.
        if let cached = peek(key) { return cached }
        guard let compressed = try? Deflater.gzip(body, level: key.level) else { return nil }
        recordCompression()
        insert(key, compressed)
        return compressed
    }

    /// Counts one compression of a body (called by whoever ran the deflater).
    public func recordCompression() {
        compressionCount.add(1, ordering: .relaxed)
    }

    /// How many bodies were compressed for this cache: a repeated request that
    /// hits the cache leaves it unchanged.
    public var compressions: Int { compressionCount.load(ordering: .relaxed) }
    /// How many lookups found their entry.
    public var hits: Int { hitCount.load(ordering: .relaxed) }
    /// How many lookups found nothing (or a stale version).
    public var misses: Int { missCount.load(ordering: .relaxed) }
    /// Total compressed bytes held now.
    public var byteCount: Int { state.withLock { $0.byteCount } }
    /// Number of entries held now.
    public var count: Int { state.withLock { $0.index.count } }
    /// Cached keys from most to least recently used (for tests).
    func keysNewestFirst() -> [Key] { state.withLock { $0.keysNewestFirst() } }
}
