// startThread: a named pthread running a closure once, for the event loops, the access-log
// writer, the compression workers and the background queue (no Foundation Thread).
import CLinux
import Glibc

private final class ThreadBody {
    let name: String
    let run: () -> Void
    init(name: String, run: @escaping () -> Void) {
        self.name = name
        self.run = run
    }
}

/// Starts a thread named `name` (for top -H and /proc/PID/task/*/comm) that runs `body`;
/// returns its handle, or pthread_create's error code.
func startThread(name: String, _ body: @escaping () -> Void) -> Result<pthread_t, Errno> {
    let context = Unmanaged.passRetained(ThreadBody(name: name, run: body)).toOpaque()
    var handle = pthread_t()
    let rc = pthread_create(&handle, nil, { raw in
        let body = Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue()
        companion_name_thread(body.name)
        body.run()
        return nil
    }, context)
    guard rc == 0 else {
        Unmanaged<ThreadBody>.fromOpaque(context).release()
        return .failure(Errno(code: rc, call: "pthread_create"))
    }
    return .success(handle)
}
