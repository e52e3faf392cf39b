// RedirectPlugin: `{"type": "redirect", "from": "/old/*", "to": "/new/*",
// "status": 301}` (SPEC §4). A `*` at the end of `from` captures the rest of the
// path; each `*` in `to` inserts it (percent-encoded). The request's query string
// is appended unless `to` has its own. Any method is redirected.

/// Answers matching paths with a redirect.
struct RedirectPlugin: Middleware {
    let from: PathPattern
    /// `to` split at each `*`: the capture goes between the parts.
    let toParts: [String]
    let toHasQuery: Bool
    let status: HTTPStatus
    /// True when the first `*` of an absolute `to` comes right after its authority
    /// (`"https://docs.example*"`): a capture there must start a path, or it would
    /// extend the host (`@evil.example`, `:8080`, `.evil.example`).
    let captureFollowsAuthority: Bool

    static let statuses = [301, 302, 307, 308]

    static let type = PluginType(name: "redirect", keys: ["from", "to", "status"], parse: parse) {
        settings, _ in settings
    }

    static func parse(_ options: inout PluginOptions) -> RedirectPlugin? {
        let from = options.pattern("from", required: true)
        let to = options.string("to", required: true)
        var status = 301
        if let value = options.value("status") {
            if let code = value.intValue, statuses.contains(code) {
                status = code
            } else {
                options.report("status", "expected 301, 302, 307 or 308, got \(value.shortDescription)")
            }
        }
        if let to {
            if !isRedirectTarget(to) {
                options.report("to", "expected a path starting with \"/\" or an http:// or https:// URL,"
                               + " without spaces or control characters, got \(JSONValue.string(to).shortDescription)")
            } else if to.contains("*"), let from, !from.isPrefix {
                options.report("to", "\"*\" inserts what \"*\" in \"from\" captured, but \"from\" (\(from)) has no \"*\"")
            }
        }
        guard options.problems.isEmpty, let from, let to else { return nil }
        let parts = to.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        return RedirectPlugin(from: from, toParts: parts, toHasQuery: to.contains("?"), status: HTTPStatus(status),
                              captureFollowsAuthority: parts.count > 1 && Self.endsInAuthority(parts[0]))
    }

    /// True for `http://host` or `https://host:port` with nothing after the authority.
    static func endsInAuthority(_ prefix: String) -> Bool {
        guard let schemeEnd = prefix.firstRange(of: "://") else { return false }
        return !prefix[schemeEnd.upperBound...].contains(where: { $0 == "/" || $0 == "?" || $0 == "#" })
    }

    /// SECURITY: `to` becomes a Location header: no whitespace or control bytes (header
    /// splitting), and no scheme-relative `//host` that a browser would read as another site
    /// by accident; absolute redirects must name http or https.
    static func isRedirectTarget(_ to: String) -> Bool {
        guard to.utf8.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else { return false }
        if to.hasPrefix("//") { return false }
        if to.hasPrefix("/") { return true }
        for scheme in ["http://", "https://"] where to.lowercased().hasPrefix(scheme) {
            return to.utf8.count > scheme.utf8.count
        }
        return false
    }

    func respond(to request: Request, next: (Request) -> Response) -> Response {
        // A redirect is about the URL asked for, before any index rewrite.
        guard let captured = from.capture(request.requestedPath ?? request.path) else { return next(request) }
        var location = toParts[0]
        if toParts.count > 1 {
            // SECURITY: the capture is decoded path text; encode it again so it cannot add
            // a query, a fragment or bytes that are not allowed in a header.
            var encoded = PercentEncoding.encodePath(String(captured))
            // SECURITY: a capture must never change the target's authority
            // (`/docs@evil.example` → `https://docs.example@evil.example`): right after
            // an authority it always starts the path.
            if captureFollowsAuthority && !encoded.isEmpty && !encoded.hasPrefix("/") { encoded = "/" + encoded }
            for part in toParts.dropFirst() {
                location += encoded
                location += part
            }
            // SECURITY: `"to": "/*"` with a capture "/evil.example" would make the
            // scheme-relative "//evil.example", an open redirect to another host.
            while location.hasPrefix("//") { location.removeFirst() }
        }
        if !toHasQuery, let query = request.query { location += "?" + query }
        return .redirect(status, to: location)
    }
}
