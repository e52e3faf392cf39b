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
        let site = request.site
        let candidate = if let files = request.files {
            indexFile(of: request.path) { files.lookup($0, in: site).result }?.path
        } else {
            indexFile(of: request.path) { site.resolver.open($0) }?.path
        }
        guard let candidate else { return next(request) }
        var rewritten = request
        rewritten.requestedPath = request.path
        rewritten.path = candidate
        return next(rewritten)
    }

    /// The index file served for the directory path `path` (ending in "/"): the first name
    /// that `open` finds as anything but a directory or nothing (a file, or one that exists but
    /// cannot be read now, 403/503: that is served), with what `open` answered. nil: none.
    func indexFile<Answer>(of path: String, open: (String) -> Answer) -> (path: String, answer: Answer)?
        where Answer: IndexCandidateAnswer {
        for name in indexNames {
            let candidate = path + name
            let answer = open(candidate)
            switch answer.resolution {
            case .success(let file) where file.isDirectory: continue
            case .failure(.notFound): continue
            case .success, .failure: return (candidate, answer)
            }
        }
        return nil
    }
}

/// What `IndexMiddleware.indexFile` looks at in an answer: a resolution, or a cache entry
/// (which holds one).
protocol IndexCandidateAnswer {
    var resolution: Result<OpenFile, ResolveFailure> { get }
}

extension Result: IndexCandidateAnswer where Success == OpenFile, Failure == ResolveFailure {
    var resolution: Result<OpenFile, ResolveFailure> { self }
}

extension FileCache.Entry: IndexCandidateAnswer {
    var resolution: Result<OpenFile, ResolveFailure> { result }
}
