// BackgroundQueue: one thread that runs jobs the event loops must not run themselves
// (rendering a listing of a large directory: 100,000 entries cost ~0.3 s of fstatat on the
// loop, stalling every other client of it). A job posts its result back to
// its loop's mailbox. Bounded: a full queue refuses the job, and the caller answers 503.
import CLinux
import Glibc

/// Thread-safe (`@unchecked Sendable`): the job list and the stop flag live in `state`
/// (a `Locked`); `wake` counts signals; `thread` is written in init and read in shutdown,
/// both on the owner's thread.
final class BackgroundQueue: @unchecked Sendable {
    typealias Job = @Sendable () -> Void

    private struct State {
        var jobs: [Job] = []
        var stopped = false
    }

    private let state = Locked(State())
    private let wake = WakeSignal()
    private var thread: pthread_t?
    /// At most this many jobs wait; more are refused.
    let maxQueuedJobs: Int

    init(maxQueuedJobs: Int = 64, threadName: String = "companion-bg") {
        self.maxQueuedJobs = maxQueuedJobs
        switch startThread(name: threadName, { [self] in self.run() }) {
        case .success(let handle): thread = handle
        case .failure(let error): preconditionFailure("\(error)")
        }
    }

    /// Queues `job`; false when the queue is full or stopped (the job never runs).
    func submit(_ job: @escaping Job) -> Bool {
        let accepted = state.withLock { state -> Bool in
            guard !state.stopped, state.jobs.count < maxQueuedJobs else { return false }
            state.jobs.append(job)
            return true
        }
        if accepted { wake.signal() }
        return accepted
    }

    /// Jobs waiting (tests).
    var queuedJobs: Int { state.withLock { $0.jobs.count } }

    /// Drops waiting jobs, lets a running one finish and joins the thread. Idempotent.
    func shutdown() {
        state.withLock {
            $0.stopped = true
            $0.jobs.removeAll()
        }
        wake.signal()
        if let thread {
            pthread_join(thread, nil)
            self.thread = nil
        }
    }

    private func run() {
        while true {
            let seen = wake.currentGeneration()
            let next = state.withLock { state -> (job: Job?, stop: Bool) in
                if state.stopped { return (nil, true) }
                return (state.jobs.isEmpty ? nil : state.jobs.removeFirst(), false)
            }
            if next.stop { return }
            if let job = next.job {
                job()
            } else {
                wake.wait(after: seen, deadlineMs: nil)
            }
        }
    }
}
