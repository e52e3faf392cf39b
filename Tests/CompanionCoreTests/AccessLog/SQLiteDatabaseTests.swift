import CSQLite
import Testing
@testable import CompanionCore

@Suite struct SQLiteDatabaseTests {
    @Test func bindsStepsAndReadsBack() throws {
        let database = try SQLiteDatabase(path: ":memory:", mode: .readWriteCreate)
        try database.execute("CREATE TABLE t (a TEXT, b INTEGER)")
        let insert = try database.prepare("INSERT INTO t VALUES (?1, ?2)")
        for (text, number) in [("x", 1), ("", 2), ("é\u{0}z", 3)] as [(String, Int)] {
            insert.bind(text, at: 1); insert.bind(number, at: 2)
            try insert.step(); insert.reset()
        }
        insert.bind(nil, at: 1); insert.bind(Int64(4), at: 2)
        try insert.step()
        let select = try database.prepare("SELECT a, b FROM t ORDER BY b")
        var seen: [String?] = []
        while try select.step() { seen.append(select.text(at: 0)); #expect(select.int(at: 1) == seen.count) }
        #expect(seen == ["x", "", "é\u{0}z", nil])
    }

    @Test func errorKeepsCodeMessageAndStatement() throws {
        let database = try SQLiteDatabase(path: ":memory:", mode: .readWriteCreate)
        #expect(throws: SQLiteError.self) { try database.execute("SELEC 1") }
        do {
            _ = try database.prepare("SELECT * FROM missing")
            Issue.record("prepare should fail")
        } catch {
            #expect(error.code == SQLITE_ERROR)
            #expect(error.statement == "SELECT * FROM missing")
            #expect(error.description == "SQLite error 1 (no such table: missing) in \"SELECT * FROM missing\"")
        }
    }

    @Test func readOnlyOpenOfMissingFileFails() {
        #expect(throws: SQLiteError.self) { _ = try SQLiteDatabase(path: "/tmp/companion-no-such-dir/x.sqlite", mode: .readOnly) }
    }

    @Test func transactionRollsBackWhenBodyThrows() throws {
        let database = try SQLiteDatabase(path: ":memory:", mode: .readWriteCreate)
        try database.execute("CREATE TABLE t (a INTEGER UNIQUE)")
        #expect(throws: SQLiteError.self) {
            try database.immediateTransaction { () throws(SQLiteError) in
                try database.execute("INSERT INTO t VALUES (1)")
                try database.execute("INSERT INTO t VALUES (1)")
            }
        }
        let count = try database.prepare("SELECT COUNT(*) FROM t")
        try count.step()
        #expect(count.int(at: 0) == 0)
        try database.immediateTransaction { () throws(SQLiteError) in try database.execute("INSERT INTO t VALUES (2)") }
        #expect(database.changes == 1)
    }
}
