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
// the path that is served. Plugins also match the path asked for
// (`Request.matches`), and a redirect only that one.
//
// After the chain, ResponseFinalizer applies conditionals, ranges and HEAD.

/// A site's composed stages. Built once per site at config load.
///
/// The built-in stages are held by their concrete types and called directly; only the
/// plugins go through `any Middleware`. A class: Site holds it, and reading a struct of
/// five fields from the Site copied (retained) every one of them on each request.
public final class Chain: Sendable {
    let index: IndexMiddleware
    let plugins: [any Middleware]
    let gzip: GzipMiddleware?
    let listing: ListingMiddleware?
    let staticFiles: StaticFileMiddleware

    /// Composes the stages in SPEC §4 order.
    init(plugins: [any Middleware], gzip: GzipMiddleware?,
         index: IndexMiddleware, listing: ListingMiddleware?, staticFiles: StaticFileMiddleware) {
        self.index = index
        self.plugins = plugins
        self.gzip = gzip
        self.listing = listing
        self.staticFiles = staticFiles
    }

    /// Runs the request through every stage, outermost first.
    func respond(to request: Request) -> Response {
        index.respond(to: request) { runPlugins($0, from: 0) }
    }

    private func runPlugins(_ request: Request, from position: Int) -> Response {
        if position == plugins.count { return compress(request) }
        return plugins[position].respond(to: request) { runPlugins($0, from: position + 1) }
    }

    private func compress(_ request: Request) -> Response {
        guard let gzip else { return list(request) }
        return gzip.respond(to: request) { list($0) }
    }

    private func list(_ request: Request) -> Response {
        guard let listing else { return serve(request) }
        return listing.respond(to: request) { serve($0) }
    }

    private func serve(_ request: Request) -> Response {
        staticFiles.respond(to: request) { _ in Response.error(.notFound) }
    }
}
