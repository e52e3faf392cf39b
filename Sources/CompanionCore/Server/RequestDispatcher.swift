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

/// What the connection knows about its transport that changes an answer.
struct ConnectionSecurity {
    /// The request came over TLS.
    var isSecure: Bool
    /// The site the TLS client's SNI named; -1 for none, an unknown name or plain HTTP.
    var serverNameSite: Int
    /// A trusted proxy said the client used https (X-Forwarded-Proto).
    var forwardedHTTPS: Bool

    /// The client's scheme is https: on this connection, or before a trusted proxy.
    var isHTTPS: Bool { isSecure || forwardedHTTPS }

    static let plain = ConnectionSecurity(isSecure: false, serverNameSite: -1, forwardedHTTPS: false)
}

enum RequestDispatcher {
    static func dispatch(_ head: RequestHead, client: String, state: ServerState, files: FileCache,
                         stopping: Bool, security: ConnectionSecurity = .plain) -> DispatchedResponse {
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
        let siteIndex = self.siteIndex(head, state: state)
        let site = state.sites[siteIndex]
        var response: Response
        switch normalizedPath(head) {
        case .failure(let status):
            response = .error(status)
            keepAlive = keepAlive && status != .badRequest
        case .success(let path):
            if let transportAnswer = answerForTransport(head, path: path, site: site, siteIndex: siteIndex,
                                                        state: state, security: security) {
                response = transportAnswer
            } else {
                response = site.chain.respond(to: Request(head: head, path: path, site: site, client: client, files: files))
                if response.closesConnection { keepAlive = false }
            }
        }
        if security.isHTTPS, let hsts = site.config.hsts {
            response.extraHeaders.append(("Strict-Transport-Security", hsts))
        }
        return DispatchedResponse(response: response, site: site, keepAlive: keepAlive,
                                  bodyToSkip: head.contentLength, linger: false)
    }
}

extension RequestDispatcher {
    /// The site `head` is for: by Host (or the absolute-form target's authority), else the default.
    static func siteIndex(_ head: RequestHead, state: ServerState) -> Int {
        siteIndex(head, state: state) { state.router.route(hostHeader: $0) }
    }

    /// `siteIndex` with the Host's bytes routed by `route` (a connection's RoutingMemo).
    @inline(__always)
    static func siteIndex(_ head: RequestHead, state: ServerState, route: (UnsafeBufferPointer<UInt8>) -> Int) -> Int {
        guard let hostRange = head.routingHostBytes else { return state.config.defaultSiteIndex }
        return head.bytes.withUnsafeBufferPointer { route(UnsafeBufferPointer(rebasing: $0[hostRange])) }
    }

    /// The target's path, percent-decoded and normalised ("/" for an empty one), or the error status.
    static func normalizedPath(_ head: RequestHead) -> Result<String, HTTPStatus> {
        let range = head.path
        if range.isEmpty { return .success("/") }
        return head.bytes.withUnsafeBufferPointer { PathNormalizer.normalize(UnsafeBufferPointer(rebasing: $0[range])) }
    }

    /// A plain request for a file or a missing path (ResponseTemplate.swift): the template to
    /// answer with and the file (nil for a 404), or the cache entry a template is to be
    /// written for.
    enum PlainRequest {
        case template(ResponseTemplate, OpenFile?, Site)
        case noTemplateYet(FileCache.Entry)
    }

    /// Whether `head` is a plain request for a file, or for a path that does not exist, of a
    /// site without plugins; nil sends it through `dispatch`. The caller checks what only the
    /// connection knows (no trusted proxies, not the admin listener).
    ///
    /// Inlined into its one caller: returned from a call, the enum was copied and destroyed
    /// through outlined helpers (~65 instructions a request under callgrind).
    @inline(__always)
    static func plainRequest(_ head: RequestHead, state: ServerState, files: FileCache,
                             security: ConnectionSecurity, routing: inout RoutingMemo) -> PlainRequest? {
        // Without a cache (ttl 0) every lookup is a new entry: nothing to keep a template on.
        guard files.ttlMilliseconds > 0, ResponseTemplate.isPlain(head) else { return nil }
        let siteIndex = self.siteIndex(head, state: state) { host in
            routing.siteIndex(for: host, state: state) { state.router.route(hostHeader: host) }
        }
        let site = state.sites[siteIndex]
        guard site.chain.plugins.isEmpty else { return nil }
        // A memo hit answers without the path String; a miss makes it.
        var remembered: FileCache.Entry?
        let path: String?
        let isDirectory: Bool
        let isChallengePath: Bool
        if let hit = head.bytes.withUnsafeBufferPointer({ files.memoized(UnsafeBufferPointer(rebasing: $0[head.path]), in: site) }) {
            (path, remembered, isDirectory, isChallengePath) = (nil, hit.entry, hit.isDirectory, hit.isChallengePath)
        } else {
            guard case .success(let normalized) = normalizedPath(head) else { return nil }
            (path, isDirectory, isChallengePath) = (normalized, PathNormalizer.endsInSlash(normalized),
                                                   normalized.hasPrefix(ACMEChallenges.pathPrefix))
        }
        guard !transportMayAnswer(site: site, siteIndex: siteIndex, state: state, security: security,
                                  isChallengePath: isChallengePath)
        else { return nil }
        if remembered == nil, let path {
            // A directory's path is answered by its index file when it has one, as the index
            // stage does (and without one by a listing or a 403: the full way).
            remembered = isDirectory
                ? site.chain.index.indexFile(of: path) { files.lookup($0, in: site) }?.answer
                : files.lookup(path, in: site)
            // Remembered when the request's path bytes are the normalised path (FileCache+Memo).
            if let found = remembered,
               head.bytes.withUnsafeBufferPointer({ ExactPath.equal(UnsafeBufferPointer(rebasing: $0[head.path]), path) }) {
                files.memoize(path, entry: found, in: site)
            }
        }
        guard let entry = remembered else { return nil }
        let file: OpenFile?
        switch entry.result {
        case .success(let opened) where opened.isRegularFile: file = opened
        case .failure(.notFound) where !isDirectory: file = nil
        default: return nil
        }
        if let template = entry.template, template.isFor(site, https: security.isHTTPS),
           head.knownSeen & HeaderName.acceptEncoding.bit == 0
            || template.answers(acceptEncoding: head.value(.acceptEncoding), entry: entry) {
            return .template(template, file, site)
        }
        // A template may come from a request that accepts encodings too: the connection keeps
        // only an identity answer (`keepTemplate`), and the gzip stage makes that the same
        // whatever the request accepts.
        return .noTemplateYet(entry)
    }
}

extension RequestDispatcher {
    /// A request on the admin listener: /metrics and /healthz (AdminEndpoints), never a site.
    static func dispatchAdmin(_ head: RequestHead, state: ServerState, stopping: Bool) -> DispatchedResponse {
        if head.contentLength > 0 || head.isAsteriskForm {
            return DispatchedResponse(response: .error(.badRequest), site: nil, keepAlive: false, bodyToSkip: 0, linger: true)
        }
        let rawPath = head.bytes[head.path]
        let path = rawPath.isEmpty ? "/" : String(decoding: rawPath, as: UTF8.self)
        let response = AdminEndpoints.respond(to: head, path: path, state: state, stopping: stopping)
        return DispatchedResponse(response: response, site: nil, keepAlive: head.isKeepAlive && !stopping,
                                  bodyToSkip: 0, linger: false)
    }

    /// Answers that depend on how the request arrived rather than on the site's files
    /// (SPEC §6): an ACME HTTP-01 challenge on plain HTTP, the 421 of a Host that routes to
    /// another site than the TLS SNI named, the 308 of a site with `httpsRedirect`.
    static func answerForTransport(_ head: RequestHead, path: String, site: Site, siteIndex: Int, state: ServerState,
                                   security: ConnectionSecurity) -> Response? {
        let isChallengePath = path.hasPrefix(ACMEChallenges.pathPrefix)
        guard transportMayAnswer(site: site, siteIndex: siteIndex, state: state, security: security,
                                 isChallengePath: isChallengePath)
        else { return nil }
        if security.isSecure { return .error(.misdirectedRequest) }
        if let challenges = state.challenges, isChallengePath {
            if let answer = challenges.answer(forPath: path) {
                var response = Response(status: .ok, body: .bytes(Array(answer.utf8)))
                response.contentType = "application/octet-stream"
                return response
            }
            return .error(.notFound)
        }
        // What is left of `transportMayAnswer`: a site with `httpsRedirect`.
        var location = "https://" + (head.routingHost.map { $0.isEmpty ? site.name : $0 } ?? site.name) + state.httpsPortSuffix
        location += head.path.isEmpty ? "/" : String(decoding: head.bytes[head.path], as: UTF8.self)
        if let query = head.query { location += "?" + String(decoding: head.bytes[query], as: UTF8.self) }
        return .redirect(.permanentRedirect, to: location)
    }

    /// Whether `answerForTransport` answers a request for a path under the ACME challenge
    /// prefix or not (`isChallengePath`): the plain path asks this without the path String.
    /// On TLS, a Host routed to another site than the SNI named (421); on plain HTTP (not
    /// forwarded as https, where no redirect is due), a challenge path while challenges
    /// are served, or any path of a site with `httpsRedirect`.
    @inline(__always)
    static func transportMayAnswer(site: Site, siteIndex: Int, state: ServerState, security: ConnectionSecurity,
                                   isChallengePath: Bool) -> Bool {
        if security.isSecure { return security.serverNameSite >= 0 && security.serverNameSite != siteIndex }
        if security.forwardedHTTPS { return false }
        if state.challenges != nil && isChallengePath { return true }
        return site.config.httpsRedirect
    }
}
