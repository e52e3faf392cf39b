// OutputQueue: the bytes a connection still has to write, in response order (pipelined
// responses queue behind each other). Heads and small bodies are owned arrays (one send
// each); large cached bodies are queued by reference and files by range, written with
// the transport's writeFile (sendfile on plain TCP). `isBackPressured` is what stops the
// connection from reading and parsing more requests until the queue drains.

import Glibc

struct OutputQueue {
    enum Item {
        /// `bytes[offset..<end]` still to send; `more` = more of the response follows
        /// (MSG_MORE). `owned`: the connection made the array (a head, a small body), so it
        /// may be reused as scratch space once sent. A body from a cache (compressed variant,
        /// rendered listing) is shared, not owned: the queue holds a reference, never a copy,
        /// so slow readers of one large cached body do not each pin a copy of it.
        case bytes([UInt8], offset: Int, end: Int, more: Bool, owned: Bool)
        case file(OpenFile, offset: Int, end: Int)
    }

    /// What one `writeSome` did.
    enum WriteStep: Equatable {
        case wrote(Int)
        case wouldBlock
        /// The transport failed, or a file ended before the length its head promised.
        case failed
    }

    /// Bodies up to this size are copied behind their head (one send); larger ones are
    /// queued by reference or as a file range.
    static let smallBodyLimit = 16 * 1024
    /// Queued bytes above which nothing more is read or parsed until the queue drains.
    static let backPressureBytes = 256 * 1024
    /// Most bytes one sendfile call is asked for when the caller sets no smaller bound
    /// (a connection passes what is left of its turn's budget, Connection.writeBytesPerTurn).
    static let fileChunkBytes = 1 << 21

    /// `items[first...]` are still to write (a moving start: removing the first item of a
    /// long pipelined queue does not shift the rest).
    private var items: [Item] = []
    private var first = 0
    /// Bytes of the queued byte items (files are not counted: a queued file is back-pressure).
    private(set) var queuedBytes = 0
    /// An owned array already sent, kept to build the next head in.
    private var spare: [UInt8] = []

    var isEmpty: Bool { first == items.count }
    /// A sent head buffer is kept for the next response.
    var hasSpare: Bool { spare.capacity > 0 }

    var isBackPressured: Bool {
        guard !isEmpty else { return false }
        if queuedBytes > Self.backPressureBytes { return true }
        if case .file = items[items.count - 1] { return true }
        return false
    }

    /// An empty array with the capacity of a sent head, to write the next head into (from
    /// `pool` when this queue kept none).
    mutating func takeSpare(pool: inout BufferPool) -> [UInt8] {
        if spare.capacity == 0 { return pool.takeHeadBuffer() }
        var out: [UInt8] = []
        swap(&out, &spare)
        out.removeAll(keepingCapacity: true)
        return out
    }

    /// An empty queue gives its spare head buffer back to `pool` (an idle keep-alive
    /// connection holds no buffer). The item list keeps its capacity, a few dozen bytes:
    /// freeing it made a malloc and a free per request.
    mutating func release(to pool: inout BufferPool) {
        guard isEmpty, spare.capacity > 0 else { return }
        var taken: [UInt8] = []
        swap(&taken, &spare)
        pool.giveBack(headBuffer: taken)
    }

    /// Largest TLS record payload (RFC 8446 §5.1).
    static let tlsRecordBytes = 16 * 1024

    /// Queues a finalized response: `head` (consumed, so a small body is appended to its
    /// buffer instead of a copy) and its body. `fillRecord` (TLS): a large cached body's
    /// first bytes join the head up to one full record, as nginx's ssl_buffer_size does, so
    /// the head does not travel as a record and a segment of its own (a 22 KB gzip body:
    /// two records and writes instead of three).
    mutating func enqueue(_ body: BodyPlan, head out: consuming [UInt8], fillRecord: Bool = false) {
        switch body {
        case .none:
            append(out, more: false)
        case .bytes(let bytes, let range):
            if range.count <= Self.smallBodyLimit {
                out.append(contentsOf: bytes[range])
                append(out, more: false)
            } else if fillRecord && out.count < Self.tlsRecordBytes {
                let split = range.lowerBound + (Self.tlsRecordBytes - out.count)
                out.append(contentsOf: bytes[range.lowerBound..<split])
                append(out, more: true)
                appendShared(bytes, split..<range.upperBound)
            } else {
                append(out, more: true)
                appendShared(bytes, range)
            }
        case .file(let file, let range):
            if let contents = file.contents {
                out.append(contentsOf: contents[range])
                append(out, more: false)
            } else if Self.appendSmallFile(file, range, to: &out) {
                append(out, more: false)
            } else {
                append(out, more: true)
                appendFile(file, range)
            }
        case .multipart(let source, let parts, let closing):
            for part in parts {
                out.append(contentsOf: part.header)
                switch source {
                case .empty: break
                case .bytes(let bytes) where part.range.count > Self.smallBodyLimit:
                    append(out, more: true)
                    appendShared(bytes, part.range)
                    out = []
                case .bytes(let bytes): out.append(contentsOf: bytes[part.range])
                case .file(let file):
                    if !Self.appendSmallFile(file, part.range, to: &out) {
                        append(out, more: true)
                        appendFile(file, part.range)
                        out = []
                    }
                }
            }
            out.append(contentsOf: closing)
            append(out, more: false)
        }
    }

    /// Queues bytes this connection owns.
    mutating func append(_ bytes: [UInt8], more: Bool) {
        guard !bytes.isEmpty else { return }
        queuedBytes += bytes.count
        items.append(.bytes(bytes, offset: 0, end: bytes.count, more: more, owned: true))
    }

    /// Queues a range of a body that others hold too (a cache's array): by reference.
    private mutating func appendShared(_ bytes: [UInt8], _ range: Range<Int>) {
        guard !range.isEmpty else { return }
        queuedBytes += range.count
        items.append(.bytes(bytes, offset: range.lowerBound, end: range.upperBound, more: false, owned: false))
    }

    private mutating func appendFile(_ file: OpenFile, _ range: Range<Int>) {
        guard !range.isEmpty else { return }
        items.append(.file(file, offset: range.lowerBound, end: range.upperBound))
    }

    /// Reads a small file range into `out` (one send instead of send + sendfile). False,
    /// with `out` unchanged, when the range is large or the file is shorter than promised.
    private static func appendSmallFile(_ file: OpenFile, _ range: Range<Int>, to out: inout [UInt8]) -> Bool {
        guard range.count <= smallBodyLimit else { return false }
        let base = out.count
        out.append(contentsOf: repeatElement(0, count: range.count))
        let read = out.withUnsafeMutableBytes { raw in
            file.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[base..<base + range.count]), at: range.lowerBound)
        }
        if read == range.count { return true }
        out.removeLast(range.count)
        return false
    }

    /// Writes (part of) the first item; an owned head buffer that was sent becomes this
    /// queue's spare, or goes back to `pool` when the queue has one (pipelined responses
    /// each build their head in a buffer of their own).
    ///
    /// `finFollows`: the connection closes once this queue is empty, so the last item goes
    /// with MSG_MORE too and the FIN of the close that follows leaves in its segment (one
    /// segment, and one ACK from the client, instead of two of each).
    mutating func writeSome<T: Transport>(to transport: inout T, pool: inout BufferPool,
                                          finFollows: Bool = false, maxFileBytes: Int = fileChunkBytes) -> WriteStep {
        guard !isEmpty else { return .wrote(0) }
        let isLast = first == items.count - 1
        if !isLast, transport.gathers, case .bytes = items[first], case .bytes = items[first + 1] {
            return writeGathered(to: &transport, pool: &pool, finFollows: finFollows)
        }
        switch items[first] {
        case .bytes(let bytes, let offset, let end, let more, let owned):
            let result = bytes.withUnsafeBytes { raw in
                transport.write(UnsafeRawBufferPointer(rebasing: raw[offset..<end]), more: more || (finFollows && isLast))
            }
            guard case .wrote(let n) = result else { return result == .wouldBlock ? .wouldBlock : .failed }
            queuedBytes -= n
            if offset + n == end {
                removeFirst()
                keepSent(bytes, owned: owned, pool: &pool)
            } else {
                items[first] = .bytes(bytes, offset: offset + n, end: end, more: more, owned: owned)
            }
            return .wrote(n)
        case .file(let file, let offset, let end):
            let result = file.withDescriptor { fd in
                let count = min(end - offset, maxFileBytes)
                return transport.writeFile(fd, offset: offset, count: count, more: end - offset > count || (finFollows && isLast))
            }
            switch result {
            case .wouldBlock: return .wouldBlock
            case .failed, .wrote(0): return .failed   // 0: the file shrank under us
            case .wrote(let n):
                if offset + n >= end {
                    removeFirst()
                } else {
                    items[first] = .file(file, offset: offset + n, end: end)
                }
                return .wrote(n)
            }
        }
    }

    /// Most byte items one `writeGathered` sends.
    static let gatherItems = 64

    /// Writes the byte items at the front (up to `gatherItems`, up to the first file) in one
    /// call: pipelined responses, or a head and the cached body behind it, leave in one
    /// sendmsg(2) instead of one send(2) each (a batch of 100 pipelined responses for a
    /// 1 KiB file: ~300 fewer instructions a response under callgrind). What was sent
    /// is taken off the front as `writeSome` does for one item.
    private mutating func writeGathered<T: Transport>(to transport: inout T, pool: inout BufferPool,
                                                      finFollows: Bool) -> WriteStep {
        let available = min(items.count - first, Self.gatherItems)
        let result = withUnsafeTemporaryAllocation(of: iovec.self, capacity: available) { vectors -> TransportWrite in
            var count = 0
            var more = false
            while count < available, case .bytes(let bytes, let offset, let end, let itemMore, _) = items[first + count] {
                // The address stays valid after the closure: `items` holds the array and is
                // not changed until the write returns.
                let base = bytes.withUnsafeBytes { $0.baseAddress.unsafelyUnwrapped }
                vectors[count] = iovec(iov_base: UnsafeMutableRawPointer(mutating: base + offset), iov_len: end - offset)
                more = itemMore
                count += 1
            }
            let includesLast = first + count == items.count
            return transport.writeGathered(UnsafeBufferPointer(rebasing: vectors[..<count]),
                                           more: more || (finFollows && includesLast))
        }
        guard case .wrote(let written) = result else { return result == .wouldBlock ? .wouldBlock : .failed }
        queuedBytes -= written
        var remaining = written
        while remaining > 0, case .bytes(let bytes, let offset, let end, let more, let owned) = items[first] {
            if remaining < end - offset {
                items[first] = .bytes(bytes, offset: offset + remaining, end: end, more: more, owned: owned)
                break
            }
            remaining -= end - offset
            removeFirst()
            keepSent(bytes, owned: owned, pool: &pool)
            if isEmpty { break }
        }
        return .wrote(written)
    }

    /// A sent array this connection made (`owned`) becomes the spare head buffer, or goes
    /// back to `pool` when the queue has one (pipelined responses each build their head in
    /// a buffer of their own).
    @inline(__always)
    private mutating func keepSent(_ bytes: [UInt8], owned: Bool, pool: inout BufferPool) {
        guard owned && bytes.capacity <= 64 * 1024 else { return }
        if spare.capacity == 0 { spare = bytes } else { pool.giveBack(headBuffer: bytes) }
    }

    private mutating func removeFirst() {
        first += 1
        if first == items.count {
            items.removeAll(keepingCapacity: true)
            first = 0
        } else {
            items[first - 1] = .bytes([], offset: 0, end: 0, more: false, owned: false)   // release it now
        }
    }

    mutating func removeAll() {
        items.removeAll()
        first = 0
        queuedBytes = 0
    }
}
