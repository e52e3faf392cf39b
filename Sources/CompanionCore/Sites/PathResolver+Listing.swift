// PathResolver+Listing: reads a directory that `open` returned and keeps only the
// entries a request could be served: no dotfiles, no symlinks that leave the root,
// no FIFOs/sockets/devices, no names that are not UTF-8. Sorting and rendering are
// ListingRenderer's job.
import CLinux  // struct timespec comes through <sys/epoll.h> in CLinux
import Glibc

extension PathResolver {
    /// Lists the servable entries of a directory opened by `open`.
    ///
    /// Called on a loop thread when a listing is rendered (cold path; one `fstatat` per
    /// entry, plus one resolver `open` per symlink).
    ///
    /// SECURITY: a symlink entry is checked by resolving its request path through `open`,
    /// the same rule as serving it, so the listing never shows what a click would 404.
    /// Symlinks are followed for type, size and mtime. Names that are not valid UTF-8 are
    /// skipped: PathNormalizer answers 400 for them, so they cannot be served.
    /// The order of the result is the directory's order; sort with `ListingRenderer.sort`.
    /// - Parameters:
    ///   - dir: a directory returned by `open` (`isDirectory` true).
    ///   - relativePath: the normalised request path of that directory (`/docs/` or `/docs`).
    /// - Returns: the entries; empty when the directory cannot be read.
    public func listDirectory(_ dir: OpenFile, relativePath: String) -> [DirectoryEntry] {
        // A fresh descriptor: fdopendir takes ownership and moves the offset, so the
        // caller's fd stays untouched.
        let fd = openat(dir.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        guard let stream = fdopendir(fd) else {
            close(fd)
            return []
        }
        defer { closedir(stream) }

        var basePath = relativePath
        while basePath.hasSuffix("/") { basePath.removeLast() }
        var entries: [DirectoryEntry] = []
        while let record = readdir(stream) {
            let entry = withUnsafePointer(to: &record.pointee.d_name) { tuple in
                tuple.withMemoryRebound(to: CChar.self, capacity: 256) { name in
                    listedEntry(directoryFD: fd, name: name, basePath: basePath)
                }
            }
            if let entry { entries.append(entry) }
        }
        return entries
    }

    /// The entry for one name, or nil when it must not be listed.
    private func listedEntry(directoryFD: Int32, name: UnsafePointer<CChar>, basePath: String) -> DirectoryEntry? {
        let length = strlen(name)
        // SECURITY: dotfiles (and "." / "..") are never listed.
        guard length > 0, name[0] != CChar(bitPattern: UInt8(ascii: ".")) else { return nil }
        let bytes = Array(UnsafeRawBufferPointer(start: name, count: length))
        guard let nameString = String(validating: bytes, as: UTF8.self) else { return nil }

        var info = stat()
        guard fstatat(directoryFD, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            return DirectoryEntry(name: bytes, isDirectory: false, size: Int(info.st_size),
                                  mtimeSeconds: Int(info.st_mtim.tv_sec))
        case S_IFDIR:
            return DirectoryEntry(name: bytes, isDirectory: true, size: 0,
                                  mtimeSeconds: Int(info.st_mtim.tv_sec))
        case S_IFLNK:
            // SECURITY: same containment rule as serving (openat2 beneath, realpath fallback).
            guard case .success(let target) = open(basePath + "/" + nameString) else { return nil }
            return DirectoryEntry(name: bytes, isDirectory: target.isDirectory, size: target.size,
                                  mtimeSeconds: target.mtimeSeconds)
        default:
            return nil
        }
    }
}
