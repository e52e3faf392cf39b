// ListingMiddleware: "/dir/" without an index file becomes a directory listing
// (HTML, or JSON for `Accept: application/json` / `?format=json`), sorted by
// `?sort=name|size|mtime&order=asc|desc`. Only in sites with `listing: true`.

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

        let render = {
            var entries = request.site.resolver.listDirectory(directory, relativePath: request.path)
            ListingRenderer.sort(&entries, by: sort, order: order)
            return wantsJSON
                ? ListingRenderer.json(entries: entries)
                : ListingRenderer.html(entries: entries, displayPath: request.path, isRoot: request.path == "/")
        }
        let cacheKey = "\(request.path)\u{0}\(wantsJSON ? "json" : "html")\u{0}\(sort)\u{0}\(order)"
        let body = request.files?.rendered(cacheKey, in: request.site, render: render) ?? render()
        var response = Response(status: .ok, body: .bytes(body))
        response.contentType = wantsJSON ? "application/json; charset=utf-8" : "text/html; charset=utf-8"
        response.extraHeaders.append(("Cache-Control", "no-cache"))
        response.addGeneratedPageHeaders()
        return response
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
