// AccessLogWorker+Postgres: the writer thread's PostgreSQL sink (`accessLog.postgres`,
// SPEC §7). The same loop as the SQLite file (AccessLogWorker.swift: batches, retries with
// back-off, one report per problem, drops only past the queue bound), with each batch sent
// as one COPY in one transaction. A server that restarts or goes away loses nothing that
// fits in the queue: the rows are held, the connection is made again, and they are written
// when it answers. Every row carries `host_name`, so several companion hosts can share one
// database and `companion logs --db postgresql://...` reads them all.
import Glibc

extension AccessLogWorker {
    /// Connects and makes sure the table exists (PostgresLogSchema).
    func openPostgres(_ url: String) throws {
        let connection = try PostgresConnection(url: url, applicationName: "companion writer")
        try PostgresLogSchema.create(on: connection)
        postgres = connection
    }

    /// The held rows as one COPY. Text fields are stored as the SQLite sink stores them
    /// (invalid UTF-8 as `\xHH`), escaped for COPY's text format.
    func insertHeldPostgres() throws {
        guard let postgres else { return }
        let anonymize = settings.anonymizeClients
        var hostName: [UInt8] = []
        Self.appendCopyEscaped(Array(settings.hostName.utf8), to: &hostName)
        let data = held.withRows { rows -> [UInt8] in
            var size = 0
            for row in rows { size += row.length + 64 + hostName.count }
            var out: [UInt8] = []
            out.reserveCapacity(size + size / 8)
            var time = [UInt8](repeating: 0, count: UTCTime.storedTextLength)
            for row in rows {
                time.withUnsafeMutableBufferPointer { timeFormatter.write(epochMicros: row.timeMicros, to: $0.baseAddress!) }
                out.append(contentsOf: time)
                out.append(0x09)
                Self.appendDecimal(row.status, to: &out)
                out.append(0x09)
                Self.appendDecimal(row.bytes, to: &out)
                out.append(0x09)
                Self.appendDecimal(row.durationMicros, to: &out)
                row.forEachText { field, text in
                    out.append(0x09)
                    guard let text else {
                        out.append(0x5C)
                        out.append(0x4E)   // \N
                        return
                    }
                    if field == .client, anonymize {
                        Self.appendCopyEscaped(Array(ClientAnonymizer.anonymize(AccessLogRecord.loggable(text)).utf8), to: &out)
                    } else if text.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x5C }) {
                        out.append(contentsOf: text)   // printable ASCII: as it is (most fields)
                    } else {
                        // What the SQLite file stores (invalid UTF-8 as \xHH), escaped for COPY.
                        Self.appendCopyEscaped(Array(AccessLogRecord.loggable(text).utf8), to: &out)
                    }
                }
                out.append(0x09)
                out.append(contentsOf: hostName)
                out.append(0x0A)
            }
            return out
        }
        try postgres.execute("BEGIN")
        do {
            try postgres.copyIn(PostgresLogSchema.copySQL, data: data)
            try postgres.execute("COMMIT")
        } catch {
            try? postgres.execute("ROLLBACK")
            throw error
        }
    }

    /// A non-negative decimal without a String.
    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        guard value > 0 else {
            if value == 0 { out.append(0x30) } else { out.append(contentsOf: String(value).utf8) }
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            while rest > 0 {
                buffer[19 - count] = UInt8(0x30 + rest % 10)
                rest /= 10
                count += 1
            }
            out.append(contentsOf: buffer[(20 - count)...])
        }
    }

    /// COPY text format: backslash, tab, newline and carriage return escaped; a NUL byte,
    /// which PostgreSQL text cannot hold, is written as the four characters `\x00`.
    static func appendCopyEscaped(_ bytes: [UInt8], to out: inout [UInt8]) {
        for byte in bytes {
            switch byte {
            case 0x5C: out += [0x5C, 0x5C]
            case 0x09: out += [0x5C, 0x74]
            case 0x0A: out += [0x5C, 0x6E]
            case 0x0D: out += [0x5C, 0x72]
            case 0x00: out += [0x5C, 0x5C, 0x78, 0x30, 0x30]
            default: out.append(byte)
            }
        }
    }

    /// `retainDays` on PostgreSQL: old rows deleted once an hour, in chunks.
    func prunePostgres(days: Int) {
        guard let postgres else { return }
        let cutoff = UTCTime.storedText(epochMicros: UTCTime.nowMicros() - Int64(days) * 86_400_000_000)
        do {
            while true {
                let deleted = try postgres.query(
                    "WITH gone AS (DELETE FROM requests WHERE id IN (SELECT id FROM requests WHERE time < $1 LIMIT 10000) RETURNING 1) SELECT count(*) FROM gone",
                    [cutoff])
                if deleted.first?.first??.hasPrefix("10000") != true { break }
            }
        } catch {
            settings.report("companion: access log: cannot delete rows older than \(days) days from PostgreSQL: \(error); trying again in an hour")
        }
    }
}

/// The PostgreSQL table: SPEC §5's columns plus `host_name`, `time` as timestamptz (so it
/// can be a TimescaleDB hypertable), created when missing. Several servers may start at
/// once: an advisory lock serialises their CREATE statements.
enum PostgresLogSchema {
    static let columns = "time, status, bytes, duration_us, site, host, client, method, path, query, protocol, referrer, user_agent, encoding, scheme, tls_version, host_name"
    static let copySQL = "COPY requests (\(columns)) FROM STDIN"

    static let createSQL = """
        CREATE TABLE IF NOT EXISTS requests (
            id bigserial NOT NULL,
            time timestamptz NOT NULL,
            host_name text NOT NULL,
            site text,
            host text,
            client text NOT NULL,
            method text,
            path text,
            query text,
            protocol text,
            status integer NOT NULL,
            bytes bigint NOT NULL,
            duration_us bigint NOT NULL,
            referrer text,
            user_agent text,
            encoding text,
            scheme text,
            tls_version text
        );
        CREATE INDEX IF NOT EXISTS requests_id ON requests (id);
        CREATE INDEX IF NOT EXISTS requests_time ON requests USING brin (time);
        CREATE INDEX IF NOT EXISTS requests_status_other ON requests (status) WHERE status >= 300;
        """

    static func create(on connection: PostgresConnection) throws(PostgresError) {
        // 0x636f6d70 = "comp": one lock id for every companion writer of this database.
        try connection.execute("SELECT pg_advisory_lock(1668246896)")
        defer { try? connection.execute("SELECT pg_advisory_unlock(1668246896)") }
        try connection.execute(createSQL)
    }
}
