// ReadBuffer: the bytes a connection has read and not yet consumed, `storage[start..<end]`.
// Request heads are parsed in place; a head never moves while it is parsed except by
// `compact` (which keeps it at offset 0, as ParseProgress requires). It grows up to the
// head size limit, then a full buffer with no complete head is the parser's 431.

import Glibc

struct ReadBuffer {
    // The bytes are always written by a read before they are parsed: no need to zero them.
    // Empty while the connection is idle: the storage went back to the loop's BufferPool
    // (`release`), and `makeRoom` takes one again.
    private var storage: [UInt8] = []
    private(set) var start = 0
    private(set) var end = 0

    /// The buffer holds storage (it has not been released to the pool).
    var hasStorage: Bool { !storage.isEmpty }

    /// Nothing unconsumed is buffered.
    var isEmpty: Bool { start == end }
    var count: Int { end - start }

    /// Makes room for a read: moves unconsumed bytes to the front or grows up to `limit`.
    /// False when the buffer is full at `limit` (a head too large to ever complete).
    mutating func makeRoom(limit: Int, pool: inout BufferPool) -> Bool {
        if storage.isEmpty { storage = pool.takeReadBuffer() }
        guard end == storage.count else { return true }
        if start > 0 {
            compact()
        } else if storage.count < limit {
            storage.append(contentsOf: repeatElement(0, count: min(storage.count, limit - storage.count)))
        } else {
            return false
        }
        return true
    }

    /// Reads once from `transport` into the free space (call `makeRoom` first). `short`:
    /// the read returned less than the free space.
    mutating func read<T: Transport>(from transport: inout T) -> (result: TransportRead, short: Bool) {
        let free = storage.count - end
        // A zero-length read returns 0, which a transport reports as the peer's EOF.
        assert(free > 0, "ReadBuffer.read without room: call makeRoom first")
        let offset = end
        let result = storage.withUnsafeMutableBytes { raw in
            transport.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[offset..<offset + free]))
        }
        if case .bytes(let n) = result {
            end += n
            return (result, n < free)
        }
        return (result, false)
    }

    /// Calls `body` with the unconsumed bytes. Mutating though it changes nothing: called on a
    /// connection's stored buffer, a non-mutating call copied the buffer, a retain and a
    /// release of its storage a request.
    mutating func withUnconsumed<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        let (s, e) = (start, end)
        return storage.withUnsafeBytes { raw in body(UnsafeRawBufferPointer(rebasing: raw[s..<e])) }
    }

    /// Drops `count` bytes from the front; an emptied buffer starts again at offset 0.
    mutating func consume(_ count: Int) {
        start += count
        if start == end { clear() }
    }

    /// Hands the storage back to `pool` when nothing is buffered (an idle connection keeps no
    /// buffer); the next `makeRoom` takes one again.
    mutating func release(to pool: inout BufferPool) {
        guard start == end, !storage.isEmpty else { return }
        var taken: [UInt8] = []
        swap(&taken, &storage)
        start = 0
        end = 0
        pool.giveBack(readBuffer: taken)
    }

    /// Drops everything buffered.
    mutating func clear() {
        start = 0
        end = 0
    }

    /// When a head is incomplete and the buffer is full behind it, moves it to the front so
    /// the next read has room.
    mutating func compactIfFull() {
        if start > 0 && end == storage.count { compact() }
    }

    private mutating func compact() {
        let count = end - start
        if count > 0 {
            let from = start
            storage.withUnsafeMutableBytes { raw in
                _ = memmove(raw.baseAddress!, raw.baseAddress! + from, count)
            }
        }
        start = 0
        end = count
    }

    /// Reads and drops whatever the transport has, up to `budget` bytes (lingering close).
    /// Returns the bytes dropped and how the last read ended.
    mutating func drain<T: Transport>(from transport: inout T, budget: Int,
                                      pool: inout BufferPool) -> (dropped: Int, last: TransportRead) {
        clear()
        if storage.isEmpty { storage = pool.takeReadBuffer() }
        var dropped = 0
        while dropped < budget {
            let result = storage.withUnsafeMutableBytes { raw in transport.read(into: raw) }
            guard case .bytes(let n) = result else { return (dropped, result) }
            dropped += n
        }
        return (dropped, .bytes(0))
    }
}
