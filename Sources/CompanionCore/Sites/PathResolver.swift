// PathResolver: the one door from a normalised request path to an open file below a
// site root. Every lookup (requested file, index files, compressed sidecars, SPA
// fallbacks, error pages, listing entries) goes through `open`, so a containment rule
// cannot be skipped by one code path (static-web-server's sidecar advisory was one such path).
//
// Steps of `open`:
//   1. hidden path (a segment starting with '.')      → .notFound, no disk access
//   2. openat2(root, rel, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS): the kernel refuses `..`
//      and symlinks that leave the root, with no check-then-open race
//   3. on EXDEV (an absolute symlink, even one pointing back inside) or ENOSYS:
//      realpath(3), accept only root or root + "/…", open that canonical remainder again
//   4. fstat; only regular files and directories are returned
import CLinux
import Glibc

/// Why a path could not be opened. Deliberately carries no path or errno text, so an
/// error page can never reveal the file system layout.
public enum ResolveFailure: Error, Sendable {
    /// Missing, hidden, outside the root, or not a regular file or directory (404).
    case notFound
    /// Exists below the root but the server may not read it (403).
    case forbidden
    /// The server is out of a resource (descriptors: EMFILE/ENFILE, or memory): 503 with
    /// Retry-After, never cached. Reporting it as 404 told clients and caches that
    /// existing files were gone.
    case unavailable
}

/// Why a site root could not be used. Carries no path: the config layer names the key.
public enum PathResolverError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `open` or `realpath` of the root failed with this errno.
    case rootUnavailable(errno: Int32)
    /// The root exists but is not a directory.
    case rootNotDirectory

    public var description: String {
        switch self {
        case .rootUnavailable(let code): return "cannot open root directory: \(String(cString: strerror(code)))"
        case .rootNotDirectory: return "root is not a directory"
        }
    }
}

/// Opens paths below one site root, never outside it.
///
/// Immutable after `init`, so one instance is shared by all event loops. The root
/// descriptor (`O_PATH | O_DIRECTORY`) is closed in `deinit`.
public final class PathResolver: Sendable {
    /// `O_PATH | O_DIRECTORY` descriptor of the root; the anchor of every openat2.
    let rootFD: Int32
    /// realpath(3) of the root as raw bytes, no trailing slash (except for "/").
    let rootRealPath: [UInt8]
    /// False when the kernel (or a seccomp filter) lacks openat2; see `openViaRealpath`.
    let usesOpenat2: Bool

    /// Flags for every file we serve. O_NONBLOCK: opening a FIFO must not block a loop
    /// (such files are then refused); it has no effect on regular files. O_NOCTTY: never
    /// acquire a terminal.
    static let openFlags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY

    /// Opens the root and records its real path.
    /// - Parameter root: an existing directory (relative paths resolve against the cwd).
    /// - Throws: `PathResolverError` when the root cannot be opened or is not a directory.
    public convenience init(root: String) throws {
        try self.init(root: root, allowOpenat2: true)
    }

    /// - Parameter allowOpenat2: false forces the realpath fallback (tests of the ENOSYS path).
    init(root: String, allowOpenat2: Bool) throws {
        let fd = Glibc.open(root, COMPANION_O_PATH | O_CLOEXEC)
        guard fd >= 0 else { throw PathResolverError.rootUnavailable(errno: errno) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw PathResolverError.rootUnavailable(errno: code)
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            close(fd)
            throw PathResolverError.rootNotDirectory
        }
        guard let real = realpath(root, nil) else {
            let code = errno
            close(fd)
            throw PathResolverError.rootUnavailable(errno: code)
        }
        rootRealPath = Array(UnsafeRawBufferPointer(start: real, count: strlen(real)))
        free(real)
        rootFD = fd
        usesOpenat2 = allowOpenat2 && Self.probeOpenat2(fd)
    }

    deinit {
        close(rootFD)
    }

    /// True when openat2 works here. Old kernels answer ENOSYS; some container seccomp
    /// profiles answer EPERM for syscalls they do not know.
    private static func probeOpenat2(_ rootFD: Int32) -> Bool {
        let fd = companion_openat_beneath(rootFD, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            close(fd)
            return true
        }
        let code = errno
        return code != ENOSYS && code != EPERM
    }

    /// Opens the file or directory that a normalised request path names.
    ///
    /// Called on a loop thread for each lookup; blocking file-system calls only.
    /// SECURITY: hidden paths are refused before any syscall; containment is enforced by
    /// the kernel (RESOLVE_BENEATH). Paths that are not normalised (e.g. from a plugin
    /// config) are still safe: `..` that leaves the root fails like an escaping symlink.
    /// In-root symlinks are followed even when they point at a dotfile (the site owner
    /// made them); the hidden rule applies to what the client asked for.
    /// - Parameter normalizedPath: a path from `PathNormalizer.normalize`, starting with '/'.
    /// - Returns: the open file, or `.notFound` / `.forbidden` / `.unavailable`.
    public func open(_ normalizedPath: String) -> Result<OpenFile, ResolveFailure> {
        if PathNormalizer.isHidden(normalizedPath) { return .failure(.notFound) }
        let bytes = normalizedPath.utf8
        // SECURITY: an embedded NUL would silently shorten the path at the C boundary.
        if bytes.contains(0) { return .failure(.notFound) }
        let leadingSlashes = bytes.prefix(while: { $0 == UInt8(ascii: "/") }).count
        if leadingSlashes == bytes.count { return openRelative(".") }
        // withCString is zero-copy for a native String; skip the leading '/'s in place.
        return normalizedPath.withCString { openRelative($0 + leadingSlashes) }
    }

    /// Step 2: openat2 beneath the root; EXDEV and ENOSYS go to the realpath fallback.
    private func openRelative(_ relative: UnsafePointer<CChar>) -> Result<OpenFile, ResolveFailure> {
        guard usesOpenat2 else { return openViaRealpath(relative) }
        let (fd, code) = Self.retryingEINTR { companion_openat_beneath(rootFD, relative, Self.openFlags) }
        if fd >= 0 { return adopt(fd) }
        switch code {
        case EXDEV, ENOSYS: return openViaRealpath(relative)
        default: return .failure(Self.failure(for: code))
        }
    }

    /// Step 3: canonicalise root + path with realpath(3) and accept only results inside
    /// the root, then open that symlink-free remainder beneath the root again.
    ///
    /// SECURITY: with openat2 the second open is again RESOLVE_BENEATH, so a symlink
    /// swapped in after realpath cannot escape. Without openat2 (kernel < 5.6) the second
    /// open uses O_NOFOLLOW, which guards only the last component: a writer who can swap an
    /// intermediate directory for a symlink between the two calls wins the race. That window
    /// exists only on such kernels and only for roots that hostile users can write to.
    private func openViaRealpath(_ relative: UnsafePointer<CChar>) -> Result<OpenFile, ResolveFailure> {
        var full = rootRealPath
        if full.last != UInt8(ascii: "/") { full.append(UInt8(ascii: "/")) }
        var index = 0
        while relative[index] != 0 {
            full.append(UInt8(bitPattern: relative[index]))
            index += 1
        }
        full.append(0)
        let real = full.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { realpath($0.baseAddress!, nil) }
        }
        guard let real else { return .failure(Self.failure(for: errno)) }
        defer { free(real) }
        guard let offset = Self.remainderOffset(of: real, inside: rootRealPath) else {
            return .failure(.notFound)  // SECURITY: the real path leaves the root.
        }
        return real[offset] == 0 ? openCanonical(".") : openCanonical(real + offset)
    }

    /// Opens a symlink-free path below the root (the second half of step 3).
    private func openCanonical(_ remainder: UnsafePointer<CChar>) -> Result<OpenFile, ResolveFailure> {
        let (fd, code) = Self.retryingEINTR {
            usesOpenat2
                ? companion_openat_beneath(rootFD, remainder, Self.openFlags)
                : openat(rootFD, remainder, Self.openFlags | O_NOFOLLOW)
        }
        return fd >= 0 ? adopt(fd) : .failure(Self.failure(for: code))
    }

    /// The offset in `real` where the path below `root` starts, or nil when `real` is not
    /// `root` itself or below it. The rule is "equal, or starts with root + '/'", so a
    /// sibling like `/srv/site-evil` never counts as inside `/srv/site`.
    static func remainderOffset(of real: UnsafePointer<CChar>, inside root: [UInt8]) -> Int? {
        let length = strlen(real)
        let bytes = UnsafeRawBufferPointer(start: real, count: length)
        if root == [UInt8(ascii: "/")] { return 1 }  // Everything is below "/".
        guard bytes.count >= root.count, bytes.prefix(root.count).elementsEqual(root) else { return nil }
        if bytes.count == root.count { return root.count }
        return bytes[root.count] == UInt8(ascii: "/") ? root.count + 1 : nil
    }

    /// Step 4: fstat the new descriptor; only regular files and directories are served.
    private func adopt(_ fd: Int32) -> Result<OpenFile, ResolveFailure> {
        guard let file = OpenFile(adopting: fd) else { return .failure(Self.failure(for: errno)) }
        // SECURITY: FIFOs, sockets and devices are never served (a FIFO read would stall).
        guard file.isRegularFile || file.isDirectory else { return .failure(.notFound) }
        return .success(file)
    }

    /// EACCES/EPERM → forbidden; EMFILE/ENFILE/ENOMEM/ENOBUFS → unavailable; everything
    /// else (ENOENT, ENOTDIR, ELOOP, EXDEV, ENAMETOOLONG) → not found.
    static func failure(for code: Int32) -> ResolveFailure {
        switch code {
        case EACCES, EPERM: .forbidden
        case EMFILE, ENFILE, ENOMEM, ENOBUFS: .unavailable
        default: .notFound
        }
    }

    /// Runs a call returning a descriptor, retrying on EINTR; returns the fd and errno.
    static func retryingEINTR(_ call: () -> Int32) -> (Int32, Int32) {
        while true {
            let fd = call()
            if fd >= 0 { return (fd, 0) }
            let code = errno
            if code != EINTR { return (fd, code) }
        }
    }
}
