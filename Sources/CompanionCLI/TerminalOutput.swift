// TerminalOutput: the process-wide side of `companion logs`: writing to stdout,
// the terminal's width (TIOCGWINSZ), and SIGINT for `--follow`.
import CompanionCore
import Glibc
import Synchronization

/// Set by the SIGINT handler; read by the `--follow` loop.
private let interrupted = Atomic<Bool>(false)

enum TerminalOutput {
    /// Columns of the terminal on stdout, nil when stdout is not a terminal.
    static func width() -> Int? {
        guard isatty(1) == 1 else { return nil }
        var size = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    /// Makes Ctrl-C end `--follow` cleanly (exit 0) instead of killing the process.
    static func stopOnInterrupt() {
        signal(SIGINT) { _ in interrupted.store(true, ordering: .relaxed) }
    }

    static func isInterrupted() -> Bool { interrupted.load(ordering: .relaxed) }

    /// Writes all of `text` to stdout (fd 1), retrying short writes.
    static func write(_ text: String) {
        writeAll(to: 1, text)
    }
}
