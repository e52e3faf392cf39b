// StringIDCache: the writer's memory of `strings` ids, keyed by the raw bytes a
// row carries (before `\xHH` escaping or anonymising), so a repeated site, path or
// user agent costs a hash and a compare instead of an SQL lookup. Open addressing
// over one byte buffer; no String is made for a hit. Bounded: past `maxEntries` or
// `maxKeyBytes` it starts over (a flood of distinct paths costs lookups, never
// memory). Hashing is Swift's seeded SipHash, so a client cannot choose paths that
// collide. Writer thread only.

final class StringIDCache {
    struct Entry {
        var id: Int64
        /// The newest day (Unix days) known to be stored in `strings.day` for this text.
        var day: Int32
    }

    private struct Slot {
        var hash = 0
        var offset: Int32 = 0
        var length: Int32 = -1   // -1: empty
        var entry = Entry(id: 0, day: 0)
    }

    static let maxEntries = 1 << 16
    static let maxKeyBytes = 8 << 20

    private var slots: [Slot]
    private var keys: [UInt8] = []
    private(set) var count = 0

    init() {
        slots = [Slot](repeating: Slot(), count: 1024)
    }

    /// Forgets everything (a failed transaction may have rolled back ids we cached).
    func removeAll() {
        slots = [Slot](repeating: Slot(), count: 1024)
        keys = []
        count = 0
    }

    /// Where `bytes` is or would go.
    private func slotIndex(of bytes: UnsafeRawBufferPointer, hash: Int) -> Int {
        let mask = slots.count - 1
        var index = hash & mask
        while true {
            let slot = slots[index]
            if slot.length < 0 { return index }
            if slot.hash == hash, Int(slot.length) == bytes.count {
                let same = keys.withUnsafeBytes { stored in
                    bytes.count == 0 || memcmp(stored.baseAddress! + Int(slot.offset), bytes.baseAddress!, bytes.count) == 0
                }
                if same { return index }
            }
            index = (index + 1) & mask
        }
    }

    static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: bytes)
        return hasher.finalize()
    }

    func lookup(_ bytes: UnsafeRawBufferPointer, hash: Int) -> Entry? {
        let slot = slots[slotIndex(of: bytes, hash: hash)]
        return slot.length < 0 ? nil : slot.entry
    }

    /// Sets the entry of `bytes` (adding it when new).
    func store(_ bytes: UnsafeRawBufferPointer, hash: Int, entry: Entry) {
        var index = slotIndex(of: bytes, hash: hash)
        if slots[index].length >= 0 {
            slots[index].entry = entry
            return
        }
        if count + 1 > Self.maxEntries || keys.count + bytes.count > Self.maxKeyBytes {
            removeAll()
        } else if (count + 1) * 2 > slots.count {
            grow()
        } else {
            return place(at: index, bytes, hash: hash, entry: entry)
        }
        index = slotIndex(of: bytes, hash: hash)
        place(at: index, bytes, hash: hash, entry: entry)
    }

    private func place(at index: Int, _ bytes: UnsafeRawBufferPointer, hash: Int, entry: Entry) {
        let offset = keys.count
        keys.append(contentsOf: bytes)
        slots[index] = Slot(hash: hash, offset: Int32(offset), length: Int32(bytes.count), entry: entry)
        count += 1
    }

    private func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(), count: old.count * 2)
        let mask = slots.count - 1
        for slot in old where slot.length >= 0 {
            var index = slot.hash & mask
            while slots[index].length >= 0 { index = (index + 1) & mask }
            slots[index] = slot
        }
    }
}

import Glibc
