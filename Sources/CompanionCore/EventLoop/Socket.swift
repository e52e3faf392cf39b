// Socket: small helpers over BSD sockets (options, addresses, accept).
// Every call goes through Syscall so errors name the call.
import CLinux
import Glibc

enum Socket {
    static func setOption(_ fd: Int32, level: Int32, name: Int32, value: Int32) throws(Errno) {
        var v = value
        try Syscall.check("setsockopt") {
            setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC. Returns the fd and the peer address.
    static func accept(_ listenFD: Int32) throws(Errno) -> IOResult<(fd: Int32, peer: sockaddr_storage)> {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = try withUnsafeMutablePointer(to: &storage) { pointer throws(Errno) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address throws(Errno) in
                try Syscall.io("accept4") {
                    Int(companion_accept4(listenFD, address, &length, Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)))
                }
            }
        }
        switch result {
        case .wouldBlock: return .wouldBlock
        case .done(let fd): return .done((Int32(fd), storage))
        }
    }

    /// The numeric host of an address ("127.0.0.1", "::1"); IPv4-mapped IPv6 is shown as IPv4.
    static func hostString(_ storage: sockaddr_storage) -> String {
        var copy = storage
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        return withUnsafePointer(to: &copy) { pointer -> String in
            switch Int32(storage.ss_family) {
            case AF_INET:
                return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                    var addr = v4.pointee.sin_addr
                    inet_ntop(AF_INET, &addr, &buffer, socklen_t(buffer.count))
                    return Self.string(fromCString: buffer)
                }
            case AF_INET6:
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                    var addr = v6.pointee.sin6_addr
                    inet_ntop(AF_INET6, &addr, &buffer, socklen_t(buffer.count))
                    let text = Self.string(fromCString: buffer)
                    if text.hasPrefix("::ffff:"), text.contains(".") { return String(text.dropFirst(7)) }
                    return text
                }
            default:
                return "unknown"
            }
        }
    }

    private static func string(fromCString buffer: [CChar]) -> String {
        String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The address a socket is bound to (getsockname).
    static func localAddress(_ fd: Int32) throws(Errno) -> sockaddr_storage {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        try withUnsafeMutablePointer(to: &storage) { pointer throws(Errno) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address throws(Errno) in
                _ = try Syscall.check("getsockname") { getsockname(fd, address, &length) }
            }
        }
        return storage
    }

    /// The port of a bound socket (to learn what port 0 picked).
    static func localPort(_ fd: Int32) throws(Errno) -> Int {
        var storage = try localAddress(fd)
        let family = Int32(storage.ss_family)
        return withUnsafePointer(to: &storage) { pointer in
            if family == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
    }
}
