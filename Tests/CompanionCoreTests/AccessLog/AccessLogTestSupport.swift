// Helpers for the access-log tests: a temporary folder removed afterwards,
// polling with a deadline, a collector for stderr lines, row counting.
import Glibc
import Synchronization
@testable import CompanionCore

/// A unique folder under /tmp, removed with everything in it by `remove()`.
final class TemporaryFolder {
    let path: String

    init() {
        var template = Array("/tmp/companion-accesslog-XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    func remove() { removeTree(path) }
}

/// `rm -rf path` with readdir/unlink/rmdir.
func removeTree(_ path: String) {
    var info = stat()
    guard lstat(path, &info) == 0 else { return }
    if info.st_mode & S_IFMT == S_IFDIR, let dir = opendir(path) {
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = directoryEntryName(entry)
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(dir)
        for name in names { removeTree(path + "/" + name) }
        rmdir(path)
    } else {
        unlink(path)
    }
}

/// Polls `condition` until it holds or `seconds` pass (not a fixed sleep: returns as soon as it holds).
func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = monotonicMilliseconds() + Int64(seconds * 1000)
    while monotonicMilliseconds() < deadline {
        if condition() { return true }
        var pause = timespec(tv_sec: 0, tv_nsec: 10_000_000)
        nanosleep(&pause, nil)
    }
    return condition()
}

/// Collects the lines the writer would print on stderr.
final class ReportLines: Sendable {
    private let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    func count(containing text: String) -> Int { all.filter { $0.contains(text) }.count }
}

/// Number of rows in `requests`, read with a separate read-only connection.
func rowCount(_ path: String) -> Int {
    guard let database = try? SQLiteDatabase(path: path, mode: .readOnly),
          let statement = try? database.prepare("SELECT COUNT(*) FROM requests"),
          (try? statement.step()) == true else { return -1 }
    return statement.int(at: 0)
}

/// Settings for a database in `folder`, reporting into `report`, with short retry delays.
func testSettings(_ folder: TemporaryFolder, _ report: ReportLines, file: String = "logs/access.sqlite") -> AccessLogSettings {
    var settings = AccessLogSettings(path: folder.path + "/" + file, flushMs: 50)
    settings.busyTimeoutMs = 20
    settings.maxRetryDelayMs = 50
    settings.shutdownGraceMs = 2000
    settings.report = { report.append($0) }
    return settings
}

/// A record with every field set, distinct per `index`.
func sampleRecord(_ index: Int) -> AccessLogRecord {
    AccessLogRecord(
        timeMicros: 1_795_780_800_000_000 + Int64(index) * 1000, site: "blog.localhost", host: "blog.localhost:8080",
        client: "127.0.0.\(index % 250 + 1)", method: "GET", path: "/p/\(index)", query: index % 2 == 0 ? "a=\(index)" : nil,
        protocolVersion: "HTTP/1.1", status: [200, 304, 404, 500][index % 4], bytes: index, durationMicros: index * 3,
        referrer: "http://ref/\(index)", userAgent: "agent \(index)", encoding: index % 3 == 0 ? "gzip" : nil)
}
