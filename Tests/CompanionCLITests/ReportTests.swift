// `companion report` in headless Chromium (Debian's chromium, driven over the DevTools
// protocol by Tests/report/check_page.py): the numbers on the page (read from the DOM)
// equal `companion logs --format json` for the same filters, the page logs no console
// error and makes no network request, and it fits a phone's width. Screenshots at
// desktop and phone widths are kept in /tmp/companion-report-screenshots for a person
// to look at.
import ArgumentParser
import CompanionCore
import Foundation
import Testing
@testable import CompanionCLI

@Suite(.serialized) struct ReportTests {
    static let hasChromium = FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")
    static let checker = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../report/check_page.py").standardized.path
    static let screenshots = "/tmp/companion-report-screenshots"

    /// 2026-11-27T00:00:00Z.
    static let start: Int64 = 1_795_737_600_000_000

    /// Three days of requests on three sites, with client text a page must escape.
    static func makeLog() throws -> (folder: LogsTemporaryFolder, path: String) {
        let folder = LogsTemporaryFolder()
        let path = folder.path + "/logs/access.sqlite"
        let writer = try AccessLogWriter(settings: AccessLogSettings(path: path))
        var state: UInt64 = 12345
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        let agents = ["Mozilla/5.0 (X11) Firefox/128.0", "Mozilla/5.0 Chrome/126.0 Safari/537.36", "Mozilla/5.0 Version/17 Safari/605",
                      "Googlebot/2.1", "curl/8.5.0", "<script>alert('agent')</script>"]
        let referrers: [String?] = [nil, nil, "https://search.example/?q=1", "https://news.example/<b>", "https://blog.example/"]
        for index in 0..<3000 {
            let site = ["a.test", "b.test", "c.test"][next(3)]
            let status = [200, 200, 200, 200, 200, 304, 404, 404, 500][next(9)]
            let path = status == 404 ? "/missing/\(next(8))" : "/\(site.prefix(1))/page\(next(30)).html"
            writer.append(AccessLogRecord(
                timeMicros: start + Int64(index) * 86_400_000_000 * 3 / 3000 + Int64(next(1000)),
                site: site, host: site, client: "198.51.100.\(next(40))", method: next(10) == 0 ? "HEAD" : "GET",
                path: next(50) == 0 ? "/q?<i>x</i>&a=\"1\"" : path, protocolVersion: "HTTP/1.1", status: status,
                bytes: status == 200 ? 500 + next(5000) : 0, durationMicros: 50 + next(4000) * (status == 500 ? 20 : 1),
                referrer: referrers[next(referrers.count)], userAgent: agents[next(agents.count)]))
        }
        writer.shutdown()
        return (folder, path)
    }

    /// `companion logs --format json` output for `arguments`, as JSON.
    static func logs(_ path: String, _ arguments: [String]) throws -> Any {
        let text = try LogsCommand.parse(arguments + ["--format", "json"]).render(databasePath: path)
        return try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    /// The rows of a panel as [key: [attribute: value]] (strings, as the DOM holds them).
    static func panel(_ page: [String: Any], _ id: String) -> [[String: String]] {
        ((page["panels"] as? [String: Any])?[id] as? [[String: String]]) ?? []
    }

    /// A group's JSON object as the page's data attributes spell it.
    static func attributes(_ group: [String: Any], key: String) -> [String: String] {
        var out: [String: String] = ["key": (group[key] as? String) ?? (group[key] as? Int).map(String.init) ?? ""]
        out["count"] = String(group["count"] as! Int)
        out["bytes"] = String(group["bytes"] as! Int)
        for name in ["clients", "p50", "p95", "p99"] {
            let field = name == "clients" ? name : name + "_us"
            if let value = group[field] as? Int { out[name] = String(value) }
        }
        return out
    }

    @Test(.enabled(if: hasChromium, "needs chromium (apt-get install chromium)"))
    func theReportShowsWhatLogsAnswers() throws {
        let (folder, path) = try Self.makeLog()
        defer { folder.remove() }
        try? FileManager.default.createDirectory(atPath: Self.screenshots, withIntermediateDirectories: true)
        for (name, filters) in [("all", [String]()), ("filtered", ["--site", "b.test", "--since", "2026-11-28", "--not-user-agent", "*bot*"])] {
            let file = folder.path + "/report-\(name).html"
            try ReportCommand.parse(filters + ["--db", path, "--output", file]).run()
            let html = try String(contentsOfFile: file, encoding: .utf8)
            // Client text is escaped, never markup.
            #expect(!html.contains("<script>alert"))
            #expect(html.contains("&lt;script&gt;alert(&#39;agent&#39;)&lt;/script&gt;") || name == "filtered")
            let run = try runTool(["python3", Self.checker, "file://" + file, Self.screenshots + "/report-\(name)"], timeout: 120)
            #expect(run.status == 0, "\(run.stderr)")
            let result = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            #expect((result["console_errors"] as? [String]) == [], "\(name)")
            #expect((result["requests"] as? [String]) == [], "\(name): the report file made network requests")
            let page = try #require(result["page"] as? [String: Any])
            #expect(page["svgs"] as? Int == 2)
            // Phone width: no sideways scrolling.
            let phone = try #require(result["phone_widths"] as? [Int])
            #expect(phone[0] <= phone[1], "\(name): the page is \(phone[0]) px wide on a \(phone[1]) px phone")

            // Totals: the cards equal --summary.
            let summary = try #require(try Self.logs(path, filters + ["--summary"]) as? [String: Any])
            let cards = try #require(page["cards"] as? [String: String])
            for metric in ["requests", "unique_clients", "bytes", "2xx", "3xx", "4xx", "5xx", "p50_us", "p95_us", "p99_us"] {
                #expect(cards[metric] == (summary[metric] as? Int).map(String.init), "\(name): \(metric)")
            }
            #expect((summary["requests"] as? Int ?? 0) > 100)
            // Panels: each equals the same question asked of `companion logs`.
            let questions: [(String, [String], String)] = [
                ("top-paths", ["--group-by", "path", "--percentiles"], "path"),
                ("not-found", ["--status", "404", "--group-by", "path"], "path"),
                ("server-errors", ["--status", "500-599", "--group-by", "path"], "path"),
                ("referrers", ["--group-by", "referrer"], "referrer"),
                ("agents", ["--group-by", "user_agent"], "user_agent"),
                ("clients", ["--group-by", "client"], "client"),
                ("sites", ["--group-by", "site", "--top", "0", "--unique", "client", "--percentiles"], "site"),
            ]
            // Over time: days for three days or more, else hours (the page's own rule).
            let days = try #require(try Self.logs(path, filters + ["--group-by", "day", "--top", "0"]) as? [Any]).count
            let bucket = days >= 3 ? "day" : "hour"
            #expect(bucket == (name == "all" ? "day" : "hour"))
            let timeQuestions: [(String, [String], String)] = [("over-time", ["--group-by", bucket, "--top", "0"], bucket)]
            for (id, arguments, key) in questions + timeQuestions {
                var expected = try #require(try Self.logs(path, filters + arguments) as? [[String: Any]]).map { Self.attributes($0, key: key) }
                let shown = Self.panel(page, id)
                if id == "over-time" {
                    // The chart's table is in time order; --group-by in count order.
                    expected.sort { $0["key"]! < $1["key"]! }
                }
                #expect(shown == expected, "\(name): panel \(id)")
                #expect(!shown.isEmpty || id == "server-errors", "\(name): panel \(id) is empty")
            }
            // Browser families add up to every request.
            let families = Self.panel(page, "families")
            #expect(families.reduce(0) { $0 + Int($1["count"]!)! } == summary["requests"] as? Int)
            #expect(Set(families.map { $0["key"]! }).isSuperset(of: name == "all" ? ["Firefox", "Chrome", "Safari", "Bots", "Tools"] : ["Firefox"]))
        }
    }

    @Test func browserFamilies() {
        let cases: [(String?, String)] = [
            ("Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0", "Edge"),
            ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox"),
            ("Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", "Safari"),
            ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 OPR/111.0", "Opera"),
            ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Bots"),
            ("curl/8.5.0", "Tools"), ("python-requests/2.31", "Tools"), (nil, "(none)"), ("Lynx/2.9", "Other"),
        ]
        for (agent, family) in cases { #expect(LogReport.family(of: agent) == family, "\(agent ?? "nil")") }
    }
}
