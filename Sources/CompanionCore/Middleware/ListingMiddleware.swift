// ListingMiddleware: "/dir/" without an index file becomes a directory listing
// (HTML, or JSON for `Accept: application/json` / `?format=json`), sorted by
// `?sort=name|size|mtime&order=asc|desc`. Only in sites with `listing` on.
//
// Bounded: at most `listingMaxEntries` entries are rendered, the first ones
// in the requested order; the page says how many more there are (HTML: a last row; both
// formats: `X-Listing-Omitted: N`). Pages are gzipped like files when the client accepts
// it (`Vary: Accept, Accept-Encoding`: the format and the coding both depend on the
// request), and each variant is made at most once per file-cache ttl on a loop.
//
// Off the loop: a page that is not in the loop's cache is rendered on the server's
// BackgroundQueue (DeferredPage.swift): reading and stat-ing a directory of 100,000
// entries takes ~0.3 s of kernel time, which used to stall every client of the loop.
import CZlib

struct ListingMiddleware: Middleware {
    func respond(to request: Request, next: (Request) -> Response) -> Response {
        guard request.isGetOrHead, request.hasTrailingSlash else { return next(request) }
        let opened = request.files?.lookup(request.path, in: request.site).result ?? request.site.resolver.open(request.path)
        guard case .success(let directory) = opened, directory.isDirectory else {
            return next(request)
        }
        let query = QueryParameters(request.query)
        let sort: ListingSort
        switch query["sort"] {
        case "size": sort = .size
        case "mtime": sort = .mtime
        default: sort = .name
        }
        let order: ListingOrder = query["order"] == "desc" ? .desc : .asc
        let wantsJSON = query["format"] == "json"
            || (request.header(.accept).map { Self.containsJSON($0) } ?? false)

        let gzip = request.site.config.gzip
        let compress = gzip.enabled && AcceptEncoding.parse(request.header(.acceptEncoding)).gzip
        let site = request.site
        let path = request.path
        let limit = site.config.listingMaxEntries
        let render: @Sendable () -> RenderedPage = {
            var entries = site.resolver.listDirectory(directory, relativePath: path)
            let omitted = ListingRenderer.sort(&entries, by: sort, order: order, keepingAtMost: limit)
            let body = wantsJSON
                ? ListingRenderer.json(entries: entries)
                : ListingRenderer.html(entries: entries, displayPath: path, isRoot: path == "/", omitted: omitted)
            var page = RenderedPage(body: body, omitted: omitted)
            if compress, body.count >= gzip.minBytes,
               let compressed = try? body.withUnsafeBytes({ (raw) throws(ZlibError) in try Deflater.gzip(raw, level: gzip.level) }) {
                page.body = compressed
                page.contentEncoding = "gzip"
            }
            return page
        }
        let cacheKey = "\(path)\u{0}\(wantsJSON ? "json" : "html")\u{0}\(sort)\u{0}\(order)\u{0}\(compress)"
        var response = Response(status: .ok)
        response.contentType = wantsJSON ? "application/json; charset=utf-8" : "text/html; charset=utf-8"
        response.extraHeaders.append(("Cache-Control", "no-cache"))
        response.extraHeaders.append(("Vary", gzip.enabled ? "Accept, Accept-Encoding" : "Accept"))
        response.addGeneratedPageHeaders()
        if let files = request.files {
            if let page = files.cachedPage(cacheKey, in: site) {
                Self.fill(&response, with: page)
            } else {
                response.deferred = DeferredPage(site: site, cacheKey: cacheKey, directory: path, render: render, fill: Self.fill)
            }
        } else {
            Self.fill(&response, with: render())   // no loop (unit tests of the chain): render here
        }
        return response
    }

    /// The page's bytes and what depends on them, into a listing response.
    @Sendable static func fill(_ response: inout Response, with page: RenderedPage) {
        response.body = .bytes(page.body)
        response.contentEncoding = page.contentEncoding
        if page.omitted > 0 { response.extraHeaders.append(("X-Listing-Omitted", String(page.omitted))) }
    }

    private static func containsJSON(_ accept: ArraySlice<UInt8>) -> Bool {
        let needle = Array("application/json".utf8)
        let lowered = accept.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
        guard lowered.count >= needle.count else { return false }
        for start in 0...(lowered.count - needle.count) where lowered[start..<start + needle.count].elementsEqual(needle) {
            return true
        }
        return false
    }
}

/// The `name=value` pairs of a query string (first occurrence wins; values percent-decoded).
struct QueryParameters {
    private var pairs: [(String, String)] = []

    init(_ query: String?) {
        guard let query else { return }
        for part in query.split(separator: "&") {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = PercentEncoding.decodeQueryComponent(pieces[0])
            let value = pieces.count > 1 ? PercentEncoding.decodeQueryComponent(pieces[1]) : ""
            pairs.append((name, value))
        }
    }

    subscript(name: String) -> String? { pairs.first { $0.0 == name }?.1 }
}
