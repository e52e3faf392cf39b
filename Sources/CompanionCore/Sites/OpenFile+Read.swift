// OpenFile+Read: reading a whole (small) open file into memory with pread, for
// the stages that need the bytes rather than a sendfile: inline gzip of small
// files and pre-loaded error pages. Large files are never read this way.
import Glibc

extension OpenFile {
    /// The whole file as bytes, read with `pread` from offset 0 (the shared file
    /// offset is not touched, so this is safe while another thread sendfiles it).
    ///
    /// - Parameter limit: the most bytes to read; a larger file returns nil.
    /// - Returns: exactly `size` bytes, or nil when the file is a directory, larger
    ///   than `limit`, unreadable, or changed length while being read (the caller
    ///   then serves it unchanged or reports it).
    public func readAll(limit: Int) -> [UInt8]? {
        guard isRegularFile, size <= limit else { return nil }
        let expected = size
        var failed = false
        let bytes = [UInt8](unsafeUninitializedCapacity: expected) { buffer, count in
            count = read(into: UnsafeMutableRawBufferPointer(buffer), at: 0)
            failed = count != expected
        }
        return failed ? nil : bytes
    }

    /// True when the file still has the size and mtime recorded when it was opened,
    /// i.e. bytes read from it belong to that version (cache keys use those facts).
    func isUnchangedSinceOpen() -> Bool {
        var info = stat()
        let ok = withDescriptor { fstat($0, &info) == 0 }
        return ok && Int(info.st_size) == size && Int(info.st_mtim.tv_sec) == mtimeSeconds
            && Int(info.st_mtim.tv_nsec) == mtimeNanoseconds
    }
}
