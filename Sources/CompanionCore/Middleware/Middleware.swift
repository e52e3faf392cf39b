// Middleware: the one interface every stage of the request chain implements,
// built-in (static files, index, listing, gzip, access log) or a plugin.
// Chain.swift composes the stages in the order of SPEC §4.

/// A stage of the request chain.
///
/// Called on the event-loop thread that owns the connection, synchronously: a
/// middleware must not block on I/O that can take long (open/stat/read of a local
/// file is fine; network calls are not). Stages are built once per site when the
/// config loads and shared by all loops, so they must be immutable or guard their
/// state (hence `Sendable`).
public protocol Middleware: Sendable {
    /// Answers `request`, or calls `next` to let the inner stages answer, possibly
    /// with a changed request, and changes their response on the way out.
    /// - Parameters:
    ///   - request: the request with its decoded, normalised `path` and its site.
    ///   - next: the rest of the chain; non-escaping, so calling it allocates nothing.
    /// - Returns: the response. Conditional requests (304/412), ranges (206/416) and
    ///   HEAD are applied after the chain, on the final representation, so a stage
    ///   returns the full 200 representation and never has to handle them.
    func respond(to request: Request, next: (Request) -> Response) -> Response
}

/// Request information a stage can read, plus the `path` it may rewrite for `next`.
public struct Request: @unchecked Sendable {
    // @unchecked Sendable: a Request lives on one loop thread for one request; the
    // Site it references is immutable.
    /// The parsed head (method, raw target, headers).
    public let head: RequestHead
    /// The target path, percent-decoded once and normalised; starts with "/". Every rule
    /// (plugins, routing, file lookup) matches on this one value (SECURITY: Caddy #7941).
    public var path: String
    /// The path the client asked for, when the index stage rewrote `path` to an index file
    /// (`/docs/` → `/docs/index.html`); nil otherwise.
    public internal(set) var requestedPath: String?
    /// The site that the Host header routed to.
    public let site: Site
    /// The peer's address, e.g. "127.0.0.1".
    public let client: String
    /// The serving loop's file cache (nil outside a loop, e.g. in unit tests).
    unowned(unsafe) let files: FileCache?

    public init(head: RequestHead, path: String, site: Site, client: String) {
        self.init(head: head, path: path, site: site, client: client, files: nil)
    }

    init(head: RequestHead, path: String, site: Site, client: String, files: FileCache?) {
        self.head = head
        self.path = path
        self.site = site
        self.client = client
        self.files = files
    }

    /// Whether a plugin's pattern applies: it matches the path that is served, or the one
    /// the client asked for. SECURITY: `match: "/private/index.html"` must also
    /// cover `GET /private/`, which serves that file; and a rule for `/private/` still
    /// applies after the index step (nginx re-matches its locations after `index`).
    public func matches(_ pattern: PathPattern) -> Bool {
        if pattern.matches(path) { return true }
        if let requestedPath { return pattern.matches(requestedPath) }
        return false
    }

    public var method: Method { head.method }
    public var isGetOrHead: Bool { head.method == .get || head.method == .head }
    /// Whether the path names a directory (`/docs/`).
    public var hasTrailingSlash: Bool { PathNormalizer.endsInSlash(path) }

    /// The raw query string without "?", or nil.
    public var query: String? {
        guard let range = head.query else { return nil }
        return String(decoding: head.bytes[range], as: UTF8.self)
    }

    /// The value of a known header, as bytes.
    public func header(_ name: HeaderName) -> ArraySlice<UInt8>? { head.value(name) }

    /// The value of any header (case-insensitive name), as a String.
    public func header(named name: String) -> String? {
        head.value(named: name).map { String(decoding: $0, as: UTF8.self) }
    }
}
