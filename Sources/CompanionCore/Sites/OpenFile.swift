// OpenFile: the single owner of a descriptor that PathResolver opened, with the
// fstat facts the static-file stage needs (size, mtime, inode, kind). Serving reads
// from this fd (sendfile), never by re-opening the path (a path re-opened after
// its check can be swapped for a symlink; static-web-server's fix: "open once and
// stream the validated handle").
import CLinux  // struct timespec comes through <sys/epoll.h> in CLinux
import Glibc

/// An open file or directory below a site root, owned by this object.
///
/// The descriptor is closed exactly once, in `deinit`; keep the object alive while the fd
/// is in use (`withDescriptor`). It is `@unchecked Sendable` because
/// its fields are immutable; using the fd from two threads at once (e.g. `read` with the
/// shared offset) is the caller's problem; `sendfile`/`pread` with explicit offsets are safe.
public final class OpenFile: @unchecked Sendable {
    /// The descriptor, opened `O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY`.
    public let fd: Int32
    /// Size in bytes (`st_size`); 0 for directories.
    public let size: Int
    /// Modification time, whole seconds since the epoch (`st_mtim.tv_sec`).
    public let mtimeSeconds: Int
    /// Nanosecond part of the modification time (`st_mtim.tv_nsec`).
    public let mtimeNanoseconds: Int
    /// Inode number (`st_ino`), useful as part of a cache key.
    public let inode: UInt64
    /// True for a directory.
    public let isDirectory: Bool
    /// True for a regular file.
    public let isRegularFile: Bool

    /// The whole file's bytes, for small files that the owning loop's FileCache read
    /// once (`preload()`); nil otherwise. Written only by that loop before the file is
    /// handed to any stage, read-only afterwards.
    private(set) var contents: [UInt8]?

    /// Appends the whole file's bytes to `out` when they are in memory (`contents`); false,
    /// with `out` unchanged, when they are not.
    @inline(__always)
    func appendContents(to out: inout [UInt8]) -> Bool {
        guard let contents else { return false }
        out.append(contentsOf: contents)
        return true
    }

    /// Reads the whole (small, regular) file into `contents`; leaves it nil on a short read.
    func preload() {
        guard contents == nil, isRegularFile else { return }
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            initialized = Self.readFully(fd, into: UnsafeMutableRawBufferPointer(buffer), at: 0)
        }
        if bytes.count == size { contents = bytes }
    }

    /// pread(2) until `buffer` is full, the file ends or a read fails (EINTR is retried):
    /// the bytes read. The one place files are read by offset; the shared file offset is
    /// not touched, so this is safe while another thread sendfiles the same descriptor.
    static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            done += n
        }
        return done
    }

    /// `readFully` on this file.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        withDescriptor { Self.readFully($0, into: buffer, at: offset) }
    }

    /// Takes ownership of `fd` and records its `fstat` facts.
    /// - Returns: nil (and closes `fd`) when `fstat` fails.
    init?(adopting fd: Int32) {
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            return nil
        }
        self.fd = fd
        let kind = info.st_mode & S_IFMT
        isDirectory = kind == S_IFDIR
        isRegularFile = kind == S_IFREG
        size = isDirectory ? 0 : Int(info.st_size)
        mtimeSeconds = Int(info.st_mtim.tv_sec)
        mtimeNanoseconds = Int(info.st_mtim.tv_nsec)
        inode = UInt64(info.st_ino)
    }

    /// Runs `body` with the descriptor while keeping this object (and so the fd) alive.
    ///
    /// Swift may release an object right after its last use, so `let fd = file.fd` followed
    /// by calls on `fd` alone can race the `deinit` close. Use this, or keep using `file`.
    public func withDescriptor<R, E: Error>(_ body: (Int32) throws(E) -> R) throws(E) -> R {
        try withExtendedLifetime(self) { () throws(E) -> R in try body(fd) }
    }

    deinit {
        close(fd)
    }
}
