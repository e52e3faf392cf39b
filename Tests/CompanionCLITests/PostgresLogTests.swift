// One access log for a fleet (SPEC §7): two companion servers write into one
// real PostgreSQL (a throwaway cluster: initdb in a temp folder, Unix socket only, stopped
// at the end), and `companion logs --db postgresql://...` answers exactly as the SQLite
// files of the same requests do; a PostgreSQL restart under load loses no row.
import ArgumentParser
import CompanionCLI
import CompanionCore
import Foundation
import Testing

/// A PostgreSQL cluster of its own: initdb, pg_ctl start on a Unix socket in its folder
/// (no TCP port to collide with), pg_ctl stop in deinit. As root, it runs as the
/// `postgres` user (initdb refuses root). Its log goes to a file, never to our pipes.
final class PostgresCluster {
    let folder: URL
    let url: String
    private let bin: String
    private let user: [String]

    static func binaries() -> String? {
        let base = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
        return versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
            .map { "\(base)/\($0)/bin" }
            .first { FileManager.default.isExecutableFile(atPath: "\($0)/initdb") }
    }

    init() throws {
        guard let bin = Self.binaries() else {
            throw TLSTestError("PostgreSQL is not installed (apt-get install postgresql); the fleet-log tests need it")
        }
        self.bin = bin
        folder = URL(fileURLWithPath: "/tmp/companion-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        if getuid() == 0 {
            user = ["runuser", "-u", "postgres", "--"]
            _ = try runTool(["chown", "-R", "postgres:postgres", folder.path])
        } else {
            user = []
        }
        let data = folder.appendingPathComponent("data").path
        let initdb = try runTool(user + ["\(bin)/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
        guard initdb.status == 0 else { throw TLSTestError("initdb failed: \(initdb.stdout)\(initdb.stderr)") }
        url = "postgresql://postgres@/postgres?host=\(folder.path)&port=5432"
        try control("start")
    }

    private func control(_ action: String) throws {
        let data = folder.appendingPathComponent("data").path
        let log = folder.appendingPathComponent("postgres.log").path
        let options = "-k \(folder.path) -c listen_addresses='' -p 5432 -c fsync=off"
        // pg_ctl leaves the server running in the background: it must not inherit any
        // descriptor of ours (Foundation's Process waits for its own until every holder has
        // closed it), so Python starts pg_ctl with every descriptor above 2 closed.
        let closeFds = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:], close_fds=True, stdin=subprocess.DEVNULL))"
        let result = try runTool(["python3", "-c", closeFds] + user
                                 + ["\(bin)/pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "-m", "fast", action])
        guard result.status == 0 else { throw TLSTestError("pg_ctl \(action) failed: \(result.stdout)\(result.stderr)") }
    }

    /// Stops and starts the server (`pg_ctl restart -m fast`: open connections are cut).
    func restart() throws { try control("restart") }

    /// `psql -At` output of `sql` ('|' between columns, NULL as empty).
    func psql(_ sql: String) throws -> String {
        let result = try runTool(["psql", url, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
        guard result.status == 0 else { throw TLSTestError("psql failed: \(result.stderr)") }
        return result.stdout
    }

    deinit {
        try? control("stop")
        try? FileManager.default.removeItem(at: folder)
    }
}

@Suite(.serialized) struct PostgresLogTests {
    /// An in-process server logging to its own SQLite file and to `postgres` as `hostName`.
    static func server(in folder: URL, name: String, postgres: String, sqlite: Bool = true, admin: Bool = false) throws -> (Server, Int) {
        let site = folder.appendingPathComponent("site")
        try FileManager.default.createDirectory(at: site.appendingPathComponent("docs"), withIntermediateDirectories: true)
        try Data("home\n".utf8).write(to: site.appendingPathComponent("index.html"))
        try Data("docs\n".utf8).write(to: site.appendingPathComponent("docs/guide.html"))
        let file = sqlite ? #""sqlite": "\#(name).sqlite", "#: ""
        let json = """
            {"listen": "127.0.0.1:0", "workers": 2, \(admin ? #""admin": {"listen": "127.0.0.1:0"},"# : "")
             "accessLog": {\(file)"postgres": "\(postgres)", "hostName": "\(name)", "flushMs": 50},
             "sites": [{"host": ["a.test", "www.a.test"], "root": "site"}, {"host": "b.test", "root": "site"}]}
            """
        let path = folder.appendingPathComponent("\(name).json").path
        try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        let server = try Server(config: try PluginRegistry.builtIn.configLoader.load(path: path))
        return (server, server.boundAddresses[0].port)
    }

    /// Raw request bytes (a path with a byte that is not UTF-8, headers with a tab and a
    /// backslash: what the COPY escaping must carry unchanged).
    static func send(_ port: Int, _ target: String, host: String = "a.test", agent: String = "curl/8") throws {
        let client = try RawClient(port: port)
        client.send("GET \(target) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: \(agent)\r\nReferer: https://r.example/\\x\r\nConnection: close\r\n\r\n")
        _ = client.receiveAll()
    }

    static func traffic(_ port: Int, _ variant: Int) throws {
        for i in 0..<(5 + variant) { try send(port, "/?n=\(i)", agent: "Agent\t\(variant)") }
        for _ in 0..<(3 - variant) { try send(port, "/docs/guide.html", host: "b.test") }
        for _ in 0..<2 { try send(port, "/missing\(variant)", host: "www.a.test", agent: "Mozilla/5.0 (compatible; BingBot/2.0)") }
        try send(port, "/caf%C3%A9/\u{00E9}")
        let client = try RawClient(port: port)   // a raw 0xFF byte in the path
        let bytes: [UInt8] = Array("GET /x".utf8) + [0xFF] + Array(" HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n".utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(client.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        _ = client.receiveAll()
    }

    static let columns = "site, host, client, method, path, query, protocol, status, bytes, referrer, user_agent, encoding, scheme, tls_version"

    @Test func twoServersShareOneDatabaseAndLogsAnswersAsFromTheFiles() throws {
        let cluster = try PostgresCluster()
        let folder = makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (one, portOne) = try Self.server(in: folder, name: "web1", postgres: cluster.url)
        let (two, portTwo) = try Self.server(in: folder, name: "web2", postgres: cluster.url)
        // Both at once, interleaved.
        let other = Thread { try? Self.traffic(portTwo, 1) }
        other.start()
        try Self.traffic(portOne, 0)
        while !other.isFinished { usleep(10_000) }
        one.stop()
        two.stop()

        // Each host's rows in PostgreSQL are exactly its SQLite file's rows.
        for name in ["web1", "web2"] {
            let file = folder.appendingPathComponent("\(name).sqlite").path
            let sqlite = try runTool(["sqlite3", file, "SELECT time, \(Self.columns) FROM requests ORDER BY id"]).stdout
            let postgres = try cluster.psql("SELECT \(PostgresLogReader.timeText), \(Self.columns) FROM requests WHERE host_name = '\(name)' ORDER BY id")
            #expect(!sqlite.isEmpty)
            // Sorted: two loops hand their rows to the two sinks' queues independently, so
            // rows of concurrent requests may be in a different order in each.
            func sorted(_ text: String) -> [Substring] { text.split(separator: "\n").sorted() }
            #expect(sorted(postgres) == sorted(sqlite), "\(name)")
        }
        #expect(try cluster.psql("SELECT count(*) FROM requests") == "24\n")

        // One SQLite file with both hosts' rows: what `companion logs` must answer from PostgreSQL.
        let merged = folder.appendingPathComponent("merged.sqlite").path
        try FileManager.default.copyItem(atPath: folder.appendingPathComponent("web1.sqlite").path, toPath: merged)
        let all = "time, site, host, client, method, path, query, protocol, status, bytes, duration_us, referrer, user_agent, encoding, scheme, tls_version"
        let attach = try runTool(["sqlite3", merged, "ATTACH '\(folder.appendingPathComponent("web2.sqlite").path)' AS b; INSERT INTO requests (\(all)) SELECT \(all) FROM b.requests ORDER BY id;"])
        #expect(attach.status == 0, "\(attach.stderr)")
        let questions: [[String]] = [
            ["--count"], ["--summary"], ["--status", "404", "--count"], ["--status", "2xx,404", "--summary"],
            ["--group-by", "status", "--top", "0"], ["--group-by", "path", "--top", "0"], ["--group-by", "site"],
            ["--group-by", "client"], ["--group-by", "method"], ["--group-by", "day"], ["--group-by", "hour"],
            ["--group-by", "referrer"], ["--group-by", "user_agent", "--top", "0"], ["--group-by", "path", "--top", "2"],
            ["--path", "/docs/*", "--count"], ["--path", "/[cm]*", "--group-by", "path"], ["--path", "*?n=[0-3]", "--count"],
            ["--site", "b.test", "--summary"], ["--method", "get", "--count"], ["--client", "127.0.0.1", "--count"],
            ["--since", "1h", "--count"], ["--until", "1h", "--count"], ["--since", "2020-01-01", "--until", "2099-01-01", "--count"],
            ["--format", "json", "--group-by", "status"], ["--format", "csv", "--summary"],
            ["--user-agent", "Agent*", "--group-by", "path", "--top", "0"], ["--not-user-agent", "Agent*", "--count"],
            ["--host", "www.*", "--count"], ["--not-host", "*.test", "--summary"], ["--query", "n=[0-2]", "--count"],
            ["--not-query", "n=[0-2]", "--count"], ["--not-path", "/docs/*", "--group-by", "path"],
            ["--group-by", "host"], ["--group-by", "protocol"], ["--group-by", "scheme"], ["--group-by", "encoding"],
            ["--group-by", "minute"], ["--group-by", "5m"], ["--group-by", "hour_of_day"], ["--slowest", "1", "--format", "combined", "--status", "404"],   // combined: no id (ids differ)
            // Two keys, sorting, percentiles, distinct clients, address ranges.
            ["--group-by", "hour,status", "--top", "0"], ["--group-by", "site,path", "--sort", "bytes", "--top", "0"],
            ["--group-by", "path", "--sort", "duration", "--top", "0", "--format", "csv"],
            ["--group-by", "status", "--percentiles", "--unique", "client", "--format", "json"],
            ["--unique", "client"], ["--unique", "client", "--status", "404"], ["--client", "127.0.0.0/8", "--count"],
            ["--not-client", "127.0.0.1", "--count"], ["--client", "::/0", "--count"], ["--site", "www.a.test", "--count"],
            ["--group-by", "day,site,status", "--format", "ndjson"],
            ["--ignore-crawlers", "--group-by", "path", "--top", "0"], ["--crawlers-only", "--summary"],
            ["--not-user-agent", "*Bot*", "--group-by", "site"],
        ]
        let now = UTCTime.nowMicros()
        for question in questions {
            let fromFile = try LogsCommand.parse(question).render(databasePath: merged, nowMicros: now)
            let fromPostgres = try LogsCommand.parse(question).render(databasePath: cluster.url, nowMicros: now)
            #expect(fromPostgres == fromFile, "\(question)")
        }
        // Crawlers by the same rule in both (BingBot in capitals: ~* and the rule ignore case).
        #expect(try LogsCommand.parse(["--crawlers-only", "--count"]).render(databasePath: cluster.url, nowMicros: now) == "4\n")
        // The report: the same page from either database.
        for filters in [[String](), ["--site", "a.test", "--status", "4xx"]] {
            let fromFile = try ReportCommand.parse(filters).render(databasePath: merged, nowMicros: now)
            let fromPostgres = try ReportCommand.parse(filters).render(databasePath: cluster.url, nowMicros: now)
            #expect(fromPostgres == fromFile, "report \(filters)")
            #expect(fromFile.contains("data-metric=\"requests\""))
        }
        // Rows: the same lines (the ids differ: PostgreSQL numbers both hosts' rows together).
        for format in ["combined", "csv"] {
            func lines(_ path: String) throws -> [String] {
                try LogsCommand.parse(["--limit", "0", "--format", format]).render(databasePath: path, nowMicros: now)
                    .split(whereSeparator: \.isNewline)   // CSV lines end in CRLF, one Character
                    .map { String($0.replacing(/^\d+,/, with: "")) }.sorted()
            }
            let fromPostgres = try lines(cluster.url)
            let fromFile = try lines(merged)
            #expect(fromPostgres == fromFile,
                    "\(format): only in PostgreSQL \(Set(fromPostgres).subtracting(fromFile)); only in the file \(Set(fromFile).subtracting(fromPostgres))")
        }
    }

    @Test func aRestartUnderLoadLosesNoRow() throws {
        let cluster = try PostgresCluster()
        let folder = makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (server, port) = try Self.server(in: folder, name: "web1", postgres: cluster.url, sqlite: false, admin: true)
        let load = LoadCounter()
        let thread = Thread {
            while !load.stopped {
                try? Self.send(port, "/?i=\(load.sent)")
                load.sentOne()
            }
        }
        thread.start()
        // Restart once rows are arriving, and keep the load going until well after it.
        var seen = 0
        for _ in 0..<400 where seen == 0 {
            seen = Int(try cluster.psql("SELECT count(*) FROM requests").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            if seen == 0 { usleep(25_000) }
        }
        #expect(seen > 0)
        try cluster.restart()
        let afterRestart = load.sent
        // The writer found its connection gone (a failed write, counted in /metrics), and
        // reconnected: rows sent after the restart arrive.
        let errors = "companion_access_log_write_errors_total{sink=\"postgres\"} "
        var failed = false
        for _ in 0..<400 where !failed {
            let metrics = try Self.scrape(server.boundAdminAddress!.port)
            failed = metrics.contains(errors) && !metrics.contains(errors + "0\n")
            if !failed { usleep(25_000) }
        }
        #expect(failed, "no failed write seen after the restart")
        while load.sent < afterRestart + 200 { usleep(10_000) }
        load.stop()
        while !thread.isFinished { usleep(10_000) }
        server.stop()   // flushes what is queued
        let total = load.sent
        #expect(total > 200)
        #expect(try cluster.psql("SELECT count(*), count(DISTINCT query) FROM requests") == "\(total)|\(total)\n")
    }

    static func scrape(_ port: Int) throws -> String {
        let client = try RawClient(port: port)
        client.send("GET /metrics HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n")
        return String(decoding: client.receiveAll(), as: UTF8.self)
    }

    @Test func followPrintsNewRowsFromPostgres() throws {
        let cluster = try PostgresCluster()
        let folder = makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (server, port) = try Self.server(in: folder, name: "web1", postgres: cluster.url, sqlite: false)
        defer { server.stop() }
        try Self.send(port, "/?before=1")
        // The first row is in the database before following starts (flushMs 50: poll for it).
        for _ in 0..<400 {
            if try cluster.psql("SELECT count(*) FROM requests") == "1\n" { break }
            usleep(25_000)
        }
        var output = ""
        var sent = false
        var polls = 0
        try LogsCommand.parse(["--follow", "--format", "ndjson", "--status", "404"]).followLog(
            databasePath: cluster.url, pollIntervalMs: 10,
            shouldStop: {
                polls += 1
                if !sent {
                    sent = true
                    for target in ["/missing-1", "/", "/missing-2"] { try? Self.send(port, target) }
                }
                return output.components(separatedBy: "\n").count > 2 || polls > 2000
            },
            output: { output += $0 })
        let paths = output.split(separator: "\n").map { $0.contains("/missing-1") ? "1" : $0.contains("/missing-2") ? "2" : "?" }
        #expect(paths.sorted() == ["1", "2"], "\(output)")   // two loops: either order
    }

    @Test func configAndURLsAreChecked() throws {
        let bad = #"{"accessLog": {"postgres": "mysql://x"}, "sites": [{"host": "a", "root": "."}]}"#
        #expect(throws: ConfigError.self) { try ConfigLoader().load(bytes: Array(bad.utf8), configPath: "/tmp/x.json") }
        let onlyPostgres = #"{"accessLog": {"postgres": "postgresql://u@h/db", "hostName": "web1"}, "sites": [{"host": "a", "root": "."}]}"#
        let config = try ConfigLoader().load(bytes: Array(onlyPostgres.utf8), configPath: "/tmp/x.json")
        #expect(config.accessLog?.postgres == "postgresql://u@h/db")
        #expect(config.accessLog?.sqlite == "")
        #expect(PostgresLogReader.redacted("postgresql://user:secret@db.example/log") == "postgresql://user:***@db.example/log")
        // A server that cannot reach its database says so at start (a typo is not a retry loop).
        let json = #"{"listen": "127.0.0.1:0", "accessLog": {"postgres": "postgresql://u@/x?host=/nonexistent&connect_timeout=2"}, "sites": [{"host": "a", "root": "/tmp"}]}"#
        let folder = makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let configFile = folder.appendingPathComponent("c.json")
        try Data(json.utf8).write(to: configFile)
        #expect(throws: ServerError.self) { try Server(config: try ConfigLoader().load(path: configFile.path)) }
    }
}

/// The load of the restart test: how many requests were sent, and when to stop.
final class LoadCounter: @unchecked Sendable {
    // @unchecked Sendable: both fields are guarded by `lock`.
    private let lock = NSLock()
    private var count = 0
    private var stopping = false
    var sent: Int { lock.withLock { count } }
    var stopped: Bool { lock.withLock { stopping } }
    func sentOne() { lock.withLock { count += 1 } }
    func stop() { lock.withLock { stopping = true } }
}
