// CORSPlugin: `{"type": "cors", "origins": ["https://app.example"] | "*",
// "methods": ["GET"], "headers": ["X-Token"], "maxAge": 600, "match": "/api/*"}`
// (SPEC §4, Fetch standard §3.2 "CORS protocol"):
//   - a request with an allowed Origin gets Access-Control-Allow-Origin ("*" or
//     the origin itself, then with Vary: Origin);
//   - a preflight (OPTIONS with Origin and Access-Control-Request-Method) from an
//     allowed origin is answered 204 here with the allowed methods, headers and
//     max age; other origins fall through to the normal OPTIONS answer, without
//     CORS headers, so the browser refuses.
// `methods` defaults to GET, HEAD; `headers` and `maxAge` are sent only when set.

/// Cross-origin headers for matching paths.
struct CORSPlugin: Middleware {
    let match: PathPattern?
    /// nil = any origin ("*").
    let origins: [(text: String, bytes: [UInt8])]?
    let allowMethods: String
    let allowHeaders: String?
    let maxAge: String?

    static let type = PluginType(name: "cors", keys: ["origins", "methods", "headers", "maxAge", "match"],
                                 parse: parse) { settings, _ in settings }

    static func parse(_ options: inout PluginOptions) -> CORSPlugin? {
        let match = options.pattern("match")
        var origins: [String]?
        switch options.value("origins") {
        case nil:
            options.reportMissing("origins")
        case .string("*"):
            origins = nil
        case .string(let other):
            options.report("origins", "expected \"*\" or a list of origins such as [\"https://app.example\"],"
                           + " got \(JSONValue.string(other).shortDescription)")
        default:
            origins = options.stringList("origins", expected: "an origin such as \"https://app.example:8443\""
                                         + " (scheme, host and optional port, no path)", isValid: isOrigin)
        }
        let token = "a token such as \"GET\" or \"X-Requested-With\""
        let methods = options.stringList("methods", expected: token, isValid: HeaderSyntax.isFieldName)
        let headers = options.stringList("headers", expected: token, isValid: HeaderSyntax.isFieldName)
        let maxAge = options.integer("maxAge", in: 0...86_400 * 365)
        guard options.problems.isEmpty else { return nil }
        return CORSPlugin(
            match: match,
            origins: origins.map { $0.map { (text: $0.lowercased(), bytes: Array($0.lowercased().utf8)) } },
            allowMethods: (methods ?? ["GET", "HEAD"]).joined(separator: ", "),
            allowHeaders: headers.flatMap { $0.isEmpty ? nil : $0.joined(separator: ", ") },
            maxAge: maxAge.map(String.init))
    }

    /// `scheme://host[:port]`, http or https, nothing after the authority (an Origin
    /// header never has a path, RFC 6454 §6.1).
    static func isOrigin(_ text: String) -> Bool {
        let lower = text.lowercased()
        for scheme in ["http://", "https://"] where lower.hasPrefix(scheme) {
            let authority = lower.utf8.dropFirst(scheme.utf8.count)
            return !authority.isEmpty && authority.allSatisfy { byte in
                byte > 0x20 && byte < 0x7F && !"/?#@\\\"".utf8.contains(byte)
            }
        }
        return false
    }

    func respond(to request: Request, next: (Request) -> Response) -> Response {
        if let match, !request.matches(match) { return next(request) }
        guard let origin = request.header(.origin) else {
            var response = next(request)
            if origins != nil { response.addHeader("Vary", "Origin") }
            return response
        }
        let allowed = allowedOrigin(origin)
        if let allowed, request.method == .options, request.header(.accessControlRequestMethod) != nil {
            var preflight = Response(status: .noContent)
            addOriginHeaders(to: &preflight, allowed)
            preflight.addHeader("Access-Control-Allow-Methods", allowMethods)
            if let allowHeaders { preflight.addHeader("Access-Control-Allow-Headers", allowHeaders) }
            if let maxAge { preflight.addHeader("Access-Control-Max-Age", maxAge) }
            return preflight
        }
        var response = next(request)
        if let allowed {
            addOriginHeaders(to: &response, allowed)
        } else if origins != nil {
            response.addHeader("Vary", "Origin")
        }
        return response
    }

    /// The value for Access-Control-Allow-Origin, or nil when `origin` is not allowed.
    /// Compared byte for byte, ASCII case-insensitively, without building a String.
    func allowedOrigin(_ origin: ArraySlice<UInt8>) -> String? {
        guard let origins else { return "*" }
        for candidate in origins where candidate.bytes.count == origin.count {
            if zip(candidate.bytes, origin).allSatisfy({ $0 == Self.lowercased($1) }) { return candidate.text }
        }
        return nil
    }

    private func addOriginHeaders(to response: inout Response, _ allowed: String) {
        response.setHeader("Access-Control-Allow-Origin", allowed)
        // A response that names one origin differs by Origin: shared caches must know.
        if origins != nil { response.addHeader("Vary", "Origin") }
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }
}
