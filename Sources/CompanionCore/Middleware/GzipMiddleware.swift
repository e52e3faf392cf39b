// GzipMiddleware: content negotiation for file responses (SPEC §3 Compression).
// It calls the inner stages first, then, for a 200 file representation of a
// GET/HEAD, in this order:
//   1. compressible type (gzip.types or MIMETypes.isCompressible) → Vary: Accept-Encoding,
//      on the identity and the encoded variants alike;
//   2. a Range request → identity (ranges are never cut from an encoded body);
//   3. a precompressed sidecar NAME.br / NAME.zst / NAME.gz the client accepts, at least
//      as new as NAME → that file as is, for any type (GzipMiddleware+Sidecars.swift);
//   4. compressible, at least minBytes and no bigger than the cache → the accepted
//      variant with the highest q-value (ties: br, zstd, gzip) that is ready: brotli
//      (quality 11) and zstd (level 19) variants of files up to 4 MiB are made once per
//      file version on the CompressionQueue, never on a loop, and the best one the
//      client wants is queued when missing; gzip is made inline for small files, queued
//      for large ones. Until a variant is ready, the next best (or identity) is served.
// Each encoded variant gets its own ETag (RFC 9110 §8.8.3.3), so conditionals and
// HEAD, applied after the chain by ResponseFinalizer, work on the variant served.

/// The gzip stage of a site's chain.
///
/// Immutable (a class so that the chain calls it without copying its fields); shared by
/// all loops. The cache and queue are thread-safe and shared
/// by every site of a server, so cache keys carry the site root.
final class GzipMiddleware: Middleware {
    /// Files up to this size are compressed on the loop on a cache miss (about a
    /// millisecond at level 6), so the first request for a typical script is already
    /// compressed; bigger files go to the CompressionQueue and never stall a loop.
    static let inlineLimit = 256 * 1024

    let settings: GzipSettings
    let cache: GzipCache
    /// Background compression of large files; nil compresses nothing large.
    let queue: CompressionQueue?
    /// The site root (a real path), prefixed to cache keys so two sites' `/app.js` differ.
    let keyPrefix: String
    /// `gzip.types` split into exact types and `type/*` prefixes, lowercased; nil = built-in list.
    let exactTypes: Set<String>?
    let typePrefixes: [String]

    init(settings: GzipSettings, cache: GzipCache, queue: CompressionQueue?, siteRoot: String) {
        self.settings = settings
        self.cache = cache
        self.queue = queue
        self.keyPrefix = siteRoot
        if let types = settings.types {
            exactTypes = Set(types.filter { !$0.hasSuffix("/*") })
            typePrefixes = types.filter { $0.hasSuffix("/*") }.map { String($0.dropLast()) }
        } else {
            exactTypes = nil
            typePrefixes = []
        }
    }

    func respond(to request: Request, next: (Request) -> Response) -> Response {
        var response = next(request)
        // The identity response is changed in place and returned as it is: returning the
        // local from several paths made the compiler copy the whole Response (~400
        // instructions of retains and releases a request).
        if let encoded = encodedVariant(of: &response, for: request) { return encoded }
        return response
    }

    /// The encoded variant to send instead of `response`, or nil to send `response` (which
    /// gains `Vary: Accept-Encoding` when its type is compressible).
    private func encodedVariant(of response: inout Response, for request: Request) -> Response? {
        guard response.status == .ok, request.isGetOrHead, response.contentEncoding == nil,
              case .file(let file) = response.body, let path = response.filePath
        else { return nil }
        let isCompressible = isCompressible(response.contentType)
        if isCompressible { response.varyAcceptEncoding = true }
        // RFC 9110 §14.2: a range of an encoded body would be a range of different bytes.
        if request.header(.range) != nil { return nil }
        let accepted = AcceptEncoding.parse(request.header(.acceptEncoding))
        if accepted == .none { return nil }
        if let sidecar = sidecarResponse(for: response, file: file, path: path, accepted: accepted,
                                          site: request.site, files: request.files) {
            return sidecar
        }
        guard mayEncode(file, isCompressible: isCompressible) else { return nil }
        // brotli and zstd variants are made once per file version off the loop; until one is
        // ready, the client gets the best variant that is (gzip is made inline for small files).
        let makesOneShot = file.size <= OneShotEncoder.maxInputBytes && queue != nil
        let brotli = accepted.br && makesOneShot ? cache.lookup(key(file, path, .br)) : nil
        let zstd = accepted.zstd && makesOneShot ? cache.lookup(key(file, path, .zstd)) : nil
        let wanted = accepted.best { $0 == .gzip || makesOneShot }
        if let wanted, wanted != .gzip, (wanted == .br ? brotli : zstd) == nil, let queue {
            _ = file.withDescriptor { queue.submit(fd: $0, key: key(file, path, wanted)) { _ in } }
        }
        let best = accepted.best { coding in
            switch coding {
            case .br: brotli != nil
            case .zstd: zstd != nil
            case .gzip: true
            }
        }
        switch best {
        case .br: return Self.encoded(response, body: .bytes(brotli!), coding: "br")
        case .zstd: return Self.encoded(response, body: .bytes(zstd!), coding: "zstd")
        case .gzip:
            guard let compressed = compressedBody(file, path: path) else { return nil }
            return Self.encoded(response, body: .bytes(compressed), coding: "gzip")
        case nil: return nil
        }
    }

    /// Whether `file` is encoded on the fly for a client that accepts a coding (its type
    /// `isCompressible`). A file bigger than the cache could never be cached, so it would be
    /// compressed on every request (a client could make us burn CPU at will): it stays
    /// identity, as do files under `minBytes`.
    func mayEncode(_ file: OpenFile, isCompressible: Bool) -> Bool {
        isCompressible && file.size >= settings.minBytes && file.size <= min(settings.cacheBytes, cache.capacityBytes)
    }

    /// The cache key of `file`'s variant in `coding` (at the coding's level).
    func key(_ file: OpenFile, _ path: String, _ coding: ContentCoding) -> GzipCache.Key {
        let level = switch coding {
        case .gzip: settings.level
        case .br: OneShotEncoder.brotliQuality
        case .zstd: OneShotEncoder.zstdLevel
        }
        return GzipCache.Key(path: keyPrefix + path, size: file.size, mtimeSeconds: file.mtimeSeconds,
                             mtimeNanoseconds: file.mtimeNanoseconds, level: level, coding: coding)
    }

    /// The response for an encoded variant: same type and Last-Modified, its own ETag,
    /// no ranges (SPEC §3: ranges are served from the identity body only).
    static func encoded(_ identity: Response, body: ResponseBody, coding: String) -> Response {
        var response = identity
        response.body = body
        response.contentEncoding = coding
        response.varyAcceptEncoding = true
        response.acceptsRanges = false
        if let etag = identity.etag { response.etag = ETag.variant(etag, suffix: coding) }
        return response
    }

    /// Whether `contentType` is worth compressing under this site's settings.
    func isCompressible(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        guard let exactTypes else { return MIMETypes.isCompressible(contentType) }
        let base = Self.baseType(contentType)
        return exactTypes.contains(base) || typePrefixes.contains { base.hasPrefix($0) }
    }

    /// `Text/HTML; charset=utf-8` → `text/html`.
    static func baseType(_ contentType: String) -> String {
        let base = contentType.utf8.prefix { $0 != UInt8(ascii: ";") && $0 != 0x20 && $0 != 0x09 }
        return String(decoding: base, as: UTF8.self).lowercased()
    }

    // MARK: On-the-fly gzip

    /// The gzip body of `file` from the cache, or compressed now (small files), or
    /// nil: serve identity (queued for later, being compressed elsewhere, or failed).
    func compressedBody(_ file: OpenFile, path: String) -> [UInt8]? {
        let key = key(file, path, .gzip)
        if let cached = cache.lookup(key) { return cached }
        if file.size <= Self.inlineLimit { return compressInline(file, key: key) }
        if let queue {
            // The queue dups the descriptor; results land in the cache for later requests.
            _ = file.withDescriptor { queue.submit(fd: $0, key: key) { _ in } }
        }
        return nil
    }

    /// Reads and compresses a small file on this loop, once per key: a loop that
    /// finds another one compressing the same key serves identity this time.
    private func compressInline(_ file: OpenFile, key: GzipCache.Key) -> [UInt8]? {
        guard cache.beginCompression(key) else { return nil }
        defer { cache.endCompression(key) }
        if let cached = cache.peek(key) { return cached }
        // The key describes the version fstat saw; bytes of a newer version must not be
        // stored under it, so the file is checked again after reading.
        guard let bytes = file.readAll(limit: Self.inlineLimit), file.isUnchangedSinceOpen() else { return nil }
        let compressed: [UInt8]
        do {
            compressed = try bytes.withUnsafeBytes { (raw) throws(ZlibError) -> [UInt8] in
                try Deflater.gzip(raw, level: key.level)
            }
        } catch {
            return nil
        }
        cache.recordCompression()
        cache.insert(key, compressed)
        return compressed
    }
}
