// LogsCommand+Database: which database `companion logs` reads: `--db PATH` (or a
// `postgresql://` URL), or `accessLog.sqlite` (else `accessLog.postgres`) of the config (`--config`, default ./config.json), relative
// to the config's folder (SPEC §2). Only that one key is decoded here; the
// config is validated by `companion check`, not by this command.
import CompanionCore
import Glibc

extension LogFilterOptions {
    /// The database path from `--db` or the config.
    func resolvedDatabasePath() throws -> String {
        if let db { return db }
        return try LogsCommand.databasePath(fromConfig: config ?? "./config.json")
    }

    /// `--site`: a site is stored under its first host name; any of its names (from the
    /// config: `--config`, or ./config.json without `--db`) is turned into that one.
    func siteName() throws -> String? {
        guard let site else { return nil }
        guard let configPath = config ?? (db == nil ? "./config.json" : nil),
              let bytes = LogsCommand.readFile(configPath), let file = try? JSONValue.parse(bytes),
              let sites = file["sites"]?.arrayValue else { return site }
        for entry in sites {
            let hosts: [String]
            if let one = entry["host"]?.stringValue { hosts = [one] } else { hosts = entry["host"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
            if let first = hosts.first, hosts.contains(where: { $0.lowercased() == site.lowercased() }) { return first }
        }
        return site
    }
}

extension LogsCommand {
    /// `accessLog.sqlite` of the config at `configPath`, resolved against the config's folder.
    static func databasePath(fromConfig configPath: String) throws -> String {
        guard let bytes = readFile(configPath) else {
            throw LogsError("cannot read config \(configPath): \(Errno(code: errno, call: "open").message) (pass --db PATH to read a database directly)")
        }
        let file: JSONValue
        do {
            file = try JSONValue.parse(bytes)
        } catch {
            throw LogsError("\(configPath) is not a valid config (run companion check --config \(configPath)); or pass --db PATH")
        }
        guard let sqlite = file["accessLog"]?["sqlite"]?.stringValue, !sqlite.isEmpty else {
            if let url = file["accessLog"]?["postgres"]?.stringValue, PostgresLogReader.isURL(url) { return url }
            throw LogsError("\(configPath) has no accessLog.sqlite, so the server keeps no access log; add one or pass --db PATH")
        }
        if sqlite.hasPrefix("/") { return sqlite }
        guard let slash = configPath.lastIndex(of: "/") else { return sqlite }
        return String(configPath[...slash]) + sqlite
    }

    /// The whole file, or nil with `errno` set.
    static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
        }
    }
}
