// StaticFileMiddleware: the terminal stage. Answers OPTIONS and 405, resolves the
// path through the site's root-contained PathResolver, redirects directories
// without a slash, refuses directories with one (index and listing came first),
// and returns files as full 200 representations with their validators.

/// The innermost stage: files from the site root.
struct StaticFileMiddleware: Middleware {
    static let allow = "GET, HEAD, OPTIONS"

    func respond(to request: Request, next: (Request) -> Response) -> Response {
        switch request.method {
        case .get, .head:
            break
        case .options:
            var response = Response(status: .noContent)
            response.extraHeaders.append(("Allow", Self.allow))
            return response
        case .other:
            var response = Response.error(.methodNotAllowed)
            response.extraHeaders.append(("Allow", Self.allow))
            return response
        }
        let entry = request.files?.lookup(request.path, in: request.site)
            ?? FileCache.Entry(result: request.site.resolver.open(request.path), path: request.path, expiresAt: 0)
        let file: OpenFile
        switch entry.result {
        case .success(let opened): file = opened
        case .failure(.forbidden): return .error(.forbidden)
        case .failure(.notFound): return .error(.notFound)
        case .failure(.unavailable): return Self.unavailable()
        }
        if file.isDirectory {
            if request.hasTrailingSlash { return .error(.forbidden) }
            return Self.slashRedirect(request)
        }
        guard file.isRegularFile else { return .error(.forbidden) }
        return Self.fileResponse(file, path: request.path, contentType: entry.contentType, etag: entry.etag)
    }

    /// 503 for a lookup that failed for lack of descriptors or memory: the file may well
    /// exist, so the client is told to come back, not that it is gone.
    static func unavailable() -> Response {
        var response = Response.error(.serviceUnavailable)
        response.extraHeaders.append(("Retry-After", "1"))
        return response
    }

    /// A 200 representation of `file` with its type and validators.
    static func fileResponse(_ file: OpenFile, path: String) -> Response {
        fileResponse(file, path: path, contentType: MIMETypes.contentType(forPath: path),
                     etag: ETag.make(size: file.size, mtimeSeconds: file.mtimeSeconds, mtimeNanoseconds: file.mtimeNanoseconds))
    }

    static func fileResponse(_ file: OpenFile, path: String, contentType: String, etag: String) -> Response {
        Response(file: file, path: path, contentType: contentType, etag: etag)
    }

    /// 301 to the same path with "/" (query kept). SECURITY: the Location is an
    /// absolute-path reference built from the normalised path, never from Host, and it
    /// cannot start with "//" because normalisation collapsed repeated slashes.
    static func slashRedirect(_ request: Request) -> Response {
        var location = PercentEncoding.encodePath(request.path) + "/"
        if let query = request.query { location += "?" + query }
        return .redirect(.movedPermanently, to: location)
    }
}
