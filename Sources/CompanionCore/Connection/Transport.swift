// Transport: the byte stream under a Connection (read, write, write part of a file,
// shut down the sending side, close). The connection's state machine and output
// queue never call the kernel themselves; they go through this, so an encrypting
// transport can take the place of plain TCP without changing them.
import CLinux
import Glibc

/// What one read from a transport gave.
enum TransportRead: Equatable {
    case bytes(Int)
    /// Nothing to read now; readiness will be signalled again.
    case wouldBlock
    /// The peer closed its sending side (a TCP FIN, a TLS close_notify).
    case endOfStream
    /// The stream is broken (a reset, a protocol error): close it.
    case failed
}

/// What one write to a transport did.
enum TransportWrite: Equatable {
    case wrote(Int)
    /// The socket's buffer is full; writability will be signalled again.
    case wouldBlock
    /// The stream is broken (EPIPE, a reset): close it.
    case failed
}

protocol Transport {
    /// The socket the event loop watches for readiness.
    var descriptor: Int32 { get }

    /// Reads at most `buffer.count` bytes into `buffer`.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportRead

    /// Writes a prefix of `bytes`. `more`: more of the same response follows at once
    /// (plain TCP passes MSG_MORE so a head and a small body leave in one segment).
    mutating func write(_ bytes: UnsafeRawBufferPointer, more: Bool) -> TransportWrite

    /// Whether `writeGathered` sends several buffers in one call (plain TCP: sendmsg(2)).
    var gathers: Bool { get }

    /// Writes a prefix of the concatenation of `buffers` (at least one, none empty). A
    /// transport that does not gather writes a prefix of the first.
    mutating func writeGathered(_ buffers: UnsafeBufferPointer<iovec>, more: Bool) -> TransportWrite

    /// Writes up to `count` bytes of the open file `file` from `offset`. Plain TCP uses
    /// sendfile(2); a transport that must see the bytes reads them into a bounded buffer.
    /// `.wrote(0)` means the file ended before `offset + count` (it shrank since it was opened).
    /// `more`: the response goes on after these bytes (TLS holds back a partial segment).
    mutating func writeFile(_ file: Int32, offset: Int, count: Int, more: Bool) -> TransportWrite

    /// Ends the sending side (TCP FIN) while reads go on: the start of a lingering close.
    mutating func shutdownWrite()

    /// Releases the socket. Nothing may be called afterwards.
    mutating func close()
}

extension Transport {
    var gathers: Bool { false }

    mutating func writeGathered(_ buffers: UnsafeBufferPointer<iovec>, more: Bool) -> TransportWrite {
        writeFirst(of: buffers, more: more)
    }

    /// A prefix of the first of `buffers`: what a transport that does not gather writes.
    mutating func writeFirst(of buffers: UnsafeBufferPointer<iovec>, more: Bool) -> TransportWrite {
        write(UnsafeRawBufferPointer(start: buffers[0].iov_base, count: buffers[0].iov_len), more: more)
    }
}

/// A client socket: plain TCP, or TLS when `tls` is set (TLSSession.swift). One type with
/// an optional session rather than two, so the Connection's stored transport stays concrete
/// (no existential or generic dispatch on the plain path: one nil test per call).
struct SocketTransport: Transport {
    let descriptor: Int32
    let tls: TLSSession?

    init(descriptor: Int32, tls: TLSSession? = nil) {
        self.descriptor = descriptor
        self.tls = tls
    }

    /// Whether a read shorter than the buffer (`short`) drained the socket. Plain TCP: it
    /// did. TLS: OpenSSL returns one record per read, so it did only when the raw read
    /// under it was short and OpenSSL holds nothing more (TLSSession watches its BIO).
    @inline(__always)
    func readDrained(short: Bool) -> Bool {
        guard let tls else { return short }
        return tls.lastReadDrained
    }

    @inline(__always)
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportRead {
        if let tls { return tls.read(into: buffer) }
        do {
            switch try Syscall.io("read", { Glibc.read(descriptor, buffer.baseAddress!, buffer.count) }) {
            case .wouldBlock: return .wouldBlock
            case .done(0): return .endOfStream
            case .done(let count): return .bytes(count)
            }
        } catch {
            return .failed
        }
    }

    @inline(__always)
    mutating func write(_ bytes: UnsafeRawBufferPointer, more: Bool) -> TransportWrite {
        if let tls { return tls.write(bytes, more: more) }
        let flags = Int32(MSG_NOSIGNAL) | (more ? Int32(MSG_MORE) : 0)
        do {
            switch try Syscall.io("send", { send(descriptor, bytes.baseAddress!, bytes.count, flags) }) {
            case .wouldBlock: return .wouldBlock
            case .done(let count): return .wrote(count)
            }
        } catch {
            return .failed
        }
    }

    /// Plain TCP gathers; TLS writes record by record through OpenSSL.
    var gathers: Bool { tls == nil }

    /// Plain TCP: sendmsg(2) with the buffers as its iovec. TLS: the first buffer.
    mutating func writeGathered(_ buffers: UnsafeBufferPointer<iovec>, more: Bool) -> TransportWrite {
        if tls != nil { return writeFirst(of: buffers, more: more) }
        var message = msghdr()
        message.msg_iov = UnsafeMutablePointer(mutating: buffers.baseAddress)
        message.msg_iovlen = buffers.count
        let flags = Int32(MSG_NOSIGNAL) | (more ? Int32(MSG_MORE) : 0)
        do {
            switch try Syscall.io("sendmsg", { sendmsg(descriptor, &message, flags) }) {
            case .wouldBlock: return .wouldBlock
            case .done(let count): return .wrote(count)
            }
        } catch {
            return .failed
        }
    }

    /// Plain TCP: sendfile(2). TLS: the bytes must pass through OpenSSL, so a chunk is read
    /// into the loop's scratch buffer and written with SSL_write (a retry after "would
    /// block" reads the same range again, which OpenSSL's moving-buffer mode accepts).
    /// The seam for kernel TLS (SSL_sendfile) is here; these machines' kernels have no
    /// `tls` module, so it is not used.
    mutating func writeFile(_ file: Int32, offset: Int, count: Int, more: Bool) -> TransportWrite {
        if let tls { return tls.writeFile(file, offset: offset, count: count, more: more) }
        var position = off_t(offset)
        do {
            switch try Syscall.io("sendfile", { Glibc.sendfile(descriptor, file, &position, count) }) {
            case .wouldBlock: return .wouldBlock
            case .done(let written): return .wrote(written)
            }
        } catch {
            return .failed
        }
    }

    /// TLS sends its close_notify first.
    mutating func shutdownWrite() {
        tls?.sendCloseNotify()
        _ = Glibc.shutdown(descriptor, Int32(SHUT_WR))
    }

    mutating func close() {
        if let tls {
            tls.sendCloseNotify()
            tls.close()
        }
        _ = Glibc.close(descriptor)
    }
}
