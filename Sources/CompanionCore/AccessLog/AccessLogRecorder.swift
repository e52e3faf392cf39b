// AccessLogRecorder: the first stage of SPEC §4's chain, "access log". It is not
// a Middleware: a row needs the final status (after conditionals and ranges, which
// are applied after the chain), the body bytes actually sent and the time to the
// last byte queued, and no stage sees those. So the connection wraps the whole
// chain: it makes the record here when a response is queued (requests that never
// reached a site, e.g. parse errors, included), completes it as bytes are written
// and hands it to the AccessLogWriter. Measured: carrying the record through the
// stages inside Response cost ~0.5 µs per request in copies.

enum AccessLogRecorder {
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
