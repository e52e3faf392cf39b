// ConnectionStateMachine: what one connection does next, decided from what has happened
// to it. It does no I/O and reads no clock: the Connection reports events (bytes read,
// a write that would block, a request answered, a FIN) with the loop's time, and asks
// `nextAction` what to do; `deadline` says when it must be woken. So every path,
// including the timeouts, is tested without sockets or sleeps.
//
//   open ──FIN──▶ halfClosed ──answered all, output written──▶ closing
//    │                │
//    └─response ends the connection (Connection: close, error, shutdown)─▶ closingAfterWrite
//                          closingAfterWrite ──written──▶ lingering ──EOF, budget, 2 s──▶ closing
//                                            ╰──written, nothing more coming──▶ closing ──▶ closed
//
// The order of work in `open` is parse, write, read: every complete request in the buffer
// is answered (pipelining) until the output is back-pressured, the output is written until
// the socket would block, and only then is more read.

struct ConnectionStateMachine {
    enum State: Equatable {
        /// Reading requests and answering them in order.
        case open
        /// The client sent its FIN: the requests already read are answered, then it closes.
        case halfClosed
        /// A response ends the connection: nothing more is read as requests; once the output is
        /// written the connection lingers or closes. `linger`: the client may still be sending
        /// (an error answered before its request was read to the end).
        case closingAfterWrite(linger: Bool)
        /// Our side is shut down; what the client still sends is read and dropped until its
        /// EOF, the byte budget or `until`, so the kernel does not answer unread bytes with a
        /// reset that destroys the response in flight.
        case lingering(until: Int64)
        /// Nothing left to do: close the socket.
        case closing
        case closed
    }

    enum Action: Equatable {
        /// Parse (or skip the refused body of) the next request in the read buffer.
        case parse
        /// Write queued output.
        case write
        /// Read from the socket.
        case read
        /// Shut down the sending side and start dropping input (then `.drainLingering`).
        case startLingering
        /// Read and drop input, within the lingering budgets.
        case drainLingering
        case close
        /// Nothing to do until the next readiness event or deadline.
        case wait
    }

    /// What the connection's buffers hold; passed in because the Connection owns them.
    struct Buffers {
        /// Output is queued.
        var outputPending: Bool
        /// So much output is queued that nothing more is read or parsed until it drains.
        var backPressured: Bool
        /// Bytes of an incomplete request head are buffered.
        var partialHead: Bool
        /// Bytes are buffered or a refused body is still to be skipped.
        var inputPending: Bool
        /// A response is being made off the loop: nothing more is parsed or read (responses
        /// stay in order) and the connection does not close before it is written.
        var awaitingResponse: Bool = false
    }

    /// What a lingering drain ended with.
    enum LingerOutcome {
        /// The socket is empty for now, or this turn's byte budget is spent (the next
        /// segment raises a new edge).
        case paused
        /// EOF, an error or the total byte budget: close.
        case finished
    }

    /// How the connection answers its deadline.
    enum TimeoutAction: Equatable {
        case close
        /// Part of a head arrived: answer 408, then close.
        case answerRequestTimeout
    }

    struct Timeouts {
        var headerMs: Int
        var idleMs: Int
        static let lingerMs: Int64 = 2000
    }

    private(set) var state: State = .open
    /// The socket may have unread bytes: an edge said readable and no read since has
    /// returned EAGAIN, EOF, or a short read without a hangup.
    private(set) var socketReadable = true
    /// The socket may take more bytes: no write since the last writable edge blocked.
    private(set) var socketWritable = true
    /// An edge carried RDHUP/HUP: a short read does not prove the socket drained, because the
    /// FIN can come in the same edge as the last data and no further edge follows.
    private var hangupSignalled = false
    /// The client's FIN was read.
    private(set) var peerClosed = false
    /// Buffered bytes arrived, or a request was answered, since a parse last needed more.
    private var unparsed = false
    private(set) var servedAny = false
    private(set) var lastActivityMs: Int64
    private(set) var headStartMs: Int64

    init(now: Int64) {
        lastActivityMs = now
        headStartMs = now
    }

    var isClosed: Bool { state == .closed }
    var isLingering: Bool { if case .lingering = state { return true } else { return false } }
    /// No further request will be answered: the connection ends once its output is written.
    var closesAfterOutput: Bool { if case .closingAfterWrite = state { return true } else { return false } }

    // MARK: - Deciding

    @inline(__always)
    mutating func nextAction(_ buffers: Buffers, now: Int64) -> Action {
        switch state {
        case .closed:
            return .wait
        case .closing:
            state = .closed
            return .close
        case .lingering:
            return socketReadable ? .drainLingering : .wait
        case .closingAfterWrite(let linger):
            if buffers.outputPending { return socketWritable ? .write : .wait }
            if buffers.awaitingResponse { return .wait }
            // Like nginx's `lingering_close on`: linger only when the client may still be
            // sending; a plain `Connection: close` exchange closes at once.
            if linger || buffers.inputPending || (!peerClosed && socketReadable) {
                state = .lingering(until: now + Timeouts.lingerMs)
                socketReadable = true   // only a read can tell
                return .startLingering
            }
            state = .closed
            return .close
        case .open, .halfClosed:
            let holdInput = buffers.backPressured || buffers.awaitingResponse
            if unparsed && !holdInput { return .parse }
            if buffers.outputPending && socketWritable { return .write }
            if state == .halfClosed {
                if buffers.outputPending || buffers.awaitingResponse { return .wait }
                state = .closed
                return .close
            }
            if socketReadable && !holdInput { return .read }
            return .wait
        }
    }

    /// When the loop must call `deadlinePassed`: the linger deadline; without progress on
    /// queued output, the idle timeout; with part of a head, the header timeout from its first
    /// byte; between requests, the idle timeout (the header timeout before the first one).
    func deadline(_ buffers: Buffers, timeouts: Timeouts) -> Int64 {
        if case .lingering(let until) = state { return until }
        if buffers.outputPending || buffers.awaitingResponse { return lastActivityMs + Int64(timeouts.idleMs) }
        if buffers.inputPending { return headStartMs + Int64(timeouts.headerMs) }
        return lastActivityMs + Int64(servedAny ? timeouts.idleMs : timeouts.headerMs)
    }

    /// The deadline passed: close, or answer 408 when part of a head is waiting for the rest.
    mutating func deadlinePassed(_ buffers: Buffers) -> TimeoutAction {
        if isLingering || buffers.outputPending || buffers.awaitingResponse || !buffers.partialHead {
            state = .closing
            return .close
        }
        return .answerRequestTimeout
    }

    // MARK: - Events from the socket

    mutating func readinessChanged(readable: Bool, writable: Bool, hangup: Bool) {
        if hangup { hangupSignalled = true }
        if readable || hangup { socketReadable = true }
        if writable { socketWritable = true }
    }

    /// A read returned `count` bytes; `short`: fewer than were asked for.
    mutating func read(_ count: Int, short: Bool, now: Int64) {
        lastActivityMs = now
        unparsed = true
        // A short read drained a stream socket; unless a FIN was signalled with this edge,
        // the next edge will tell of more data or the FIN.
        if short && !hangupSignalled { socketReadable = false }
    }

    mutating func readWouldBlock() {
        socketReadable = false
    }

    mutating func readEndOfStream() {
        peerClosed = true
        socketReadable = false
        if state == .open { state = .halfClosed }
    }

    mutating func wrote(now: Int64) {
        lastActivityMs = now
    }

    mutating func writeWouldBlock() {
        socketWritable = false
    }

    /// A read or write failed (reset, EPIPE): the connection is done.
    mutating func failed() {
        if state != .closed { state = .closing }
    }

    mutating func lingerDrained(_ outcome: LingerOutcome) {
        switch outcome {
        case .paused: socketReadable = false
        case .finished: state = .closing
        }
    }

    // MARK: - Events from parsing and answering

    /// The first byte of a request head is buffered (its header timeout starts now).
    mutating func headStarted(now: Int64) {
        headStartMs = now
    }

    /// The buffer holds no complete request (or nothing): wait for more bytes.
    mutating func parseNeedsMore() {
        unparsed = false
    }

    /// A request was answered. `keepAlive: false` ends the connection after this response;
    /// `linger`: its body may still be arriving unread.
    mutating func requestAnswered(keepAlive: Bool, linger: Bool) {
        servedAny = true
        if !keepAlive, state == .open || state == .halfClosed { state = .closingAfterWrite(linger: linger) }
    }

    /// The parser refused the head, a limit was exceeded or the head timed out: the error
    /// response is the last one, and the client may still be sending.
    mutating func requestRejected() {
        unparsed = false
        switch state {
        case .open, .halfClosed, .closingAfterWrite: state = .closingAfterWrite(linger: true)
        case .lingering, .closing, .closed: break
        }
    }

    /// The server is stopping: an idle connection closes now, a busy one after its response.
    mutating func shutdownRequested(_ buffers: Buffers) {
        switch state {
        case .open, .halfClosed:
            if !buffers.outputPending && !buffers.partialHead && !buffers.awaitingResponse {
                state = .closing
            } else {
                state = .closingAfterWrite(linger: false)
            }
        case .closingAfterWrite, .lingering, .closing, .closed:
            break
        }
    }

    /// The socket was closed.
    mutating func closed() {
        state = .closed
    }
}
