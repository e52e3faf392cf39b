// ResolverFixture: a temporary site tree with the awkward cases (dotfiles, in-root and
// escaping symlinks, a FIFO) for the PathResolver tests; removed in deinit.
import Glibc

/// A unique folder under /tmp holding `site/` (the root) and `outside/` (must never be served).
final class ResolverFixture {
    let base: String
    var root: String { base + "/site" }
    var outside: String { base + "/outside" }

    init() {
        var template = Array("/tmp/companion-files-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        base = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        build()
    }

    deinit { Self.removeTree(base) }

    /// The tree:
    ///
    ///     site/file.txt              "hello"
    ///     site/sub/inner.txt         "inner"
    ///     site/.env                  "SECRET=1"
    ///     site/.git/config
    ///     site/rel-link      -> file.txt               (in root, relative)
    ///     site/abs-link      -> <base>/site/file.txt   (in root, absolute: EXDEV fallback)
    ///     site/abs-dir-link  -> <base>/site/sub        (in root, absolute directory)
    ///     site/sub-link      -> sub                    (in root directory)
    ///     site/sub/up-link   -> ../file.txt            (in root, via "..")
    ///     site/passwd-link   -> /etc/passwd
    ///     site/escape-dir    -> <base>/outside         (directory outside)
    ///     site/dotdot-link   -> ../outside/secret.txt  (relative escape)
    ///     site/evil-sibling  -> <base>/site-evil/x.txt (prefix trick: "site-evil" is not "site/")
    ///     site/dangling      -> missing
    ///     site/loop          -> loop
    ///     site/fifo                                    (named pipe)
    ///     site/env-link      -> .env                   (in root link to a dotfile)
    ///     outside/secret.txt         "TOP SECRET"
    ///     site-evil/x.txt            "evil"
    private func build() {
        makeDirectory(root)
        makeDirectory(root + "/sub")
        makeDirectory(root + "/.git")
        makeDirectory(outside)
        makeDirectory(base + "/site-evil")
        write(root + "/file.txt", "hello")
        write(root + "/sub/inner.txt", "inner")
        write(root + "/.env", "SECRET=1")
        write(root + "/.git/config", "[core]")
        write(outside + "/secret.txt", "TOP SECRET")
        write(base + "/site-evil/x.txt", "evil")
        link("file.txt", at: root + "/rel-link")
        link(root + "/file.txt", at: root + "/abs-link")
        link(root + "/sub", at: root + "/abs-dir-link")
        link("sub", at: root + "/sub-link")
        link("../file.txt", at: root + "/sub/up-link")
        link("/etc/passwd", at: root + "/passwd-link")
        link(outside, at: root + "/escape-dir")
        link("../outside/secret.txt", at: root + "/dotdot-link")
        link(base + "/site-evil/x.txt", at: root + "/evil-sibling")
        link("missing", at: root + "/dangling")
        link("loop", at: root + "/loop")
        link(".env", at: root + "/env-link")
        precondition(mkfifo(root + "/fifo", 0o644) == 0)
    }

    func makeDirectory(_ path: String) {
        precondition(mkdir(path, 0o755) == 0, "mkdir \(path)")
    }

    func write(_ path: String, _ text: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        precondition(fd >= 0, "create \(path)")
        let bytes = Array(text.utf8)
        precondition(bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count)
        close(fd)
    }

    func link(_ target: String, at path: String) {
        precondition(symlink(target, path) == 0, "symlink \(path)")
    }

    /// Reads everything from an fd with pread (the offset stays untouched).
    static func contents(of fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        return String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self)
    }

    /// rm -rf without following symlinks. Works on raw name bytes, so names that are not
    /// UTF-8 are removed too.
    static func removeTree(_ path: String) {
        removeTree(Array(path.utf8))
    }

    private static func removeTree(_ path: [UInt8]) {
        let cPath = path.map { CChar(bitPattern: $0) } + [0]
        var info = stat()
        guard lstat(cPath, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            if let stream = opendir(cPath) {
                var names: [[UInt8]] = []
                while let record = readdir(stream) {
                    let name = withUnsafePointer(to: &record.pointee.d_name) {
                        $0.withMemoryRebound(to: CChar.self, capacity: 256) {
                            Array(UnsafeRawBufferPointer(start: $0, count: strlen($0)))
                        }
                    }
                    if name != [0x2E] && name != [0x2E, 0x2E] { names.append(name) }
                }
                closedir(stream)
                for name in names { removeTree(path + [UInt8(ascii: "/")] + name) }
            }
            rmdir(cPath)
        } else {
            unlink(cPath)
        }
    }
}
