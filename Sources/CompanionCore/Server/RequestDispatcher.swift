// RequestDispatcher: from a parsed request head to a response, for one server state.
// Refuses bodies over the limit, answers `OPTIONS *`, picks the site by Host (or the
// absolute-form target's authority), normalises the path and runs the site's chain.
// Everything between the parser and the response finalizer that is about HTTP rather
// than about a connection lives here; the connection only moves bytes.

/// A response and what it means for the connection that asked.
struct DispatchedResponse {
    var response: Response
    /// The site that answered (nil when none was chosen: `OPTIONS *`, a refused body).
    var site: Site?
    /// False: this response is the connection's last (`Connection: close`).
    var keepAlive: Bool
    /// Body bytes that follow the head and are skipped unread.
    var bodyToSkip: Int
    /// The body was refused before it was read, so the client may still be sending it:
    /// close with a lingering close.
    var linger: Bool
}

enum RequestDispatcher {
    static func dispatch(_ head: RequestHead, client: String, state: ServerState, files: FileCache,
                         stopping: Bool) -> DispatchedResponse {
        var keepAlive = head.isKeepAlive && !stopping
        if head.contentLength > state.config.limits.maxBodyBytes {
            return DispatchedResponse(response: .error(.contentTooLarge), site: nil, keepAlive: false,
                                      bodyToSkip: 0, linger: true)
        }
        if head.isAsteriskForm {
            var response = Response(status: .noContent)
            response.extraHeaders.append(("Allow", StaticFileMiddleware.allow))
            return DispatchedResponse(response: response, site: nil, keepAlive: keepAlive,
                                      bodyToSkip: head.contentLength, linger: false)
        }
        let siteIndex: Int
        if let hostRange = head.routingHostBytes {
            siteIndex = head.bytes.withUnsafeBufferPointer {
                state.router.route(hostHeader: UnsafeBufferPointer(rebasing: $0[hostRange]))
            }
        } else {
            siteIndex = state.config.defaultSiteIndex
        }
        let site = state.sites[siteIndex]
        let rawPath = head.bytes[head.path]
        let normalized = rawPath.isEmpty ? Result<String, HTTPStatus>.success("/") : PathNormalizer.normalize(rawPath)
        let response: Response
        switch normalized {
        case .failure(let status):
            response = .error(status)
            keepAlive = keepAlive && status != .badRequest
        case .success(let path):
            response = site.chain.respond(to: Request(head: head, path: path, site: site, client: client, files: files))
            if response.closesConnection { keepAlive = false }
        }
        return DispatchedResponse(response: response, site: site, keepAlive: keepAlive,
                                  bodyToSkip: head.contentLength, linger: false)
    }
}
