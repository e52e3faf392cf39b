// The listening socket's options reach every accepted socket: TCP_NODELAY is set once on
// the listener (Linux copies it on accept), not with a setsockopt per connection.
import Glibc
import Testing
@testable import CompanionCore

@Suite struct ListenerTests {
    @Test(arguments: ["127.0.0.1", "::1"])
    func acceptedSocketsHaveNoDelay(host: String) throws {
        let listener = try Listener.bind(ListenAddress(host: host, port: 0, isIPv6: host.contains(":"), tls: false))
        defer { close(listener.fd) }
        let client = socket(host.contains(":") ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        var connected: Int32 = -1
        if host.contains(":") {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = UInt16(listener.address.port).bigEndian
            inet_pton(AF_INET6, host, &address.sin6_addr)
            connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(listener.address.port).bigEndian
            inet_pton(AF_INET, host, &address.sin_addr)
            connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        #expect(connected == 0)
        var accepted: Int32 = -1
        for _ in 0..<200 where accepted < 0 {
            if case .done(let value) = try Socket.accept(listener.fd) { accepted = value.fd } else { usleep(5_000) }
        }
        #expect(accepted >= 0)
        defer { close(accepted) }
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        #expect(getsockopt(accepted, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &length) == 0)
        #expect(value == 1)
    }
}
