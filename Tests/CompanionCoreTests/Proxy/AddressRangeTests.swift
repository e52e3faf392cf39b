// trustedProxies ranges and the address forms X-Forwarded-For carries.
@testable import CompanionCore
import Testing

struct AddressRangeTests {
    static func range(_ text: String) -> AddressRange? { AddressRange(text) }

    @Test func rangesContainWhatTheySay() throws {
        let ten = try #require(Self.range("10.0.0.0/8"))
        #expect(ten.contains(IPAddress("10.255.1.2")!))
        #expect(!ten.contains(IPAddress("11.0.0.1")!))
        #expect(ten.contains(IPAddress("::ffff:10.1.2.3")!))   // IPv4-mapped is the same address
        #expect(!ten.contains(IPAddress("a00::1")!))           // IPv6 that merely starts with 0x0a
        let ula = try #require(Self.range("fd00::/8"))
        #expect(ula.contains(IPAddress("fd12:3456::1")!))
        #expect(!ula.contains(IPAddress("fe80::1")!))
        let one = try #require(Self.range("::1"))
        #expect(one.contains(IPAddress("0:0::1")!))
        #expect(!one.contains(IPAddress("127.0.0.1")!))
        let anyV4 = try #require(Self.range("0.0.0.0/0"))
        #expect(anyV4.contains(IPAddress("203.0.113.5")!))
        #expect(!anyV4.contains(IPAddress("2001:db8::1")!))
        #expect(Self.range("::/0")!.contains(IPAddress("2001:db8::1")!))
        #expect(Self.range("192.168.1.0/25")!.contains(IPAddress("192.168.1.127")!))
        #expect(!Self.range("192.168.1.0/25")!.contains(IPAddress("192.168.1.128")!))
    }

    @Test func malformedRangesAreRefused() {
        for text in ["10.0.0.1/8", "10.0.0.0/33", "fd00::/129", "10.0.0.0/", "10.0.0.0/+8", "10.0.0.0/08x",
                     "proxy.example", "010.0.0.1", "fe80::1%eth0", "", "1.2.3.4/-1"] {
            #expect(Self.range(text) == nil, "\(text)")
        }
    }

    @Test func forwardedEntriesAndCanonicalText() {
        func entry(_ text: String) -> String? { ForwardedHeaders.parseEntry(Array(text.utf8)[...])?.text }
        #expect(entry("203.0.113.9") == "203.0.113.9")
        #expect(entry("203.0.113.9:8080") == "203.0.113.9")
        #expect(entry("2001:DB8:0::1") == "2001:db8::1")
        #expect(entry("[2001:db8::1]") == "2001:db8::1")
        #expect(entry("[2001:db8::1]:443") == "2001:db8::1")
        #expect(entry("::ffff:192.0.2.1") == "192.0.2.1")
        for bad in ["", "unknown", "[2001:db8::1", "[2001:db8::1]x", "203.0.113.9:", "203.0.113.9:123456", "1.2.3", "_hidden"] {
            #expect(entry(bad) == nil, "\(bad)")
        }
    }

    @Test func proxyHeaderPrefixesAskForMore() {
        let v1 = Array("PROXY TCP4 192.0.2.1 198.51.100.2 1 2\r\n".utf8)
        for cut in 0..<v1.count {
            #expect(ProxyProtocolHeader.parse(v1[0..<cut]) == .needMore, "\(cut)")
        }
        #expect(ProxyProtocolHeader.parse(v1[...]) == .complete(length: v1.count, source: IPAddress("192.0.2.1")))
    }

    /// Found by fuzz/run.sh proxy: inet_pton stops at a NUL, so an address field with a NUL
    /// and anything after it (here a bare LF) parsed as the address before the NUL, and a
    /// PROXY v1 header that is not one was accepted.
    @Test func addressesWithOtherBytesAreRefused() {
        var header = Array("PROXY TCP6 2001:db8::1".utf8) + [0, 0x0A, 0, 0, 0x6F, 0]
        header += Array(" 2001:db8::2 56324 443\r\n".utf8)
        if case .complete = ProxyProtocolHeader.parse(header[...]) { Issue.record("a header with NUL and LF in an address was accepted") }
        #expect(IPAddress(utf8: Array("2001:db8::1".utf8)[...] + [0]) == nil)
        #expect(IPAddress(utf8: Array("192.0.2.1 ".utf8)[...]) == nil)
        #expect(IPAddress(utf8: Array("fe80::1%eth0".utf8)[...]) == nil)
        #expect(IPAddress(utf8: Array("2001:DB8::1".utf8)[...]) == IPAddress("2001:db8::1"))
    }
}
