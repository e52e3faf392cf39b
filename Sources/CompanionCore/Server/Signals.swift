// Signals: SIGTERM/SIGINT stop gracefully, SIGHUP reloads the config. The
// signals are blocked in every thread (set before the loops start, inherited)
// and read synchronously with sigwait on the thread that called `serve`;
// DispatchSource handlers did not fire on these machines (DEVELOPERS.md).
import Glibc

public enum Signals {
    /// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread (and threads it starts
    /// later) and ignores SIGPIPE (writes use MSG_NOSIGNAL; this covers sendfile).
    public static func blockServerSignals() {
        signal(SIGPIPE, SIG_IGN)
        var set = serverSignalSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    static func serverSignalSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGHUP)
        return set
    }

    /// Waits for signals until SIGTERM or SIGINT. Each SIGHUP calls `reload`, which
    /// returns nil on success or a message for stderr.
    public static func waitForShutdown(reload: () -> String?) {
        var set = serverSignalSet()
        while true {
            var signalNumber: Int32 = 0
            guard sigwait(&set, &signalNumber) == 0 else { continue }
            switch signalNumber {
            case SIGHUP:
                if let problem = reload() {
                    writeLineToStandardError("companion: reload failed, keeping the running config:\n\(problem)")
                } else {
                    writeLineToStandardError("companion: config reloaded")
                }
            default:
                return
            }
        }
    }
}
