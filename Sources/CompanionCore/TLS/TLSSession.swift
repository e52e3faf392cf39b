// TLSSession: one connection's OpenSSL state on a non-blocking socket, driven by the event
// loop through SocketTransport. The handshake happens inside the first reads (SSL_read on
// an accept-state SSL runs it), so a connection's state machine sees a TLS connection as
// a byte stream like any other; a handshake byte is not a request byte, so a client that
// stalls mid-handshake meets the header timeout like one that stalls before its request.
//
// OpenSSL's traps, each handled here: ERR_clear_error before every call and SSL_get_error
// after every failed one; a read that needs the socket writable (and a write that needs
// it readable) is remembered and the opposite readiness edge retries it; a write that
// would block is retried by the output queue with the same bytes at least (the contexts
// set ACCEPT_MOVING_WRITE_BUFFER and ENABLE_PARTIAL_WRITE); a peer that resets shows as
// SSL_ERROR_SYSCALL and closes; a missing close_notify is an end of stream.
import CSSL
import Glibc

final class TLSSession {
    private var ssl: OpaquePointer?
    /// Retained for the SNI callback, which reaches the set through the base context's
    /// unretained argument.
    private let contexts: TLSContextSet
    /// The site the client's SNI named (set during the handshake), -1 for none or unknown.
    var serverNameSite = -1
    private(set) var handshakeDone = false
    /// The last read stopped because OpenSSL must write first (a writable edge retries it).
    var readWantsWrite = false
    /// The last write stopped because OpenSSL must read first (a readable edge retries it).
    var writeWantsRead = false
    /// Set by the socket BIO's callback after each raw read: 1 short, 2 nothing, 0 full.
    private let rawRead = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    /// The last `read` returned bytes and left nothing in the socket or in OpenSSL's
    /// buffers: the next readable edge will say when more arrives (no read for EAGAIN).
    private(set) var lastReadDrained = false

    /// The loop's buffer that file chunks pass through on their way into SSL_write.
    private unowned(unsafe) let scratch: TLSScratch
    /// The write BIO (owned by `ssl`): send(2) with MSG_MORE while more records follow.
    private let wbio: OpaquePointer

    init?(descriptor: Int32, contexts: TLSContextSet, scratch: TLSScratch) {
        self.scratch = scratch
        ERR_clear_error()
        guard let ssl = SSL_new(contexts.baseContext) else {
            _ = OpenSSLErrors.drain()
            return nil
        }
        self.ssl = ssl
        self.contexts = contexts
        SSL_set_fd(ssl, descriptor)
        guard let method = tlsWriteBIOMethod, let wbio = companion_wbio_attach(ssl, method, descriptor) else {
            SSL_free(ssl)
            return nil
        }
        self.wbio = wbio
        rawRead.initialize(to: 0)
        companion_watch_reads(ssl, rawRead)
        SSL_set_accept_state(ssl)
        _ = SSL_set_ex_data(ssl, 0, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        scratch.forget(self)
        free()
        rawRead.deallocate()
    }

    private func free() {
        if let ssl {
            SSL_free(ssl)
            self.ssl = nil
        }
    }

    /// "TLSv1.3" or "TLSv1.2" once the handshake is done (static strings: no allocation).
    var protocolVersion: StaticString? {
        guard handshakeDone, let ssl else { return nil }
        switch SSL_version(ssl) {
        case TLS1_3_VERSION: return "TLSv1.3"
        case TLS1_2_VERSION: return "TLSv1.2"
        default: return "TLS"
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportRead {
        guard let ssl else { return .failed }
        readWantsWrite = false
        rawRead.pointee = 0
        ERR_clear_error()
        let n = SSL_read(ssl, buffer.baseAddress, Int32(min(buffer.count, Int(Int32.max))))
        if !handshakeDone && SSL_is_init_finished(ssl) == 1 { finishHandshake() }
        if n > 0 {
            lastReadDrained = rawRead.pointee != 0 && SSL_has_pending(ssl) == 0
            return .bytes(Int(n))
        }
        lastReadDrained = false
        switch SSL_get_error(ssl, n) {
        case SSL_ERROR_WANT_READ:
            return .wouldBlock
        case SSL_ERROR_WANT_WRITE:
            readWantsWrite = true
            return .wouldBlock
        case SSL_ERROR_ZERO_RETURN:
            return .endOfStream   // close_notify (or EOF: SSL_OP_IGNORE_UNEXPECTED_EOF)
        default:
            if !handshakeDone { TLSStatistics.handshakeFailed(reason: OpenSSLErrors.drain()) }
            ERR_clear_error()
            return .failed
        }
    }

    /// `more`: more bytes of the same response follow these.
    func write(_ bytes: UnsafeRawBufferPointer, more: Bool) -> TransportWrite {
        scratch.forget(self)   // a new response starts with bytes: a later file range is read afresh
        return sslWrite(bytes, more: more)
    }

    /// Largest plaintext of one record: SSL_write (partial-write mode) returns after it.
    private static let recordPayload = 16 * 1024

    /// One SSL_write (one record, or the rest of one that would have blocked). The record
    /// leaves with MSG_MORE when `more` or when `bytes` go on past it, so the kernel sends
    /// full segments; the last record of a response goes without and pushes them out.
    private func sslWrite(_ bytes: UnsafeRawBufferPointer, more: Bool) -> TransportWrite {
        guard let ssl else { return .failed }
        writeWantsRead = false
        ERR_clear_error()
        companion_wbio_set_more(wbio, more || bytes.count > Self.recordPayload ? 1 : 0)
        let n = SSL_write(ssl, bytes.baseAddress, Int32(min(bytes.count, Int(Int32.max))))
        companion_wbio_set_more(wbio, 0)   // handshake messages, tickets and alerts go at once
        if n > 0 { return .wrote(Int(n)) }
        switch SSL_get_error(ssl, n) {
        case SSL_ERROR_WANT_WRITE:
            return .wouldBlock
        case SSL_ERROR_WANT_READ:
            writeWantsRead = true
            return .wouldBlock
        default:
            ERR_clear_error()
            return .failed
        }
    }

    /// Writes (part of) `file` from `offset`, at most `count` bytes, through the loop's
    /// scratch buffer: one pread fills it, and SSL_write (which returns after each 16 KiB
    /// record) takes it record by record while this connection still owns it. `.wrote(0)`:
    /// the file ended early. `more`: the response goes on after these `count` bytes.
    func writeFile(_ file: Int32, offset: Int, count: Int, more: Bool) -> TransportWrite {
        if let held = scratch.bytes(for: self, file: file, offset: offset) {
            return sslWrite(UnsafeRawBufferPointer(rebasing: held.prefix(count)), more: more || count > held.count)
        }
        let chunk = min(count, scratch.bytes.count)
        // 0: the file ended early or the read failed; the queue ends the response either way.
        let n = OpenFile.readFully(file, into: UnsafeMutableRawBufferPointer(rebasing: scratch.bytes[0..<chunk]), at: offset)
        if n == 0 { return .wrote(0) }
        scratch.hold(for: self, file: file, offset: offset, count: n)
        return sslWrite(UnsafeRawBufferPointer(rebasing: scratch.bytes[0..<n]), more: more || count > n)
    }

    /// Sends close_notify (once, best effort: a full socket just skips it).
    func sendCloseNotify() {
        guard let ssl, handshakeDone, SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN == 0 else { return }
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    /// Frees the OpenSSL state now (the connection is closing); later calls fail.
    func close() {
        free()
    }

    private func finishHandshake() {
        handshakeDone = true
        TLSStatistics.handshakeSucceeded()
    }
}

/// The write BIOs' method, made once (Swift initialises a global once, thread-safely) and
/// immutable afterwards, so every loop may read it. Nil if OpenSSL could not make it
/// (out of memory): TLS connections are then refused.
nonisolated(unsafe) let tlsWriteBIOMethod: OpaquePointer? = companion_wbio_method_new()

/// One loop's buffer for file bytes on their way to SSL_write: a loop writes one
/// connection at a time and OpenSSL has encrypted the bytes when SSL_write returns, so one
/// buffer serves all of the loop's TLS connections.
final class TLSScratch {
    /// Four full TLS records per pread.
    static let size = 64 * 1024
    let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: TLSScratch.size, alignment: 16)
    /// Which connection's file range the buffer holds: its next writes take the rest
    /// without reading it again. Any write of bytes (a new response's head), or another
    /// connection's file, ends the hold, so a descriptor number reused for another file
    /// can never match.
    private var owner: ObjectIdentifier?
    private var file: Int32 = -1
    private var start = 0
    private var count = 0

    deinit { bytes.deallocate() }

    func hold(for session: TLSSession, file: Int32, offset: Int, count: Int) {
        owner = ObjectIdentifier(session)
        self.file = file
        start = offset
        self.count = count
    }

    /// The held bytes from `offset` on, when `session` holds `file` around it.
    func bytes(for session: TLSSession, file: Int32, offset: Int) -> UnsafeMutableRawBufferPointer.SubSequence? {
        guard owner == ObjectIdentifier(session), file == self.file, offset >= start, offset < start + count else { return nil }
        return bytes[(offset - start)..<count]
    }

    func forget(_ session: TLSSession) {
        if owner == ObjectIdentifier(session) { owner = nil }
    }
}

/// Process-wide handshake counters, and the once-a-minute stderr line about failures.
public enum TLSStatistics {
    private struct Counts {
        var succeeded = 0
        var failed = 0
        var failedSinceReport = 0
        var lastReason = ""
        var lastReportSeconds: Int64 = -60
    }

    private static let counts = Locked(Counts())
    /// Seconds between two stderr lines about failed handshakes.
    static let reportIntervalSeconds: Int64 = 60

    static func handshakeSucceeded() {
        counts.withLock { $0.succeeded += 1 }
    }

    /// Counts a failed handshake; says so on stderr at most once a minute (a scanner makes
    /// thousands), with how many failed since the last line and the latest reason.
    static func handshakeFailed(reason: String) {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let now = Int64(ts.tv_sec)
        let line = counts.withLock { counts -> String? in
            counts.failed += 1
            counts.failedSinceReport += 1
            counts.lastReason = reason
            guard now - counts.lastReportSeconds >= reportIntervalSeconds else { return nil }
            defer {
                counts.lastReportSeconds = now
                counts.failedSinceReport = 0
            }
            let count = counts.failedSinceReport
            return "companion: \(count) TLS handshake\(count == 1 ? "" : "s") failed (latest: \(reason))"
        }
        if let line { writeLineToStandardError(line) }
    }

    /// (succeeded, failed) since the process started.
    public static var totals: (succeeded: Int, failed: Int) {
        counts.withLock { ($0.succeeded, $0.failed) }
    }
}
