// IndexMiddleware: a GET/HEAD for "/dir/" is served as its first index file (`index`,
// default ["index.html"]) that exists, by rewriting the path before the plugins run, so
// every plugin sees the path of what is finally served (a basicAuth rule for
// "/private/index.html" was bypassed by "GET /private/", because the index used to be
// added after the plugins). The path asked for stays in `requestedPath`. A directory
// without an index file goes on as "/dir/" (to the listing, or 403).

struct IndexMiddleware: Middleware {
    let indexNames: [String]

    func respond(to request: Request, next: (Request) -> Response) -> Response {
        guard request.isGetOrHead, request.hasTrailingSlash else { return next(request) }
        for name in indexNames {
            let candidate = request.path + name
            let result = request.files?.lookup(candidate, in: request.site).result ?? request.site.resolver.open(candidate)
            switch result {
            case .success(let file) where file.isDirectory: continue
            case .failure(.notFound): continue
            case .success, .failure:
                // A file, or one that exists but cannot be read now (403/503): serve that.
                var rewritten = request
                rewritten.requestedPath = request.path
                rewritten.path = candidate
                return next(rewritten)
            }
        }
        return next(request)
    }
}
