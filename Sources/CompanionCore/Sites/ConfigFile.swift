// ConfigFile: reading config.json from disk and the path arithmetic around it
// (absolute paths, the config folder, resolving relative paths, checking a
// directory). Plain Glibc calls; not on the request path.

import Glibc

/// File-system helpers for the config loader (and `companion logs`, which reads one key of it).
package enum ConfigFile {
    /// Why a file could not be read, as a sentence.
    package struct ReadFailure: Error {
        package var message: String
    }

    /// SECURITY: a config larger than this is refused, so a mistaken `--config /dev/zero`
    /// cannot exhaust memory. Real configs are a few KiB.
    static let maxBytes = 16 << 20

    /// Reads the whole file at `path`; `what` names it in the failure (also used for
    /// certificate, key and ACME state files).
    package static func read(_ path: String, naming what: String = "the config file") -> Result<[UInt8], ReadFailure> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return .failure(ReadFailure(message: "cannot read \(what): \(describeErrno(errno))")) }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
            return .failure(ReadFailure(message: "cannot read \(what): it is a directory"))
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(ReadFailure(message: "cannot read \(what): \(describeErrno(errno))"))
            }
            if count == 0 { return .success(bytes) }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > maxBytes {
                return .failure(ReadFailure(message: "\(what) is larger than \(maxBytes >> 20) MiB"))
            }
        }
    }

    /// A short description of an errno value (`no such file or directory`).
    static func describeErrno(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file or directory"
        case EACCES: return "permission denied"
        case ENOTDIR: return "a component of the path is not a directory"
        default:
            guard let text = strerror(code) else { return "error \(code)" }
            return String(cString: text)
        }
    }

    /// `path` made absolute against the working directory, with `.` segments and repeated slashes removed.
    static func absolutePath(_ path: String) -> String {
        if path.hasPrefix("/") { return normalize(path) }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return normalize("/" + path) }
        let cwd = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return normalize(cwd + "/" + path)
    }

    /// The folder of an absolute path: `/etc/companion/config.json` → `/etc/companion`.
    static func directoryName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let folder = String(path[..<slash])
        return folder.isEmpty ? "/" : folder
    }

    /// `path` as an absolute path: kept when absolute, else joined to `folder` (the config's folder).
    static func resolve(_ path: String, against folder: String) -> String {
        path.hasPrefix("/") ? normalize(path) : normalize(folder + "/" + path)
    }

    /// Removes `.` segments, empty segments and a trailing slash. `..` is kept: resolving it
    /// lexically would be wrong when the segment before it is a symlink.
    static func normalize(_ path: String) -> String {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        return "/" + segments.joined(separator: "/")
    }

    /// What is at an absolute path.
    enum Kind {
        case directory, other, missing
        case inaccessible(String)
    }

    /// `stat(2)` of `path`, folded into what the loader needs to say.
    static func kind(of path: String) -> Kind {
        var info = stat()
        if stat(path, &info) != 0 {
            let code = errno
            return code == ENOENT || code == ENOTDIR ? .missing : .inaccessible(describeErrno(code))
        }
        return (info.st_mode & S_IFMT) == S_IFDIR ? .directory : .other
    }

    /// The canonical path (`realpath(3)`): symlinks resolved; `nil` if it cannot be resolved.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
