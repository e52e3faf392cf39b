// SPAFallbackPlugin: `{"type": "spaFallback", "to": "/index.html"}` (SPEC §4).
// A GET/HEAD for a missing path (the inner stages answered 404) whose last
// segment has no "." is answered with the fallback file, status 200, through
// the same inner stages (so it is found by the root-contained resolver and
// compressed like any file). Missing assets such as /app.js stay 404.

/// Serves a single-page app's entry file for client-side routes.
struct SPAFallbackPlugin: Middleware {
    /// The normalised path of the fallback file.
    let to: String

    static let type = PluginType(name: "spaFallback", keys: ["to"], parse: parse) { settings, _ in settings }

    static func parse(_ options: inout PluginOptions) -> SPAFallbackPlugin? {
        guard options.value("to") != nil else { return options.problems.isEmpty ? SPAFallbackPlugin(to: "/index.html") : nil }
        guard let pattern = options.pattern("to") else { return nil }
        if pattern.isPrefix || pattern.prefix.hasSuffix("/") {
            options.report("to", "expected the path of a file such as \"/index.html\", got \"\(pattern)\"")
        }
        guard options.problems.isEmpty else { return nil }
        return SPAFallbackPlugin(to: pattern.prefix)
    }

    func respond(to request: Request, next: (Request) -> Response) -> Response {
        let response = next(request)
        guard response.status == .notFound, request.isGetOrHead, Self.looksLikeRoute(request.path) else {
            return response
        }
        var fallback = request
        fallback.path = to
        let answer = next(fallback)
        return answer.status == .ok ? answer : response
    }

    /// True when the last segment has no "." (`/users/42`, `/settings/`), false for
    /// `/app.js` or `/img/logo.png`.
    static func looksLikeRoute(_ path: String) -> Bool {
        let lastSegment = path.utf8.reversed().prefix { $0 != UInt8(ascii: "/") }
        return !lastSegment.contains(UInt8(ascii: "."))
    }
}
