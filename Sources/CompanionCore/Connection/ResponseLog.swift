// ResponseLog: the access-log rows of a connection's responses that are queued but not
// yet written. A row is made when its response is queued (AccessLogRecorder) and is
// complete when the response's last byte is written: then its body bytes and duration
// are set and it moves to the loop's batch. Bytes are attributed in response order, so
// a client that resets mid-response is logged with the bytes it was actually sent.

struct ResponseLog {
    /// A queued response: its total bytes (head and body), of which `sent` are written.
    private struct InFlight {
        var total: Int
        var headLength: Int
        var sent: Int = 0
        var startMicros: Int64
    }

    /// `inFlight[first..<end]` are the queued responses; the slots are reused, not removed
    /// (removing the first of an array shifts the rest: with 100 pipelined requests that memmove
    /// and the empty-array bookkeeping were ~180 instructions a response under callgrind).
    private var inFlight: [InFlight] = []
    private var first = 0
    private var end = 0
    /// The rows of the queued responses, in the same order.
    private var rows = AccessLogBatch()

    /// Records a response of `total` bytes (`headLength` of them head) whose row
    /// `appendRow` writes into the pending rows.
    mutating func append(total: Int, headLength: Int, startMicros: Int64, pool: inout BufferPool,
                         appendRow: (inout AccessLogBatch) -> Void) {
        if rows.capacity == 0 { rows = pool.takeLogBatch() }
        appendRow(&rows)
        let entry = InFlight(total: total, headLength: headLength, startMicros: startMicros)
        if end < inFlight.count { inFlight[end] = entry } else { inFlight.append(entry) }
        end += 1
    }

    /// Attributes `count` written bytes to the responses in order; the rows of completed
    /// responses move to `completed`.
    mutating func wrote(_ count: Int, completing completed: inout AccessLogQueue) {
        var remaining = count
        while remaining > 0, first < end {
            let take = min(inFlight[first].total - inFlight[first].sent, remaining)
            inFlight[first].sent += take
            remaining -= take
            if inFlight[first].sent == inFlight[first].total {
                complete(inFlight[first], into: &completed)
                first += 1
                if first == end { (first, end) = (0, 0) }
            }
        }
    }

    /// The rows' buffer is allocated.
    var hasRows: Bool { rows.capacity > 0 }

    /// With no row pending, the rows' buffer goes back to `pool` (an idle connection keeps none).
    mutating func release(to pool: inout BufferPool) {
        guard first == end, rows.capacity > 0 else { return }
        var taken = AccessLogBatch()
        swap(&taken, &rows)
        pool.giveBack(logBatch: taken)
    }

    /// The connection closed: every pending row is logged with the bytes sent so far.
    mutating func completeAll(into completed: inout AccessLogQueue) {
        for entry in inFlight[first..<end] { complete(entry, into: &completed) }
        inFlight.removeAll()
        (first, end) = (0, 0)
    }

    private mutating func complete(_ entry: InFlight, into completed: inout AccessLogQueue) {
        completed.moveFirstRow(of: &rows, bytes: max(0, entry.sent - entry.headLength),
                               durationMicros: Int(max(0, monotonicMicroseconds() - entry.startMicros)))
    }
}
