// Response: what a middleware stage returns. Well-known headers are typed fields
// so the writer can render them without building strings; everything else goes
// in `extraHeaders`. `setHeader`/`removeHeader` keep both views consistent for
// plugins that only know header names.

/// The body of a response before ranges and HEAD are applied.
public enum ResponseBody: Sendable {
    case empty
    case bytes([UInt8])
    /// The whole file; ranges are sliced from it after the chain.
    case file(OpenFile)
}

/// A response travelling back up the chain.
public struct Response: Sendable {
    public var status: HTTPStatus
    public var contentType: String?
    /// Strong validator of this representation (each encoded variant has its own).
    public var etag: String?
    /// Seconds since the epoch.
    public var lastModified: Int?
    public var contentEncoding: String?
    /// Adds `Vary: Accept-Encoding` (set on every response of a compressible type).
    public var varyAcceptEncoding: Bool = false
    public var location: String?
    /// Answer `Accept-Ranges: bytes` and honour `Range` (file representations).
    public var acceptsRanges: Bool = false
    /// Headers the writer has no typed field for, in order. Framing headers here are not
    /// written (HeaderSyntax.framingHeaders).
    public var extraHeaders: [(name: String, value: String)] = []
    /// Close the connection after this response and read no further pipelined request
    /// (e.g. after a wrong password: the next guesses in the same packet are not tried).
    public var closesConnection = false
    public var body: ResponseBody
    /// For a file representation: its normalised path inside the site (gzip and sidecars use it).
    public var filePath: String?
    /// A body that is made off the event loop (a listing not in the loop's cache): the
    /// connection parks this response, a BackgroundQueue thread renders the page, and the
    /// loop fills it in and sends it when the page arrives (DeferredPage.swift).
    var deferred: DeferredPage?

    public init(status: HTTPStatus, body: ResponseBody = .empty) {
        self.status = status
        self.body = body
    }

    /// A file representation with every field set once. Built field by field after
    /// `init(status:body:)`, a file response cost ~70 instructions more (instructions.py,
    /// five runs); the one copy of the Response on that path stays either way.
    init(file: OpenFile, path: String, contentType: String, etag: String) {
        self.status = .ok
        self.contentType = contentType
        self.etag = etag
        self.lastModified = file.mtimeSeconds
        self.contentEncoding = nil
        self.varyAcceptEncoding = false
        self.location = nil
        self.acceptsRanges = true
        self.extraHeaders = []
        self.closesConnection = false
        self.body = .file(file)
        self.filePath = path
        self.deferred = nil
    }

    /// The number of body bytes of the full representation.
    public var bodyLength: Int {
        switch body {
        case .empty: return 0
        case .bytes(let bytes): return bytes.count
        case .file(let file): return file.size
        }
    }

    /// Sets (replaces) a header by name, case-insensitively. Typed headers are kept typed.
    /// Framing headers (`HeaderSyntax.framingHeaders`) are ignored.
    public mutating func setHeader(_ name: String, _ value: String) {
        let lowered = name.lowercased()
        switch lowered {
        case "content-type": contentType = value
        case "etag": etag = value
        case "location": location = value
        case "content-encoding": contentEncoding = value
        default:
            // SECURITY: framing headers belong to the writer; a plugin cannot break them.
            if HeaderSyntax.isFramingHeader(name) { return }
            extraHeaders.removeAll { $0.name.lowercased() == lowered }
            extraHeaders.append((name, value))
        }
    }

    /// Adds a header without removing earlier ones of the same name. Framing headers are
    /// ignored, as by `setHeader` (and by the writer, for fields appended to `extraHeaders`
    /// directly): a second Content-Length or a Transfer-Encoding from a plugin would change
    /// how the client reads the body.
    public mutating func addHeader(_ name: String, _ value: String) {
        if HeaderSyntax.isFramingHeader(name) { return }
        extraHeaders.append((name, value))
    }

    /// Removes a header by name, case-insensitively.
    public mutating func removeHeader(_ name: String) {
        switch name.lowercased() {
        case "content-type": contentType = nil
        case "etag": etag = nil
        case "last-modified": lastModified = nil
        case "location": location = nil
        case "content-encoding": contentEncoding = nil
        case "vary": varyAcceptEncoding = false
        case "accept-ranges": acceptsRanges = false
        default: extraHeaders.removeAll { $0.name.lowercased() == name.lowercased() }
        }
    }

    /// The value of a header by name, as the client will see it (typed fields included).
    public func header(_ name: String) -> String? {
        switch name.lowercased() {
        case "content-type": return contentType
        case "etag": return etag
        case "location": return location
        case "content-encoding": return contentEncoding
        default: return extraHeaders.last { $0.name.lowercased() == name.lowercased() }?.value
        }
    }
}

extension Response {
    /// A short HTML error page for `status` (never a file-system path), with the
    /// restrictive headers every generated page carries.
    public static func error(_ status: HTTPStatus) -> Response {
        var response = Response(status: status, body: .bytes(ErrorPage.html(status)))
        response.contentType = "text/html; charset=utf-8"
        response.addGeneratedPageHeaders()
        return response
    }

    /// SECURITY: listing and error pages are generated from names a site owner may not
    /// control; no scripts may run there and browsers must not sniff another type.
    public mutating func addGeneratedPageHeaders() {
        if extraHeaders.isEmpty {
            extraHeaders = Self.generatedPageHeaders   // shares one array: no allocation per error
        } else {
            extraHeaders.append(contentsOf: Self.generatedPageHeaders)
        }
    }

    private static let generatedPageHeaders: [(name: String, value: String)] = [
        ("Content-Security-Policy", ListingRenderer.contentSecurityPolicy),
        ("X-Content-Type-Options", "nosniff"),
    ]

    /// `generatedPageHeaders` as head lines, rendered once: every 404 carries them, and
    /// checking and copying the 150 bytes field by field cost ~1,500 instructions a response.
    static let generatedPageHeaderLines: [UInt8] =
        Array(generatedPageHeaders.map { "\($0.name): \($0.value)\r\n" }.joined().utf8)

    /// Whether `extraHeaders` is still the shared `generatedPageHeaders` array itself (a
    /// plugin that changed it holds a copy of its own, which is rendered field by field).
    var hasOnlyGeneratedPageHeaders: Bool {
        extraHeaders.withUnsafeBufferPointer { headers in
            Self.generatedPageHeaders.withUnsafeBufferPointer { shared in
                headers.baseAddress == shared.baseAddress && headers.count == shared.count
            }
        }
    }

    /// 301/302/307/308 to a relative or absolute reference.
    public static func redirect(_ status: HTTPStatus, to location: String) -> Response {
        var response = Response(status: status)
        response.location = location
        return response
    }
}
