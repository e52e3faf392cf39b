// AccessLogRecorder: the first stage of SPEC §4's chain, "access log". It is not
// a Middleware: a row needs the final status (after conditionals and ranges, which
// are applied after the chain), the body bytes actually sent and the time to the
// last byte queued, and no stage sees those. So the connection wraps the whole
// chain: it writes the row here when a response is queued (requests that never
// reached a site, e.g. parse errors, included) into its pending rows, completes it
// with the bytes sent when the response is written, and moves it to its loop's
// batch for the AccessLogWriter. Measured: carrying the record through the stages
// inside Response cost ~0.5 µs per request in copies.

enum AccessLogRecorder {
    /// Appends the row for `head` to `batch`; bytes and duration are set when it completes.
    /// The request's text fields are copied as raw bytes; the writer thread turns them into text.
    /// `https`: the client's scheme (TLS here, or X-Forwarded-Proto from a trusted proxy);
    /// `tlsVersion`: nil unless this connection is TLS.
    static func appendRow(for head: RequestHead, site: Site?, client: [UInt8], encoding: String?, https: Bool,
                          tlsVersion: StaticString?,
                          status: Int, timeMicros: Int64, to batch: inout AccessLogBatch) {
        let version: StaticString = head.versionMinor == 0 ? "HTTP/1.0" : "HTTP/1.1"
        // What routed the request: an absolute-form target's authority replaces Host
        // (RFC 9112 §3.2.2), so it is what the row names.
        let host = head.absoluteAuthority ?? head.firstField(.host)?.value
        let referrer = head.firstField(.referer)?.value
        let userAgent = head.firstField(.userAgent)?.value
        let path = head.isAsteriskForm ? head.target : head.path
        let siteName = site?.nameUTF8 ?? []
        head.bytes.withUnsafeBytes { raw in
            @inline(__always) func slice(_ range: Range<Int>?) -> AccessLogBatch.Text {
                guard let range else { return nil }
                return UnsafeRawBufferPointer(rebasing: raw[range])
            }
            client.withUnsafeBytes { clientText in
                siteName.withUnsafeBytes { siteText in
                    withText(encoding) { encodingText in
                        batch.appendRow(
                            timeMicros: timeMicros, status: status, bytes: 0, durationMicros: 0,
                            site == nil ? nil : siteText, slice(host), clientText, slice(head.methodBytes), slice(path),
                            slice(head.query), UnsafeRawBufferPointer(start: version.utf8Start, count: version.utf8CodeUnitCount),
                            slice(referrer), slice(userAgent), encodingText, staticText(https ? Self.https : http),
                            staticText(tlsVersion))
                    }
                }
            }
        }
    }

    /// The row of a request that was not parsed: time, client and status only.
    static func appendBareRow(client: [UInt8], tlsVersion: StaticString?, status: Int, timeMicros: Int64,
                              to batch: inout AccessLogBatch) {
        client.withUnsafeBytes { clientText in
            batch.appendRow(timeMicros: timeMicros, status: status, bytes: 0, durationMicros: 0,
                            nil, nil, clientText, nil, nil, nil, nil, nil, nil, nil, schemeText(tlsVersion), staticText(tlsVersion))
        }
    }

    private static let https: StaticString = "https"
    private static let http: StaticString = "http"

    @inline(__always)
    private static func schemeText(_ tlsVersion: StaticString?) -> AccessLogBatch.Text {
        staticText(tlsVersion == nil ? http : https)
    }

    @inline(__always)
    private static func staticText(_ text: StaticString?) -> AccessLogBatch.Text {
        guard let text else { return nil }
        return UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
    }

    /// Calls `body` with the UTF-8 bytes of `text` (nil for nil).
    @inline(__always)
    private static func withText(_ text: String?, _ body: (AccessLogBatch.Text) -> Void) {
        guard var text else { return body(nil) }
        text.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }
}
