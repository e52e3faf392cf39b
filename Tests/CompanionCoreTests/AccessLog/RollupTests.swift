// The rollups (schema 4) give the answers the raw rows give: a log of generated
// requests over four days, written by the real writer in several commits and
// sessions with rows another connection added in between, asked hundreds of random
// questions (filters, one or two keys, --since/--until on and off bucket edges)
// once with the rollups and once from the raw rows only.
import Glibc
import Testing
@testable import CompanionCore

/// SplitMix (RequestParserTests+Incremental.swift) drives Swift's random APIs here, so a
/// failure names a reproducible case.
extension SplitMix: RandomNumberGenerator {}

@Suite struct RollupTests {
    static let base: Int64 = 1_795_780_800_000_000   // 2026-11-28T00:00:00Z
    static let span: Int64 = 4 * 86_400_000_000

    static let sites: [String?] = ["a.test", "a.test", "b.test", "c.test", nil]
    static let statuses = [200, 200, 200, 200, 304, 404, 404, 500, 400]
    static let methods: [String?] = ["GET", "GET", "GET", "HEAD", "POST", nil]
    static let paths: [String?] = (0..<25).map { "/p\($0)" } + ["/docs/a", "/docs/b/c", "/docs/", nil]
    static let referrers: [String?] = [nil, nil, "https://r.example/", "https://s.example/x", "http://t.example/"]
    static let agents: [String?] = [nil, "curl/8", "Mozilla/5.0 Firefox", "Mozilla/5.0 Chrome", "Googlebot/2.1", "bingbot"]
    static let clients = (0..<12).map { "10.0.0.\($0)" } + ["2001:db8::1", "2001:db8::2", "192.0.2.7"]

    static func record(_ random: inout SplitMix) -> AccessLogRecord {
        let duration = Int(pow2(Int.random(in: 0...24, using: &random))) + Int.random(in: 0...999, using: &random)
        return AccessLogRecord(
            timeMicros: base + Int64.random(in: 0..<span, using: &random),
            site: sites.randomElement(using: &random)!, host: ["x.test", "a.test", nil].randomElement(using: &random)!,
            client: clients.randomElement(using: &random)!, method: methods.randomElement(using: &random)!,
            path: paths.randomElement(using: &random)!, query: [nil, "q=1"].randomElement(using: &random)!,
            protocolVersion: "HTTP/1.1", status: statuses.randomElement(using: &random)!,
            bytes: Int.random(in: 0...100_000, using: &random), durationMicros: duration,
            referrer: referrers.randomElement(using: &random)!, userAgent: agents.randomElement(using: &random)!)
    }

    static func pow2(_ n: Int) -> Int { 1 << n }

    /// Writes the generated log: three writer sessions of several commits each, with rows
    /// inserted through the `requests` view by another connection between them.
    static func makeLog(_ folder: TemporaryFolder, random: inout SplitMix) throws -> String {
        let settings = testSettings(folder, ReportLines())
        for session in 0..<3 {
            let writer = try AccessLogWriter(settings: settings)
            for _ in 0..<4 {
                var batch = (0..<700).map { _ in record(&random) }
                writer.append(contentsOf: &batch)
                writer.flush()
            }
            writer.shutdown()
            let other = try SQLiteDatabase(path: settings.path, mode: .readWriteCreate)
            other.setBusyTimeout(milliseconds: 2000)
            for _ in 0..<(session + 1) * 25 {
                let r = record(&random)
                let insert = try other.prepare("""
                    INSERT INTO requests (time, site, client, method, path, status, bytes, duration_us, user_agent)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                    """)
                insert.bind(UTCTime.storedText(epochMicros: r.timeMicros), at: 1)
                insert.bind(r.site, at: 2)
                insert.bind(r.client, at: 3)
                insert.bind(r.method, at: 4)
                insert.bind(r.path, at: 5)
                insert.bind(r.status, at: 6)
                insert.bind(r.bytes, at: 7)
                insert.bind(r.durationMicros, at: 8)
                insert.bind(r.userAgent, at: 9)
                try insert.step()
            }
        }
        return settings.path
    }

    static func randomQuery(_ random: inout SplitMix) -> LogQuery {
        var query = LogQuery()
        func maybe(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }
        if maybe(30) { query.statusRanges = [[404...404], [400...499, 500...599], [200...299], [304...304, 200...200]].randomElement(using: &random)! }
        if maybe(30) { query.site = ["a.test", "b.test", "nothing.test"].randomElement(using: &random)! }
        if maybe(15) { query.method = ["GET", "HEAD"].randomElement(using: &random)! }
        if maybe(20) { query.pathGlob = ["/p1*", "/docs/*", "/p?"].randomElement(using: &random)! }
        if maybe(15) { query.client = ["10.0.0.3", "10.0.0.0/30", "2001:db8::/64", "203.0.113.1"].randomElement(using: &random)! }
        if maybe(10) { query.notClient = ["10.0.0.0/29", "192.0.2.7"].randomElement(using: &random)! }
        if maybe(20) {
            query.globs.append([LogGlob(.user_agent, "*bot*", negated: true), LogGlob(.user_agent, "Mozilla*"),
                                LogGlob(.user_agent, "*bot*"), LogGlob(.user_agent, "*Bot*", negated: true),
                                LogGlob(.referrer, "https://*"), LogGlob(.referrer, "*s.example*", negated: true),
                                LogGlob(.path, "/docs/*", negated: true), LogGlob(.host, "a.*"),
                                LogGlob(.query, "q=*")].randomElement(using: &random)!)
        }
        if maybe(15) { query.crawlers = Bool.random(using: &random) }
        // Times: none, on a bucket edge (day, hour, minute) or anywhere.
        func time() -> Int64 {
            let micros = base + Int64.random(in: -86_400_000_000..<(span + 86_400_000_000), using: &random)
            let unit: Int64 = [86_400_000_000, 3_600_000_000, 60_000_000, 1000, 1].randomElement(using: &random)!
            return micros / unit * unit
        }
        if maybe(50) { query.sinceMicros = time() }
        if maybe(40) { query.untilMicros = time() }
        return query
    }

    static let keyChoices: [[LogGroupKey]] = [
        [.status], [.site], [.path], [.day], [.hour], [.minute], [.fiveMinutes], [.hourOfDay], [.referrer], [.user_agent],
        [.client], [.method], [.host], [.protocolVersion], [.hour, .status], [.day, .site], [.site, .path], [.status, .path],
        [.day, .client], [.hourOfDay, .method], [.day, .referrer],
    ]

    @Test func rollupAnswersEqualRawRowAnswers() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        var random = SplitMix(seed: 20261205)
        let path = try Self.makeLog(folder, random: &random)
        let rollups = try SQLiteLogReader(database: SQLiteDatabase(path: path, mode: .readOnly))
        let raw = try SQLiteLogReader(database: SQLiteDatabase(path: path, mode: .readOnly))
        raw.usesRollups = false
        #expect(try raw.count(LogQuery()) == 3 * 4 * 700 + 25 + 50 + 75)
        var answeredFromRollups = 0
        // Under a sanitizer (several times slower) a fifth of the questions.
        let questions = getenv("COMPANION_SANITIZER") == nil ? 300 : 60
        for index in 0..<questions {
            let query = Self.randomQuery(&random)
            let keys = Self.keyChoices.randomElement(using: &random)!
            let grouping = LogGrouping(keys: keys, top: 0, sort: LogSort.allCases.randomElement(using: &random)!,
                                       uniqueClients: true, percentiles: true)
            if try rollups.plan(query, keys: keys, measure: .totals).0 != nil { answeredFromRollups += 1 }
            let context: Comment = "case \(index): \(query) by \(keys)"
            #expect(try rollups.count(query) == raw.count(query), context)
            #expect(try rollups.summary(query) == raw.summary(query), context)
            #expect(try rollups.uniqueClients(query) == raw.uniqueClients(query), context)
            #expect(try rollups.groups(query, grouping) == raw.groups(query, grouping), context)
        }
        // The comparison is not vacuous: most questions were answered from a rollup.
        #expect(answeredFromRollups > questions / 3, "\(answeredFromRollups) of \(questions) from rollups")
    }

    /// Agent globs that select exactly the crawlers (or everyone else) are answered from the
    /// rollups' crawler dimension, globs that cut across it from the raw rows; `--ignore-crawlers`
    /// and `--crawlers-only` from the rollups.
    @Test func agentGlobsThatMatchTheCrawlersUseTheRollups() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        var random = SplitMix(seed: 11)
        let path = try Self.makeLog(folder, random: &random)
        let reader = try SQLiteLogReader(database: SQLiteDatabase(path: path, mode: .readOnly))
        let raw = try SQLiteLogReader(database: SQLiteDatabase(path: path, mode: .readOnly))
        raw.usesRollups = false
        func query(_ globs: [LogGlob], crawlers: Bool? = nil) -> LogQuery {
            var query = LogQuery(sinceMicros: Self.base + 3_600_000_000)
            query.globs = globs
            query.crawlers = crawlers
            return query
        }
        let cases: [(LogQuery, LogQuery?)] = [
            (query([LogGlob(.user_agent, "*bot*", negated: true)]), query([], crawlers: false)),
            (query([LogGlob(.user_agent, "*bot*")]), query([], crawlers: true)),
            (query([LogGlob(.user_agent, "*o*")]), nil),                                 // Mozilla too
            (query([LogGlob(.user_agent, "Mozilla*")]), nil),                            // not curl's
            (query([LogGlob(.user_agent, "*"), LogGlob(.user_agent, "*bot*", negated: true)]), nil),   // not NULL's
            (query([], crawlers: false), query([], crawlers: false)),
        ]
        for (question, equivalent) in cases {
            let (part, _) = try reader.plan(question, keys: [.path], measure: .totals)
            #expect(part?.query == equivalent, "\(question)")
            if equivalent != nil { #expect(part?.rollup == .paths, "\(question)") }
            let grouping = LogGrouping(keys: [.path], top: 0, sort: .count, uniqueClients: false, percentiles: true)
            #expect(try reader.groups(question, grouping) == raw.groups(question, grouping), "\(question)")
        }
        // The generated agents: Googlebot and bingbot are crawlers; curl, browsers and none are not.
        let crawlers = try raw.count(query([], crawlers: true))
        #expect(crawlers > 0)
        #expect(crawlers == (try raw.count(query([LogGlob(.user_agent, "*bot*")]))))
    }

    /// Every rollup row equals what folding the raw rows gives: the writer's in-memory sums
    /// (and its folding of foreign rows) are the SQL fold's.
    @Test func writerSumsEqualAFoldOfTheRawRows() throws {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        var random = SplitMix(seed: 7)
        let path = try Self.makeLog(folder, random: &random)
        let database = try SQLiteDatabase(path: path, mode: .readWriteCreate)
        // The last session's foreign rows come after the covered id (answers read them raw).
        let state = try database.prepare("SELECT covered_id, (SELECT MAX(id) FROM log) FROM log_rollup_state")
        try state.step()
        let covered = state.int64(at: 0)
        #expect(covered == state.int64(at: 1) - 75)
        state.reset()
        #expect(try Rollup.differences(in: database) == [])
        for rollup in Rollup.all {
            let rows = try database.prepare("SELECT COUNT(*) FROM \(rollup.table)")
            try rows.step()
            #expect(rows.int(at: 0) > 0, "\(rollup.table)")
        }
        // And the check finds a difference when there is one.
        try database.execute("UPDATE log_day_paths SET requests = requests + 1 WHERE (start, site, status, path) IN (SELECT start, site, status, path FROM log_day_paths LIMIT 1)")
        #expect(try Rollup.differences(in: database).count == 1)
    }
}
