// The listening socket's options: TCP_NODELAY is set once on the listener (Linux copies it
// on accept), not with a setsockopt per connection; TCP_DEFER_ACCEPT keeps a connection
// out of the accept queue until its first bytes arrive.
import Glibc
import Testing
@testable import CompanionCore

@Suite struct ListenerTests {
    @Test(arguments: ["127.0.0.1", "::1"])
    func acceptedSocketsHaveNoDelay(host: String) throws {
        let listener = try Self.listener(host)
        let client = try Self.connect(to: listener, host: host)
        defer { close(client) }
        #expect(send(client, "G", 1, 0) == 1)
        let accepted = try Self.accept(from: listener)
        defer { close(accepted) }
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        #expect(getsockopt(accepted, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &length) == 0)
        #expect(value == 1)
    }

    /// A connection becomes acceptable with its first byte, not with the handshake: the loop
    /// is not woken for a socket it can only register and wait on. The kernel would accept the
    /// silent connection after its first SYN-ACK retransmission (1 s), so the 200 ms in which
    /// the listener must stay unreadable is well inside what the option guarantees.
    @Test(arguments: ["127.0.0.1", "::1"])
    func connectionsAreAcceptedWithTheirFirstBytes(host: String) throws {
        let listener = try Self.listener(host)
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        #expect(getsockopt(listener.fd, Int32(IPPROTO_TCP), TCP_DEFER_ACCEPT, &value, &length) == 0)
        #expect(value == 1)
        let client = try Self.connect(to: listener, host: host)
        defer { close(client) }
        #expect(Self.waitReadable(listener.fd, milliseconds: 200) == false)
        #expect(send(client, "GET", 3, 0) == 3)
        #expect(Self.waitReadable(listener.fd, milliseconds: 10_000))
        let accepted = try Self.accept(from: listener)
        defer { close(accepted) }
        var bytes = [UInt8](repeating: 0, count: 8)
        #expect(recv(accepted, &bytes, 8, Int32(MSG_DONTWAIT)) == 3)
    }

    /// A listener on an ephemeral port; it closes its descriptor when released (no close here:
    /// a second close could hit a descriptor a parallel test has just opened).
    private static func listener(_ host: String) throws -> Listener {
        try Listener.bind(ListenAddress(host: host, port: 0, isIPv6: host.contains(":"), tls: false))
    }

    /// A blocking client socket connected to `listener` (the handshake completes in the kernel).
    private static func connect(to listener: Listener, host: String) throws -> Int32 {
        let client = socket(host.contains(":") ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var connected: Int32 = -1
        if host.contains(":") {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = UInt16(listener.address.port).bigEndian
            inet_pton(AF_INET6, host, &address.sin6_addr)
            connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(client, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(listener.address.port).bigEndian
            inet_pton(AF_INET, host, &address.sin_addr)
            connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        #expect(connected == 0)
        return client
    }

    private static func waitReadable(_ fd: Int32, milliseconds: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, milliseconds) == 1
    }

    /// The next connection on `listener`, waiting for the listener to become readable.
    private static func accept(from listener: Listener) throws -> Int32 {
        #expect(waitReadable(listener.fd, milliseconds: 10_000))
        guard case .done(let value) = try Socket.accept(listener.fd) else {
            Issue.record("nothing to accept")
            return -1
        }
        return value.fd
    }
}
