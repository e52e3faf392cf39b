// RequestParser: strict HTTP/1.1 request-head parser over bytes (RFC 9112 §2-§5, SPEC §3).
// Owns the framing: leading empty lines, finding the request line and the end of the head, and the
// size limits (414, 431), also while the head is still incomplete. The request line is parsed in
// RequestParser+RequestLine.swift, the field lines in RequestParser+Fields.swift.
// Not its job: percent-decoding, path normalisation, bodies, timeouts (408).
//
// Steps of `parse`, in order:
//   1. skip empty lines before the request line (RFC 9112 §2.2)
//   2. find the request-line LF within maxRequestLineBytes + 2 bytes, else 414 (or needMore)
//   3. parse the request line (400 / 505) as soon as it is complete, before the head is
//   4. find the empty line ending the head within maxHeaderBytes (+ its own terminator), else 431 (or needMore)
//   5. parse the field lines, copy the head bytes once and return them with `consumed`

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Size limits for one request head (SPEC §3; config keys keep the SPEC spelling).
public struct ParserLimits: Sendable {
    /// Longest request line, without its line terminator; longer is 414.
    public var maxRequestLineBytes: Int
    /// Largest header section: the field lines after the request line including their terminators,
    /// not counting the final empty line; larger is 431.
    public var maxHeaderBytes: Int
    /// Most field lines; more is 431.
    public var maxHeaderCount: Int

    /// The SPEC §3 defaults: 8 KiB request line, 16 KiB of header fields, 100 fields.
    public init(maxRequestLineBytes: Int = 8192, maxHeaderBytes: Int = 16384, maxHeaderCount: Int = 100) {
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
    }
}

/// The outcome of one `RequestParser.parse` call.
public enum ParseResult: Sendable {
    /// The head is not complete yet and no limit is exceeded: read more and call again with the whole buffer.
    case needMore
    /// A complete, valid head. `consumed` counts the head bytes plus any leading empty lines; body bytes
    /// and pipelined requests after it are not included.
    case complete(RequestHead, consumed: Int)
    /// Answer with this status and close the connection.
    case reject(HTTPStatus)
}

/// How far an incomplete head has been examined, so the next `parse` of the same (grown)
/// buffer resumes there instead of at byte 0. A head dripped one byte per read would
/// otherwise cost O(n²): a 23 KB head took 0.29 s of CPU. Offsets count from
/// the start of the buffer passed to `parse`, which must start at the same request each
/// time (compacting the buffer keeps that). Reset after `.complete` or `.reject`.
public struct ParseProgress: Sendable {
    /// Leading empty lines skipped so far (RFC 9112 §2.2); the request line starts here.
    var start = 0
    /// True once `start` is known (a byte other than CR/LF was seen).
    var startFound = false
    /// Bytes of the request line checked as a method prefix (`checkMethodPrefix`).
    var prefixChecked = 0
    /// Bytes of the request line searched for its LF, relative to the request line.
    var lineScanned = 0
    /// The parsed request line and the index of its LF, once complete.
    var line: RequestLine?
    var lineLF = 0
    /// The last LF found in the field section and the field lines before it.
    var lastLF = 0
    var fieldLines = 0
    /// Bytes searched past `lastLF` for the next LF without finding one.
    var fieldScanned = 0
    /// Bytes looked at in all (tests check that a dripped head costs O(n)).
    public internal(set) var bytesExamined = 0

    public init() {}
}

/// A parse step's failure: the status to answer. Internal; typed throws keep it unboxed.
struct ParseFailure: Error {
    let status: HTTPStatus
    static let badRequest = ParseFailure(status: .badRequest)
}

/// Parses one request head from the start of a buffer. Stateless: call `parse` again with the whole,
/// grown buffer after `.needMore`. A value type holding only limits; use one per event loop.
public struct RequestParser: Sendable {
    /// The limits this parser enforces.
    public var limits: ParserLimits

    /// Makes a parser with these limits (config `maxHeaderBytes` goes into `limits.maxHeaderBytes`).
    public init(limits: ParserLimits = .init()) {
        self.limits = limits
    }

    /// Parses the request head at the start of `buffer`.
    ///
    /// Called on the connection's event loop each time bytes arrive. Creates no String; on success it
    /// allocates the head's byte copy and the fields array, nothing else.
    /// - Parameter buffer: bytes starting at the first byte of a request (or empty lines before it).
    /// - Returns: `.needMore`, `.complete(head, consumed:)` or `.reject(status)`.
    public func parse(_ buffer: UnsafeRawBufferPointer) -> ParseResult {
        var storage = RequestHead.Storage()
        return parse(buffer, reusing: &storage)
    }

    /// `parse`, building the head in `storage`'s arrays instead of new ones (a connection
    /// hands back the arrays of the head it finished: two allocations fewer per request).
    /// `storage` is left empty when a head is returned.
    func parse(_ buffer: UnsafeRawBufferPointer, reusing storage: inout RequestHead.Storage) -> ParseResult {
        var progress = ParseProgress()
        return parse(buffer, progress: &progress, reusing: &storage)
    }

    /// `parse` that resumes where the last call on the same request stopped (`progress`);
    /// the result is the same as a one-shot parse of the whole buffer.
    public func parse(_ buffer: UnsafeRawBufferPointer, progress: inout ParseProgress) -> ParseResult {
        var storage = RequestHead.Storage()
        return parse(buffer, progress: &progress, reusing: &storage)
    }

    func parse(_ buffer: UnsafeRawBufferPointer, progress: inout ParseProgress,
               reusing storage: inout RequestHead.Storage) -> ParseResult {
        var head = RequestHead(reusing: &storage)
        switch parse(buffer, progress: &progress, into: &head) {
        case .complete(let consumed):
            return .complete(head, consumed: consumed)
        case .needMore:
            storage = RequestHead.Storage(reclaiming: head)
            return .needMore
        case .reject(let status):
            storage = RequestHead.Storage(reclaiming: head)
            return .reject(status)
        }
    }

    /// What `parse(_:progress:into:)` found; a complete head is in its `into`.
    enum Step {
        case needMore
        case complete(consumed: Int)
        case reject(HTTPStatus)
    }

    /// `parse` writing the head into `head`, whose arrays it reuses (`RequestHead(reusing:)`).
    /// A connection's path: a head returned inside `ParseResult` was copied out of the enum and
    /// the enum destroyed (two retains and four releases of its arrays a request, ~180
    /// instructions under callgrind); `head` is only written in place. Not complete: `head`
    /// holds the arrays, perhaps emptied, and nothing else that means anything.
    func parse(_ buffer: UnsafeRawBufferPointer, progress: inout ParseProgress, into head: inout RequestHead) -> Step {
        do throws(ParseFailure) {
            guard let consumed = try parseHead(buffer, progress: &progress, into: &head) else { return .needMore }
            progress = ParseProgress()
            return .complete(consumed: consumed)
        } catch {
            progress = ParseProgress()
            return .reject(error.status)
        }
    }

    /// Convenience for tests and plugins: parses a head from an array.
    public func parse(_ bytes: [UInt8]) -> ParseResult {
        bytes.withUnsafeBytes { parse($0) }
    }

    /// The bytes the head at the start of `buffer` takes (with leading empty lines), its fields
    /// written into `head`; nil while it is incomplete.
    private func parseHead(_ buffer: UnsafeRawBufferPointer, progress: inout ParseProgress,
                           into head: inout RequestHead) throws(ParseFailure) -> Int? {
        // 1. RFC 9112 §2.2: "a server that is expecting to receive and parse a request-line SHOULD ignore
        // at least one empty line (CRLF) received prior to the request-line".
        // SECURITY: bounded, so a stream of CRLFs cannot keep a connection in needMore forever.
        let n = buffer.count
        var start = progress.start
        if !progress.startFound {
            while start < n {
                let b = buffer[start]
                if b == ASCII.lf {
                    start += 1
                } else if b == ASCII.cr {
                    guard start + 1 < n else { break }
                    guard buffer[start + 1] == ASCII.lf else { throw .badRequest }  // bare CR
                    start += 2
                } else {
                    progress.startFound = true
                    break
                }
                if start > limits.maxRequestLineBytes { throw .badRequest }
            }
            progress.bytesExamined += start - progress.start
            progress.start = start
            guard progress.startFound else { return nil }
        }
        let p = UnsafeRawBufferPointer(rebasing: buffer[start...])
        let count = p.count

        // 2. The request line. RFC 9112 §3: "A server that receives a request-target longer than any URI
        // it wishes to parse MUST respond with a 414". A line of L ≤ limit bytes has its LF at index
        // L or L+1, so without an LF in the first limit+2 bytes the line is too long: 414 at once.
        let line: RequestLine
        let lineLF: Int
        if let parsed = progress.line {
            line = parsed
            lineLF = progress.lineLF
        } else {
            let window = min(count, limits.maxRequestLineBytes + 2)
            guard let found = Self.indexOfLF(p, progress.lineScanned, window) else {
                progress.bytesExamined += max(0, window - progress.lineScanned)
                progress.lineScanned = max(progress.lineScanned, window)
                if count >= limits.maxRequestLineBytes + 2 { throw ParseFailure(status: .uriTooLong) }
                try Self.checkMethodPrefix(p, from: progress.prefixChecked, count, progress: &progress)
                return nil
            }
            progress.bytesExamined += found + 1 - progress.lineScanned
            lineLF = found
            let lineEnd = lineLF > 0 && p[lineLF - 1] == ASCII.cr ? lineLF - 1 : lineLF
            if lineEnd > limits.maxRequestLineBytes { throw ParseFailure(status: .uriTooLong) }
            // 3. Parse it now, so garbage is rejected without waiting for a head that never ends.
            line = try Self.parseRequestLine(p, end: lineEnd)
            progress.bytesExamined += lineEnd
            // `progress.line` is written only when the head turns out incomplete (`keepLine`):
            // a head that arrives whole, nearly every one, never needs it (~25 instructions).
            progress.lineLF = lineLF
            progress.lastLF = lineLF
        }

        // 4. The end of the head: an LF followed by an empty line (CRLF or LF).
        @inline(__always) func keepLine() { if progress.line == nil { progress.line = line } }
        let fieldsStart = lineLF + 1
        var fieldLines = progress.fieldLines
        var emptyLine = -1  // index of the empty line's first byte
        var headEnd = -1
        var lf = progress.lastLF
        // An empty line at index e is allowed when e - fieldsStart ≤ maxHeaderBytes.
        let lastAllowedLF = fieldsStart + limits.maxHeaderBytes - 1
        while true {
            let next = lf + 1
            if next >= count { keepLine(); return nil }
            if progress.fieldScanned == 0 {
                if p[next] == ASCII.lf {
                    emptyLine = next
                    headEnd = next + 1
                    break
                }
                if p[next] == ASCII.cr {
                    guard next + 1 < count else { keepLine(); return nil }
                    guard p[next + 1] == ASCII.lf else { throw .badRequest }  // bare CR at a line start
                    emptyLine = next
                    headEnd = next + 2
                    break
                }
                fieldLines += 1
                progress.fieldLines = fieldLines
                if fieldLines > limits.maxHeaderCount { throw ParseFailure(status: .requestHeaderFieldsTooLarge) }
            }
            let from = next + progress.fieldScanned
            let to = min(count, lastAllowedLF + 1)
            guard let found = Self.indexOfLF(p, from, to) else {
                progress.bytesExamined += max(0, to - from)
                progress.fieldScanned = max(progress.fieldScanned, to - next)
                // RFC 6585 §5: 431 when the header fields are too large, decided as soon as it is certain:
                // once every byte up to lastAllowedLF is here without an LF, the empty line can only
                // start after fieldsStart + maxHeaderBytes.
                if count > lastAllowedLF {
                    throw ParseFailure(status: .requestHeaderFieldsTooLarge)
                }
                keepLine()
                return nil
            }
            progress.bytesExamined += found + 1 - from
            progress.fieldScanned = 0
            progress.lastLF = found
            lf = found
        }
        if emptyLine - fieldsStart > limits.maxHeaderBytes || fieldLines > limits.maxHeaderCount {
            throw ParseFailure(status: .requestHeaderFieldsTooLarge)
        }

        // 5. Field lines, then one copy of the head, written into `head` in place.
        let fields = try Self.parseFields(p, fieldsStart..<emptyLine, lineCount: fieldLines,
                                          versionMinor: line.versionMinor, into: &head.fields)
        // One call that replaces the old bytes (removeAll and append were two trips through the
        // standard library's generic paths).
        head.bytes.replaceSubrange(0..<head.bytes.count, with: UnsafeRawBufferPointer(rebasing: p[0..<headEnd]))
        head.method = line.method
        head.methodBytes = line.methodBytes
        head.target = line.target
        head.path = line.path
        head.query = line.query
        head.isAsteriskForm = line.isAsteriskForm
        head.absoluteAuthority = line.absoluteAuthority
        head.versionMinor = line.versionMinor
        head.contentLength = fields.contentLength
        head.isKeepAlive = line.versionMinor == 1 ? !fields.hasClose : fields.hasKeepAlive && !fields.hasClose
        head.knownSeen = fields.seen
        head.hostFieldHost = fields.host
        return start + headEnd
    }

    /// The index of the first LF in `p[from..<to]`, or nil.
    @inline(__always)
    static func indexOfLF(_ p: UnsafeRawBufferPointer, _ from: Int, _ to: Int) -> Int? {
        guard from < to, let base = p.baseAddress else { return nil }
        guard let hit = memchr(base + from, Int32(ASCII.lf), to - from) else { return nil }
        return UnsafeRawPointer(hit) - base
    }

    /// While the request line is incomplete: the bytes so far must still be able to start a method token.
    /// A TLS handshake or other non-HTTP client gets 400 at once instead of waiting for the header timeout.
    /// Resumes at `from`; once the method's SP is seen, nothing more needs checking.
    static func checkMethodPrefix(_ p: UnsafeRawBufferPointer, from: Int, _ count: Int,
                                  progress: inout ParseProgress) throws(ParseFailure) {
        guard from < count else { return }
        for i in from..<count {
            let b = p[i]
            if b == ASCII.sp {
                if i == 0 { throw .badRequest }
                progress.prefixChecked = Int.max
                return
            }
            if !isTchar(b) { throw .badRequest }
        }
        progress.bytesExamined += count - from
        progress.prefixChecked = count
    }
}
