// AdminEndpoints: what the admin listener answers (SPEC §7). It is a listener of its own,
// never one of the public ones, so these paths cannot be reached through a site: `/metrics`
// (Prometheus text), `/healthz` (200 while serving, 503 once shutting down), `/dashboard`
// and `/dashboard/events` (the live report, see Dashboard; 404 without an access log). Admin
// requests are neither access-log rows nor counted in the request metrics, so a scraper
// does not measure itself.

enum AdminEndpoints {
    static let allow = "GET, HEAD"

    static func respond(to head: RequestHead, path: String, state: ServerState, stopping: Bool) -> Response {
        let rawQuery = head.query.map { String(decoding: head.bytes[$0], as: UTF8.self) } ?? ""
        switch head.method {
        case .get, .head: break
        default:
            var response = Response.error(.methodNotAllowed)
            response.extraHeaders.append(("Allow", allow))
            return response
        }
        switch path {
        case "/metrics":
            guard let metrics = state.metrics else { return .error(.notFound) }
            return text(MetricsText.render(metrics, state: state), contentType: MetricsText.contentType)
        case "/dashboard", "/dashboard/":
            guard let dashboard = state.dashboard else { return .error(.notFound) }
            return dashboard.page(rawQuery: rawQuery)
        case "/dashboard/events":
            guard let dashboard = state.dashboard else { return .error(.notFound) }
            let lastEventID = head.value(named: "last-event-id").map { String(decoding: $0, as: UTF8.self) }
            return dashboard.events(rawQuery: rawQuery, lastEventID: lastEventID)
        case "/healthz":
            if stopping {
                var response = text("stopping\n")
                response.status = .serviceUnavailable
                return response
            }
            return text("ok\n")
        default:
            return .error(.notFound)
        }
    }

    private static func text(_ body: String, contentType: String = "text/plain; charset=utf-8") -> Response {
        var response = Response(status: .ok, body: .bytes(Array(body.utf8)))
        response.contentType = contentType
        response.extraHeaders.append(("Cache-Control", "no-store"))
        return response
    }
}
