// Tests for GzipCache: LRU order and eviction, the byte bound, replacement when
// the file changes, oversize entries, counters and the in-flight guard.
import Testing
@testable import CompanionCore

@Suite struct GzipCacheTests {
    static func key(_ path: String, size: Int = 100, mtime: Int = 1, level: Int = 6) -> GzipCache.Key {
        GzipCache.Key(path: path, size: size, mtimeSeconds: mtime, mtimeNanoseconds: 500, level: level)
    }

    static func body(_ count: Int, _ byte: UInt8 = 7) -> [UInt8] { [UInt8](repeating: byte, count: count) }

    @Test func insertThenLookupHits() {
        let cache = GzipCache(capacityBytes: 1000)
        #expect(cache.lookup(Self.key("/a")) == nil)
        cache.insert(Self.key("/a"), Self.body(10))
        #expect(cache.lookup(Self.key("/a")) == Self.body(10))
        #expect(cache.hits == 1)
        #expect(cache.misses == 1)
        #expect(cache.byteCount == 10)
        #expect(cache.count == 1)
    }

    @Test func evictsLeastRecentlyUsedFirst() {
        let cache = GzipCache(capacityBytes: 300)
        cache.insert(Self.key("/a"), Self.body(100))
        cache.insert(Self.key("/b"), Self.body(100))
        cache.insert(Self.key("/c"), Self.body(100))
        #expect(cache.keysNewestFirst().map(\.path) == ["/c", "/b", "/a"])
        // Touch /a: /b becomes the oldest and goes first.
        #expect(cache.lookup(Self.key("/a")) != nil)
        #expect(cache.keysNewestFirst().map(\.path) == ["/a", "/c", "/b"])
        cache.insert(Self.key("/d"), Self.body(100))
        #expect(cache.keysNewestFirst().map(\.path) == ["/d", "/a", "/c"])
        #expect(cache.lookup(Self.key("/b")) == nil)
        // A big entry pushes out as many old ones as needed.
        cache.insert(Self.key("/e"), Self.body(250))
        #expect(cache.keysNewestFirst().map(\.path) == ["/e"])
        #expect(cache.byteCount == 250)
    }

    @Test func staysWithinTheByteBound() {
        let cache = GzipCache(capacityBytes: 1000)
        for index in 0..<200 {
            cache.insert(Self.key("/f\(index)"), Self.body(37 + index % 50))
            #expect(cache.byteCount <= 1000)
        }
        let held = cache.keysNewestFirst()
        #expect(held.first?.path == "/f199")
        #expect(held.count == cache.count)
    }

    @Test func changedFileReplacesTheOldEntry() {
        let cache = GzipCache(capacityBytes: 1000)
        let old = Self.key("/page.html", size: 100, mtime: 1)
        let new = Self.key("/page.html", size: 120, mtime: 2)
        cache.insert(old, Self.body(40, 1))
        cache.insert(new, Self.body(50, 2))
        #expect(cache.count == 1)
        #expect(cache.byteCount == 50)
        #expect(cache.lookup(new) == Self.body(50, 2))
        #expect(cache.lookup(old) == nil)
    }

    @Test(arguments: [
        (100, 2, 0), // other size
        (100, 1, 0), // other mtime nanoseconds (key uses 500)
        (100, 9, 500), // other mtime seconds
    ])
    func lookupOfANewerVersionDropsTheStaleEntry(size: Int, mtime: Int, nanoseconds: Int) {
        let cache = GzipCache(capacityBytes: 1000)
        cache.insert(Self.key("/a"), Self.body(10))
        let current = GzipCache.Key(path: "/a", size: size, mtimeSeconds: mtime, mtimeNanoseconds: nanoseconds, level: 6)
        #expect(cache.lookup(current) == nil)
        #expect(cache.count == 0)
        #expect(cache.byteCount == 0)
    }

    @Test func levelsAreSeparateEntries() {
        let cache = GzipCache(capacityBytes: 1000)
        cache.insert(Self.key("/a", level: 1), Self.body(10, 1))
        cache.insert(Self.key("/a", level: 9), Self.body(8, 9))
        #expect(cache.lookup(Self.key("/a", level: 1)) == Self.body(10, 1))
        #expect(cache.lookup(Self.key("/a", level: 9)) == Self.body(8, 9))
    }

    @Test func oversizeEntryIsNotStored() {
        let cache = GzipCache(capacityBytes: 100)
        cache.insert(Self.key("/small"), Self.body(60))
        cache.insert(Self.key("/big"), Self.body(101))
        #expect(cache.lookup(Self.key("/big")) == nil)
        #expect(cache.lookup(Self.key("/small")) != nil, "an oversize insert evicts nothing")
        #expect(cache.byteCount == 60)
        let disabled = GzipCache(capacityBytes: 0)
        disabled.insert(Self.key("/a"), Self.body(1))
        #expect(disabled.count == 0)
    }

    @Test func inFlightGuardAdmitsOneCompressor() {
        let cache = GzipCache(capacityBytes: 100)
        let key = Self.key("/a")
        #expect(cache.beginCompression(key))
        #expect(!cache.beginCompression(key))
        #expect(cache.beginCompression(Self.key("/b")), "other keys are independent")
        cache.endCompression(key)
        #expect(cache.beginCompression(key))
    }

    @Test func lookupOrCompressCompressesOnce() throws {
        let cache = GzipCache(capacityBytes: 1 << 20)
        let text = Array(String(repeating: "compress me once ", count: 500).utf8)
        let key = Self.key("/t.txt", size: text.count)
        let first = text.withUnsafeBytes { cache.lookupOrCompress(key, body: $0) }
        let second = text.withUnsafeBytes { cache.lookupOrCompress(key, body: $0) }
        #expect(cache.compressions == 1)
        #expect(cache.hits == 1)
        #expect(first == second)
        #expect(try Inflater.gunzip(try #require(first)) == text)
        // While another thread holds the claim, the caller gets nil at once.
        let other = Self.key("/u.txt", size: text.count)
        #expect(cache.beginCompression(other))
        #expect(text.withUnsafeBytes { cache.lookupOrCompress(other, body: $0) } == nil)
        #expect(cache.compressions == 1)
    }
}
