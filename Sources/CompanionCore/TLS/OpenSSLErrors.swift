// OpenSSLErrors: OpenSSL reports failures on a per-thread error queue. Every call that can
// fail is preceded by ERR_clear_error (so an old entry is never blamed on it) and a failure
// is turned into one readable sentence by draining the queue here.
import CSSL

enum OpenSSLErrors {
    /// The reasons on this thread's error queue, oldest first, joined by "; " (and the queue
    /// emptied). "unknown error" when it is empty.
    static func drain() -> String {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            if let reason = ERR_reason_error_string(code) {
                let text = String(cString: reason)
                if !reasons.contains(text) { reasons.append(text) }
            } else {
                reasons.append("error \(code)")
            }
        }
        return reasons.isEmpty ? "unknown error" : reasons.joined(separator: "; ")
    }
}
