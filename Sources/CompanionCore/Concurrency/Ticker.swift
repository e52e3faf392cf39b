// Ticker: a named thread that runs a job, sleeps for the delay the job returns, and runs it
// again, until `stop` (which wakes it at once and joins it). For the certificate-file
// watcher and the ACME client: work that is periodic, slow or blocking, and must never
// run on an event loop.
import Glibc

final class Ticker: @unchecked Sendable {
    // @unchecked Sendable: `stopping` is read and written only under
    // `condition`'s mutex; `thread` is written once by `start`, which its owner calls
    // before any other thread can reach the ticker, and read by `stop`.
    private let condition = MonotonicCondition()
    private var stopping = false
    private var thread: pthread_t?
    private let name: String

    init(name: String) {
        self.name = name
    }

    /// Starts the thread; `job` returns how long to wait before its next run (milliseconds).
    func start(_ job: @escaping @Sendable () -> Int) {
        let result = startThread(name: name) { [self] in
            while true {
                let delay = job()
                let stop = condition.withLock { () -> Bool in
                    let deadline = monotonicMilliseconds() + Int64(delay)
                    while !stopping {
                        if !condition.wait(deadlineMs: deadline) { break }
                    }
                    return stopping
                }
                if stop { return }
            }
        }
        if case .success(let handle) = result { thread = handle }
    }

    /// Stops after the current run, and waits for the thread to end. Idempotent.
    func stop() {
        condition.withLock {
            stopping = true
            condition.broadcast()
        }
        if let thread {
            pthread_join(thread, nil)
            self.thread = nil
        }
    }
}
