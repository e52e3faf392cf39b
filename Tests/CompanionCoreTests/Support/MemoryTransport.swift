// MemoryTransport: a Transport over arrays, for testing what is written without a socket.
// Writes take at most `writeChunk` bytes per call and block once `capacity` bytes are
// unread; reads hand out `incoming` in `readChunk` pieces.
import Glibc
@testable import CompanionCore

struct MemoryTransport: Transport {
    var descriptor: Int32 { -1 }
    var incoming: [UInt8] = []
    var readChunk = Int.max
    var endOfStream = false
    /// Everything written so far, in order.
    var written: [UInt8] = []
    var writeChunk = Int.max
    /// Bytes that may be written before writes block (until `drain()`).
    var capacity = Int.max
    var failWrites = false
    var shutDown = false
    var closed = false
    /// The `more` flag of each write that wrote bytes.
    var moreFlags: [Bool] = []
    private var unread = 0

    init(incoming: [UInt8] = []) {
        self.incoming = incoming
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportRead {
        if incoming.isEmpty { return endOfStream ? .endOfStream : .wouldBlock }
        let n = min(buffer.count, readChunk, incoming.count)
        incoming.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: n) }
        incoming.removeFirst(n)
        return .bytes(n)
    }

    mutating func write(_ bytes: UnsafeRawBufferPointer, more: Bool) -> TransportWrite {
        if failWrites { return .failed }
        let n = min(bytes.count, writeChunk, capacity - unread)
        if n == 0 { return .wouldBlock }
        written.append(contentsOf: bytes[..<n])
        unread += n
        moreFlags.append(more)
        return .wrote(n)
    }

    /// Whether writes of several buffers take bytes from all of them, as sendmsg(2) does.
    var gather = false
    var gathers: Bool { gather }
    /// Gathered writes that wrote bytes, and the buffers each was given.
    var gatheredBufferCounts: [Int] = []

    mutating func writeGathered(_ buffers: UnsafeBufferPointer<iovec>, more: Bool) -> TransportWrite {
        if !gather { return writeFirst(of: buffers, more: more) }
        if failWrites { return .failed }
        var n = 0
        let allowed = min(writeChunk, capacity - unread)
        for buffer in buffers where n < allowed {
            let take = min(buffer.iov_len, allowed - n)
            written.append(contentsOf: UnsafeRawBufferPointer(start: buffer.iov_base, count: take))
            n += take
        }
        if n == 0 { return .wouldBlock }
        unread += n
        moreFlags.append(more)
        gatheredBufferCounts.append(buffers.count)
        return .wrote(n)
    }

    mutating func writeFile(_ file: Int32, offset: Int, count: Int, more: Bool) -> TransportWrite {
        if failWrites { return .failed }
        let n = min(count, writeChunk, capacity - unread)
        if n == 0 { return .wouldBlock }
        var chunk = [UInt8](repeating: 0, count: n)
        let read = chunk.withUnsafeMutableBytes { OpenFile.readFully(file, into: $0, at: offset) }
        written.append(contentsOf: chunk[..<read])
        unread += read
        if read > 0 { moreFlags.append(more) }
        return .wrote(read)
    }

    /// The peer read everything written so far.
    mutating func drain() { unread = 0 }

    mutating func shutdownWrite() { shutDown = true }
    mutating func close() { closed = true }
}
