// ConfigTestFolder: a unique temporary folder laid out like a small deployment
// (sites/blog, sites/docs, a plain file sites/file.txt) for config tests, and
// removed again by `remove()`. Also locates Tests/Fixtures/configs via #filePath.

import Glibc
@testable import CompanionCore

/// A temporary folder under /tmp holding site roots for config tests.
struct ConfigTestFolder {
    /// Absolute, symlink-free path of the folder.
    let path: String

    /// Creates `/tmp/companion-config-XXXXXX` with `sites/blog`, `sites/docs` and `sites/file.txt`.
    init() {
        var template = Array("/tmp/companion-config-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(created != nil, "mkdtemp failed")
        let raw = String(cString: created!)
        path = ConfigFile.realPath(raw) ?? raw
        makeDirectory("sites")
        makeDirectory("sites/blog")
        makeDirectory("sites/docs")
        writeFile("sites/file.txt", "not a directory")
    }

    func makeDirectory(_ relative: String) {
        precondition(mkdir(path + "/" + relative, 0o755) == 0, "mkdir \(relative) failed")
    }

    func writeFile(_ relative: String, _ text: String) {
        let fd = open(path + "/" + relative, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        precondition(fd >= 0, "open \(relative) failed")
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    /// Loads `json` as if it were `config.json` in this folder.
    func load(_ json: String, loader: ConfigLoader = ConfigLoader()) throws(ConfigError) -> ServerConfig {
        try loader.load(bytes: Array(json.utf8), configPath: path + "/config.json")
    }

    /// Deletes the folder and everything in it.
    func remove() {
        Self.removeTree(path)
    }

    static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            if let dir = opendir(path) {
                while let entry = readdir(dir) {
                    let name = directoryEntryName(entry)
                    if name != "." && name != ".." { removeTree(path + "/" + name) }
                }
                closedir(dir)
            }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    /// `Tests/Fixtures/configs/<name>`, found relative to this source file.
    static func fixture(_ name: String, file: String = #filePath) -> String {
        var parts = file.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Sites/ConfigTestFolder.swift, CompanionCoreTests
        return parts.joined(separator: "/") + "/Fixtures/configs/" + name
    }
}
