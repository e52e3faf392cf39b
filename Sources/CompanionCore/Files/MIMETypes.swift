// MIMETypes: the built-in extension → Content-Type table (SPEC §3) and the default
// "is this type worth gzipping" rule (SPEC §3 Compression). Pure lookups; the static
// file stage caches the result per file, so the small String made here is not per request.

/// Content types for served files.
public enum MIMETypes {
    /// The type for unknown extensions (SPEC §3).
    public static let octetStream = "application/octet-stream"

    /// Base types by lowercase extension. Text-like types get `; charset=utf-8` in `table`.
    private static let baseTypes: [String: String] = [
        // Web documents and code.
        "html": "text/html", "htm": "text/html", "xhtml": "application/xhtml+xml",
        "css": "text/css",
        // RFC 9239: text/javascript is the current registration.
        "js": "text/javascript", "mjs": "text/javascript", "cjs": "text/javascript",
        "json": "application/json", "map": "application/json", "jsonld": "application/ld+json",
        "geojson": "application/geo+json", "webmanifest": "application/manifest+json",
        "xml": "application/xml", "xsl": "application/xml", "rss": "application/rss+xml",
        "atom": "application/atom+xml",
        "txt": "text/plain", "text": "text/plain", "log": "text/plain", "asc": "text/plain",
        "md": "text/markdown", "markdown": "text/markdown", "csv": "text/csv", "tsv": "text/tab-separated-values",
        "ics": "text/calendar", "vtt": "text/vtt", "yaml": "application/yaml", "yml": "application/yaml",
        "toml": "application/toml", "wasm": "application/wasm",
        // Images.
        "png": "image/png", "apng": "image/apng", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
        "webp": "image/webp", "avif": "image/avif", "jxl": "image/jxl", "svg": "image/svg+xml",
        "ico": "image/x-icon", "bmp": "image/bmp", "tif": "image/tiff", "tiff": "image/tiff",
        // Fonts.
        "woff": "font/woff", "woff2": "font/woff2", "ttf": "font/ttf", "otf": "font/otf",
        "eot": "application/vnd.ms-fontobject",
        // Documents and archives.
        "pdf": "application/pdf", "epub": "application/epub+zip", "zip": "application/zip",
        "gz": "application/gzip", "tgz": "application/gzip", "tar": "application/x-tar",
        "bz2": "application/x-bzip2", "xz": "application/x-xz", "zst": "application/zstd",
        "7z": "application/x-7z-compressed",
        // Audio and video.
        "mp4": "video/mp4", "m4v": "video/mp4", "webm": "video/webm", "ogv": "video/ogg", "mov": "video/quicktime",
        "mkv": "video/x-matroska", "mp3": "audio/mpeg", "ogg": "audio/ogg", "oga": "audio/ogg", "opus": "audio/ogg",
        "wav": "audio/wav", "flac": "audio/flac", "m4a": "audio/mp4", "aac": "audio/aac",
    ]

    /// The final table, built once: text-like types carry `; charset=utf-8`.
    private static let table: [String: String] = baseTypes.mapValues { base in
        isTextLike(base) ? base + "; charset=utf-8" : base
    }

    /// Text types that get a charset: text/*, JavaScript, JSON, XML, SVG and the +json/+xml families.
    private static func isTextLike(_ base: String) -> Bool {
        base.hasPrefix("text/") || base == "image/svg+xml" || base == "application/json"
            || base == "application/xml" || base == "application/javascript" || base == "application/yaml"
            || base == "application/toml" || base.hasSuffix("+json") || base.hasSuffix("+xml")
    }

    /// The `Content-Type` for a path by its extension, case-insensitive
    /// (`/a/B.HTML` → `text/html; charset=utf-8`); `application/octet-stream` when there is
    /// no extension or it is unknown. Only the last segment counts: `/v1.2/README` has none.
    public static func contentType(forPath path: String) -> String {
        let bytes = path.utf8
        guard let dot = bytes.lastIndex(of: UInt8(ascii: ".")) else { return octetStream }
        let extensionBytes = bytes[bytes.index(after: dot)...]
        guard !extensionBytes.isEmpty, extensionBytes.count <= 16,
              !extensionBytes.contains(UInt8(ascii: "/"))
        else { return octetStream }
        let lowered = String(decoding: extensionBytes.map(lowercaseASCII), as: UTF8.self)
        return table[lowered] ?? octetStream
    }

    /// Whether a type is compressed by default (SPEC §3): text/*, JavaScript, JSON, XML,
    /// SVG, WASM and the +json/+xml families. Parameters (`; charset=…`) and case are ignored.
    public static func isCompressible(_ contentType: String) -> Bool {
        // Not `var copy; copy.withUTF8`: the copy cost a retain and a release on every file response.
        if let answer = contentType.utf8.withContiguousStorageIfAvailable(isCompressible(bytes:)) { return answer }
        var bridged = contentType
        return bridged.withUTF8(isCompressible(bytes:))
    }

    /// `isCompressible` on the bytes of a content type, without building a String: it
    /// runs for every file response.
    static func isCompressible(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var end = bytes.firstIndex(of: UInt8(ascii: ";")) ?? bytes.count
        var start = 0
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        let base = UnsafeBufferPointer(rebasing: bytes[start..<end])
        func matches(_ literal: StaticString, at offset: Int) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard offset >= 0, offset + count <= base.count else { return false }
            let text = literal.utf8Start
            for i in 0..<count where lowercaseASCII(base[offset + i]) != text[i] { return false }
            return true
        }
        if matches("text/", at: 0) || matches("+json", at: base.count - 5) || matches("+xml", at: base.count - 4) {
            return true
        }
        for type in compressibleTypes where type.utf8CodeUnitCount == base.count && matches(type, at: 0) {
            return true
        }
        return false
    }

    private static let compressibleTypes: [StaticString] = [
        "application/javascript", "application/x-javascript", "application/ecmascript",
        "application/json", "application/xml", "image/svg+xml", "application/wasm",
    ]

    private static func lowercaseASCII(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}
