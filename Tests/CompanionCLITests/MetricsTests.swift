// The admin listener (SPEC §7): /metrics scraped and parsed by the Prometheus project's
// own text-format parser (Debian's python3-prometheus-client) after a known set of
// requests, so every counter is checked against what was sent; /healthz; and the admin
// paths are not reachable through the public listener.
import CompanionCore
import Foundation
import Testing
@testable import CompanionCLI

/// An in-process server with a plain listener and an admin listener on ephemeral ports,
/// sites a.test (default) and b.test, and an access log.
final class AdminServer {
    let folder: URL
    let server: Server
    let port: Int
    let adminPort: Int
    let configPath: String

    static let json = """
        {"listen": "127.0.0.1:0", "admin": {"listen": "127.0.0.1:0"}, "workers": 2,
         "accessLog": {"sqlite": "log/access.sqlite", "flushMs": 50},
         "sites": [{"host": ["a.test", "www.a.test"], "root": "a", "default": true}, {"host": "b.test", "root": "b"}]}
        """

    /// - Parameter dashboard: serve /dashboard with the CLI's parser of its filters.
    init(_ json: String = AdminServer.json, dashboard: Bool = false) throws {
        folder = makeTempDirectory()
        for name in ["a", "b"] {
            let site = folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: site, withIntermediateDirectories: true)
            try Data("site \(name)\n".utf8).write(to: site.appendingPathComponent("index.html"))
        }
        configPath = folder.appendingPathComponent("config.json").path
        try Data(json.utf8).write(to: URL(fileURLWithPath: configPath))
        let config = try PluginRegistry.builtIn.configLoader.load(path: configPath)
        server = try Server(config: config, dashboardQueryParser: dashboard ? LogFilterOptions.dashboardParser(configPath: configPath) : nil)
        port = server.boundAddresses[0].port
        adminPort = try #require(server.boundAdminAddress).port
    }

    deinit {
        server.stop(graceMilliseconds: 2000)
        try? FileManager.default.removeItem(at: folder)
    }

    /// The samples of /metrics as the Prometheus parser reads them: "name{k=v,...}" → value
    /// (labels sorted), and the families' types.
    func scrape() throws -> (samples: [String: Double], types: [String: String]) {
        let program = """
            import sys, urllib.request
            from prometheus_client.parser import text_string_to_metric_families
            with urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=20) as r:
                assert r.status == 200, r.status
                assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8", r.headers["Content-Type"]
                text = r.read().decode()
            for family in text_string_to_metric_families(text):
                print("TYPE", family.name, family.type)
                for s in family.samples:
                    labels = ",".join("%s=%s" % kv for kv in sorted(s.labels.items()))
                    print("SAMPLE", s.name + "{" + labels + "}", repr(float(s.value)))
            """
        let result = try runTool(["/usr/bin/python3", "-c", program, "\(adminPort)"])
        guard result.status == 0 else { throw TLSTestError("scrape failed: \(result.stderr)") }
        var samples: [String: Double] = [:]
        var types: [String: String] = [:]
        for line in result.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts[0] == "TYPE" { types[String(parts[1])] = String(parts[2]) }
            if parts[0] == "SAMPLE" { samples[String(parts[1])] = Double(parts[2]) }
        }
        return (samples, types)
    }

    /// Scrapes until `sample` has `value` (gauges the loops publish once a second).
    func waitForSample(_ sample: String, _ value: Double) throws -> Bool {
        for _ in 0..<200 {
            if try scrape().samples[sample] == value { return true }
            usleep(25_000)
        }
        return false
    }
}

@Suite(.serialized) struct MetricsTests {
    /// One request on its own connection; returns every byte the server sent.
    static func exchange(_ port: Int, _ request: String) throws -> [UInt8] {
        let client = try RawClient(port: port)
        client.send(request)
        return client.receiveAll()
    }

    @Test func countersEqualTheRequestsSent() throws {
        let admin = try AdminServer()
        var bytes: [String: Int] = [:]
        var connections = 0
        func send(_ site: String, _ request: String) throws {
            bytes[site, default: 0] += try Self.exchange(admin.port, request).count
            connections += 1
        }
        for _ in 0..<5 { try send("a.test", "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n") }
        // Another host name of site a: counted under the site's name, never the raw Host.
        for _ in 0..<2 { try send("a.test", "GET / HTTP/1.1\r\nHost: WWW.A.TEST:80\r\nConnection: close\r\n\r\n") }
        // An unknown host goes to the default site (a.test): a 404 there.
        try send("a.test", "GET /nothing HTTP/1.1\r\nHost: unknown.example\r\nConnection: close\r\n\r\n")
        for _ in 0..<3 { try send("b.test", "GET /missing HTTP/1.1\r\nHost: b.test\r\nConnection: close\r\n\r\n") }
        try send("b.test", "HEAD / HTTP/1.1\r\nHost: b.test\r\nConnection: close\r\n\r\n")
        // A request the parser refuses is answered before any site is chosen.
        try send("_none", "GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n")

        let (samples, types) = try admin.scrape()
        #expect(samples["companion_requests_total{code=2xx,site=a.test}"] == 7)
        #expect(samples["companion_requests_total{code=4xx,site=a.test}"] == 1)
        #expect(samples["companion_requests_total{code=2xx,site=b.test}"] == 1)
        #expect(samples["companion_requests_total{code=4xx,site=b.test}"] == 3)
        #expect(samples["companion_requests_total{code=4xx,site=_none}"] == 1)
        #expect(!samples.keys.contains { $0.contains("www.a.test") || $0.contains("unknown.example") })
        for site in ["a.test", "b.test", "_none"] {
            #expect(samples["companion_response_bytes_total{site=\(site)}"] == Double(bytes[site]!), "\(site)")
        }
        #expect(samples["companion_request_duration_seconds_count{}"] == 13)
        #expect(samples["companion_request_duration_seconds_bucket{le=+Inf}"] == 13)
        #expect(types["companion_request_duration_seconds"] == "histogram")
        #expect(types["companion_requests"] == "counter")   // the parser names counters without _total
        #expect(samples["companion_connections_accepted_total{}"] == Double(connections))
        #expect(try admin.waitForSample("companion_connections_closed_total{}", Double(connections)))
        #expect(samples["companion_config_reloads_total{result=ok}"] == 0)
        #expect(samples["companion_build_info{version=\(CompanionVersion.string)}"] == 1)
        // Every row reaches the log: written counts them (the scrapes themselves are not rows).
        #expect(try admin.waitForSample("companion_access_log_rows_written_total{sink=sqlite}", 13))
        #expect(samples["companion_access_log_rows_dropped_total{sink=sqlite}"] == 0)
        #expect(samples["companion_access_log_write_errors_total{sink=sqlite}"] == 0)
        // The loops' file caches: the repeated index.html of a.test hit at least once.
        #expect((samples["companion_file_cache_hits_total{}"] ?? 0) >= 1)
    }

    @Test func reloadsAreCountedByResult() throws {
        let admin = try AdminServer()
        let config = try PluginRegistry.builtIn.configLoader.load(path: admin.configPath)
        try admin.server.reload(config)
        var broken = config
        broken.sites[1].root = admin.folder.appendingPathComponent("no-such-root").path
        #expect(throws: ServerError.self) { try admin.server.reload(broken) }
        admin.server.recordFailedReload()   // what `serve` does when the new config does not load
        let samples = try admin.scrape().samples
        #expect(samples["companion_config_reloads_total{result=ok}"] == 1)
        #expect(samples["companion_config_reloads_total{result=failed}"] == 2)
        // A reload keeps each site's slot, and its counters.
        _ = try Self.exchange(admin.port, "GET / HTTP/1.1\r\nHost: b.test\r\nConnection: close\r\n\r\n")
        #expect(try admin.scrape().samples["companion_requests_total{code=2xx,site=b.test}"] == 1)
    }

    @Test func openConnectionsAreGaugedByActivity() throws {
        let admin = try AdminServer()
        // Two idle keep-alive connections and one with half a request head.
        let idle = try (0..<2).map { _ in try RawClient(port: admin.port) }
        for client in idle {
            client.send("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")
            #expect(String(decoding: client.receive(), as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        }
        let partial = try RawClient(port: admin.port)
        partial.send("GET / HTTP/1.1\r\nHost: a")
        #expect(try admin.waitForSample("companion_connections{state=idle}", 2))
        #expect(try admin.waitForSample("companion_connections{state=reading}", 1))
        withExtendedLifetime((idle, partial)) {}
    }

    /// A storm of `Connection: close` requests leaves no timers behind: each accepted
    /// connection pushed a 10 s header deadline, and before the loop swept out the entries of
    /// closed connections they stayed for those 10 s (3 MiB after 200,000 connections).
    @Test func closedConnectionsLeaveNoTimersBehind() throws {
        let admin = try AdminServer(AdminServer.json.replacingOccurrences(of: "\"workers\": 2", with: "\"workers\": 1"))
        let connections = 3000
        for _ in 0..<connections {
            _ = try Self.exchange(admin.port, "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
        }
        // The gauges are counted once a second: one idle keep-alive connection opened after
        // the storm shows in a count made after it.
        let idle = try RawClient(port: admin.port)
        idle.send("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")
        #expect(String(decoding: idle.receive(), as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        var timers: Double?
        for _ in 0..<200 {
            let samples = try admin.scrape().samples
            if samples["companion_connections{state=idle}"] == 1 {
                timers = samples["companion_connection_timers{}"]
                break
            }
            usleep(25_000)
        }
        let left = try #require(timers, "no count of the connections after the storm")
        // The loop sweeps once a second only when the heap holds more than 2 x open + 64
        // entries (EventLoop.sweepDeadlines), and the count is taken right after that check:
        // up to 64 stale entries may remain, plus two each for the idle connection and the
        // scrape's own. Before the sweep existed, all 3000 were still there.
        #expect(left <= 2 * 2 + 64, "\(left) timers left after \(connections) closed connections")
        withExtendedLifetime(idle) {}
    }

    @Test func healthzAndMethodsAndUnknownPaths() throws {
        let admin = try AdminServer()
        let health = String(decoding: try Self.exchange(admin.adminPort, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
                            as: UTF8.self)
        #expect(health.hasPrefix("HTTP/1.1 200"))
        #expect(health.hasSuffix("\r\n\r\nok\n"))
        let post = String(decoding: try Self.exchange(admin.adminPort, "POST /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
                          as: UTF8.self)
        #expect(post.hasPrefix("HTTP/1.1 405"))
        #expect(post.contains("Allow: GET, HEAD\r\n"))
        let other = try Self.exchange(admin.adminPort, "GET /index.html HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
        #expect(String(decoding: other, as: UTF8.self).hasPrefix("HTTP/1.1 404"))
        // The public listener has no /metrics: it is the site's (missing) file.
        let publicMetrics = try Self.exchange(admin.port, "GET /metrics HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
        #expect(String(decoding: publicMetrics, as: UTF8.self).hasPrefix("HTTP/1.1 404"))
        // Admin requests are not counted as site requests.
        let samples = try admin.scrape().samples
        #expect(samples["companion_requests_total{code=4xx,site=a.test}"] == 1)
        #expect(samples["companion_requests_total{code=2xx,site=_none}"] == nil)
        #expect(samples["companion_connections_accepted_total{}"] == 1)
    }

    @Test func theAdminAddressMustBeItsOwn() throws {
        let json = #"{"listen": "127.0.0.1:9180", "admin": {"listen": "127.0.0.1:9180"}, "sites": [{"host": "a", "root": "."}]}"#
        #expect(throws: ConfigError.self) { try ConfigLoader().load(bytes: Array(json.utf8), configPath: "/tmp/x.json") }
        let missing = #"{"admin": {}, "sites": [{"host": "a", "root": "."}]}"#
        #expect(throws: ConfigError.self) { try ConfigLoader().load(bytes: Array(missing.utf8), configPath: "/tmp/x.json") }
    }}
