// LRUStore: the unsynchronized state inside GzipCache's mutex: entries in a
// slot array linked newest-to-oldest by index, a file-to-slot index, the byte
// total and the in-flight set. Only GzipCache touches it, under its lock.

/// A least-recently-used list of compressed bodies, one per file.
///
/// ```
///  index: File -> slot        newest                          oldest
///                               |                                |
///  slots: [ .. | node | .. | node | .. | node | .. ]   linked by `older`/`newer`
/// ```
/// Moving an entry to the front or evicting the oldest changes a few indices;
/// freed slots are reused, so steady use does not allocate nodes.
struct LRUStore: ~Copyable {
    /// One file in one coding at one level; its version is in the node's key.
    struct File: Hashable {
        var path: String
        var level: Int
        var coding: ContentCoding

        /// The path byte for byte (`ExactPath`).
        static func == (a: File, b: File) -> Bool {
            ExactPath.equal(a.path, b.path) && a.level == b.level && a.coding == b.coding
        }

        func hash(into hasher: inout Hasher) {
            ExactPath.hash(path, into: &hasher)
            hasher.combine(level)
            hasher.combine(coding)
        }
    }

    struct Node {
        var key: GzipCache.Key
        var bytes: [UInt8]
        var newer: Int
        var older: Int
    }

    static let none = -1

    var slots: [Node?] = []
    var freeSlots: [Int] = []
    var index: [File: Int] = [:]
    var newest = LRUStore.none
    var oldest = LRUStore.none
    var byteCount = 0
    /// Keys some thread is compressing now (GzipCache.beginCompression).
    var inFlight: Set<GzipCache.Key> = []

    /// The body for `key`, or nil. A node for another version of the same file
    /// is stale and removed. `touch` moves a hit to the front.
    mutating func lookup(_ key: GzipCache.Key, touch: Bool) -> [UInt8]? {
        guard let slot = index[key.file], let node = slots[slot] else { return nil }
        guard node.key == key else {
            remove(key.file)
            return nil
        }
        if touch && slot != newest {
            unlink(slot)
            linkNewest(slot)
        }
        return node.bytes
    }

    /// Adds a node for `key` at the front. The file must not be present.
    mutating func pushNewest(_ key: GzipCache.Key, _ bytes: [UInt8]) {
        let node = Node(key: key, bytes: bytes, newer: Self.none, older: Self.none)
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            slots[slot] = node
        } else {
            slot = slots.count
            slots.append(node)
        }
        index[key.file] = slot
        byteCount += bytes.count
        linkNewest(slot)
    }

    /// Drops the entry for `file`, if any.
    mutating func remove(_ file: File) {
        guard let slot = index.removeValue(forKey: file) else { return }
        unlink(slot)
        byteCount -= slots[slot]?.bytes.count ?? 0
        slots[slot] = nil
        freeSlots.append(slot)
    }

    /// Drops the least recently used entry.
    mutating func evictOldest() {
        guard oldest != Self.none, let node = slots[oldest] else { return }
        remove(node.key.file)
    }

    /// Keys from newest to oldest (for tests).
    func keysNewestFirst() -> [GzipCache.Key] {
        var keys: [GzipCache.Key] = []
        var slot = newest
        while slot != Self.none, let node = slots[slot] {
            keys.append(node.key)
            slot = node.older
        }
        return keys
    }

    private mutating func unlink(_ slot: Int) {
        guard let node = slots[slot] else { return }
        if node.newer != Self.none { slots[node.newer]?.older = node.older } else { newest = node.older }
        if node.older != Self.none { slots[node.older]?.newer = node.newer } else { oldest = node.newer }
        slots[slot]?.newer = Self.none
        slots[slot]?.older = Self.none
    }

    private mutating func linkNewest(_ slot: Int) {
        slots[slot]?.older = newest
        slots[slot]?.newer = Self.none
        if newest != Self.none { slots[newest]?.newer = slot }
        newest = slot
        if oldest == Self.none { oldest = slot }
    }
}
