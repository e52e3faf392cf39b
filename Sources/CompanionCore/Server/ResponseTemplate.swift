// ResponseTemplate: the head of a plain answer for a cached path, written once by the full
// path (chain and finalizer) and kept with the path's cache entry: a file's 200, or the 404
// of a path that does not exist (head and error page). The next plain GET or HEAD of that
// path copies it and writes the current Date into it, instead of building a Request and a
// Response, running the stages and rendering every field again.
//
// "Plain" is what makes the answer a function of the site, the scheme and the entry alone:
//  - a site without plugins (only the built-in stages: index, gzip, listing, static);
//  - GET or HEAD without a body (the Connection line, which depends on the version and
//    on whether the connection stays open, is added to the template as the finalizer does);
//  - a regular file: the path's own, or for a directory's path ("/docs/") its index file, the
//    one the index stage would choose (IndexMiddleware.indexFile); or a path (not a
//    directory's) that resolves to nothing;
//  - none of the fields that change an answer: If-Match, If-None-Match,
//    If-Modified-Since, If-Unmodified-Since, Range, If-Range;
//  - Accept-Encoding only where the gzip stage would leave the answer as it is: a 404, a
//    site without the stage, no coding accepted, or a file the stage never encodes (its type
//    or size) none of whose accepted codings' sidecars exists (the file's cache entry knows
//    which are absent, FileCache.openSidecar, and is dropped when one appears). Every
//    browser sends the field, so without this a browser's request for an image, a font or
//    an archive went the full way;
//  - no answer of the transport (ACME challenge, 421, the https redirect);
//  - no trusted proxies (X-Forwarded-* not consulted).
// The rest of the head (type, length, Last-Modified, ETag, Accept-Ranges, Vary, HSTS)
// follows from the site, the scheme and the file. A template records the site and the
// scheme it was written for and lives as long as its entry, which the file cache drops
// when the file changes (or is created). The full path stays the reference: a template is
// only ever a copy of bytes the full path wrote for a plain request.

/// A plain answer's head (and a 404's page), kept on its `FileCache.Entry`. Immutable; a
/// class so that handing it from the entry to the connection copies one reference (as a
/// struct, each copy retained and released both arrays: ~220 instructions a request).
final class ResponseTemplate {
    /// The site whose chain wrote it (a reload makes new sites, so old templates go unused).
    let site: ObjectIdentifier
    /// Written for a client on https (HSTS).
    let https: Bool
    /// 200 (the entry's file follows the head) or 404 (`page` follows it).
    let status: HTTPStatus
    /// The body of a 404: the error page the full path sent.
    let page: [UInt8]
    /// What the site's gzip stage does with this answer for a request that accepts a coding.
    enum Encoding {
        /// Nothing: a 404 (the stage encodes 200s only), or a site without the stage.
        case never
        /// A sidecar of an accepted coding, if the file has one; else nothing (a file whose
        /// type or size the stage does not compress).
        case sidecarOnly
        /// A sidecar or a variant it makes: the full way decides.
        case variants
    }
    let encoding: Encoding
    /// The whole head of an HTTP/1.1 response that keeps its connection (no Connection
    /// line), with the Date of when it was written.
    let bytes: [UInt8]
    /// Where the Date value starts in `bytes` (an IMF-fixdate, always the same length).
    let dateOffset: Int

    /// The request-header fields whose presence changes a file's answer (Accept-Encoding may:
    /// see `answers`).
    static let fieldsThatChangeTheAnswer: UInt32 = [
        HeaderName.ifMatch, .ifNoneMatch, .ifModifiedSince, .ifUnmodifiedSince, .range, .ifRange,
    ].reduce(0) { $0 | $1.bit }

    /// Whether a request is plain as far as its head tells (the site and file are checked
    /// by the dispatcher).
    static func isPlain(_ head: RequestHead) -> Bool {
        (head.method == .get || head.method == .head) && head.contentLength == 0 && !head.isAsteriskForm
            && head.knownSeen & fieldsThatChangeTheAnswer == 0
    }

    /// Keeps `head`, the bytes the finalizer wrote for a plain request, as a template; nil when
    /// its Date is not where the finalizer writes it or the file's time would be clamped
    /// (a modification time in the future is sent as the Date, which changes every second).
    /// `connectionLine`: the Connection line the finalizer wrote last (`ResponseFinalizer.connectionLine`),
    /// which is taken out.
    /// `status` and `page`: 200 and nothing for `file` (nil for a 404), or 404 and its page.
    /// `contentType`: the file's, as the static stage sent it (the gzip stage decides by it).
    init?(head: ArraySlice<UInt8>, connectionLine: StaticString?, site: Site, https: Bool,
          status: HTTPStatus, file: OpenFile?, contentType: String, page: [UInt8], dates: DateCache) {
        if let file, file.mtimeSeconds > dates.currentSecond { return nil }
        var bytes = Array(head)
        if let connectionLine {
            let line = UnsafeBufferPointer(start: connectionLine.utf8Start, count: connectionLine.utf8CodeUnitCount)
            let lineStart = bytes.count - 2 - line.count
            guard lineStart > 0, bytes[lineStart..<bytes.count - 2].elementsEqual(line) else { return nil }
            bytes.removeSubrange(lineStart..<bytes.count - 2)
        }
        let marker = Array("\r\nDate: ".utf8)
        let date = dates.dateBytes
        guard date.count == Self.dateLength, let start = bytes.firstRange(of: marker)?.upperBound, start + date.count <= bytes.count,
              bytes[start..<start + date.count].elementsEqual(date)
        else { return nil }
        self.site = ObjectIdentifier(site)
        self.https = https
        self.status = status
        self.page = page
        self.bytes = bytes
        self.dateOffset = start
        if let file, status == .ok, let gzip = site.chain.gzip {
            encoding = gzip.mayEncode(file, isCompressible: gzip.isCompressible(contentType)) ? .variants : .sidecarOnly
        } else {
            encoding = .never
        }
    }

    /// Whether this template was written for `site` and the scheme.
    func isFor(_ site: Site, https: Bool) -> Bool {
        self.site == ObjectIdentifier(site) && self.https == https
    }

    /// Whether this template is the answer to a request with this Accept-Encoding value (nil:
    /// none) for `entry`'s path: the gzip stage would send the identity answer,
    /// with no sidecar of an accepted coding to serve instead.
    func answers(acceptEncoding value: ArraySlice<UInt8>?, entry: FileCache.Entry) -> Bool {
        guard let value, encoding != .never else { return true }
        let accepted = AcceptEncoding.parse(value)
        if accepted == .none { return true }
        guard encoding == .sidecarOnly else { return false }
        let wanted = GzipMiddleware.sidecarBits(accepted)
        return entry.absentSidecars & wanted == wanted
    }

    /// Appends the head to `out` with `date` (the current Date value) in place and
    /// `connectionLine` (`ResponseFinalizer.connectionLine`) last, before the empty line.
    func write(into out: inout [UInt8], date: [UInt8], connectionLine: StaticString?) {
        let start = out.count
        if let connectionLine {
            out.append(contentsOf: bytes[..<(bytes.count - 2)])
            out.append(contentsOf: UnsafeBufferPointer(start: connectionLine.utf8Start, count: connectionLine.utf8CodeUnitCount))
            out.append(contentsOf: bytes[(bytes.count - 2)...])
        } else {
            out.append(contentsOf: bytes)
        }
        out.withUnsafeMutableBufferPointer { buffer in
            date.withUnsafeBufferPointer { date in
                guard let target = buffer.baseAddress, let source = date.baseAddress,
                      date.count == Self.dateLength else { return }
                (target + start + dateOffset).update(from: source, count: Self.dateLength)
            }
        }
    }

    /// Length of an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT").
    static let dateLength = 29
}
