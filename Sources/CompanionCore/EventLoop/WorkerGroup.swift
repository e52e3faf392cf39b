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

    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    func start() {
        for (index, loop) in loops.enumerated() {
            // Named for top -H and /proc/PID/task/*/comm.
            let box = Unmanaged.passRetained(Box {
                companion_name_thread("companion-w\(index)")
                loop.run()
            })
            var thread = pthread_t()
            let result = pthread_create(&thread, nil, { argument in
                let box = Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue()
                box.body()
                return nil
            }, box.toOpaque())
            precondition(result == 0, "pthread_create failed: \(result)")
            threads.append(thread)
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
