// FileWatcher: one loop's inotify instance (lighttpd's stat-cache-engine "inotify"),
// so that FileCache can keep a path's resolution until the file system says it
// changed instead of for a fixed time. It watches directories only: an event names
// the directory (its watch descriptor) and the entry in it that changed (created,
// deleted, renamed from or to, written, attributes), which is what a cached answer
// depends on (see FileCache.dependencies).
//
// Limits: inotify instances are counted per user (fs.inotify.max_user_instances,
// 128 by default) and watches too (max_user_watches); a loop uses one instance and at
// most `maxWatches` watches. When either runs out, FileCache falls back to its TTL for
// the answers it cannot watch. inotify does not see changes made on other machines
// (NFS, shared mounts); there SIGHUP clears the caches (the README says so).
//
// Owned by one EventLoop; not thread-safe, and never shared.
import CLinux
import Glibc

final class FileWatcher {
    /// The inotify descriptor (non-blocking), or -1 when the kernel refused one.
    private(set) var fd: Int32
    /// Watch descriptors by directory path (the path as the cache built it; a directory
    /// reached by two paths, through a symlink, has one wd and two names).
    private var watchByPath: [String: Int32] = [:]
    private var pathsByWatch: [Int32: [String]] = [:]
    let maxWatches: Int

    /// What a directory's watch reports: entries created, deleted, renamed, written or
    /// changed in attributes, and the directory itself deleted or moved.
    static let mask = UInt32(IN_CREATE | IN_DELETE | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO
                             | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

    /// Where `drain` reads events: allocated once, because the loop drains before a turn whose
    /// wait reported this descriptor and before a request read 1 ms after the last drain,
    /// and a 16 KiB temporary is a malloc and a free each time (~420 of the ~550 instructions
    /// of a drain that finds nothing).
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16_384, alignment: MemoryLayout<inotify_event>.alignment)

    init(maxWatches: Int = 4096) {
        self.maxWatches = maxWatches
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
        buffer.deallocate()
    }

    /// Counts the inotify instances this watcher has had (`reset` opens a new one, which may
    /// get the same descriptor number): the loop registers each instance with its epoll set.
    private(set) var instance = 0

    var isAvailable: Bool { fd >= 0 }
    var watchCount: Int { watchByPath.count }

    enum Watch {
        case watching(Int32)
        /// No such directory (ENOENT, ENOTDIR): the entry of its parent covers it.
        case absent
        /// The kernel refused (watch limit, permissions, a symlink loop): not watchable.
        case failed
    }

    /// The watch on the directory at `path`, added when new.
    func watch(_ path: String) -> Watch {
        if let wd = watchByPath[path] { return .watching(wd) }
        guard fd >= 0, watchByPath.count < maxWatches else { return .failed }
        let wd = inotify_add_watch(fd, path, Self.mask)
        guard wd >= 0 else {
            let code = errno
            return code == ENOENT || code == ENOTDIR ? .absent : .failed
        }
        watchByPath[path] = wd
        pathsByWatch[wd, default: []].append(path)
        return .watching(wd)
    }

    /// Drops every watch (a fresh instance): the cache calls it when it empties itself.
    func reset() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        watchByPath.removeAll()
        pathsByWatch.removeAll()
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        instance += 1
    }

    enum Change {
        /// The entry `name` of the directory `wd` changed.
        case entry(wd: Int32, name: String)
        /// The directory `wd` itself went away or moved: everything below it changed.
        case directory(wd: Int32)
        /// Events were lost (the kernel's queue overflowed): anything may have changed.
        case everything
    }

    /// Reads every queued event (non-blocking) and reports each change.
    func drain(_ report: (Change) -> Void) {
        guard fd >= 0 else { return }
        while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            var offset = 0
            let headerSize = MemoryLayout<inotify_event>.size
            while offset + headerSize <= count {
                let event = buffer.load(fromByteOffset: offset, as: inotify_event.self)
                let nameLength = Int(event.len)
                defer { offset += headerSize + nameLength }
                if event.mask & UInt32(IN_Q_OVERFLOW) != 0 {
                    report(.everything)
                    continue
                }
                if event.mask & UInt32(IN_IGNORED) != 0 {
                    forget(wd: event.wd)
                    report(.directory(wd: event.wd))
                    continue
                }
                if event.mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT) != 0 {
                    // A moved directory keeps its watch at its new place: the old path must
                    // not find it again.
                    forget(wd: event.wd)
                    inotify_rm_watch(fd, event.wd)
                    report(.directory(wd: event.wd))
                    continue
                }
                guard nameLength > 0 else { continue }
                let nameStart = UnsafeRawBufferPointer(rebasing: buffer[(offset + headerSize)..<(offset + headerSize + nameLength)])
                let length = nameStart.firstIndex(of: 0) ?? nameLength
                let name = String(decoding: nameStart[..<length], as: UTF8.self)
                // A directory (or a symlink to one) that changed under that name: the paths
                // through it now lead elsewhere, so their watches must be looked up again.
                if let parents = pathsByWatch[event.wd] {
                    for parent in parents {
                        let child = parent == "/" ? "/" + name : parent + "/" + name
                        if event.mask & UInt32(IN_ISDIR) != 0 || watchByPath[child] != nil { forget(pathsUnder: child) }
                    }
                }
                report(.entry(wd: event.wd, name: name))
            }
        }
    }

    private func forget(wd: Int32) {
        for path in pathsByWatch.removeValue(forKey: wd) ?? [] { watchByPath[path] = nil }
    }

    /// Forgets the paths `path` and below (their watches stay until their directories go).
    private func forget(pathsUnder path: String) {
        let prefix = path + "/"
        for (known, wd) in watchByPath where known == path || known.hasPrefix(prefix) {
            watchByPath[known] = nil
            pathsByWatch[wd]?.removeAll { $0 == known }
        }
    }
}
