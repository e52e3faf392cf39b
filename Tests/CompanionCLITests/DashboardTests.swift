// The live dashboard on the admin listener: loaded in headless Chromium, it
// shows what `companion logs --format json` says for the same filters, follows new
// requests through its event stream (within 2 s), logs no console error and asks nothing
// of anyone but its own listener. Filters in its URL are checked as `companion logs`
// checks them.
import ArgumentParser
import CompanionCore
import Foundation
import Testing
@testable import CompanionCLI

@Suite struct DashboardTests {
    static func get(_ port: Int, _ target: String, host: String = "a.test") throws -> String {
        String(decoding: try MetricsTests.exchange(port, "GET \(target) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n"), as: UTF8.self)
    }

    static func logs(_ database: String, _ arguments: [String]) throws -> [String: Any] {
        let text = try LogsCommand.parse(arguments + ["--format", "json"]).render(databasePath: database)
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test(.enabled(if: ReportTests.hasChromium, "needs chromium (apt-get install chromium)"))
    func theDashboardShowsTheLogAndFollowsIt() throws {
        let admin = try AdminServer(dashboard: true)
        let database = admin.folder.appendingPathComponent("log/access.sqlite").path
        for n in 0..<9 { _ = try Self.get(admin.port, n % 3 == 0 ? "/missing\(n)" : "/?n=\(n)", host: n % 2 == 0 ? "a.test" : "b.test") }
        #expect(waitUntilTrue(seconds: 20) { (try? LogsCommand.parse(["--count"]).render(databasePath: database)) == "9\n" })
        let before = try Self.logs(database, ["--summary", "--site", "www.a.test", "--config", admin.configPath])
        let expected = (before["requests"] as! Int) + 5
        let url = "http://127.0.0.1:\(admin.adminPort)/dashboard?site=www.a.test&since=2020-01-01"
        let send = "for i in 1 2 3 4 5; do curl -s -o /dev/null -H 'Host: a.test' http://127.0.0.1:\(admin.port)/?more=$i; done"
        let run = try runTool(["python3", ReportTests.checker, url, ReportTests.screenshots + "/dashboard", "--wait-ready",
                               "--wait-change", "15", "--before-wait", send, "--expect-requests", String(expected)], timeout: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect((result["console_errors"] as? [String]) == [])
        let requests = try #require(result["requests"] as? [String])
        #expect(!requests.isEmpty && requests.allSatisfy { $0.hasPrefix("http://127.0.0.1:\(admin.adminPort)/dashboard/events?site=www.a.test") },
                "\(requests)")
        // The first rendering: what `companion logs` says (site named by another of its names).
        let page = try #require(result["page"] as? [String: Any])
        let cards = try #require(page["cards"] as? [String: String])
        for metric in ["requests", "unique_clients", "bytes", "2xx", "4xx", "p50_us", "p99_us"] {
            #expect(cards[metric] == (before[metric] as? Int).map(String.init), "\(metric)")
        }
        #expect((before["requests"] as? Int ?? 0) >= 5)
        // Then the five new requests, by the event stream.
        let updated = try #require(result["updated"] as? [String: Any], "the dashboard did not show the new requests")
        #expect((updated["cards"] as? [String: String])?["requests"] == String(expected))
        let seconds = try #require(result["update_seconds"] as? Double)
        if getenv("COMPANION_SANITIZER") == nil { #expect(seconds < 2, "updated after \(seconds) s") }
        let after = try Self.logs(database, ["--summary", "--site", "a.test"])
        #expect((updated["cards"] as? [String: String])?["bytes"] == (after["bytes"] as? Int).map(String.init))
    }

    @Test func filtersAreCheckedAsLogsChecksThem() throws {
        let admin = try AdminServer(dashboard: true)
        let bad = try Self.get(admin.adminPort, "/dashboard?status=4x")
        #expect(bad.hasPrefix("HTTP/1.1 400"))
        #expect(bad.contains(#"--status: expected 404, 4xx, 400-499 or 404,500; got "4x""#))
        #expect(try Self.get(admin.adminPort, "/dashboard/events?nonsense=1").hasPrefix("HTTP/1.1 400"))
        #expect(try Self.get(admin.adminPort, "/dashboard?db=/etc/passwd").hasPrefix("HTTP/1.1 400"))
        let page = try Self.get(admin.adminPort, "/dashboard?status=4xx&not_user_agent=*bot*")
        #expect(page.hasPrefix("HTTP/1.1 200") && page.contains("<main id=\"report\">") && page.contains("EventSource"))
        let events = try Self.get(admin.adminPort, "/dashboard/events")
        #expect(events.contains("Content-Type: text/event-stream") && events.contains("retry: 500"))
        // Never on a public listener, and not without an access log or a parser.
        #expect(try Self.get(admin.port, "/dashboard").hasPrefix("HTTP/1.1 404"))
        let plain = try AdminServer()
        #expect(try Self.get(plain.adminPort, "/dashboard").hasPrefix("HTTP/1.1 404"))
    }
}

/// Polls `condition` every 20 ms for at most `seconds`.
func waitUntilTrue(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}
