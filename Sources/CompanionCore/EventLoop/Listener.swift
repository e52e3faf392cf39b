// Listener: one listening socket. Each event loop owns its own socket for every
// listen address, all bound with SO_REUSEPORT, so the kernel spreads new
// connections across loops and no accept is handed between threads.
// (Measured alternative: one shared socket with EPOLLEXCLUSIVE; see README.)
import CLinux
import Glibc

public final class Listener: @unchecked Sendable {
    // @unchecked Sendable: created on the main thread, then used only by the one
    // loop it is handed to (accept, close). The fields are immutable.
    public let fd: Int32
    public let address: ListenAddress

    private init(fd: Int32, address: ListenAddress) {
        self.fd = fd
        self.address = address
    }

    deinit { close(fd) }

    /// socket + SO_REUSEADDR + SO_REUSEPORT + bind + listen. The returned listener's
    /// address carries the actual port (port 0 picks one).
    public static func bind(_ address: ListenAddress, backlog: Int32 = 4096) throws(Errno) -> Listener {
        let family = address.isIPv6 ? AF_INET6 : AF_INET
        let fd = try Syscall.check("socket") {
            socket(family, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        }
        do throws(Errno) {
            try Socket.setOption(fd, level: SOL_SOCKET, name: SO_REUSEADDR, value: 1)
            try Socket.setOption(fd, level: SOL_SOCKET, name: SO_REUSEPORT, value: 1)
            if address.isIPv6 {
                try Socket.setOption(fd, level: Int32(IPPROTO_IPV6), name: IPV6_V6ONLY, value: 1)
            }
            if address.isIPv6 {
                var sin6 = sockaddr_in6()
                sin6.sin6_family = sa_family_t(AF_INET6)
                sin6.sin6_port = UInt16(address.port).bigEndian
                guard inet_pton(AF_INET6, address.host, &sin6.sin6_addr) == 1 else {
                    throw Errno(code: EINVAL, call: "inet_pton(\(address.host))")
                }
                try withUnsafePointer(to: &sin6) { pointer throws(Errno) in
                    try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(Errno) in
                        _ = try Syscall.check("bind") { Glibc.bind(fd, sa, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
                    }
                }
            } else {
                var sin = sockaddr_in()
                sin.sin_family = sa_family_t(AF_INET)
                sin.sin_port = UInt16(address.port).bigEndian
                guard inet_pton(AF_INET, address.host, &sin.sin_addr) == 1 else {
                    throw Errno(code: EINVAL, call: "inet_pton(\(address.host))")
                }
                try withUnsafePointer(to: &sin) { pointer throws(Errno) in
                    try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(Errno) in
                        _ = try Syscall.check("bind") { Glibc.bind(fd, sa, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                    }
                }
            }
            try Syscall.check("listen") { listen(fd, backlog) }
            var bound = address
            bound.port = try Socket.localPort(fd)
            return Listener(fd: fd, address: bound)
        } catch {
            close(fd)
            throw error
        }
    }
}
