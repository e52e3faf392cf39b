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

    private var inFlight: [InFlight] = []
    /// The rows of `inFlight`, in the same order.
    private var rows = AccessLogBatch()

    /// Records a response of `total` bytes (`headLength` of them head) whose row
    /// `appendRow` writes into the pending rows.
    mutating func append(total: Int, headLength: Int, startMicros: Int64, pool: inout BufferPool,
                         appendRow: (inout AccessLogBatch) -> Void) {
        if rows.capacity == 0 { rows = pool.takeLogBatch() }
        appendRow(&rows)
        inFlight.append(InFlight(total: total, headLength: headLength, startMicros: startMicros))
    }

    /// Attributes `count` written bytes to the responses in order; the rows of completed
    /// responses move to `completed`.
    mutating func wrote(_ count: Int, completing completed: inout AccessLogBatch) {
        var remaining = count
        while remaining > 0, !inFlight.isEmpty {
            let take = min(inFlight[0].total - inFlight[0].sent, remaining)
            inFlight[0].sent += take
            remaining -= take
            if inFlight[0].sent == inFlight[0].total { complete(inFlight.removeFirst(), into: &completed) }
        }
    }

    /// The rows' buffer is allocated.
    var hasRows: Bool { rows.capacity > 0 }

    /// With no row pending, the rows' buffer goes back to `pool` (an idle connection keeps none).
    mutating func release(to pool: inout BufferPool) {
        guard inFlight.isEmpty, rows.capacity > 0 else { return }
        var taken = AccessLogBatch()
        swap(&taken, &rows)
        pool.giveBack(logBatch: taken)
    }

    /// The connection closed: every pending row is logged with the bytes sent so far.
    mutating func completeAll(into completed: inout AccessLogBatch) {
        for entry in inFlight { complete(entry, into: &completed) }
        inFlight.removeAll()
    }

    private mutating func complete(_ entry: InFlight, into completed: inout AccessLogBatch) {
        rows.moveFirstRow(to: &completed, bytes: max(0, entry.sent - entry.headLength),
                          durationMicros: Int(max(0, monotonicMicroseconds() - entry.startMicros)))
    }
}
