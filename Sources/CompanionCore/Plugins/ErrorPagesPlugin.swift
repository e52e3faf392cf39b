// ErrorPagesPlugin: `{"type": "errorPages", "pages": {"404": "/404.html"}}`
// (SPEC §4). When the inner stages answer one of the listed statuses, the body
// becomes the site's own page; the status is kept.
//
// SECURITY: pages are read once, when the site's chain is built (start-up and
// SIGHUP), through the site's root-contained resolver: a storm of 404s never
// touches the disk (static-web-server read its page from disk on every 404, an
// amplifier for a stream of them), and a page cannot be a symlink out of the root
// or a dotfile. A page that cannot be
// read fails the start (or the reload) with its key path. Statuses decided
// before or after the chain (malformed requests, 304, 412, 416) keep the
// built-in page.

/// Replaces the body of error responses with pre-loaded pages.
struct ErrorPagesPlugin: Middleware {
    struct Page: Sendable {
        var contentType: String
        var body: [UInt8]
    }

    /// Pages larger than this are refused at load: an error page is small.
    static let maxPageBytes = 1 << 20

    let pages: [Int: Page]

    struct Settings: Sendable {
        /// Status code, path, and the key path that names it in errors.
        var pages: [(status: Int, path: String, keyPath: String)]
    }

    static let type = PluginType(name: "errorPages", keys: ["pages"], parse: parse, build: build)

    static func parse(_ options: inout PluginOptions) -> Settings? {
        guard let value = options.value("pages") else {
            options.reportMissing("pages")
            return nil
        }
        guard let entries = value.objectValue, !entries.isEmpty else {
            options.report("pages", "expected an object such as {\"404\": \"/404.html\"}, got \(value.shortDescription)")
            return nil
        }
        var pages: [(status: Int, path: String, keyPath: String)] = []
        for (key, member) in entries {
            let keyPath = ConfigProblem.keyPath(options.path("pages"), key)
            guard key.utf8.count == 3, let status = Int(key), (400...599).contains(status) else {
                options.validator.report(keyPath, "expected an error status from \"400\" to \"599\" as the key")
                continue
            }
            guard let text = member.stringValue, let pattern = PathPattern(text), !pattern.isPrefix,
                  !text.hasSuffix("/") else {
                options.validator.report(keyPath, "expected the path of a file such as \"/404.html\", got \(member.shortDescription)")
                continue
            }
            pages.append((status, pattern.prefix, keyPath))
        }
        return options.problems.isEmpty ? Settings(pages: pages) : nil
    }

    static func build(_ settings: Settings, _ context: PluginContext) throws -> any Middleware {
        var pages: [Int: Page] = [:]
        for (status, path, keyPath) in settings.pages {
            guard case .success(let file) = context.resolver.open(path), file.isRegularFile else {
                throw ConfigProblem(path: keyPath, message: "cannot read \(path) in the site root (missing, hidden or outside the root)")
            }
            guard file.size <= maxPageBytes, let body = file.readAll(limit: maxPageBytes) else {
                throw ConfigProblem(path: keyPath, message: "\(path) is larger than \(maxPageBytes) bytes or unreadable")
            }
            pages[status] = Page(contentType: MIMETypes.contentType(forPath: path), body: body)
        }
        return ErrorPagesPlugin(pages: pages)
    }

    func respond(to request: Request, next: (Request) -> Response) -> Response {
        let response = next(request)
        guard let page = pages[response.status.code] else { return response }
        var custom = Response(status: response.status, body: .bytes(page.body))
        custom.contentType = page.contentType
        // Keep what inner stages said about the error (Allow, WWW-Authenticate, ...), but not
        // the CSP written for the built-in page: the site's own page may load its styles.
        custom.extraHeaders = response.extraHeaders.filter { $0.name.lowercased() != "content-security-policy" }
        custom.location = response.location
        return custom
    }
}
