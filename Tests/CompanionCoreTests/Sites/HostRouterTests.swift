// Tests for HostRouter (SPEC §3 Routing): exact names before wildcards, the
// longest wildcard suffix, the default site, ASCII case, and raw Host header
// values with ports, trailing dots and IPv6 literals.

import Testing
@testable import CompanionCore

@Suite struct HostRouterTests {
    static func site(_ hosts: [String]) -> SiteConfig {
        SiteConfig(hosts: hosts, root: "/srv")
    }

    /// 0: a.test, www.a.test · 1: *.a.test · 2: *.b.a.test, exact.b.a.test · 3: [::1], c.test (default)
    static let router = HostRouter(sites: [
        site(["a.test", "www.a.test"]),
        site(["*.a.test"]),
        site(["*.b.a.test", "exact.b.a.test"]),
        site(["[::1]", "c.test"]),
    ], defaultIndex: 3)

    @Test(arguments: [
        ("a.test", 0),
        ("www.a.test", 0),          // exact beats *.a.test
        ("x.a.test", 1),
        ("x.y.a.test", 1),          // any depth of subdomain
        ("b.a.test", 1),            // *.b.a.test needs a label before b.a.test
        ("x.b.a.test", 2),          // longest suffix wins over *.a.test
        ("y.x.b.a.test", 2),
        ("exact.b.a.test", 2),
        ("A.TEST", 0),              // case-insensitive
        ("X.B.A.Test", 2),
        ("[::1]", 3),
        ("c.test", 3),
        ("unknown.test", 3),        // default
        ("test", 3),
        (".a.test", 3),             // empty label before the wildcard suffix
        ("aa.test", 3),             // suffix must start at a label boundary
        ("", 3),
    ])
    func routesHostNames(host: String, site: Int) {
        #expect(Self.router.route(host) == site)
    }

    @Test func missingHostGoesToTheDefault() {
        #expect(Self.router.route(nil) == 3)
        let other = HostRouter(sites: [Self.site(["a.test"]), Self.site(["b.test"])], defaultIndex: 1)
        #expect(other.route(nil) == 1)
        #expect(other.route("zzz") == 1)
        #expect(other.route("a.test") == 0)
    }

    @Test(arguments: [
        ("a.test", 0), ("A.Test:8080", 0), ("a.test.", 0), ("a.test.:80", 0), ("x.a.test:443", 1),
        ("[::1]:8080", 3), ("[::1]", 3), ("unknown:80", 3), (":80", 3), ("", 3), (".", 3),
    ])
    func routesRawHostHeaders(header: String, site: Int) {
        let bytes = Array(header.utf8)
        let routed = bytes.withUnsafeBufferPointer { Self.router.route(hostHeader: $0) }
        #expect(routed == site)
    }

    @Test func manyNamesAllRouteToTheirSite() {
        let sites = (0..<300).map { Self.site(["s\($0).test", "*.w\($0).test"]) }
        let router = HostRouter(sites: sites, defaultIndex: 0)
        for index in 0..<300 {
            #expect(router.route("s\(index).test") == index)
            #expect(router.route("x.w\(index).test") == index)
        }
        #expect(router.route("s300.test") == 0)
    }

    @Test func firstSiteKeepsANameListedTwice() {
        let router = HostRouter(sites: [Self.site(["a.test", "*.x.test"]), Self.site(["a.test", "*.x.test"])], defaultIndex: 1)
        #expect(router.route("a.test") == 0)
        #expect(router.route("b.x.test") == 0)
    }

    @Test func configBuildsItsRouter() throws {
        let folder = ConfigTestFolder()
        defer { folder.remove() }
        let config = try folder.load("""
            {"sites": [{"host": "a.test", "root": "sites/blog"},
                       {"host": ["*.B.test"], "root": "sites/docs", "default": true}]}
            """)
        let router = config.makeHostRouter()
        #expect(router.route("a.test") == 0)
        #expect(router.route("x.b.test") == 1)
        #expect(router.route("other.test") == 1)
    }
}
