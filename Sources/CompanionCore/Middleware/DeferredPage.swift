// DeferredPage: a generated page (a directory listing) that is rendered on the
// BackgroundQueue instead of the event loop. The middleware that makes it returns a
// Response with `deferred` set and no body; the connection parks that response (reading
// no further requests, so responses stay in order), the loop hands `render` to the queue
// (one job per page even when many connections ask for it at once), and when the page
// comes back through the loop's mailbox the loop caches it and every waiting connection
// fills its response in with `fill` and sends it.

struct DeferredPage: Sendable {
    /// The site and the key of the page in the loop's FileCache (`rendered`).
    let site: Site
    let cacheKey: String
    /// Runs on the background thread: must touch only Sendable, thread-safe state.
    let render: @Sendable () -> RenderedPage
    /// Puts the page into the parked response (body, coding, headers that depend on it).
    let fill: @Sendable (inout Response, RenderedPage) -> Void
}
