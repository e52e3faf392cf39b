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
              case .success(let bytes) = ConfigFile.read(configPath), let file = try? JSONValue.parse(bytes),
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
        // ConfigFile.read, as the server reads it: a size limit (`--config /dev/zero` once read
        // until memory ran out) and the same wording.
        let bytes: [UInt8]
        switch ConfigFile.read(configPath, naming: "config \(configPath)") {
        case .success(let read): bytes = read
        case .failure(let failure): throw LogsError("\(failure.message) (pass --db PATH to read a database directly)")
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
}
