// Helpers for the `companion logs` tests: a temporary folder and a database
// filled with six known rows through the real writer.
import CompanionCore
import Glibc

/// A unique folder under /tmp; `remove()` deletes it and its contents.
final class LogsTemporaryFolder {
    let path: String

    init() {
        var template = Array("/tmp/companion-logs-XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    func write(_ name: String, _ text: String) {
        let fd = open(path + "/" + name, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        var text = text
        text.withUTF8 { _ = Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    func remove() {
        for name in ["logs/access.sqlite", "logs/access.sqlite-wal", "logs/access.sqlite-shm", "config.json", "empty.json"] {
            unlink(path + "/" + name)
        }
        rmdir(path + "/logs")
        rmdir(path)
    }
}

/// 2026-11-27T10:00:00Z in Unix-epoch microseconds.
let fixtureStart: Int64 = 1_795_773_600_000_000

/// The six rows every `logs` test reads (ids 1…6).
let fixtureRecords: [AccessLogRecord] = [
    AccessLogRecord(timeMicros: fixtureStart, site: "blog.localhost", host: "blog.localhost", client: "127.0.0.1",
                    method: "GET", path: "/index.html", protocolVersion: "HTTP/1.1", status: 200, bytes: 1024,
                    durationMicros: 1500, userAgent: "curl/8.0", encoding: "gzip"),
    AccessLogRecord(timeMicros: fixtureStart + 60_250_000, site: "blog.localhost", host: "blog.localhost", client: "127.0.0.1",
                    method: "GET", path: "/blog/post-1", query: "ref=home", protocolVersion: "HTTP/1.1", status: 200,
                    bytes: 2048, durationMicros: 2000, referrer: "http://blog.localhost/", userAgent: "Mozilla/5.0 \"X\""),
    AccessLogRecord(timeMicros: fixtureStart + 120_500_000, site: "docs.localhost", host: "docs.localhost", client: "::1",
                    method: "GET", path: "/missing", protocolVersion: "HTTP/1.1", status: 404, bytes: 512,
                    durationMicros: 300, referrer: "http://x/\\path", userAgent: "curl/8.0"),
    AccessLogRecord(timeMicros: fixtureStart + 180_750_000, site: "docs.localhost", host: "docs.localhost", client: "192.0.2.1",
                    method: "POST", path: "/blog/form", protocolVersion: "HTTP/1.0", status: 500, bytes: 0,
                    durationMicros: 12000, userAgent: "a,b"),
    AccessLogRecord(timeMicros: fixtureStart + 240_000_000, client: "192.0.2.1", status: 400, bytes: 0, durationMicros: 50),
    AccessLogRecord(timeMicros: fixtureStart + 52_200_000_000, site: "blog.localhost", host: "blog.localhost", client: "::1",
                    method: "HEAD", path: "/index.html", protocolVersion: "HTTP/1.1", status: 304, bytes: 0, durationMicros: 100),
]

/// A folder holding logs/access.sqlite with `fixtureRecords`.
func makeFixtureDatabase() throws -> (folder: LogsTemporaryFolder, path: String) {
    let folder = LogsTemporaryFolder()
    let path = folder.path + "/logs/access.sqlite"
    let writer = try AccessLogWriter(settings: AccessLogSettings(path: path))
    for record in fixtureRecords { writer.append(record) }
    writer.shutdown()
    return (folder, path)
}
