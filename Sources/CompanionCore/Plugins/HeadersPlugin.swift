// HeadersPlugin: `{"type": "headers", "match": "/assets/*", "set": {name: value},
// "remove": [names]}` (SPEC §4): adds or replaces, then removes, response headers
// on every response for a matching path (all statuses, 304 included, like
// Caddy's `header`). Names and values are checked at load.

/// Sets and removes response headers for paths matching `match`.
struct HeadersPlugin: Middleware {
    /// Absent `match` means every path.
    let match: PathPattern?
    let set: [(name: String, value: String)]
    let remove: [String]

    static let type = PluginType(name: "headers", keys: ["match", "set", "remove"], parse: parse) {
        settings, _ in settings
    }

    static func parse(_ options: inout PluginOptions) -> HeadersPlugin? {
        let match = options.pattern("match")
        let set = options.stringMap(
            "set", expectedName: "a header name (letters, digits and !#$%&'*+-.^_`|~)",
            isValidName: HeaderSyntax.isFieldName,
            expectedValue: "a header value without control characters (CR, LF, NUL...)",
            isValidValue: HeaderSyntax.isFieldValue)
        let remove = options.stringList(
            "remove", expected: "a header name (letters, digits and !#$%&'*+-.^_`|~)", isValid: HeaderSyntax.isFieldName)
        if options.value("set") == nil && options.value("remove") == nil {
            options.report("set", "missing: a headers plugin needs \"set\", \"remove\" or both")
        }
        for (name, entryPath) in (set ?? []).map({ ($0.name, "set") }) + (remove ?? []).map({ ($0, "remove") })
        where HeaderSyntax.framingHeaders.contains(name.lowercased()) {
            options.report(entryPath, "\(name) is written by the server and cannot be changed by a plugin")
        }
        guard options.problems.isEmpty else { return nil }
        return HeadersPlugin(match: match, set: set ?? [], remove: remove ?? [])
    }

    func respond(to request: Request, next: (Request) -> Response) -> Response {
        var response = next(request)
        if let match, !request.matches(match) { return response }
        for (name, value) in set { response.setHeader(name, value) }
        for name in remove { response.removeHeader(name) }
        return response
    }
}
