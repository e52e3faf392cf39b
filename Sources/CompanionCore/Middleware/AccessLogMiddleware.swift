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
    static func record(for head: RequestHead, site: Site?, client: String, encoding: String?) -> AccessLogRecord {
        var record = AccessLogRecord(timeMicros: 0, client: client, status: 0, bytes: 0, durationMicros: 0)
        record.site = site?.name
        record.host = head.value(.host).map(loggable)
        record.method = loggable(head.bytes[head.methodBytes])
        record.path = loggable(head.isAsteriskForm ? head.bytes[head.target] : head.bytes[head.path])
        record.query = head.query.map { loggable(head.bytes[$0]) }
        record.protocolVersion = head.versionMinor == 0 ? "HTTP/1.0" : "HTTP/1.1"
        record.referrer = head.value(.referer).map(loggable)
        record.userAgent = head.value(.userAgent).map(loggable)
        record.encoding = encoding
        return record
    }

    private static func loggable(_ bytes: ArraySlice<UInt8>) -> String { AccessLogRecord.loggable(bytes) }
}
