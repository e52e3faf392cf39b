// TestServer: builds a throw-away folder with sites and a config.json, loads it
// through the real ConfigLoader and starts the real Server on an ephemeral port.
// `Server.init` returns once the listeners are bound and the loops run, so a
// test can connect right away (no sleeps).
import Glibc
@testable import CompanionCore

/// The name in a `readdir` record, read in place. (Copying `d_name` by value read its
/// whole 256 bytes past the end of a short record: AddressSanitizer's heap-buffer-overflow.)
func directoryEntryName(_ entry: UnsafeMutablePointer<dirent>) -> String {
    withUnsafePointer(to: &entry.pointee.d_name) { tuple in
        tuple.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
    }
}

final class TempDirectory {
    let path: String

    init(_ label: String = "companion-test") {
        var template = Array("/tmp/\(label)-XXXXXX".utf8CString)
        let result = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(result != nil, "mkdtemp failed")
        path = String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit { remove(path) }

    /// Writes `contents` at `relative`, creating folders.
    @discardableResult
    func write(_ relative: String, _ contents: String) -> String { write(relative, Array(contents.utf8)) }

    @discardableResult
    func write(_ relative: String, _ bytes: [UInt8]) -> String {
        let full = path + "/" + relative
        makeDirectories(String(full[..<full.lastIndex(of: "/")!]))
        let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        precondition(fd >= 0, "cannot write \(full)")
        bytes.withUnsafeBytes { _ = Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return full
    }

    /// Sets the modification time of `relative` to `epochSeconds` (tests must not depend
    /// on the second a file happened to be written in).
    func setModified(_ relative: String, _ epochSeconds: Int) {
        var times = [timespec(tv_sec: epochSeconds, tv_nsec: 0), timespec(tv_sec: epochSeconds, tv_nsec: 0)]
        let result = utimensat(AT_FDCWD, path + "/" + relative, &times, 0)
        precondition(result == 0, "utimensat failed")
    }

    func mkdir(_ relative: String) { makeDirectories(path + "/" + relative) }

    func symlink(_ relative: String, to target: String) {
        let full = path + "/" + relative
        makeDirectories(String(full[..<full.lastIndex(of: "/")!]))
        Glibc.symlink(target, full)
    }

    private func makeDirectories(_ full: String) {
        var current = ""
        for part in full.split(separator: "/") {
            current += "/" + part
            Glibc.mkdir(current, 0o755)
        }
    }

    private func remove(_ full: String) {
        // nftw-free recursive removal: good enough for our small trees.
        guard let dir = opendir(full) else { unlink(full); return }
        while let entry = readdir(dir) {
            let name = directoryEntryName(entry)
            if name == "." || name == ".." { continue }
            let child = full + "/" + name
            var info = stat()
            if lstat(child, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR { remove(child) } else { unlink(child) }
        }
        closedir(dir)
        rmdir(full)
    }
}

final class TestServer {
    let directory: TempDirectory
    let server: Server
    let port: Int
    let configPath: String

    /// Starts a server for `configJSON` (a config.json text whose relative paths are
    /// inside the temp directory; "LISTEN" is replaced by an ephemeral address).
    /// - Parameter fileCacheMilliseconds: the loops' FileCache lifetime for paths it does not
    ///   watch (0: no cache; the production default is 1000).
    /// - Parameter fileCacheWatches: false keeps answers for the lifetime only (no inotify).
    /// - Parameter fileWatchLimit: inotify watches per loop before it starts over.
    init(directory: TempDirectory, configJSON: String, workers: Int = 1, fileCacheMilliseconds: Int = 1000,
         fileCacheWatches: Bool = true, fileWatchLimit: Int = 4096) throws {
        self.directory = directory
        var text = configJSON.replacingAll("\"LISTEN\"", with: "\"127.0.0.1:0\"")
        if !text.contains("\"workers\"") {
            let body = text.drop(while: { $0 == " " || $0 == "\n" }).dropFirst()  // after the opening "{"
            text = "{\"workers\": \(workers), " + body
        }
        configPath = directory.write("config.json", text)
        let config = try PluginRegistry.builtIn.configLoader.load(path: configPath)
        server = try Server(config: config, fileCacheMilliseconds: fileCacheMilliseconds, fileCacheWatches: fileCacheWatches,
                            fileWatchLimit: fileWatchLimit)
        port = server.boundAddresses[0].port
    }

    /// A server with sites `a.test` (default, listing on) and `b.test`, both under the
    /// temp directory (`a/`, `b/`), plus optional extra site JSON and top-level keys.
    convenience init(directory: TempDirectory, siteA: String = "", siteB: String = "", topLevel: String = "",
                     workers: Int = 1, fileCacheMilliseconds: Int = 1000, fileCacheWatches: Bool = true,
                     fileWatchLimit: Int = 4096) throws {
        directory.mkdir("a")
        directory.mkdir("b")
        let json = """
        {"listen": "LISTEN", \(topLevel)
         "sites": [{"host": "a.test", "root": "a", "listing": true, "default": true \(siteA)},
                   {"host": "b.test", "root": "b" \(siteB)}]}
        """
        try self.init(directory: directory, configJSON: json, workers: workers, fileCacheMilliseconds: fileCacheMilliseconds,
                      fileCacheWatches: fileCacheWatches, fileWatchLimit: fileWatchLimit)
    }

    deinit { server.stop(graceMilliseconds: 2000) }

    /// Rewrites config.json with `target` replaced by `replacement` and reloads it; returns
    /// whether the text changed.
    @discardableResult
    func reloadReplacing(_ target: String, with replacement: String) throws -> Bool {
        let fd = open(configPath, O_RDONLY)
        var bytes = [UInt8](repeating: 0, count: 65536)
        let count = read(fd, &bytes, bytes.count)
        close(fd)
        let original = String(decoding: bytes[0..<max(0, count)], as: UTF8.self)
        let edited = original.replacingAll(target, with: replacement)
        directory.write("config.json", edited)
        try server.reload(try PluginRegistry.builtIn.configLoader.load(path: configPath))
        return edited != original
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        result += rest
        return result
    }
}
