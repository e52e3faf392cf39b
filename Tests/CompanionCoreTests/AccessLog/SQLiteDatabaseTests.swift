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

    /// The statement skips binding a value a parameter already holds; what each step
    /// inserts must still be what was bound last, whatever happened in between.
    @Test func repeatedBindsAreSkippedWithoutEverInsertingAStaleValue() throws {
        let database = try SQLiteDatabase(path: ":memory:", mode: .readWriteCreate)
        try database.execute("CREATE TABLE t (n INTEGER, a)")
        let insert = try database.prepare("INSERT INTO t VALUES (?1, ?2)")
        func rows() throws -> [String] {
            let select = try database.prepare("SELECT n, quote(a) FROM t ORDER BY n")
            var out: [String] = []
            while try select.step() { out.append("\(select.int(at: 0)) \(select.text(at: 1) ?? "?")") }
            try database.execute("DELETE FROM t")
            return out
        }
        func insertRow(_ n: Int64, keeping: Bool = true, _ bindA: () -> Void) throws {
            insert.bind(n, at: 1)
            bindA()
            try insert.step()
            keeping ? insert.resetKeepingBindings() : insert.reset()
        }
        // The same integer, NULL, then text where an integer was, then the integer again.
        try insertRow(1) { insert.bind(Int64(7), at: 2) }
        try insertRow(2) { insert.bind(Int64(7), at: 2) }
        try insertRow(3) { insert.bind(nil as String?, at: 2) }
        try insertRow(4) { insert.bind(nil as String?, at: 2) }
        try insertRow(5) { insert.bind("7", at: 2) }
        try insertRow(6) { insert.bind(Int64(7), at: 2) }
        try insertRow(7) { insert.bind(blob: [7], at: 2) }
        try insertRow(8, keeping: false) { insert.bind(Int64(7), at: 2) }
        // reset() cleared the bindings: the same 7 must be bound again, not skipped.
        try insertRow(9) { insert.bind(Int64(7), at: 2) }
        #expect(try rows() == ["1 7", "2 7", "3 NULL", "4 NULL", "5 '7'", "6 7", "7 X'07'", "8 7", "9 7"])

        // A bind refused while the statement runs (SQLITE_MISUSE) binds nothing; binding the
        // same value after the reset must not be skipped as if it had been bound.
        let select = try database.prepare("SELECT ?1 FROM (SELECT 1 UNION ALL SELECT 2)")
        select.bind(Int64(1), at: 1)
        #expect(try select.step())
        select.bind(Int64(2), at: 1)   // refused: the statement is running
        select.resetKeepingBindings()
        select.bind(Int64(2), at: 1)
        #expect(try select.step())
        #expect(select.int(at: 0) == 2)
        select.resetKeepingBindings()

        // A schema change makes SQLite prepare the statement again; it keeps its bindings.
        try insertRow(10) { insert.bind(Int64(5), at: 2) }
        try database.execute("CREATE INDEX t_a ON t(a)")
        try insertRow(11) { insert.bind(Int64(5), at: 2) }
        #expect(try rows() == ["10 5", "11 5"])
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
