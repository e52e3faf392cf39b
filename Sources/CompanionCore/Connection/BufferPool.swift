// BufferPool: a loop's spare read, head and log-row buffers. A connection that has waited
// with nothing buffered for a second gives its buffers back here (the loop's sweep asks it),
// and so does a closing one; it takes them again on its next read or response. So an idle
// keep-alive connection holds no buffer (nginx frees its header buffer on keep-alive the same
// way: 10,000 idle connections take ~2.5 MB there), and new connections reuse buffers from a
// loop-local array instead of calling malloc.
// Owned by one EventLoop; not thread-safe.

struct BufferPool {
    /// The size of a read buffer taken from the pool (larger heads grow their own).
    static let readBufferBytes = 4096
    /// Head and log-row buffers above this capacity are freed, not kept.
    static let keptCapacityLimit = 4096
    /// Buffers kept per kind: enough for the connections that are active in one loop turn;
    /// beyond that, returned buffers are freed (memory goes back after a connection storm).
    static let maxKept = 64

    private var readBuffers: [[UInt8]] = []
    private var headBuffers: [[UInt8]] = []
    private var logBatches: [AccessLogBatch] = []

    /// A read buffer of `readBufferBytes` bytes (contents undefined: always written by a read
    /// before they are looked at).
    mutating func takeReadBuffer() -> [UInt8] {
        readBuffers.popLast()
            ?? [UInt8](unsafeUninitializedCapacity: Self.readBufferBytes) { _, count in count = Self.readBufferBytes }
    }

    mutating func giveBack(readBuffer: consuming [UInt8]) {
        guard readBuffer.count == Self.readBufferBytes, readBuffers.count < Self.maxKept else { return }
        readBuffers.append(readBuffer)
    }

    /// Capacity of a new head buffer: a response head and a small body, so the finalizer's
    /// appends do not grow it step by step.
    static let newHeadCapacity = 2048

    /// An empty array to write a response head into (with capacity when one was returned).
    mutating func takeHeadBuffer() -> [UInt8] {
        if let buffer = headBuffers.popLast() { return buffer }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(Self.newHeadCapacity)
        return buffer
    }

    mutating func giveBack(headBuffer: consuming [UInt8]) {
        guard headBuffer.capacity > 0, headBuffer.capacity <= Self.keptCapacityLimit,
              headBuffers.count < Self.maxKept else { return }
        headBuffer.removeAll(keepingCapacity: true)
        headBuffers.append(headBuffer)
    }

    /// An empty batch for a connection's pending access-log rows.
    mutating func takeLogBatch() -> AccessLogBatch {
        logBatches.popLast() ?? AccessLogBatch()
    }

    mutating func giveBack(logBatch: consuming AccessLogBatch) {
        guard logBatch.isEmpty, logBatch.capacity > 0, logBatch.capacity <= Self.keptCapacityLimit,
              logBatches.count < Self.maxKept else { return }
        logBatch.removeAll()
        logBatches.append(logBatch)
    }

    /// Buffers kept now (tests).
    var keptCount: (read: Int, head: Int, log: Int) { (readBuffers.count, headBuffers.count, logBatches.count) }
}
