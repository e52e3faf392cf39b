// The connection's state machine on its own: no sockets, no clock, no sleeps. Each test
// plays the events a connection would report and checks the actions and deadlines.
import Testing
@testable import CompanionCore

@Suite struct ConnectionStateMachineTests {
    typealias Machine = ConnectionStateMachine
    typealias Buffers = ConnectionStateMachine.Buffers

    static let idle = Buffers(outputPending: false, backPressured: false, partialHead: false, inputPending: false)
    static let partial = Buffers(outputPending: false, backPressured: false, partialHead: true, inputPending: true)
    static let writing = Buffers(outputPending: true, backPressured: false, partialHead: false, inputPending: false)
    static let full = Buffers(outputPending: true, backPressured: true, partialHead: false, inputPending: true)
    static let timeouts = Machine.Timeouts(headerMs: 1500, idleMs: 5000)

    @Test func aRequestIsReadParsedAnsweredAndWritten() {
        var machine = Machine(now: 0)
        #expect(machine.nextAction(Self.idle, now: 0) == .read)
        machine.read(40, short: true, now: 1)
        #expect(machine.nextAction(Self.partial, now: 1) == .parse)
        machine.requestAnswered(keepAlive: true, linger: false)
        // The buffer may hold a pipelined request: parse again before writing.
        #expect(machine.nextAction(Self.writing, now: 1) == .parse)
        machine.parseNeedsMore()
        #expect(machine.nextAction(Self.writing, now: 1) == .write)
        machine.wrote(now: 2)
        // The short read drained the socket and no hangup came with the edge: wait for one.
        #expect(machine.nextAction(Self.idle, now: 2) == .wait)
        #expect(machine.state == .open)
        #expect(machine.deadline(Self.idle, timeouts: Self.timeouts) == 2 + 5000)
    }

    @Test func aFullReadKeepsReading() {
        var machine = Machine(now: 0)
        machine.read(4096, short: false, now: 0)
        machine.parseNeedsMore()
        #expect(machine.nextAction(Self.partial, now: 0) == .read)
    }

    /// The FIN in the same edge as the last data: the short read does not prove the socket
    /// is drained, so the machine reads on, sees EOF, answers what it has and closes.
    @Test func aFinInTheSameEdgeAsTheRequestIsAnsweredThenClosed() {
        var machine = Machine(now: 0)
        machine.readinessChanged(readable: true, writable: false, hangup: true)
        #expect(machine.nextAction(Self.idle, now: 0) == .read)
        machine.read(40, short: true, now: 0)
        #expect(machine.nextAction(Self.partial, now: 0) == .parse)
        machine.requestAnswered(keepAlive: true, linger: false)
        #expect(machine.nextAction(Self.writing, now: 0) == .parse)
        machine.parseNeedsMore()
        #expect(machine.nextAction(Self.writing, now: 0) == .write)
        machine.wrote(now: 0)
        #expect(machine.nextAction(Self.idle, now: 0) == .read)
        machine.readEndOfStream()
        #expect(machine.state == .halfClosed)
        #expect(machine.nextAction(Self.idle, now: 0) == .close)
        #expect(machine.isClosed)
    }

    @Test func requestsBufferedBeforeAFinAreAnsweredBeforeTheClose() {
        var machine = Machine(now: 0)
        machine.read(80, short: false, now: 0)
        machine.readEndOfStream()
        #expect(machine.nextAction(Self.partial, now: 0) == .parse)
        machine.requestAnswered(keepAlive: true, linger: false)
        #expect(machine.nextAction(Self.writing, now: 0) == .parse)
        machine.requestAnswered(keepAlive: true, linger: false)
        #expect(machine.nextAction(Self.writing, now: 0) == .parse)
        machine.parseNeedsMore()
        #expect(machine.nextAction(Self.writing, now: 0) == .write)
        machine.writeWouldBlock()
        #expect(machine.nextAction(Self.writing, now: 0) == .wait)
        machine.readinessChanged(readable: false, writable: true, hangup: false)
        #expect(machine.nextAction(Self.writing, now: 0) == .write)
        #expect(machine.nextAction(Self.idle, now: 0) == .close)
    }

    @Test func backPressureStopsReadingAndParsingUntilTheOutputDrains() {
        var machine = Machine(now: 0)
        machine.read(4096, short: false, now: 0)
        machine.requestAnswered(keepAlive: true, linger: false)
        #expect(machine.nextAction(Self.full, now: 0) == .write)
        machine.writeWouldBlock()
        #expect(machine.nextAction(Self.full, now: 0) == .wait)
        machine.readinessChanged(readable: true, writable: false, hangup: false)
        #expect(machine.nextAction(Self.full, now: 0) == .wait)
        machine.readinessChanged(readable: false, writable: true, hangup: false)
        #expect(machine.nextAction(Self.full, now: 0) == .write)
        // Drained below the limit: the pipelined requests left in the buffer come first.
        #expect(machine.nextAction(Self.partial, now: 0) == .parse)
    }

    @Test func connectionCloseWithNothingMoreComingClosesAtOnce() {
        var machine = Machine(now: 0)
        machine.read(40, short: true, now: 0)
        machine.requestAnswered(keepAlive: false, linger: false)
        #expect(machine.state == .closingAfterWrite(linger: false))
        // No more requests are parsed or read after a closing response.
        #expect(machine.nextAction(Self.writing, now: 0) == .write)
        #expect(machine.nextAction(Self.idle, now: 0) == .close)
    }

    @Test func anErrorBeforeTheBodyWasReadLingersWithinItsBudgetAndDeadline() {
        var machine = Machine(now: 100)
        machine.read(40, short: true, now: 100)
        machine.requestAnswered(keepAlive: false, linger: true)
        #expect(machine.nextAction(Self.writing, now: 100) == .write)
        #expect(machine.nextAction(Self.idle, now: 150) == .startLingering)
        #expect(machine.state == .lingering(until: 150 + Machine.Timeouts.lingerMs))
        #expect(machine.deadline(Self.idle, timeouts: Self.timeouts) == 2150)
        #expect(machine.nextAction(Self.idle, now: 150) == .drainLingering)
        machine.lingerDrained(.paused)
        #expect(machine.nextAction(Self.idle, now: 150) == .wait)
        machine.readinessChanged(readable: true, writable: false, hangup: false)
        #expect(machine.nextAction(Self.idle, now: 160) == .drainLingering)
        // Requests or timeouts cannot revive a lingering connection.
        machine.requestRejected()
        #expect(machine.isLingering)
        #expect(machine.deadlinePassed(Self.idle) == .close)
        #expect(machine.nextAction(Self.idle, now: 2150) == .close)
    }

    @Test func pipelinedBytesAfterAClosingResponseMakeItLinger() {
        var machine = Machine(now: 0)
        machine.read(400, short: true, now: 0)
        machine.requestAnswered(keepAlive: false, linger: false)
        let unread = Buffers(outputPending: false, backPressured: false, partialHead: true, inputPending: true)
        #expect(machine.nextAction(unread, now: 0) == .startLingering)
    }

    @Test func aRejectedHeadIsAnsweredThenLingers() {
        var machine = Machine(now: 0)
        machine.read(40, short: true, now: 0)
        machine.requestRejected()
        #expect(machine.state == .closingAfterWrite(linger: true))
        #expect(machine.nextAction(Self.writing, now: 0) == .write)
        #expect(machine.nextAction(Self.idle, now: 0) == .startLingering)
    }

    /// Slowloris: bytes dripping in do not move the header deadline, which runs from the
    /// head's first byte; activity moves only the idle deadline.
    @Test func theHeaderDeadlineRunsFromTheFirstByteOfTheHead() {
        var machine = Machine(now: 0)
        #expect(machine.deadline(Self.idle, timeouts: Self.timeouts) == 1500)   // before any request
        machine.headStarted(now: 10)
        machine.read(1, short: true, now: 10)
        machine.parseNeedsMore()
        for t in stride(from: 100, through: 1400, by: 100) {
            machine.read(1, short: true, now: Int64(t))
            machine.parseNeedsMore()
        }
        #expect(machine.deadline(Self.partial, timeouts: Self.timeouts) == 1510)
        #expect(machine.deadlinePassed(Self.partial) == .answerRequestTimeout)
        machine.requestRejected()
        #expect(machine.nextAction(Self.writing, now: 1510) == .write)
    }

    @Test func deadlinesFollowTheState() {
        var machine = Machine(now: 0)
        machine.read(40, short: true, now: 20)
        machine.requestAnswered(keepAlive: true, linger: false)
        machine.parseNeedsMore()
        machine.wrote(now: 30)
        // Queued output: idle timeout from the last progress.
        #expect(machine.deadline(Self.writing, timeouts: Self.timeouts) == 5030)
        // Between requests after the first: idle timeout.
        #expect(machine.deadline(Self.idle, timeouts: Self.timeouts) == 5030)
        #expect(machine.deadlinePassed(Self.idle) == .close)
        #expect(machine.nextAction(Self.idle, now: 5030) == .close)
    }

    @Test func aTimeoutWithOutputQueuedCloses() {
        var machine = Machine(now: 0)
        #expect(machine.deadlinePassed(Self.writing) == .close)
        #expect(machine.nextAction(Self.writing, now: 0) == .close)
    }

    @Test func shutdownClosesIdleConnectionsAndLetsBusyOnesFinish() {
        var idle = Machine(now: 0)
        idle.shutdownRequested(Self.idle)
        #expect(idle.nextAction(Self.idle, now: 0) == .close)

        var busy = Machine(now: 0)
        busy.read(40, short: true, now: 0)
        busy.requestAnswered(keepAlive: true, linger: false)
        busy.parseNeedsMore()
        busy.shutdownRequested(Self.writing)
        #expect(busy.nextAction(Self.writing, now: 0) == .write)
        #expect(busy.nextAction(Self.idle, now: 0) == .close)
    }

    @Test func aFailedReadOrWriteCloses() {
        var machine = Machine(now: 0)
        machine.read(40, short: true, now: 0)
        machine.requestAnswered(keepAlive: true, linger: false)
        machine.failed()
        #expect(machine.nextAction(Self.writing, now: 0) == .close)
        #expect(machine.nextAction(Self.writing, now: 0) == .wait)   // closed: nothing more
    }

    /// Every sequence of events ends in a state whose next actions terminate: no action
    /// repeats forever without an event in between (a busy loop in the loop thread).
    @Test func noEventSequenceMakesTheMachineSpin() {
        var random = SplitMix(seed: 9)
        let buffers = [Self.idle, Self.partial, Self.writing, Self.full]
        for _ in 0..<5_000 {
            var machine = Machine(now: 0)
            for step in 0..<12 {
                let b = buffers[Int(random.next() % 4)]
                switch random.next() % 10 {
                case 0: machine.read(10, short: random.next() % 2 == 0, now: Int64(step))
                case 1: machine.readWouldBlock()
                case 2: machine.readEndOfStream()
                case 3: machine.requestAnswered(keepAlive: random.next() % 2 == 0, linger: random.next() % 2 == 0)
                case 4: machine.requestRejected()
                case 5: machine.readinessChanged(readable: true, writable: true, hangup: random.next() % 2 == 0)
                case 6: machine.writeWouldBlock()
                case 7: machine.parseNeedsMore()
                case 8: machine.shutdownRequested(b)
                default: machine.lingerDrained(random.next() % 2 == 0 ? .paused : .finished)
                }
                // With the buffers unchanged, a consumer that does what it is told and reports
                // "nothing happened" (needs more, would block) reaches .wait or .close quickly.
                var actions = 0
                loop: while actions < 8 {
                    actions += 1
                    switch machine.nextAction(b, now: Int64(step)) {
                    case .wait, .close: break loop
                    case .parse: machine.parseNeedsMore()
                    case .read: machine.readWouldBlock()
                    case .write: machine.writeWouldBlock()
                    case .startLingering: break
                    case .drainLingering: machine.lingerDrained(.paused)
                    }
                }
                #expect(actions < 8)
                if machine.isClosed { break }
            }
        }
    }

    // MARK: - A response made off the loop (a listing rendered on the BackgroundQueue)

    static let awaiting = Buffers(outputPending: false, backPressured: false, partialHead: false, inputPending: false,
                                  awaitingResponse: true)
    static let awaitingWithPipelined = Buffers(outputPending: false, backPressured: false, partialHead: true,
                                               inputPending: true, awaitingResponse: true)

    /// While a response is made elsewhere nothing is parsed or read (responses keep their
    /// order), and the idle timeout, not the header timeout, bounds the wait.
    @Test func anAwaitedResponseHoldsParsingAndReading() {
        var machine = Machine(now: 0)
        machine.read(80, short: false, now: 0)
        #expect(machine.nextAction(Self.awaitingWithPipelined, now: 0) == .wait)
        #expect(machine.deadline(Self.awaitingWithPipelined, timeouts: Self.timeouts) == 0 + 5000)
        // The page arrives: its response is queued and the pipelined request is parsed next.
        let queued = Buffers(outputPending: true, backPressured: false, partialHead: true, inputPending: true)
        #expect(machine.nextAction(queued, now: 1) == .parse)
    }

    /// A FIN or a last response (Connection: close) does not close before the awaited
    /// response is written.
    @Test func neitherAFinNorAClosingResponseClosesBeforeTheAwaitedResponse() {
        var halfClosed = Machine(now: 0)
        halfClosed.readEndOfStream()
        #expect(halfClosed.nextAction(Self.awaiting, now: 0) == .wait)
        #expect(halfClosed.nextAction(Self.writing, now: 1) == .write)
        #expect(halfClosed.nextAction(Self.idle, now: 1) == .close)

        var closing = Machine(now: 0)
        closing.requestAnswered(keepAlive: false, linger: false)
        #expect(closing.nextAction(Self.awaiting, now: 0) == .wait)
        #expect(closing.nextAction(Self.writing, now: 1) == .write)

        var stopping = Machine(now: 0)
        stopping.shutdownRequested(Self.awaiting)
        #expect(stopping.state == .closingAfterWrite(linger: false))
        #expect(stopping.nextAction(Self.awaiting, now: 0) == .wait)
        #expect(stopping.deadlinePassed(Self.awaiting) == .close)
    }
}
