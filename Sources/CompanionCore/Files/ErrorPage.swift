// ErrorPage: the built-in body for error statuses (SPEC §3 Errors): the status code
// and reason phrase, nothing else. Custom bodies come from the errorPages plugin.

/// The default HTML body of an error response.
public enum ErrorPage {
    /// A short HTML page naming the status, e.g. "404 Not Found".
    ///
    /// SECURITY: the page is built from the status alone, never from a path, a header
    /// or an errno text, so it cannot reflect input or reveal the file system. Serve it with
    /// `ListingRenderer.contentSecurityPolicy` and `X-Content-Type-Options: nosniff`.
    /// Pages for the statuses companion sends are rendered once and reused.
    public static func html(_ status: HTTPStatus) -> [UInt8] {
        if let page = rendered[status.code] { return page }
        return render(status)
    }

    private static let rendered: [Int: [UInt8]] = {
        var pages: [Int: [UInt8]] = [:]
        for code in [400, 401, 403, 404, 405, 408, 412, 413, 414, 416, 421, 431, 500, 501, 503, 505] {
            pages[code] = render(HTTPStatus(code))
        }
        return pages
    }()

    private static func render(_ status: HTTPStatus) -> [UInt8] {
        var title: [UInt8] = []
        ListingEscaper.appendHTMLText(status.description.utf8, into: &title)
        var out: [UInt8] = []
        out.reserveCapacity(200)
        out.append(contentsOf: "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>".utf8)
        out.append(contentsOf: title)
        out.append(contentsOf: "</title>\n</head>\n<body>\n<h1>".utf8)
        out.append(contentsOf: title)
        out.append(contentsOf: "</h1>\n<hr>\n<p>companion</p>\n</body>\n</html>\n".utf8)
        return out
    }
}
