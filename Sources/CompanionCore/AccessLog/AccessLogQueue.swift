// AccessLogQueue: access-log rows in a list of batches, in order. An event loop's
// completed rows and the writer's queue are each one. A loop fills its last batch and
// starts another when that is full, where one batch grown by copying its rows cost
// ~210 instructions a request under callgrind (a turn of 10,000 pipelined requests
// grows it to megabytes). A loop hands its batches to the writer by moving them, and
// the writer reads the rows of all of them at once (RowBytes keeps each at one address).

/// Access-log rows in order, in batches of `batchCapacity` bytes. A value type, owned by
/// one thread at a time and handed over by moving its batches.
struct AccessLogQueue: Sendable {
    /// The batches before the last, each full or moved in whole.
    private var filled: [AccessLogBatch] = []
    /// The batch rows are added to (kept apart from `filled`: a row added through the
    /// array's subscript paid its uniqueness check on every row).
    private var last = AccessLogBatch()
    /// Rows in all batches.
    private(set) var count = 0

    /// Capacity of a batch the queue starts (more for a larger row).
    static let batchCapacity = 64 << 10
    /// Rows of a single batch of at most this many bytes are copied into the last batch of
    /// the queue they join when they fit, so that a loop's turn of one row does not become
    /// a batch of its own in the writer's queue (and the loop keeps its batch).
    static let copiedBytes = 4 << 10

    init() {}

    init(_ batch: AccessLogBatch) {
        last = batch
        count = batch.count
    }

    var isEmpty: Bool { count == 0 }

    /// The batches in order (tests).
    var batches: [AccessLogBatch] { last.isEmpty ? filled : filled + [last] }

    /// Moves the first row of `pending` to the end, with its body bytes and duration set
    /// (a connection's row, complete when its response is sent).
    mutating func moveFirstRow(of pending: inout AccessLogBatch, bytes: Int, durationMicros: Int) {
        let length = pending.firstRowLength
        if !last.hasRoom(for: length) { startBatch(capacity: max(Self.batchCapacity, length)) }
        pending.moveFirstRow(to: &last, bytes: bytes, durationMicros: durationMicros)
        count += 1
    }

    /// Appends a row (see `AccessLogBatch.append(_:)`), for tests and the public `append`.
    mutating func append(_ record: AccessLogRecord) {
        if last.capacity == 0 { last = AccessLogBatch(capacity: Self.batchCapacity) }
        last.append(record)
        count += 1
    }

    private mutating func startBatch(capacity: Int) {
        if !last.isEmpty { filled.append(last) }
        last = AccessLogBatch(capacity: capacity)
    }

    /// Moves the first `rows` rows of `other` (all by default) to the end and leaves
    /// `other` empty: the rows past `rows` are dropped. Whole batches move without a copy;
    /// only a batch cut short, or a small one that fits in the last (`copiedBytes`), is
    /// copied, and then `other` keeps its storage for more rows.
    mutating func take(_ other: inout AccessLogQueue, rows: Int? = nil) {
        let rows = min(rows ?? other.count, other.count)
        if rows > 0 && rows == other.count && other.filled.isEmpty && other.last.byteCount <= Self.copiedBytes
            && !last.isEmpty && last.hasRoom(for: other.last.byteCount) {
            last.append(rowsOf: other.last)
            count += rows
            other.removeAllKeepingStorage()
            return
        }
        var left = rows
        func move(_ batch: AccessLogBatch) {
            guard left > 0, !batch.isEmpty else { return }
            if !last.isEmpty { filled.append(last) }
            if batch.count <= left {
                last = batch
                left -= batch.count
            } else {
                last = AccessLogBatch()
                last.append(rowsOf: batch, count: left)
                left = 0
            }
        }
        for batch in other.filled { move(batch) }
        move(other.last)
        count += rows
        other.removeAll()
    }

    /// Removes every row and frees the batches.
    mutating func removeAll() {
        filled.removeAll()
        last = AccessLogBatch()
        count = 0
    }

    /// Removes every row, keeping the last batch's storage for the next.
    mutating func removeAllKeepingStorage() {
        filled.removeAll()
        last.removeAll()
        count = 0
    }

    /// Calls `body` with every row in order; the pointers are valid only inside `body`, and
    /// the queue must not change meanwhile.
    func withRows<R>(_ body: ([AccessLogBatch.Row]) -> R) -> R {
        var rows: [AccessLogBatch.Row] = []
        rows.reserveCapacity(count)
        for batch in filled { batch.appendRows(to: &rows) }
        last.appendRows(to: &rows)
        return withExtendedLifetime((filled, last)) { body(rows) }
    }
}
