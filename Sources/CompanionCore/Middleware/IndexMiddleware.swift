// IndexMiddleware: a GET/HEAD for "/dir/" is answered with the first index file
// (`index`, default ["index.html"]) that the inner stages can serve.

struct IndexMiddleware: Middleware {
    let indexNames: [String]

    func respond(to request: Request, next: (Request) -> Response) -> Response {
        guard request.isGetOrHead, request.hasTrailingSlash else { return next(request) }
        for name in indexNames {
            var candidate = request
            candidate.path = request.path + name
            let response = next(candidate)
            if response.status != .notFound { return response }
        }
        return next(request)
    }
}
