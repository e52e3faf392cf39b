// Chain: the only place that knows the order of the stages (SPEC §4):
//
//   1. access log   (AccessLogRecorder, wrapped around the chain by the connection:
//                    a row needs the final status and the bytes actually sent)
//   2. index        (IndexMiddleware: "/dir/" → "/dir/index.html" when that exists)
//   3. plugins      (the site's `plugins`, in config order)
//   4. gzip         (GzipMiddleware: negotiation, cache, sidecars)
//   5. listing      (ListingMiddleware: "/dir/" → HTML or JSON listing)
//   6. static files (StaticFileMiddleware: the terminal stage)
//
// Deviation from SPEC §4's order (index after gzip): the index path is chosen before
// the plugins, as nginx re-matches its locations after `index`, so a plugin pattern sees
// the path that is served (issue 9 #9). Plugins also match the path asked for
// (`Request.matches`), and a redirect only that one.
//
// After the chain, ResponseFinalizer applies conditionals, ranges and HEAD.

/// A site's composed stages. Built once per site at config load.
public struct Chain: Sendable {
    let stages: [any Middleware]

    /// Composes the stages in SPEC §4 order.
    init(plugins: [any Middleware], gzip: (any Middleware)?,
         index: any Middleware, listing: (any Middleware)?, staticFiles: any Middleware) {
        var stages: [any Middleware] = [index]
        stages.append(contentsOf: plugins)
        if let gzip { stages.append(gzip) }
        if let listing { stages.append(listing) }
        stages.append(staticFiles)
        self.stages = stages
    }

    /// Runs the request through every stage, outermost first.
    func respond(to request: Request) -> Response {
        run(request, from: 0)
    }

    private func run(_ request: Request, from index: Int) -> Response {
        if index == stages.count - 1 {
            return stages[index].respond(to: request) { _ in Response.error(.notFound) }
        }
        return stages[index].respond(to: request) { run($0, from: index + 1) }
    }
}
