// PostgresConnection: a blocking libpq connection for the access log's PostgreSQL sink
// (on its writer thread) and `companion logs --db postgresql://` (SPEC §7). Only what
// those need: statements without results, queries with text parameters and text results,
// and COPY FROM STDIN. Every failure becomes a PostgresError with libpq's message.
import CPostgres
import Glibc

public struct PostgresError: Error, CustomStringConvertible, Sendable {
    public let description: String
    /// The connection is gone (the server restarted, the network dropped): reconnect.
    public let connectionLost: Bool
    init(_ description: String, connectionLost: Bool = false) {
        self.description = description
        self.connectionLost = connectionLost
    }
}

final class PostgresConnection {
    private var connection: OpaquePointer?

    /// Whether `text` names a PostgreSQL database rather than a file.
    static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgresql://") || text.hasPrefix("postgres://")
    }

    /// Connects to `url`; `connect_timeout` defaults to 5 s so a dead server cannot hold the
    /// writer thread for the kernel's TCP timeout.
    init(url: String, applicationName: String = "companion") throws(PostgresError) {
        var conninfo = url
        for (key, value) in [("connect_timeout", "5"), ("application_name", applicationName)] where !url.contains("\(key)=") {
            conninfo += (conninfo.contains("?") ? "&" : "?") + "\(key)=\(value)"
        }
        connection = PQconnectdb(conninfo)
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            let message = Self.message(connection)
            if let connection { PQfinish(connection) }
            self.connection = nil
            throw PostgresError("cannot connect to \(Self.redacted(url)): \(message)", connectionLost: true)
        }
        // NOTICEs ("relation already exists, skipping") would go to stderr through libpq's
        // default notice processor: only warnings and errors matter here.
        try execute("SET client_min_messages TO warning")
    }

    deinit {
        if let connection { PQfinish(connection) }
    }

    /// `url` without a password, for messages.
    static func redacted(_ url: String) -> String {
        let characters = Array(url)
        guard let schemeEnd = (0..<max(0, characters.count - 2)).first(where: { characters[$0] == ":" && characters[$0 + 1] == "/" && characters[$0 + 2] == "/" }),
              let at = characters[(schemeEnd + 3)...].firstIndex(of: "@"),
              let colon = characters[(schemeEnd + 3)..<at].firstIndex(of: ":") else { return url }
        return String(characters[..<colon]) + ":***" + String(characters[at...])
    }

    private static func message(_ connection: OpaquePointer?) -> String {
        guard let connection, let text = PQerrorMessage(connection) else { return "out of memory" }
        return oneLine(String(cString: text))
    }

    /// libpq's messages span lines ("...unexpectedly\n\tThis probably means..."): one line.
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: { $0 == "\n" || $0 == "\t" }).map { String($0).trimmingTrailingWhitespace() }
            .filter { !$0.isEmpty }.joined(separator: " ")
    }

    private func failure(_ result: OpaquePointer?) -> PostgresError {
        var text = ""
        if let result, let message = PQresultErrorMessage(result) { text = String(cString: message) }
        if text.isEmpty { text = Self.message(connection) }
        return PostgresError(Self.oneLine(text), connectionLost: connection.map { PQstatus($0) != CONNECTION_OK } ?? true)
    }

    /// Runs `sql` (one or more statements, no parameters, results dropped).
    func execute(_ sql: String) throws(PostgresError) {
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else { throw failure(result) }
    }

    /// Runs one statement with text parameters ($1, $2, ...; nil is NULL) and returns
    /// every row's columns as text (nil for NULL).
    func query(_ sql: String, _ parameters: [String?] = []) throws(PostgresError) -> [[String?]] {
        let cStrings = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { for pointer in cStrings { free(pointer) } }
        let result = cStrings.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { values in
                PQexecParams(connection, sql, Int32(parameters.count), nil, values.baseAddress, nil, nil, 0)
            }
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else { throw failure(result) }
        let rows = Int(PQntuples(result))
        let columns = Int(PQnfields(result))
        var table: [[String?]] = []
        table.reserveCapacity(rows)
        for row in 0..<rows {
            var values: [String?] = []
            values.reserveCapacity(columns)
            for column in 0..<columns {
                if PQgetisnull(result, Int32(row), Int32(column)) == 1 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, Int32(row), Int32(column))))
                }
            }
            table.append(values)
        }
        return table
    }

    /// `COPY ... FROM STDIN` (`sql`) with `data` in COPY's text format, in one call.
    func copyIn(_ sql: String, data: [UInt8]) throws(PostgresError) {
        let start = PQexec(connection, sql)
        guard PQresultStatus(start) == PGRES_COPY_IN else {
            defer { PQclear(start) }
            throw failure(start)
        }
        PQclear(start)
        var offset = 0
        while offset < data.count {
            let chunk = min(1 << 20, data.count - offset)
            let sent = data.withUnsafeBytes { raw in
                PQputCopyData(connection, raw.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self), Int32(chunk))
            }
            guard sent == 1 else {
                _ = PQputCopyEnd(connection, "companion: send failed")
                drainResults()
                throw PostgresError("COPY: \(Self.message(connection))", connectionLost: true)
            }
            offset += chunk
        }
        guard PQputCopyEnd(connection, nil) == 1 else {
            drainResults()
            throw PostgresError("COPY: \(Self.message(connection))", connectionLost: true)
        }
        var problem: PostgresError?
        while let result = PQgetResult(connection) {
            if PQresultStatus(result) != PGRES_COMMAND_OK && problem == nil { problem = failure(result) }
            PQclear(result)
        }
        if let problem { throw problem }
    }

    private func drainResults() {
        while let result = PQgetResult(connection) { PQclear(result) }
    }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var text = self
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }
}
