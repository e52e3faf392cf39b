// FileCache's memo: a small direct-mapped table in front of `entries` for the plain
// fast path (RequestDispatcher.plainRequest). A request whose path bytes are already
// its normalised path (no percent-encoding, no dot segments: nearly every request for a
// hot file) finds the path String and the answer's entry with one cheap hash of those
// bytes and one byte comparison. The full way (normalising, making the String, the
// dictionary's SipHash of site and path) cost ~700 instructions a request under
// callgrind.
//
// Flooding: a slot holds one path and a collision only replaces it, so a lookup is one
// comparison whatever the client sends; an attacker can make misses (the full way),
// never longer searches. That is why the hash need not be keyed.
//
// Freshness: the memo holds no answer the dictionary dropped. It is emptied whenever
// entries leave the dictionary (a change, a sweep, the size limit, out of descriptors),
// and a hit is still checked against its entry's expiry as a dictionary hit is.

import Glibc

extension FileCache {
    /// One remembered answer: a path (the request's path bytes, which are the normalised
    /// path) in `site`, answered by `entry` (for a directory, its index file's entry), and
    /// what the plain path asks of the path besides. A class of constants: a hit is one
    /// reference, and its fields are read without copying them (a struct slot copied out
    /// of the array retained and released its path and entry, ~150 instructions a request).
    /// The path's bytes are its own allocation, compared with memcmp: compared as a String
    /// field they were retained and released around the comparison.
    final class MemoSlot {
        let site: ObjectIdentifier
        let entry: Entry
        /// The path ends in a slash (`PathNormalizer.endsInSlash`).
        let isDirectory: Bool
        /// The path is under ACME's HTTP-01 challenge prefix (`ACMEChallenges.pathPrefix`).
        let isChallengePath: Bool
        /// The path's UTF-8, owned by the slot (freed in deinit, never written after init).
        private let bytes: UnsafeMutableBufferPointer<UInt8>

        init(site: ObjectIdentifier, path: String, entry: Entry) {
            self.site = site
            self.entry = entry
            isDirectory = PathNormalizer.endsInSlash(path)
            isChallengePath = path.hasPrefix(ACMEChallenges.pathPrefix)
            bytes = .allocate(capacity: path.utf8.count)
            _ = bytes.initialize(from: path.utf8)
        }

        deinit { bytes.deallocate() }

        /// Whether `raw` is this slot's path, byte for byte.
        @inline(__always)
        func holds(_ raw: UnsafeBufferPointer<UInt8>) -> Bool {
            ExactPath.equal(raw, UnsafeBufferPointer(bytes))
        }
    }

    /// Slots per loop (a power of two).
    static let memoSlots = 256

    /// The memo's answer for the path bytes `raw` in `site`, when remembered and not
    /// expired. Changes older than the lookup window are applied first, as `lookup` does.
    func memoized(_ raw: UnsafeBufferPointer<UInt8>, in site: Site) -> MemoSlot? {
        guard ttlMilliseconds > 0 else { return nil }
        let nowMicros = monotonicMicroseconds()
        applyChanges(ifOlderThan: Self.lookupWindowMicros, now: nowMicros)
        guard let slot = memo[Self.memoIndex(raw, ObjectIdentifier(site))], slot.site == ObjectIdentifier(site),
              slot.entry.expiresAt > nowMicros / 1000, slot.holds(raw)
        else { return nil }
        countHit()
        return slot
    }

    /// Remembers that `path` in `site` is answered by `entry` (`path` is the normalised path
    /// and the request's path bytes).
    func memoize(_ path: String, entry: Entry, in site: Site) {
        guard ttlMilliseconds > 0 else { return }
        var path = path
        let index = path.withUTF8 { Self.memoIndex($0, ObjectIdentifier(site)) }
        memo[index] = MemoSlot(site: ObjectIdentifier(site), path: path, entry: entry)
        noteMemoUsed()
    }

    /// The slot of `bytes` in `site`: the length, the first and last (up to) eight bytes and
    /// the site mixed by multiplication. Not keyed, and need not be (see above).
    @inline(__always)
    static func memoIndex(_ bytes: UnsafeBufferPointer<UInt8>, _ site: ObjectIdentifier) -> Int {
        let count = bytes.count
        var h = UInt64(truncatingIfNeeded: count) &+ (UInt64(UInt(bitPattern: site)) &* 0x9E37_79B9_7F4A_7C15)
        if let base = bytes.baseAddress, count > 0 {
            let raw = UnsafeRawPointer(base)
            if count >= 8 {
                h = (h ^ raw.loadUnaligned(as: UInt64.self)) &* 0xC2B2_AE3D_27D4_EB4F
                h = (h ^ raw.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)) &* 0x1656_67B1_9E37_79F9
            } else {
                for i in 0..<count { h = (h ^ UInt64(base[i])) &* 0x1656_67B1_9E37_79F9 }
            }
        }
        h ^= h >> 32
        return Int(truncatingIfNeeded: (h &* 0x85EB_CA77_C2B2_AE63) >> 40) & (memoSlots - 1)
    }
}
