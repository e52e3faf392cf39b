import ArgumentParser
import CompanionCore
import Glibc
import Synchronization
import Testing
@testable import CompanionCLI

@Suite struct LogsCommandTests {
    /// 2026-11-28T00:45:00Z: "now" for relative --since values.
    static let now: Int64 = fixtureStart + 53_100_000_000

    func output(_ arguments: [String], width: Int? = nil) throws -> String {
        let (folder, path) = try makeFixtureDatabase()
        defer { folder.remove() }
        let command = try LogsCommand.parse(arguments)
        return try command.render(databasePath: path, nowMicros: LogsCommandTests.now, terminalWidth: width)
    }

    @Test func tableIsAlignedOldestFirst() throws {
        #expect(try output([]) == """
            TIME                      CLIENT     SITE            METHOD  PATH                   STATUS  BYTES      MS  USER_AGENT
            2026-11-27T10:00:00.000Z  127.0.0.1  blog.localhost  GET     /index.html               200   1024   1.500  curl/8.0
            2026-11-27T10:01:00.250Z  127.0.0.1  blog.localhost  GET     /blog/post-1?ref=home     200   2048   2.000  Mozilla/5.0 "X"
            2026-11-27T10:02:00.500Z  ::1        docs.localhost  GET     /missing                  404    512   0.300  curl/8.0
            2026-11-27T10:03:00.750Z  192.0.2.1  docs.localhost  POST    /blog/form                500      0  12.000  a,b
            2026-11-27T10:04:00.000Z  192.0.2.1  -               -       -                         400      0   0.050  -
            2026-11-28T00:30:00.000Z  ::1        blog.localhost  HEAD    /index.html               304      0   0.100  -

            """)
    }

    @Test func tableIsCutToTheTerminalWidth() throws {
        #expect(try output(["--limit", "2"], width: 40) == """
            TIME                      CLIENT     SI…
            2026-11-27T10:04:00.000Z  192.0.2.1  - …
            2026-11-28T00:30:00.000Z  ::1        bl…

            """)
    }

    @Test func tableShowsControlCharactersEscaped() throws {
        let (folder, path) = try makeFixtureDatabase()
        defer { folder.remove() }
        let writer = try AccessLogWriter(settings: AccessLogSettings(path: path))
        writer.append(AccessLogRecord(timeMicros: fixtureStart, client: "::1", status: 200, bytes: 0, durationMicros: 0,
                                      userAgent: "evil\u{1B}[2J\u{85}"))
        writer.shutdown()
        let text = try LogsCommand.parse(["--limit", "1"]).render(databasePath: path)
        #expect(text.hasSuffix("  evil\\x1B[2J\\xC2\\x85\n"))
    }

    @Test func jsonShowsTheNewestRowsWithColumnNames() throws {
        #expect(try output(["--format", "json", "--limit", "2"]) == """
            [
            {"id":5,"time":"2026-11-27T10:04:00.000Z","site":null,"host":null,"client":"192.0.2.1","method":null,"path":null,"query":null,"protocol":null,"status":400,"bytes":0,"duration_us":50,"referrer":null,"user_agent":null,"encoding":null},
            {"id":6,"time":"2026-11-28T00:30:00.000Z","site":"blog.localhost","host":"blog.localhost","client":"::1","method":"HEAD","path":"/index.html","query":null,"protocol":"HTTP/1.1","status":304,"bytes":0,"duration_us":100,"referrer":null,"user_agent":null,"encoding":null}
            ]

            """)
        #expect(try output(["--format", "json", "--status", "201"]) == "[]\n")
    }

    @Test func ndjsonEscapesQuotesAndBackslashes() throws {
        #expect(try output(["--format", "ndjson", "--status", "404"]) == """
            {"id":3,"time":"2026-11-27T10:02:00.500Z","site":"docs.localhost","host":"docs.localhost","client":"::1","method":"GET","path":"/missing","query":null,"protocol":"HTTP/1.1","status":404,"bytes":512,"duration_us":300,"referrer":"http://x/\\\\path","user_agent":"curl/8.0","encoding":null}

            """)
        #expect(try output(["--format", "ndjson", "--path", "/blog/post-1"]).contains(#""user_agent":"Mozilla/5.0 \"X\"""#))
    }

    @Test func csvQuotesPerRFC4180() throws {
        #expect(try output(["--format", "csv", "--path", "/blog/*"]) ==
            "id,time,site,host,client,method,path,query,protocol,status,bytes,duration_us,referrer,user_agent,encoding\r\n"
            + "2,2026-11-27T10:01:00.250Z,blog.localhost,blog.localhost,127.0.0.1,GET,/blog/post-1,ref=home,HTTP/1.1,200,2048,2000,http://blog.localhost/,\"Mozilla/5.0 \"\"X\"\"\",\r\n"
            + "4,2026-11-27T10:03:00.750Z,docs.localhost,docs.localhost,192.0.2.1,POST,/blog/form,,HTTP/1.0,500,0,12000,,\"a,b\",\r\n")
    }

    @Test func combinedIsTheNginxFormat() throws {
        #expect(try output(["--format", "combined"]) == #"""
            127.0.0.1 - - [27/Nov/2026:10:00:00 +0000] "GET /index.html HTTP/1.1" 200 1024 "-" "curl/8.0"
            127.0.0.1 - - [27/Nov/2026:10:01:00 +0000] "GET /blog/post-1?ref=home HTTP/1.1" 200 2048 "http://blog.localhost/" "Mozilla/5.0 \x22X\x22"
            ::1 - - [27/Nov/2026:10:02:00 +0000] "GET /missing HTTP/1.1" 404 512 "http://x/\\path" "curl/8.0"
            192.0.2.1 - - [27/Nov/2026:10:03:00 +0000] "POST /blog/form HTTP/1.0" 500 0 "-" "a,b"
            192.0.2.1 - - [27/Nov/2026:10:04:00 +0000] "-" 400 0 "-" "-"
            ::1 - - [28/Nov/2026:00:30:00 +0000] "HEAD /index.html HTTP/1.1" 304 0 "-" "-"

            """#)
    }

    @Test(arguments: [
        ([], 6),
        (["--status", "4xx"], 2), (["--status", "400-499"], 2), (["--status", "404,500"], 2), (["--status", "200"], 2),
        (["--status", "2xx,304"], 3), (["--site", "docs.localhost"], 2), (["--method", "post"], 1),
        (["--path", "/blog/*"], 2), (["--path", "/index.html"], 2), (["--client", "::1"], 2),
        (["--since", "2026-11-28"], 1), (["--until", "2026-11-28"], 5),
        (["--since", "2026-11-27T10:02:00Z"], 4), (["--since", "2026-11-27T11:02:00.6+01:00"], 3), (["--since", "2026-11-27T11:02:00.5+01:00"], 4),
        (["--since", "30m"], 1), (["--since", "14h"], 1), (["--since", "15h"], 6), (["--since", "1d"], 6),
        (["--since", "2026-11-27T10:01:00Z", "--until", "2026-11-27T10:03:00Z"], 2),
        (["--site", "blog.localhost", "--status", "2xx"], 2),
    ] as [([String], Int)])
    func filtersCombineWithAnd(arguments: [String], expected: Int) throws {
        #expect(try output(["--count"] + arguments) == "\(expected)\n")
    }

    @Test func limitShowsTheNewestRows() throws {
        let ids = { (text: String) in text.split(separator: "\r\n").map { $0.split(separator: ",").first! } }
        #expect(ids(try output(["--format", "csv", "--limit", "2"])) == ["id", "5", "6"])
        #expect(ids(try output(["--format", "csv", "--limit", "0"])) == ["id", "1", "2", "3", "4", "5", "6"])
    }

    @Test func countInEachFormat() throws {
        #expect(try output(["--count", "--format", "json"]) == "{\"count\":6}\n")
        #expect(try output(["--count", "--format", "csv"]) == "count\r\n6\r\n")
    }

    @Test func summary() throws {
        #expect(try output(["--summary"]) == """
            requests            6
            unique clients      3
            bytes            3584
            1xx                 0
            2xx                 2
            3xx                 1
            4xx                 2
            5xx                 1
            p50 us            319
            p95 us          12287
            p99 us          12287

            """)
        // Durations 50, 100, 300, 1500, 2000, 12000 µs: the 3rd and 6th smallest, as the upper
        // bounds of their buckets (288-319, 11264-12287).
        #expect(try output(["--summary", "--format", "json"])
            == "{\"requests\":6,\"unique_clients\":3,\"bytes\":3584,\"1xx\":0,\"2xx\":2,\"3xx\":1,\"4xx\":2,\"5xx\":1,\"p50_us\":319,\"p95_us\":12287,\"p99_us\":12287}\n")
        #expect(try output(["--summary", "--format", "csv", "--site", "docs.localhost"])
            == "requests,unique_clients,bytes,1xx,2xx,3xx,4xx,5xx,p50_us,p95_us,p99_us\r\n2,2,512,0,0,0,1,1,319,12287,12287\r\n")
        #expect(try output(["--summary", "--format", "json", "--status", "599"])
            == "{\"requests\":0,\"unique_clients\":0,\"bytes\":0,\"1xx\":0,\"2xx\":0,\"3xx\":0,\"4xx\":0,\"5xx\":0,\"p50_us\":null,\"p95_us\":null,\"p99_us\":null}\n")
    }

    @Test func groupByWithTop() throws {
        #expect(try output(["--group-by", "status"]) == """
            STATUS  COUNT  BYTES
               200      2   3072
               404      1    512
               304      1      0
               400      1      0
               500      1      0

            """)
        #expect(try output(["--group-by", "site"]) == """
            SITE            COUNT  BYTES
            blog.localhost      3   3072
            docs.localhost      2    512
            -                   1      0

            """)
        #expect(try output(["--group-by", "path", "--top", "2", "--format", "json"]) == """
            [
            {"path":"/index.html","count":2,"bytes":1024},
            {"path":"/blog/post-1","count":1,"bytes":2048}
            ]

            """)
        #expect(try output(["--group-by", "status", "--top", "1", "--format", "ndjson"]) == "{\"status\":200,\"count\":2,\"bytes\":3072}\n")
        #expect(try output(["--group-by", "day", "--format", "csv"]) == "day,count,bytes\r\n2026-11-27,5,3584\r\n2026-11-28,1,0\r\n")
        #expect(try output(["--group-by", "hour", "--format", "ndjson"])
            == "{\"hour\":\"2026-11-27T10:00Z\",\"count\":5,\"bytes\":3584}\n{\"hour\":\"2026-11-28T00:00Z\",\"count\":1,\"bytes\":0}\n")
        #expect(try output(["--group-by", "user_agent", "--top", "1", "--format", "csv"]) == "user_agent,count,bytes\r\ncurl/8.0,2,1536\r\n")
        #expect(try output(["--group-by", "referrer", "--top", "1", "--format", "csv"]) == "referrer,count,bytes\r\n,4,1024\r\n")
        #expect(try output(["--group-by", "client", "--top", "1", "--format", "csv"]) == "client,count,bytes\r\n127.0.0.1,2,3072\r\n")
        #expect(try output(["--group-by", "method", "--top", "1", "--format", "csv"]) == "method,count,bytes\r\nGET,3,3584\r\n")
    }

    @Test(arguments: [
        (["--status", "4x"], #"--status: expected 404, 4xx, 400-499 or 404,500; got "4x""#),
        (["--since", "yesterday"], #"--since: expected 30m, 2h, 7d, 2026-11-27 or an RFC 3339 time such as 2026-11-27T10:00:00Z; got "yesterday""#),
        (["--until", "2026-02-30"], #"--until: expected 30m, 2h, 7d, 2026-11-27 or an RFC 3339 time such as 2026-11-27T10:00:00Z; got "2026-02-30""#),
        (["--format", "combined", "--group-by", "status"], "--format combined prints one line per request; it does not combine with --group-by"),
        (["--format", "combined", "--count"], "--format combined prints one line per request; it does not combine with --count"),
        (["--count", "--summary"], "--count and --summary cannot be combined; choose one"),
        (["--follow", "--summary"], "--follow prints requests as they arrive; it does not combine with --summary"),
        (["--follow", "--format", "json"], "--follow cannot write one JSON array; use --format ndjson"),
        (["--limit=-1"], "--limit: expected 0 (all) or a positive number; got -1"),
        (["--top=-3"], "--top: expected 0 (all) or a positive number; got -3"),
        (["--db", "a", "--config", "b"], "--db and --config name the database twice; give one of them"),
    ] as [([String], String)])
    func invalidValuesNameTheOptionAndTheAcceptedForms(arguments: [String], message: String) {
        do {
            _ = try LogsCommand.parse(arguments)
            Issue.record("expected a validation error")
        } catch {
            #expect(LogsCommand.message(for: error) == message)
        }
    }

    @Test func unknownFormatListsTheFormats() {
        do {
            _ = try LogsCommand.parse(["--format", "xml"])
            Issue.record("expected a parse error")
        } catch {
            let message = LogsCommand.message(for: error)
            #expect(message.contains("--format") && message.contains("ndjson") && message.contains("combined") && message.contains("vcombined"))
        }
    }

    @Test func helpNamesEveryOption() {
        let help = LogsCommand.helpMessage()
        for option in ["--db", "--config", "--status", "--site", "--method", "--path", "--client", "--since", "--until",
                       "--limit", "--count", "--summary", "--group-by", "--top", "--format", "--follow"] {
            #expect(help.contains(option), "help lacks \(option)")
        }
        #expect(LogsCommand.configuration.commandName == "logs")
    }

    @Test func missingDatabaseIsOneSentence() throws {
        let command = try LogsCommand.parse(["--db", "/tmp/companion-none/access.sqlite"])
        #expect(throws: LogsError.self) { try command.render(databasePath: "/tmp/companion-none/access.sqlite") }
        do {
            _ = try command.render(databasePath: "/tmp/companion-none/access.sqlite")
        } catch {
            #expect("\(error)" == "no access log database at /tmp/companion-none/access.sqlite (the server creates it on first start)")
        }
    }

    @Test func databaseComesFromTheConfigRelativeToItsFolder() throws {
        let (folder, path) = try makeFixtureDatabase()
        defer { folder.remove() }
        folder.write("config.json", #"{"listen": "127.0.0.1:0", "sites": [], "accessLog": {"sqlite": "logs/access.sqlite", "flushMs": 200}}"#)
        folder.write("empty.json", #"{"sites": []}"#)
        let command = try LogsCommand.parse(["--config", folder.path + "/config.json", "--count"])
        #expect(try command.resolvedDatabasePath() == path)
        #expect(try command.render(databasePath: command.resolvedDatabasePath()) == "6\n")
        #expect(throws: LogsError.self) { try LogsCommand.parse(["--config", folder.path + "/empty.json"]).resolvedDatabasePath() }
        do {
            _ = try LogsCommand.databasePath(fromConfig: folder.path + "/empty.json")
        } catch {
            #expect("\(error)" == "\(folder.path)/empty.json has no accessLog.sqlite, so the server keeps no access log; add one or pass --db PATH")
        }
        do {
            _ = try LogsCommand.databasePath(fromConfig: folder.path + "/missing.json")
        } catch {
            #expect("\(error)" == "cannot read config \(folder.path)/missing.json: no such file or directory (pass --db PATH to read a database directly)")
        }
    }

    /// `--config /dev/zero` was read until memory ran out (the process aborted under
    /// `ulimit -v`); it is refused at the server's config size limit, with the same words.
    @Test func aConfigThatNeverEndsIsRefusedNotReadUntilMemoryRunsOut() throws {
        #expect {
            try LogsCommand.databasePath(fromConfig: "/dev/zero")
        } throws: { error in
            "\(error)" == "config /dev/zero is larger than 16 MiB (pass --db PATH to read a database directly)"
        }
        // `--site` reads the config too: an unreadable one leaves the name as given.
        #expect(try LogsCommand.parse(["--config", "/dev/zero", "--site", "a.test"]).filters.siteName() == "a.test")
    }

    @Test func followPrintsRowsAsTheyArrive() throws {
        let (folder, path) = try makeFixtureDatabase()
        defer { folder.remove() }
        let state = FollowState()
        let thread = try spawnFollow(path: path, arguments: ["--follow", "--format", "ndjson", "--status", "404"], state: state)
        #expect(waitFor { state.chunks.withLock { $0.count } == 1 })
        let writer = try AccessLogWriter(settings: AccessLogSettings(path: path, flushMs: 50))
        var late = fixtureRecords[2]
        late.path = "/late"
        writer.append(late)
        writer.append(fixtureRecords[0])
        writer.append(late)
        writer.flush()
        #expect(waitFor { state.text.split(separator: "\n").count == 3 })
        state.stop.store(true, ordering: .relaxed)
        pthread_join(thread, nil)
        writer.shutdown()
        let lines = state.text.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix(#"{"id":3,"#))
        #expect(lines[1].hasPrefix(#"{"id":7,"#) && lines[1].contains(#""path":"/late""#))
        #expect(lines[2].hasPrefix(#"{"id":9,"#))
    }

    /// After an empty poll, `--follow` read max(id) in a second statement, so
    /// a batch committed between the two reads was never printed. The follower polls without
    /// pausing while 300 single-row batches are committed; every one must come out once.
    @Test func followMissesNoBatchCommittedBetweenPolls() throws {
        let (folder, path) = try makeFixtureDatabase()
        defer { folder.remove() }
        let state = FollowState()
        let thread = try spawnFollow(path: path, arguments: ["--follow", "--format", "ndjson", "--limit", "1"],
                                     state: state, pollIntervalMs: 0)
        #expect(waitFor { state.chunks.withLock { $0.count } == 1 })
        let writer = try AccessLogWriter(settings: AccessLogSettings(path: path, flushMs: 1))
        for _ in 0..<300 {
            writer.append(fixtureRecords[0])
            writer.flush()
        }
        let expected = 1 + 300
        #expect(waitFor { state.text.split(separator: "\n").count >= expected })
        state.stop.store(true, ordering: .relaxed)
        pthread_join(thread, nil)
        writer.shutdown()
        let ids = state.text.split(separator: "\n").map { line in
            Int(line.dropFirst(#"{"id":"#.count).prefix(while: { $0.isNumber }))!
        }
        #expect(ids == Array(6...306))
    }
}

/// What the follow thread and the test share.
private final class FollowState: Sendable {
    let chunks = Mutex<[String]>([])
    let stop = Atomic<Bool>(false)
    var text: String { chunks.withLock { $0.joined() } }
}

/// Runs `logs --follow` on a thread, collecting its output, until `state.stop` is set.
private func spawnFollow(path: String, arguments: [String], state: FollowState, pollIntervalMs: Int = 10) throws -> pthread_t {
    final class Job {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }
    let command = try LogsCommand.parse(arguments)
    let job = Job {
        try? command.followLog(databasePath: path, pollIntervalMs: pollIntervalMs,
                               shouldStop: { state.stop.load(ordering: .relaxed) },
                               output: { text in state.chunks.withLock { $0.append(text) } })
    }
    var thread = pthread_t()
    pthread_create(&thread, nil, { raw in
        Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue().run()
        return nil
    }, Unmanaged.passRetained(job).toOpaque())
    return thread
}

/// Polls `condition` for up to five seconds.
private func waitFor(_ condition: () -> Bool) -> Bool {
    for _ in 0..<500 {
        if condition() { return true }
        var pause = timespec(tv_sec: 0, tv_nsec: 10_000_000)
        nanosleep(&pause, nil)
    }
    return false

}

extension LogsCommandTests {
    /// The text filters: globs on Host, User-Agent, Referer and the query string, and
    /// their negations, which keep rows that have no such field.
    @Test(arguments: [
        (["--user-agent", "*curl*"], "2"), (["--not-user-agent", "*curl*"], "4"),
        (["--referrer", "http://blog*"], "1"), (["--not-referrer", "http://*"], "4"),
        (["--query", "ref=*"], "1"), (["--not-query", "*"], "5"),
        (["--host", "docs.*"], "2"), (["--not-host", "docs.*"], "4"),
        (["--not-path", "/blog/*"], "4"), (["--path", "/blog/*", "--not-user-agent", "a,*"], "1"),
    ])
    func textFiltersAndTheirNegations(arguments: [String], count: String) throws {
        #expect(try output(arguments + ["--count"]) == count + "\n")
    }

    /// Ties (count, then bytes) are ordered by value, NULL first, as for every key.
    @Test func groupsByHostProtocolSchemeAndEncoding() throws {
        let protocols = try output(["--group-by", "protocol", "--format", "csv"])
        #expect(protocols == "protocol,count,bytes\r\nHTTP/1.1,4,3584\r\n,1,0\r\nHTTP/1.0,1,0\r\n", "\(protocols.debugDescription)")
        #expect(try output(["--group-by", "host", "--format", "csv"]) == "host,count,bytes\r\nblog.localhost,3,3072\r\ndocs.localhost,2,512\r\n,1,0\r\n")
        #expect(try output(["--group-by", "scheme", "--format", "ndjson"]) == "{\"scheme\":null,\"count\":6,\"bytes\":3584}\n")
        let encodings = try output(["--group-by", "encoding", "--format", "csv"])
        #expect(encodings == "encoding,count,bytes\r\n,5,2560\r\ngzip,1,1024\r\n", "\(encodings.debugDescription)")
    }

    @Test func slowestRequestsComeFirst() throws {
        let header = "id,time,site,host,client,method,path,query,protocol,status,bytes,duration_us,referrer,user_agent,encoding\r\n"
        let slowest = "4,2026-11-27T10:03:00.750Z,docs.localhost,docs.localhost,192.0.2.1,POST,/blog/form,,HTTP/1.0,500,0,12000,,\"a,b\",\r\n"
        let next = "2,2026-11-27T10:01:00.250Z,blog.localhost,blog.localhost,127.0.0.1,GET,/blog/post-1,ref=home,HTTP/1.1,200,2048,2000,"
            + "http://blog.localhost/,\"Mozilla/5.0 \"\"X\"\"\",\r\n"
        #expect(try output(["--slowest", "2", "--format", "csv"]) == header + slowest + next)
        #expect(try output(["--slowest", "1", "--status", "2xx", "--format", "combined"]).contains("\"GET /blog/post-1?ref=home HTTP/1.1\" 200 2048"))
        #expect(throws: (any Error).self) { try LogsCommand.parse(["--slowest", "0"]) }
        #expect(throws: (any Error).self) { try LogsCommand.parse(["--slowest", "3", "--count"]) }
    }

    @Test func timeBucketsAndHourOfDay() throws {
        #expect(try output(["--group-by", "5m", "--format", "csv", "--top", "0"]) == "5m,count,bytes\r\n2026-11-27T10:00Z,5,3584\r\n2026-11-28T00:30Z,1,0\r\n")
        #expect(try output(["--group-by", "minute", "--format", "csv", "--top", "2"]) == "minute,count,bytes\r\n2026-11-27T10:01Z,1,2048\r\n2026-11-27T10:00Z,1,1024\r\n")
        #expect(try output(["--group-by", "hour_of_day", "--format", "csv"]) == "hour_of_day,count,bytes\r\n10,5,3584\r\n00,1,0\r\n")
    }
}
