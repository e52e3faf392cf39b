// Listener: one listening socket per listen address, shared by every event loop of
// the server. Each loop watches it with EPOLLEXCLUSIVE, so a new connection wakes one
// loop, which accepts it; no accepted socket is handed between threads.
//
// SECURITY: no SO_REUSEPORT. With it, any process of the same user could bind the
// same address and silently take a share of the connections; a second `companion
// serve` did exactly that. Without it, a second server fails with
// "Address already in use" like any other program holding the port.
import CLinux
import Glibc

public final class Listener: @unchecked Sendable {
    // @unchecked Sendable: created on the main thread, then shared by the loops, which
    // only accept(2) on it (the kernel serialises accepts on one socket); the fields are
    // immutable and the fd is closed once, in deinit, when the last loop let it go.
    public let fd: Int32
    public let address: ListenAddress
    /// The operators' listener (SPEC §7): its connections reach AdminEndpoints, never a site.
    let isAdmin: Bool

    private init(fd: Int32, address: ListenAddress, isAdmin: Bool) {
        self.fd = fd
        self.address = address
        self.isAdmin = isAdmin
    }

    deinit { close(fd) }

    /// Fills `address` (a sockaddr_in or sockaddr_in6) with `fill`, which returns
    /// inet_pton's result for `host`, then binds `fd` to it.
    private static func bind<Address>(_ fd: Int32, _ address: Address, host: String,
                                      fill: (inout Address) -> Int32) throws(Errno) {
        var address = address
        guard fill(&address) == 1 else { throw Errno(code: EINVAL, call: "inet_pton(\(host))") }
        let length = socklen_t(MemoryLayout<Address>.size)
        try withUnsafePointer(to: &address) { pointer throws(Errno) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(Errno) in
                _ = try Syscall.check("bind") { Glibc.bind(fd, sa, length) }
            }
        }
    }

    /// socket + SO_REUSEADDR + bind + listen. The returned listener's
    /// address carries the actual port (port 0 picks one).
    public static func bind(_ address: ListenAddress, backlog: Int32 = 4096, admin: Bool = false) throws(Errno) -> Listener {
        let family = address.isIPv6 ? AF_INET6 : AF_INET
        let fd = try Syscall.check("socket") {
            socket(family, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        }
        do throws(Errno) {
            try Socket.setOption(fd, level: SOL_SOCKET, name: SO_REUSEADDR, value: 1)
            setNoDelay(fd)
            if address.isIPv6 {
                try Socket.setOption(fd, level: Int32(IPPROTO_IPV6), name: IPV6_V6ONLY, value: 1)
                try bind(fd, sockaddr_in6(), host: address.host) { sin6 in
                    sin6.sin6_family = sa_family_t(AF_INET6)
                    sin6.sin6_port = UInt16(address.port).bigEndian
                    return inet_pton(AF_INET6, address.host, &sin6.sin6_addr)
                }
            } else {
                try bind(fd, sockaddr_in(), host: address.host) { sin in
                    sin.sin_family = sa_family_t(AF_INET)
                    sin.sin_port = UInt16(address.port).bigEndian
                    return inet_pton(AF_INET, address.host, &sin.sin_addr)
                }
            }
            setDeferAccept(fd)
            try Syscall.check("listen") { listen(fd, backlog) }
            var bound = address
            bound.port = try Socket.localPort(fd)
            return Listener(fd: fd, address: bound, isAdmin: admin)
        } catch {
            close(fd)
            throw error
        }
    }

    /// TCP_NODELAY on the listening socket: Linux copies it to every accepted socket, which
    /// saved a setsockopt per connection (one of ~7 system calls of a `Connection: close`
    /// request, strace -c).
    static func setNoDelay(_ fd: Int32) {
        try? Socket.setOption(fd, level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: 1)
    }

    /// TCP_DEFER_ACCEPT of 1 s, as nginx's `listen … deferred`: the kernel completes the
    /// handshake but wakes the loop for a connection only once its first bytes have arrived
    /// (HTTP, TLS and the PROXY header all start with the client), so the accept turn reads
    /// the request and answers it at once instead of registering an empty socket and waiting
    /// for a second wake-up. Measured with `Connection: close` load (wrk, 64 connections,
    /// server on one core, four interleaved rounds): server CPU per request 34-39 -> 26-30 µs,
    /// 17.1-20.9k -> 18.8-23.8k requests/s (nginx 17.3-19.7k). A client that connects and
    /// sends nothing is accepted after ~1 s (the kernel's first SYN-ACK retransmission), then
    /// closed by `headerTimeoutMs` as before; until then it holds no descriptor of ours.
    static func setDeferAccept(_ fd: Int32) {
        try? Socket.setOption(fd, level: Int32(IPPROTO_TCP), name: TCP_DEFER_ACCEPT, value: 1)
    }

    /// The address a socket inherited through socket activation is bound to, after checking
    /// that it is a listening TCP socket (and making it non-blocking, close-on-exec).
    static func inheritedAddress(_ fd: Int32) throws(Errno) -> ListenAddress {
        var type: Int32 = 0
        var listening: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = try Syscall.check("getsockopt(SO_TYPE)") { getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) }
        _ = try Syscall.check("getsockopt(SO_ACCEPTCONN)") { getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) }
        guard type == Int32(SOCK_STREAM.rawValue), listening == 1 else { throw Errno(code: ENOTSOCK, call: "socket activation") }
        let storage = try Socket.localAddress(fd)
        let family = Int32(storage.ss_family)
        guard family == AF_INET || family == AF_INET6 else { throw Errno(code: EAFNOSUPPORT, call: "socket activation") }
        setNoDelay(fd)
        setDeferAccept(fd)
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return ListenAddress(host: Socket.hostString(storage), port: try Socket.localPort(fd), isIPv6: family == AF_INET6)
    }

    /// A listener over an inherited socket, serving as `address` (its `tls` flag included).
    static func adopting(_ fd: Int32, as address: ListenAddress, admin: Bool = false) -> Listener {
        Listener(fd: fd, address: address, isAdmin: admin)
    }
}
