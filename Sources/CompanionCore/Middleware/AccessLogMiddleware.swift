// AccessLogMiddleware: the outermost stage when `accessLog` is configured. It
// captures the request-side fields of the access-log record (as received, before
// any plugin rewrites the path) and the encoding the inner stages chose. The
// connection completes the record with the final status, the body bytes actually
// sent and the duration, then hands it to the AccessLogWriter.

struct AccessLogMiddleware: Middleware {
    func respond(to request: Request, next: (Request) -> Response) -> Response {
        var response = next(request)
        response.logRecord = Self.record(for: request.head, site: request.site, client: request.client,
                                         encoding: response.contentEncoding)
        return response
    }

    /// The record for `head`; time, status, bytes and duration are filled in later.
    /// The request's text fields stay bytes (`raw`) until the writer thread stores them.
    static func record(for head: RequestHead, site: Site?, client: String, encoding: String?) -> AccessLogRecord {
        var record = AccessLogRecord(timeMicros: 0, client: client, status: 0, bytes: 0, durationMicros: 0)
        record.site = site?.name
        record.protocolVersion = head.versionMinor == 0 ? "HTTP/1.0" : "HTTP/1.1"
        record.encoding = encoding
        record.raw = RawRequestFields(
            head: head.bytes,
            host: head.firstField(.host)?.value,
            method: head.methodBytes,
            path: head.isAsteriskForm ? head.target : head.path,
            query: head.query,
            referrer: head.firstField(.referer)?.value,
            userAgent: head.firstField(.userAgent)?.value)
        return record
    }

}
