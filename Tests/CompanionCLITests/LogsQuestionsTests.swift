// The analytical questions of `companion logs`, on the six fixture rows (see
// LogsTestSupport.swift): two and three group keys, --sort, --percentiles,
// --unique client, --client/--not-client ranges, --site by any of a site's names,
// and the errors for what does not go together.
import ArgumentParser
import CompanionCore
import Foundation
import Testing
@testable import CompanionCLI

@Suite struct LogsQuestionsTests {
    static let hasGoAccess = FileManager.default.isExecutableFile(atPath: "/usr/bin/goaccess")

    func output(_ arguments: [String]) throws -> String {
        let (folder, path) = try makeFixtureDatabase()
        defer { folder.remove() }
        return try LogsCommand.parse(arguments).render(databasePath: path, nowMicros: LogsCommandTests.now)
    }

    @Test func twoKeysLargestFirstThenByTheKeys() throws {
        #expect(try output(["--group-by", "day,status", "--format", "csv"]) == """
            day,status,count,bytes\r
            2026-11-27,200,2,3072\r
            2026-11-27,404,1,512\r
            2026-11-27,400,1,0\r
            2026-11-27,500,1,0\r
            2026-11-28,304,1,0\r

            """)
        #expect(try output(["--group-by", "hour,site", "--top", "2"]) == """
            HOUR               SITE            COUNT  BYTES
            2026-11-27T10:00Z  blog.localhost      2   3072
            2026-11-27T10:00Z  docs.localhost      2    512

            """)
        #expect(try output(["--group-by", "hour_of_day,method,status", "--top", "1", "--format", "ndjson"])
            == "{\"hour_of_day\":\"10\",\"method\":\"GET\",\"status\":200,\"count\":2,\"bytes\":3072}\n")
    }

    @Test func sortByBytesOrMeanDuration() throws {
        #expect(try output(["--group-by", "site", "--sort", "bytes", "--format", "csv"])
            == "site,count,bytes\r\nblog.localhost,3,3072\r\ndocs.localhost,2,512\r\n,1,0\r\n")
        // Means: docs (300 + 12000) / 2, blog (1500 + 2000 + 100) / 3, the unparsed request 50.
        #expect(try output(["--group-by", "site", "--sort", "duration", "--format", "csv"])
            == "site,count,bytes,avg_duration_us\r\ndocs.localhost,2,512,6150\r\nblog.localhost,3,3072,1200\r\n,1,0,50\r\n")
    }

    @Test func percentilesAndDistinctClientsPerGroup() throws {
        // blog: 100, 1500, 2000 µs -> p50 in 1408-1535, p95/p99 in 1920-2047; docs: 300, 12000;
        // the unparsed request: 50 (48-51).
        #expect(try output(["--group-by", "site", "--unique", "client", "--percentiles", "--format", "json"]) == """
            [
            {"site":"blog.localhost","count":3,"bytes":3072,"clients":2,"p50_us":1535,"p95_us":2047,"p99_us":2047},
            {"site":"docs.localhost","count":2,"bytes":512,"clients":2,"p50_us":319,"p95_us":12287,"p99_us":12287},
            {"site":null,"count":1,"bytes":0,"clients":1,"p50_us":51,"p95_us":51,"p99_us":51}
            ]

            """)
        #expect(try output(["--unique", "client"]) == "3\n")
        #expect(try output(["--unique", "client", "--status", "4xx", "--format", "json"]) == "{\"unique_clients\":2}\n")
    }

    @Test(arguments: [
        (["--client", "192.0.2.0/24"], "2\n"), (["--client", "127.0.0.1"], "2\n"), (["--client", "::1/128"], "2\n"),
        // An IPv6 range holds IPv6 addresses only, as PostgreSQL's inet compares.
        (["--client", "::/0"], "2\n"), (["--client", "0.0.0.0/0"], "4\n"),
        (["--not-client", "127.0.0.1"], "4\n"), (["--not-client", "192.0.2.0/25", "--status", "4xx"], "1\n"),
    ] as [([String], String)])
    func clientAddressesAndRanges(arguments: [String], count: String) throws {
        #expect(try output(arguments + ["--count"]) == count)
    }

    @Test func siteByAnyOfItsNamesFromTheConfig() throws {
        let (folder, _) = try makeFixtureDatabase()
        defer { folder.remove() }
        folder.write("config.json", """
            {"listen": "127.0.0.1:0", "accessLog": {"sqlite": "logs/access.sqlite"},
             "sites": [{"host": ["docs.localhost", "docs.example", "DOCS.test"], "root": "."}, {"host": "blog.localhost", "root": "."}]}
            """)
        for name in ["docs.localhost", "docs.example", "docs.TEST"] {
            let command = try LogsCommand.parse(["--config", folder.path + "/config.json", "--site", name, "--count"])
            #expect(try command.render(databasePath: command.resolvedDatabasePath()) == "2\n", "\(name)")
        }
        let other = try LogsCommand.parse(["--config", folder.path + "/config.json", "--site", "elsewhere", "--count"])
        #expect(try other.render(databasePath: other.resolvedDatabasePath()) == "0\n")
    }

    @Test(arguments: [
        (["--client", "10.0.0.1/8"], "--client: expected an IP address or a CIDR range such as 203.0.113.0/24 or 2001:db8::/32; got '10.0.0.1/8'"),
        (["--not-client", "host.example"], "--not-client: expected an IP address or a CIDR range such as 203.0.113.0/24 or 2001:db8::/32; got 'host.example'"),
        (["--sort", "bytes"], "--sort orders the groups of --group-by; add --group-by"),
        (["--percentiles"], "--percentiles adds to the groups of --group-by (--summary always shows them); add --group-by"),
        (["--unique", "client", "--count"], "--count and --unique cannot be combined; choose one"),
        (["--unique", "client", "--follow"], "--follow prints requests as they arrive; it does not combine with --unique"),
        (["--crawlers-only", "--ignore-crawlers"], "--crawlers-only and --ignore-crawlers together leave nothing; give one of them"),
    ] as [([String], String)])
    func invalidCombinations(arguments: [String], message: String) {
        do {
            _ = try LogsCommand.parse(arguments)
            Issue.record("expected a validation error")
        } catch {
            #expect(LogsCommand.message(for: error) == message)
        }
    }

    /// GoAccess's `--ignore-crawlers` and `--crawlers-only`: one rule for the User-Agent
    /// (a token such as "bot" in any case), the same whether the answer comes from the rollups.
    @Test func crawlersOnlyAndIgnoreCrawlers() throws {
        let folder = LogsTemporaryFolder()
        defer { folder.remove() }
        let path = folder.path + "/logs/access.sqlite"
        let writer = try AccessLogWriter(settings: AccessLogSettings(path: path))
        let agents: [String?] = ["Googlebot/2.1", "Mozilla/5.0 (compatible; YandexBot/3.0)", "Baiduspider", "facebookexternalhit/1.1",
                                 "Yahoo! SLURP", "curl/8", nil, "Mozilla/5.0 Firefox/120", "Robot Framework"]
        for (index, agent) in agents.enumerated() {
            writer.append(AccessLogRecord(timeMicros: fixtureStart + Int64(index) * 1_000_000, site: "a.test", client: "192.0.2.1",
                                          method: "GET", path: "/p\(index % 2)", status: 200, bytes: 10, durationMicros: 100, userAgent: agent))
        }
        writer.shutdown()
        func ask(_ arguments: [String]) throws -> String {
            try LogsCommand.parse(arguments).render(databasePath: path, nowMicros: LogsCommandTests.now)
        }
        // "Robot Framework" holds "bot": a crawler by the rule, as GoAccess's list would not say.
        #expect(try ask(["--crawlers-only", "--count"]) == "6\n")
        #expect(try ask(["--ignore-crawlers", "--count"]) == "3\n")
        #expect(try ask(["--ignore-crawlers", "--group-by", "path", "--format", "csv"]) == "path,count,bytes\r\n/p1,2,20\r\n/p0,1,10\r\n")   // CSV: RFC 4180 line ends
        #expect(try ask(["--crawlers-only", "--group-by", "user_agent", "--top", "1", "--format", "csv"]) == "user_agent,count,bytes\r\nBaiduspider,1,10\r\n")
        #expect(try ask(["--crawlers-only", "--format", "csv", "--limit", "0"]).split(separator: "\r\n").count == 7)
    }

    @Test func dashboardFlagsTakeNoValue() throws {
        let parse = LogFilterOptions.dashboardParser(configPath: "/nonexistent/config.json")
        #expect(try parse([("ignore_crawlers", "")], 0).0.crawlers == false)
        #expect(try parse([("crawlers_only", "1"), ("status", "404")], 0).0.crawlers == true)
        #expect(throws: DashboardError.self) { try parse([("ignore_crawlers", "no")], 0) }
    }

    @Test(arguments: ["hour,hour", "day,status,site,path", "status,", "nonsense"])
    func groupKeysMustBeOneToThreeKnownKeys(argument: String) {
        do {
            _ = try LogsCommand.parse(["--group-by", argument])
            Issue.record("expected a parse error")
        } catch {
            let message = LogsCommand.message(for: error)
            #expect(message.contains("--group-by") && message.contains(argument), "\(message)")
        }
    }
}

@Suite struct VhostCombinedTests {
    @Test func theSiteComesFirstAsApacheVhostCombinedWritesIt() throws {
        let (folder, path) = try makeFixtureDatabase()
        defer { folder.remove() }
        let text = try LogsCommand.parse(["--format", "vcombined", "--limit", "2"]).render(databasePath: path)
        #expect(text == """
            -:80 192.0.2.1 - - [27/Nov/2026:10:04:00 +0000] "-" 400 0 "-" "-"
            blog.localhost:80 ::1 - - [28/Nov/2026:00:30:00 +0000] "HEAD /index.html HTTP/1.1" 304 0 "-" "-"

            """)
    }

    /// GoAccess (Debian's 1.7) reads the export with its VCOMBINED format, and its per-site
    /// panel counts what `--group-by site` counts.
    @Test(.enabled(if: LogsQuestionsTests.hasGoAccess, "needs goaccess (apt-get install goaccess)"))
    func goAccessReadsTheExportPerSite() throws {
        let (folder, path) = try makeFixtureDatabase()
        defer { folder.remove() }
        let export = folder.path + "/access.log"
        folder.write("access.log", try LogsCommand.parse(["--format", "vcombined", "--limit", "0"]).render(databasePath: path))
        let report = folder.path + "/report.json"
        let result = try runTool(["/usr/bin/goaccess", export, "--log-format=VCOMBINED", "-o", report])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        let general = try #require(json["general"] as? [String: Any])
        #expect(general["total_requests"] as? Int == 6)
        let vhosts = try #require((json["vhosts"] as? [String: Any])?["data"] as? [[String: Any]])
        var hits: [String: Int] = [:]
        for entry in vhosts {
            if let name = entry["data"] as? String, let count = (entry["hits"] as? [String: Any])?["count"] as? Int { hits[name] = count }
        }
        #expect(hits == ["blog.localhost": 3, "docs.localhost": 2, "-": 1])
        unlink(export)
        unlink(report)
    }
}
