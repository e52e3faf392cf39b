// WorkerGroup: starts one thread per EventLoop with pthread_create (no
// Foundation) and joins them at shutdown.
import CLinux
import Glibc

final class WorkerGroup: @unchecked Sendable {
    // @unchecked Sendable: `threads` is written in start() and read in join(), both
    // called from the thread that owns the Server (its start/stop are serialised).
    let loops: [EventLoop]
    private var threads: [pthread_t] = []

    init(loops: [EventLoop]) {
        self.loops = loops
    }

    func start() {
        for (index, loop) in loops.enumerated() {
            switch startThread(name: "companion-w\(index)", { loop.run() }) {
            case .success(let thread): threads.append(thread)
            case .failure(let error): preconditionFailure("\(error)")
            }
        }
    }

    func post(_ message: LoopMessage) {
        for loop in loops { loop.post(message) }
    }

    func join() {
        for thread in threads { pthread_join(thread, nil) }
        threads.removeAll()
    }
}
