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

/// libpq's functions, loaded on first use (CPostgres/shim.h says why it is not linked).
enum LibPQ {
    /// The library companion asks the dynamic loader for: Debian's libpq5.
    static let libraryName = "libpq.so.5"

    /// The functions, or why they cannot be had. Loaded once (a `static let` is initialised
    /// exactly once, thread-safely); the functions themselves are immutable pointers.
    static let shared: Result<companion_libpq, PostgresError> = load(libraryName)

    /// Loads `library`; the error says what to install.
    static func load(_ library: String) -> Result<companion_libpq, PostgresError> {
        var error: UnsafePointer<CChar>?
        let functions = companion_libpq_load(library, &error)
        if let error {
            return .failure(PostgresError(
                "PostgreSQL needs libpq, which could not be loaded (\(String(cString: error))): install it (Debian: apt install libpq5)"))
        }
        return .success(functions)
    }
}

final class PostgresConnection {
    private var connection: OpaquePointer?
    private let pq: companion_libpq

    /// Whether `text` names a PostgreSQL database rather than a file.
    static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgresql://") || text.hasPrefix("postgres://")
    }

    /// Connects to `url`; `connect_timeout` defaults to 5 s so a dead server cannot hold the
    /// writer thread for the kernel's TCP timeout.
    init(url: String, applicationName: String = "companion") throws(PostgresError) {
        pq = try LibPQ.shared.get()
        var conninfo = url
        for (key, value) in [("connect_timeout", "5"), ("application_name", applicationName)] where !url.contains("\(key)=") {
            conninfo += (conninfo.contains("?") ? "&" : "?") + "\(key)=\(value)"
        }
        connection = pq.connectdb(conninfo)
        guard let connection, pq.status(connection) == CONNECTION_OK else {
            let message = connectionMessage()
            if let connection { pq.finish(connection) }
            self.connection = nil
            throw PostgresError("cannot connect to \(Self.redacted(url)): \(message)", connectionLost: true)
        }
        // NOTICEs ("relation already exists, skipping") would go to stderr through libpq's
        // default notice processor: only warnings and errors matter here.
        try execute("SET client_min_messages TO warning")
    }

    deinit {
        if let connection { pq.finish(connection) }
    }

    /// `url` without a password, for messages.
    static func redacted(_ url: String) -> String {
        let characters = Array(url)
        guard let schemeEnd = (0..<max(0, characters.count - 2)).first(where: { characters[$0] == ":" && characters[$0 + 1] == "/" && characters[$0 + 2] == "/" }),
              let at = characters[(schemeEnd + 3)...].firstIndex(of: "@"),
              let colon = characters[(schemeEnd + 3)..<at].firstIndex(of: ":") else { return url }
        return String(characters[..<colon]) + ":***" + String(characters[at...])
    }

    /// libpq's message for the connection, on one line.
    private func connectionMessage() -> String {
        guard let connection, let text = pq.errorMessage(connection) else { return "out of memory" }
        return Self.oneLine(String(cString: text))
    }

    /// libpq's messages span lines ("...unexpectedly\n\tThis probably means..."): one line.
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: { $0 == "\n" || $0 == "\t" }).map { String($0).trimmingTrailingWhitespace() }
            .filter { !$0.isEmpty }.joined(separator: " ")
    }

    private func failure(_ result: OpaquePointer?) -> PostgresError {
        var text = ""
        if let result, let message = pq.resultErrorMessage(result) { text = String(cString: message) }
        if text.isEmpty { text = connectionMessage() }
        return PostgresError(Self.oneLine(text), connectionLost: connection.map { pq.status($0) != CONNECTION_OK } ?? true)
    }

    /// Runs `sql` (one or more statements, no parameters, results dropped).
    func execute(_ sql: String) throws(PostgresError) {
        let result = pq.exec(connection, sql)
        defer { pq.clear(result) }
        let status = pq.resultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else { throw failure(result) }
    }

    /// Runs one statement with text parameters ($1, $2, ...; nil is NULL) and returns
    /// every row's columns as text (nil for NULL).
    func query(_ sql: String, _ parameters: [String?] = []) throws(PostgresError) -> [[String?]] {
        let cStrings = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { for pointer in cStrings { free(pointer) } }
        let result = cStrings.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { values in
                pq.execParams(connection, sql, Int32(parameters.count), nil, values.baseAddress, nil, nil, 0)
            }
        }
        defer { pq.clear(result) }
        let status = pq.resultStatus(result)
        guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else { throw failure(result) }
        let rows = Int(pq.ntuples(result))
        let columns = Int(pq.nfields(result))
        var table: [[String?]] = []
        table.reserveCapacity(rows)
        for row in 0..<rows {
            var values: [String?] = []
            values.reserveCapacity(columns)
            for column in 0..<columns {
                if pq.getisnull(result, Int32(row), Int32(column)) == 1 {
                    values.append(nil)
                } else {
                    values.append(pq.getvalue(result, Int32(row), Int32(column)).map { String(cString: $0) } ?? "")
                }
            }
            table.append(values)
        }
        return table
    }

    /// `COPY ... FROM STDIN` (`sql`) with `data` in COPY's text format, in one call.
    func copyIn(_ sql: String, data: [UInt8]) throws(PostgresError) {
        let start = pq.exec(connection, sql)
        guard pq.resultStatus(start) == PGRES_COPY_IN else {
            defer { pq.clear(start) }
            throw failure(start)
        }
        pq.clear(start)
        var offset = 0
        while offset < data.count {
            let chunk = min(1 << 20, data.count - offset)
            let sent = data.withUnsafeBytes { raw in
                pq.putCopyData(connection, raw.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self), Int32(chunk))
            }
            guard sent == 1 else {
                _ = pq.putCopyEnd(connection, "companion: send failed")
                drainResults()
                throw PostgresError("COPY: \(connectionMessage())", connectionLost: true)
            }
            offset += chunk
        }
        guard pq.putCopyEnd(connection, nil) == 1 else {
            drainResults()
            throw PostgresError("COPY: \(connectionMessage())", connectionLost: true)
        }
        var problem: PostgresError?
        while let result = pq.getResult(connection) {
            if pq.resultStatus(result) != PGRES_COMMAND_OK && problem == nil { problem = failure(result) }
            pq.clear(result)
        }
        if let problem { throw problem }
    }

    private func drainResults() {
        while let result = pq.getResult(connection) { pq.clear(result) }
    }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var text = self
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }
}
