// Tests for ConfigLoader.parseListenAddress, the HOST:PORT grammar shared by
// `listen` and `serve --listen`: canonical hosts, IPv6 brackets, localhost,
// port bounds, and everything that must be refused.

import Testing
@testable import CompanionCore

@Suite struct ConfigLoaderListenTests {
    @Test(arguments: [
        ("127.0.0.1:8080", "127.0.0.1", 8080, false, "127.0.0.1:8080"),
        ("0.0.0.0:0", "0.0.0.0", 0, false, "0.0.0.0:0"),
        ("1.2.3.4:65535", "1.2.3.4", 65535, false, "1.2.3.4:65535"),
        ("localhost:80", "127.0.0.1", 80, false, "127.0.0.1:80"),
        ("LocalHost:80", "127.0.0.1", 80, false, "127.0.0.1:80"),
        ("127.0.0.1:080", "127.0.0.1", 80, false, "127.0.0.1:80"),
        ("[::1]:8080", "::1", 8080, true, "[::1]:8080"),
        ("[::]:443", "::", 443, true, "[::]:443"),
        ("[0:0:0:0:0:0:0:1]:1", "::1", 1, true, "[::1]:1"),
        ("[2001:DB8::A]:80", "2001:db8::a", 80, true, "[2001:db8::a]:80"),
        ("[::ffff:127.0.0.1]:80", "::ffff:127.0.0.1", 80, true, "[::ffff:127.0.0.1]:80"),
    ])
    func parsesValidAddresses(text: String, host: String, port: Int, isIPv6: Bool, description: String) {
        let address = ConfigLoader.parseListenAddress(text)
        #expect(address == ListenAddress(host: host, port: port, isIPv6: isIPv6))
        #expect(address?.description == description)
    }

    @Test(arguments: [
        "", "127.0.0.1", "127.0.0.1:", ":8080", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:80a",
        "127.0.0.1:000080", "127.0.0.1: 80", " 127.0.0.1:80", "256.1.1.1:80", "1.2.3:80", "1.2.3.4.5:80",
        "01.2.3.4:80", "0x7f.0.0.1:80", "::1:8080", "[::1]", "[::1]8080", "[]:80", "[127.0.0.1]:80",
        "[fe80::1%eth0]:80", "example.com:80", "*:80", "localhost", "[::1:80",
    ])
    func rejectsInvalidAddresses(text: String) {
        #expect(ConfigLoader.parseListenAddress(text) == nil)
    }
}
