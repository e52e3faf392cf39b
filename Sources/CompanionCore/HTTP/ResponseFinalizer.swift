// ResponseFinalizer: turns the chain's full representation into what goes on the
// wire, in this order (like nginx's header filters):
//   1. conditionals: If-Match / If-Unmodified-Since → 412, If-None-Match /
//      If-Modified-Since → 304 (RFC 9110 §13.2.2), on the final variant's ETag;
//   2. ranges: Range (+ If-Range) → 206 single or multipart/byteranges, 416, or 200
//      (RFC 9110 §14);
//   3. the head: status line, Date, Server, typed and extra headers, Connection;
//   4. HEAD: the same head, no body.

/// What follows the head on the wire.
enum BodyPlan {
    case none
    case bytes([UInt8], Range<Int>)
    case file(OpenFile, Range<Int>)
    /// multipart/byteranges: each part's header bytes, then its range of the body; then the closing delimiter.
    case multipart(source: ResponseBody, parts: [(header: [UInt8], range: Range<Int>)], closing: [UInt8])
}

struct FinalizedResponse {
    var status: HTTPStatus
    var body: BodyPlan
    /// Body bytes that will be sent (0 for HEAD, 304, 204).
    var bodyLength: Int
}

enum ResponseFinalizer {
    static func finalize(_ response: consuming Response, head: RequestHead, keepAlive: Bool,
                         dates: inout DateCache, into out: inout [UInt8]) -> FinalizedResponse {
        var response = response
        var contentRange: String?
        var plan: BodyPlan
        var length = response.bodyLength
        let now = dates.currentSecond
        // RFC 9110 §8.8.2.1: a modification time in the future is replaced by the Date.
        if let modified = response.lastModified, modified > now { response.lastModified = now }

        // 1. Conditionals.
        if response.status == .ok, let etag = response.etag {
            let result = Conditional.evaluate(
                ifMatch: head.value(.ifMatch), ifNoneMatch: head.value(.ifNoneMatch),
                ifModifiedSince: head.value(.ifModifiedSince), ifUnmodifiedSince: head.value(.ifUnmodifiedSince),
                etag: etag, lastModified: response.lastModified ?? 0,
                isGetOrHead: head.method == .get || head.method == .head)
            switch result {
            case .proceed: break
            case .notModified:
                response.status = .notModified
                response.body = .empty
            case .preconditionFailed:
                response = .error(.preconditionFailed)
            }
        }
        length = response.bodyLength
        plan = Self.wholeBody(response.body)

        // 2. Ranges (identity representations only; gzip leaves Range requests alone).
        if response.status == .ok, response.acceptsRanges, response.contentEncoding == nil,
           head.method == .get || head.method == .head, let rangeHeader = head.value(.range) {
            let allowed = head.value(.ifRange).map {
                Conditional.ifRangeAllows($0, etag: response.etag ?? "", lastModified: response.lastModified ?? -1, now: now)
            } ?? true
            if allowed {
                let size = length
                switch ByteRange.parse(rangeHeader, size: size) {
                case .ignore, .full:
                    break
                case .unsatisfiable:
                    response = .error(.rangeNotSatisfiable)
                    contentRange = "bytes */\(size)"
                    length = response.bodyLength
                    plan = Self.wholeBody(response.body)
                case .ranges(let ranges) where ranges.count == 1:
                    let range = ranges[0]
                    response.status = .partialContent
                    contentRange = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(size)"
                    length = range.count
                    plan = Self.slice(response.body, range)
                case .ranges(let ranges):
                    let boundary = ByteRange.multipartBoundary()
                    let type = response.contentType ?? "application/octet-stream"
                    var parts: [(header: [UInt8], range: Range<Int>)] = []
                    var total = 0
                    for range in ranges {
                        let header = ByteRange.partHeader(boundary: boundary, contentType: type, range: range, size: size)
                        total += header.count + range.count
                        parts.append((header, range))
                    }
                    let closing = ByteRange.closingDelimiter(boundary: boundary)
                    total += closing.count
                    response.status = .partialContent
                    response.contentType = "multipart/byteranges; boundary=\(boundary)"
                    length = total
                    plan = .multipart(source: response.body, parts: parts, closing: closing)
                }
            }
        }

        // 3. The head.
        var maximum = 400 + ResponseWriter.fieldLength(response.contentType) + ResponseWriter.fieldLength(contentRange)
            + ResponseWriter.fieldLength(response.etag) + ResponseWriter.fieldLength(response.contentEncoding)
            + ResponseWriter.fieldLength(response.location) + response.status.reasonPhrase.utf8.count
        for (name, value) in response.extraHeaders { maximum += 4 + name.utf8.count + value.utf8.count }
        let lastModified = response.lastModified.map { dates.lastModifiedBytes($0) }
        let dateBytes = dates.dateBytes
        // Read here, not in the closure: capturing `head` there copied it (two retains).
        let versionMinor = head.versionMinor
        ResponseWriter.write(into: &out, maximumLength: maximum) { out in
            out.putStatusLine(response.status)
            out.put("Server: companion\r\nDate: ")
            out.put(dateBytes)
            out.put("\r\n")
            if let type = response.contentType, response.status != .notModified {
                out.putField("Content-Type: ", type)
            }
            if response.status != .notModified && response.status != .noContent {
                out.put("Content-Length: ")
                out.putDecimal(length)
                out.put("\r\n")
            }
            if let contentRange { out.putField("Content-Range: ", contentRange) }
            if let lastModified {
                out.put("Last-Modified: ")
                out.put(lastModified)
                out.put("\r\n")
            }
            if let etag = response.etag { out.putField("ETag: ", etag) }
            if response.acceptsRanges && response.contentEncoding == nil && response.status != .notModified {
                out.put("Accept-Ranges: bytes\r\n")
            }
            if response.varyAcceptEncoding { out.put("Vary: Accept-Encoding\r\n") }
            if let encoding = response.contentEncoding { out.putField("Content-Encoding: ", encoding) }
            if let location = response.location { out.putField("Location: ", location) }
            if response.hasOnlyGeneratedPageHeaders {
                out.put(Response.generatedPageHeaderLines)
            } else {
                // SECURITY: a plugin that appended a framing field to `extraHeaders` directly
                // cannot change how the client reads the body.
                for (name, value) in response.extraHeaders where !HeaderSyntax.isFramingHeader(name) {
                    out.putField(name: name, value: value)
                }
            }
            if let line = Self.connectionLine(keepAlive: keepAlive, versionMinor: versionMinor) { out.put(line) }
            out.put("\r\n")
        }

        // 4. HEAD and bodiless statuses.
        if head.method == .head || !response.status.allowsBody {
            return FinalizedResponse(status: response.status, body: .none, bodyLength: 0)
        }
        return FinalizedResponse(status: response.status, body: plan, bodyLength: length)
    }

    /// The head's last field: `Connection: close` for a connection's last response, and
    /// `keep-alive` for an HTTP/1.0 client that keeps it (HTTP/1.1 keeps it by default).
    static func connectionLine(keepAlive: Bool, versionMinor: Int) -> StaticString? {
        if !keepAlive { return "Connection: close\r\n" }
        if versionMinor == 0 { return "Connection: keep-alive\r\n" }
        return nil
    }

    private static func wholeBody(_ body: ResponseBody) -> BodyPlan {
        switch body {
        case .empty: return .none
        case .bytes(let bytes): return .bytes(bytes, 0..<bytes.count)
        case .file(let file): return .file(file, 0..<file.size)
        }
    }

    private static func slice(_ body: ResponseBody, _ range: Range<Int>) -> BodyPlan {
        switch body {
        case .empty: return .none
        case .bytes(let bytes): return .bytes(bytes, range)
        case .file(let file): return .file(file, range)
        }
    }

    /// The head of a response the connection makes without a site (parse errors,
    /// `OPTIONS *`): an error page or a bare status, always closing on errors.
    static func writeBare(_ response: Response, keepAlive: Bool, versionMinor: Int, isHead: Bool,
                          dates: inout DateCache, into out: inout [UInt8]) -> Int {
        var head = RequestHead.bare(versionMinor: versionMinor, isHead: isHead)
        head.isKeepAlive = keepAlive
        let finalized = finalize(response, head: head, keepAlive: keepAlive, dates: &dates, into: &out)
        if case .bytes(let bytes, let range) = finalized.body {
            out.append(contentsOf: bytes[range])
        }
        return finalized.bodyLength
    }
}

extension RequestHead {
    /// A head for responses made without a parsed request (parse errors): GET or HEAD,
    /// no headers, so no conditionals or ranges apply.
    static func bare(versionMinor: Int, isHead: Bool) -> RequestHead {
        RequestHead(bytes: [], method: isHead ? .head : .get, methodBytes: 0..<0, target: 0..<0, path: 0..<0,
                    query: nil, isAsteriskForm: false, absoluteAuthority: nil, versionMinor: versionMinor,
                    fields: [], contentLength: 0, isKeepAlive: false, knownSeen: 0)
    }
}
