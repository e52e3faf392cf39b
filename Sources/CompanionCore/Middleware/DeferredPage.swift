// DeferredPage: a generated page (a directory listing) that is rendered on the
// BackgroundQueue instead of the event loop. The middleware that makes it returns a
// Response with `deferred` set and no body; the connection parks that response (reading
// no further requests, so responses stay in order), the loop hands `render` to the queue
// (one job per page even when many connections ask for it at once), and when the page
// comes back through the loop's mailbox the loop caches it and every waiting connection
// fills its response in with `fill` and sends it.

/// A class, so that `Response.deferred` adds one pointer to every response (a response is
/// copied through each middleware stage; an inline struct of four fields measured +7% of
/// the loop's instructions per small-file request under callgrind).
final class DeferredPage: Sendable {
    /// The site and the key of the page in the loop's FileCache.
    let site: Site
    let cacheKey: String
    /// The request path of the listed directory (what the cached page depends on).
    let directory: String
    /// Runs on the background thread: must touch only Sendable, thread-safe state.
    let render: @Sendable () -> RenderedPage
    /// The page's key in FileCache (site and cache key), which also names its rendering in flight.
    var pageKey: FileCache.Key { FileCache.Key(site: ObjectIdentifier(site), path: cacheKey) }
    /// Puts the page into the parked response (body, coding, headers that depend on it).
    let fill: @Sendable (inout Response, RenderedPage) -> Void

    init(site: Site, cacheKey: String, directory: String, render: @escaping @Sendable () -> RenderedPage,
         fill: @escaping @Sendable (inout Response, RenderedPage) -> Void) {
        self.site = site
        self.cacheKey = cacheKey
        self.directory = directory
        self.render = render
        self.fill = fill
    }
}
