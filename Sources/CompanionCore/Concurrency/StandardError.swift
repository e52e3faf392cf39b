// Whole-line writes to a descriptor (stderr lines from several threads do not mix).
import Glibc

/// Writes one line to stderr (fd 2) with a single `write`, so lines from threads do not mix.
public func writeLineToStandardError(_ line: String) {
    writeAll(to: 2, line + "\n")
}

/// Writes all of `text` to `fd`, retrying short writes and EINTR; gives up on other errors.
public func writeAll(to fd: Int32, _ text: String) {
    var text = text
    text.withUTF8 { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }
}
