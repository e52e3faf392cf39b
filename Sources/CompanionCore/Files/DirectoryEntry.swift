// DirectoryEntry: one row of a directory listing, as PathResolver.listDirectory
// produces it and ListingRenderer consumes it. Plain value, no file-system access.

/// One servable entry of a directory (symlinks already followed).
public struct DirectoryEntry: Sendable, Equatable {
    /// The raw file name bytes (no slash; may be any bytes except '/' and NUL).
    public var name: [UInt8]
    /// True for a directory (rendered with a trailing '/' in HTML links).
    public var isDirectory: Bool
    /// Size in bytes; 0 for directories.
    public var size: Int
    /// Modification time, seconds since the epoch (UTC).
    public var mtimeSeconds: Int

    /// Creates an entry.
    public init(name: [UInt8], isDirectory: Bool, size: Int, mtimeSeconds: Int) {
        self.name = name
        self.isDirectory = isDirectory
        self.size = size
        self.mtimeSeconds = mtimeSeconds
    }
}
