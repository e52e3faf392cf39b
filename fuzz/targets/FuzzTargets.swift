// libFuzzer targets for companion's parsers, compiled together with CompanionCore's
// sources into one binary (fuzz/run.sh); FUZZ_TARGET picks the target. Each target
// checks properties, not just "does not crash"; a broken property stops the fuzzer
// with the input saved (crash-*), which then becomes a unit test.
import Glibc

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    switch FuzzTarget.selected {
    case .parser: FuzzTarget.parser(bytes)
    case .path: FuzzTarget.path(bytes)
    case .range: FuzzTarget.range(bytes)
    case .config: FuzzTarget.config(bytes)
    case .escape: FuzzTarget.escape(bytes)
    case .acme: FuzzTarget.acme(bytes)
    case .proxy: FuzzTarget.proxy(bytes)
    case .histogram: FuzzTarget.histogram(bytes)
    case .accept: FuzzTarget.accept(bytes)
    case .smaps: FuzzTarget.smaps(bytes)
    case .conditional: FuzzTarget.conditional(bytes)
    case .auth: FuzzTarget.auth(bytes)
    case .host: FuzzTarget.host(bytes)
    case .percent: FuzzTarget.percent(bytes)
    }
    return 0
}

enum FuzzTarget: String, CaseIterable {
    case parser, path, range, config, escape, acme, proxy, histogram, accept, smaps, conditional, auth, host, percent

    static let selected: FuzzTarget = {
        guard let name = getenv("FUZZ_TARGET").map({ String(cString: $0) }), let target = FuzzTarget(rawValue: name) else {
            fatalError("set FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue))")
        }
        return target
    }()

    static func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fatalError(message()) }
    }

    /// `value` as a parser meets it: a slice, not starting at 0, of a buffer that holds the
    /// whole field line (`name: value` CRLF).
    static func fieldValueInBuffer(_ name: String, _ value: [UInt8]) -> ArraySlice<UInt8> {
        let start = name.utf8.count + 2
        return (Array("\(name): ".utf8) + value + Array("\r\n".utf8))[start..<(start + value.count)]
    }

    /// Accept-Encoding (the compressed-variant choice): q-values stay in 0...1000 and agree
    /// with the flags; empty list elements change nothing; a later `q=0` refuses a coding
    /// whatever came before; the parse of a slice of a larger buffer is the parse of its
    /// bytes; `best` picks a coding with the highest q-value among those allowed.
    static func accept(_ input: [UInt8]) {
        let parsed = AcceptEncoding.parse(input)
        for coding in ContentCoding.allCases {
            let q = parsed.quality(coding)
            check((0...1000).contains(q), "q \(q) for \(coding)")
            let flag = coding == .gzip ? parsed.gzip : coding == .br ? parsed.br : parsed.zstd
            check(flag == (q > 0), "\(coding): flag \(flag), q \(q)")
        }
        let padded = AcceptEncoding.parse(input + Array(", ,".utf8))
        for coding in ContentCoding.allCases {
            check(padded.quality(coding) == parsed.quality(coding), "empty elements changed \(coding)")
        }
        for coding in ContentCoding.allCases {
            let refused = AcceptEncoding.parse(input + Array(",\(coding.rawValue);q=0".utf8))
            check(refused.quality(coding) == 0, "\(coding);q=0 at the end did not refuse it")
        }
        let slice = AcceptEncoding.parse(fieldValueInBuffer("Accept-Encoding", input))
        for coding in ContentCoding.allCases {
            check(slice.quality(coding) == parsed.quality(coding), "a slice parsed differently for \(coding)")
        }
        let mask = Int(input.last ?? 7)
        let allowed = Set(ContentCoding.allCases.enumerated().filter { mask & (1 << $0.offset) != 0 }.map(\.element))
        if let best = parsed.best(where: { allowed.contains($0) }) {
            check(allowed.contains(best) && parsed.quality(best) > 0, "best \(best) not allowed or refused")
            for coding in allowed { check(parsed.quality(coding) <= parsed.quality(best), "\(coding) beats best \(best)") }
        } else {
            check(allowed.allSatisfy { parsed.quality($0) == 0 }, "no best though an allowed coding is accepted")
        }
    }

    /// The request parser, resumed over splits chosen by the first byte, agrees at every
    /// step with a stateless parse of the same bytes.
    static func parser(_ input: [UInt8]) {
        guard let seed = input.first else { return }
        let bytes = Array(input.dropFirst())
        let parser = RequestParser(limits: ParserLimits(maxRequestLineBytes: 512, maxHeaderBytes: 1024, maxHeaderCount: 20))
        var progress = ParseProgress()
        var end = 0
        var step = Int(seed % 7) + 1
        while end < bytes.count {
            end = min(bytes.count, end + step)
            step = step % 5 + 1
            let prefix = Array(bytes[0..<end])
            let resumed = prefix.withUnsafeBytes { parser.parse($0, progress: &progress) }
            let fresh = parser.parse(prefix)
            check(describe(resumed) == describe(fresh), "resumed \(describe(resumed)) != stateless \(describe(fresh)) at \(end)")
            if case .needMore = resumed { continue }
            return
        }
    }

    static func describe(_ result: ParseResult) -> String {
        switch result {
        case .needMore: return "needMore"
        case .reject(let status): return "reject \(status.code)"
        case .complete(let head, let consumed):
            return "complete \(consumed) \(head.bytes) \(head.method) \(head.target) \(head.path) \(String(describing: head.query)) "
                + "\(head.versionMinor) \(head.fields.map { "\($0.name)=\($0.value)" }) \(head.contentLength) \(head.isKeepAlive)"
        }
    }

    /// The path normaliser: a normalised path starts with "/", has no "." or ".." segment,
    /// no "//", no NUL; normalising it again changes nothing (as a raw, encoded path).
    static func path(_ bytes: [UInt8]) {
        guard case .success(let path) = PathNormalizer.normalize(bytes) else { return }
        // Bytes, not Characters: "/" followed by a combining mark is one Character.
        let utf8 = Array(path.utf8)
        check(utf8.first == UInt8(ascii: "/"), "not absolute: \(path)")
        check(!utf8.contains(0), "NUL in \(path)")
        let segments = utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst()
        for (index, segment) in segments.enumerated() {
            check(!segment.isEmpty || index == segments.count - 1, "empty segment (//) in \(path)")
            check(!segment.elementsEqual(".".utf8) && !segment.elementsEqual("..".utf8), "dot segment in \(path)")
        }
        let encoded = Array(PercentEncoding.encodePath(path).utf8)
        guard case .success(let again) = PathNormalizer.normalize(encoded) else { fatalError("re-normalising \(path) failed") }
        check(again == path, "not idempotent: \(path) -> \(again)")
        check(PathNormalizer.normalizeInSteps(bytes) == .success(path), "fast path and steps disagree on \(bytes)")
    }

    /// Range headers: every satisfiable range lies inside the representation, is not empty,
    /// and there are at most ByteRange.maxRanges of them; If-Range never crashes.
    static func range(_ input: [UInt8]) {
        guard input.count >= 2 else { return }
        let size = Int(input[0]) << 8 | Int(input[1])
        let header = input.dropFirst(2)
        switch ByteRange.parse(header, size: size) {
        case .ranges(let ranges):
            check(!ranges.isEmpty && ranges.count <= ByteRange.maxRanges, "\(ranges.count) ranges")
            for range in ranges { check(!range.isEmpty && range.lowerBound >= 0 && range.upperBound <= size, "\(range) of \(size)") }
        case .ignore, .full, .unsatisfiable: break
        }
        _ = Conditional.ifRangeAllows(ArraySlice(header), etag: "\"abc\"", lastModified: size, now: size + 1)
        _ = Conditional.evaluate(ifMatch: ArraySlice(header), ifNoneMatch: ArraySlice(header), ifModifiedSince: ArraySlice(header),
                                 ifUnmodifiedSince: ArraySlice(header), etag: "\"abc\"", lastModified: size, isGetOrHead: true)
    }

    /// The config loader on arbitrary bytes: a config or a ConfigError, never a crash.
    static func config(_ bytes: [UInt8]) {
        _ = try? PluginRegistry.builtIn.configLoader.load(bytes: bytes, configPath: "/nonexistent/fuzz/config.json")
        if let value = try? JSONValue.parse(bytes) { _ = value.shortDescription }
    }

    /// Escapers: listing HTML/JSON, CSV and terminal escapes keep their outputs free of the
    /// bytes that would break out (raw controls, bidi characters, unescaped markup).
    static func escape(_ bytes: [UInt8]) {
        let name = bytes.filter { $0 != UInt8(ascii: "/") && $0 != 0 }
        let entries = [DirectoryEntry(name: name, isDirectory: false, size: bytes.count, mtimeSeconds: 0)]
        let html = ListingRenderer.html(entries: entries, displayPath: "/d/", isRoot: false)
        let json = ListingRenderer.json(entries: entries)
        check(String(validating: json, as: UTF8.self) != nil, "listing JSON is not UTF-8")
        check((try? JSONValue.parse(json)) != nil, "listing JSON does not parse")
        check(String(validating: html, as: UTF8.self) != nil, "listing HTML is not UTF-8")
        let text = AccessLogRecord.loggable(bytes)
        let formatter = LogFormatter(format: .csv)
        for out in [formatter.csvField(text), formatter.terminalSafe(text), formatter.jsonString(text)] {
            check(!out.unicodeScalars.contains(where: TerminalSafety.isUnsafe), "unsafe character left in \(out.debugDescription)")
        }
        if let first = formatter.csvField(text).utf8.first {
            check(!"=+-@".utf8.contains(first), "formula left in \(text.debugDescription)")
        }
    }

    /// What the ACME client reads from the CA and writes to it: the HTTP response parser
    /// (Content-Length, chunked, to the end) and the URL parser never crash, a body never
    /// exceeds its declared length; the JSON strings and base64url it writes parse back.
    static func acme(_ bytes: [UInt8]) {
        let url = HTTPSURL("https://ca.example/dir")!
        if let response = try? HTTPSClient.parse(bytes, url: url, isHead: false),
           let length = response.header("content-length").flatMap(Int.init), length >= 0 {
            let chunked = response.header("transfer-encoding")?.lowercased().contains("chunked") ?? false
            check(chunked || response.body.count <= max(length, bytes.count), "body longer than its input")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        if let parsed = HTTPSURL(text) {
            check(parsed.target.hasPrefix("/"), "target without a leading slash: \(parsed)")
            check(HTTPSURL(parsed.description) == parsed, "URL does not round-trip: \(parsed)")
        }
        check((try? JSONValue.parse(Array(jsonString(text).utf8))) == .string(text), "jsonString does not round-trip")
        let encoded = Base64URL.encode(bytes)
        check(encoded.utf8.allSatisfy(Base64URL.isURLSafe), "base64url outside its alphabet")
        check(encoded.utf8.count == (bytes.count * 4 + 2) / 3, "base64url length")
    }

    /// PROXY protocol headers, X-Forwarded-For entries and trustedProxies ranges:
    /// a complete header is complete on its own bytes, whatever follows, and every shorter
    /// prefix of it asks for more; an invalid input stays invalid however it goes on;
    /// addresses round-trip through their canonical text.
    static func proxy(_ bytes: [UInt8]) {
        let parsed = ProxyProtocolHeader.parse(bytes[...])
        switch parsed {
        case .complete(let length, _):
            check(length > 0 && length <= bytes.count && length <= ProxyProtocolHeader.maxLength, "length \(length) of \(bytes.count)")
            check(ProxyProtocolHeader.parse(bytes[0..<length]) == parsed, "not complete on its own bytes")
            for cut in Set([0, length / 2, length - 1]) where cut < length {
                check(ProxyProtocolHeader.parse(bytes[0..<cut]) == .needMore, "prefix \(cut) of a complete header is \(ProxyProtocolHeader.parse(bytes[0..<cut]))")
            }
        case .invalid:
            var longer = bytes
            longer.append(contentsOf: [0x0D, 0x0A, 0x00])
            if case .invalid = ProxyProtocolHeader.parse(longer[...]) {} else { check(false, "invalid input became valid when extended") }
        case .needMore:
            check(bytes.count < ProxyProtocolHeader.maxLength, "needs more beyond the limit")
        }
        if let address = ForwardedHeaders.parseEntry(bytes[...]) {
            check(IPAddress(address.text) == address, "address does not round-trip: \(address.text)")
        }
        if let text = String(validating: bytes, as: UTF8.self), let range = AddressRange(text) {
            check(range.contains(range.network), "a range does not contain its own network")
        }
    }

    /// Duration histograms: the `hist` blobs of the rollups are read back from a
    /// file any tool may have written. Decoding never traps; a blob that decodes re-encodes
    /// to a canonical form that decodes to the same counts; merging is addition; every
    /// percentile lies in a bucket that holds a count; a duration's bucket holds it.
    static func histogram(_ bytes: [UInt8]) {
        var decoded = DurationHistogram()
        let valid = bytes.withUnsafeBytes { decoded.merge(encoded: $0) }
        if valid {
            let encoded = decoded.encoded()
            var again = DurationHistogram()
            check(encoded.withUnsafeBytes { again.merge(encoded: $0) }, "canonical form does not decode")
            check(again == decoded || (again.isEmpty && decoded.isEmpty), "re-encoding changed the counts")
            var twice = decoded
            twice.merge(decoded)
            check(twice.total == decoded.total &* 2, "merge is not addition")
            for percent in [0.0, 50, 95, 99, 100] {
                if let value = decoded.percentile(percent) {
                    let bucket = DurationHistogram.bucket(ofMicros: value)
                    check(DurationHistogram.upperBound(ofBucket: bucket) == value, "percentile \(value) is not a bucket's bound")
                } else {
                    check(decoded.total == 0, "no percentile of a non-empty histogram")
                }
            }
        }
        if bytes.count >= 8 {
            let micros = Int(truncatingIfNeeded: bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
            let bucket = DurationHistogram.bucket(ofMicros: micros)
            check((0..<DurationHistogram.bucketCount).contains(bucket), "bucket \(bucket) of \(micros)")
            let clamped = min(max(micros, 0), DurationHistogram.maxMicros)
            check(DurationHistogram.upperBound(ofBucket: bucket) >= clamped, "bucket \(bucket) ends below \(clamped)")
            check(bucket == 0 || DurationHistogram.upperBound(ofBucket: bucket - 1) < clamped, "bucket \(bucket) starts above \(clamped)")
        }
    }

    /// /proc/self/smaps (StartupPages): whatever the text, every range taken is
    /// non-empty and came from a header line; a trailing newline or a mapping appended after
    /// the text changes nothing before it.
    static func smaps(_ bytes: [UInt8]) {
        let ranges = StartupPages.droppable(smaps: bytes)
        let headers = bytes.split(separator: UInt8(ascii: "\n")).filter { StartupPages.parseHeader($0) != nil }.count
        check(ranges.count <= headers, "\(ranges.count) ranges from \(headers) headers")
        for range in ranges { check(range.start < range.end && range.residentKiB >= 0, "bad range \(range)") }
        check(StartupPages.droppable(smaps: bytes + [UInt8(ascii: "\n")]) == ranges, "a trailing newline changed the result")
        let more = bytes + Array("\nffff0000-ffff1000 r--p 0 0:0 0 /x\nAnonymous: 1 kB\n".utf8)
        check(StartupPages.droppable(smaps: more).prefix(ranges.count).elementsEqual(ranges), "a mapping appended changed earlier ones")
    }

    /// HTTP dates and entity-tag lists (If-Modified-Since, If-None-Match, If-Match, If-Range):
    /// a date that parses formats as an IMF-fixdate that parses to the same second, with or
    /// without surrounding whitespace; a header read from the middle of a request buffer
    /// (an ArraySlice with a non-zero start) gives the answer its bytes alone give; a list
    /// that matches strongly matches weakly, and still matches with our tag appended; our
    /// tag alone always matches weakly.
    static func conditional(_ input: [UInt8]) {
        let now = 1_800_000_000
        if let date = HTTPDate.parse(input, now: now) {
            let formatted = Array(HTTPDate.format(epochSeconds: date).utf8)
            check(HTTPDate.parse(formatted, now: now) == date, "\(date) formats as \(String(decoding: formatted, as: UTF8.self)), which parses differently")
            check(HTTPDate.parse([0x20, 0x09] + input + [0x20], now: now) == date, "whitespace around a date changed it")
        }
        let slice = fieldValueInBuffer("If-None-Match", input)
        check(HTTPDate.parse(slice, now: now) == HTTPDate.parse(input, now: now), "a date in a slice parsed differently")
        let etags = ["\"5f3a1b2c.1c8-400\"", "W/\"abc\"", "\"\""]
        for etag in etags {
            let strong = EntityTagList.matches(ArraySlice(input), etag: etag, weakComparison: false)
            let weak = EntityTagList.matches(ArraySlice(input), etag: etag, weakComparison: true)
            check(!strong || weak, "\(etag) matches strongly but not weakly")
            check(EntityTagList.matches(slice, etag: etag, weakComparison: true) == weak, "a list in a slice matched differently")
            let isStar = input.filter { $0 != 0x20 && $0 != 0x09 } == [UInt8(ascii: "*")]
            if weak && !isStar {  // "*" stands alone: "*, tag" is no list
                let longer = ArraySlice(input + Array(", \(etag)".utf8))
                check(EntityTagList.matches(longer, etag: etag, weakComparison: true), "appending \(etag) to a matching list broke it")
            }
            check(EntityTagList.matches(ArraySlice(etag.utf8), etag: etag, weakComparison: true), "\(etag) does not match itself")
            let lastModified = Int(input.first ?? 0) * 1_000_000
            for isGetOrHead in [true, false] {
                let fresh = Conditional.evaluate(ifMatch: ArraySlice(input), ifNoneMatch: ArraySlice(input), ifModifiedSince: ArraySlice(input),
                                                 ifUnmodifiedSince: ArraySlice(input), etag: etag, lastModified: lastModified, isGetOrHead: isGetOrHead)
                let sliced = Conditional.evaluate(ifMatch: slice, ifNoneMatch: slice, ifModifiedSince: slice, ifUnmodifiedSince: slice,
                                                  etag: etag, lastModified: lastModified, isGetOrHead: isGetOrHead)
                check(fresh == sliced, "conditionals in a slice: \(sliced), alone: \(fresh)")
                // RFC 9110 §13.2.2: 304 only for GET and HEAD.
                check(isGetOrHead || fresh != .notModified, "304 for another method")
            }
            check(Conditional.ifRangeAllows(slice, etag: etag, lastModified: lastModified, now: lastModified + 1)
                  == Conditional.ifRangeAllows(ArraySlice(input), etag: etag, lastModified: lastModified, now: lastModified + 1),
                  "If-Range in a slice answered differently")
        }
    }

    /// `Authorization: Basic …` (the basic-auth plugin, on every request to a protected
    /// path): base64 decodes only its canonical form, so decoding and encoding again gives
    /// the input back (padding aside); what any user and password encode to parses back
    /// to them; the header read from a slice of a request buffer parses as its bytes do.
    static func auth(_ input: [UInt8]) {
        if let decoded = BasicAuthPlugin.base64Decode(input) {
            let again = standardBase64(decoded)
            let unpadded = Array(input.prefix { $0 != UInt8(ascii: "=") })
            check(again.prefix { $0 != UInt8(ascii: "=") }.elementsEqual(unpadded), "\(input) decodes, but encodes back as \(again)")
        }
        let split = Int(input.first ?? 0) % (input.count + 1)
        let user = input[..<split].filter { $0 != UInt8(ascii: ":") }
        let password = Array(input[split...])
        let header = Array("Basic ".utf8) + standardBase64(user + [UInt8(ascii: ":")] + password)
        let parsed = BasicAuthPlugin.basicCredentials(ArraySlice(header))
        if header.count - 6 <= BasicAuthPlugin.maxTokenBytes {
            check(parsed.map { Array($0.user) == user && Array($0.password) == password } == true, "user and password do not round-trip")
        } else {
            check(parsed == nil, "a token over the limit was read")
        }
        let fresh = BasicAuthPlugin.basicCredentials(ArraySlice(input)).map { (Array($0.user), Array($0.password)) }
        let sliced = BasicAuthPlugin.basicCredentials(fieldValueInBuffer("Authorization", input)).map { (Array($0.user), Array($0.password)) }
        check(fresh?.0 == sliced?.0 && fresh?.1 == sliced?.1, "credentials in a slice parsed differently")
        _ = BasicAuthPlugin.login(ArraySlice(input))
    }

    /// Standard base64 with padding (RFC 4648 §4), from the ACME writer's base64url.
    static func standardBase64(_ bytes: [UInt8]) -> [UInt8] {
        var out = Base64URL.encode(bytes).utf8.map { $0 == UInt8(ascii: "-") ? UInt8(ascii: "+") : $0 == UInt8(ascii: "_") ? UInt8(ascii: "/") : $0 }
        while out.count % 4 != 0 { out.append(UInt8(ascii: "=")) }
        return out
    }

    /// Virtual-host routing (the Host header of every request): the router's hash table and
    /// wildcard list agree with a plain reading of SPEC §3 Routing. Up to five sites' names
    /// (lines of lower-case host bytes, "*." for a wildcard) come from the input, the last
    /// line is the Host header; the answer must be the first site naming the host exactly
    /// (port, brackets' outside and one trailing dot removed, ASCII case folded), else the
    /// longest matching wildcard suffix (the earliest site on a tie), else the default.
    static func host(_ input: [UInt8]) {
        let lines = input.split(separator: 0x0A, omittingEmptySubsequences: false)
        guard lines.count >= 2 else { return }
        let hostAlphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789.-".utf8)
        let names: [[UInt8]] = lines.dropLast().prefix(5).map { line in
            let wildcard = line.starts(with: "*.".utf8)
            let body = (wildcard ? line.dropFirst(2) : line[...]).map { hostAlphabet[Int($0) % hostAlphabet.count] }
            return (wildcard ? Array("*.".utf8) : []) + body
        }.filter { !$0.isEmpty }
        guard !names.isEmpty else { return }
        let sites = names.map { SiteConfig(hosts: [String(decoding: $0, as: UTF8.self)], root: "/") }
        let defaultIndex = Int(input[0]) % sites.count
        let router = HostRouter(sites: sites, defaultIndex: defaultIndex)
        let header = Array(lines.last!)
        let routed = header.withUnsafeBufferPointer { router.route(hostHeader: $0) }

        var host = header[...]
        if host.first == UInt8(ascii: "[") {
            if let close = host.firstIndex(of: UInt8(ascii: "]")) { host = host[...close] }
        } else if let colon = host.firstIndex(of: UInt8(ascii: ":")) {
            host = host[..<colon]
        }
        if host.last == UInt8(ascii: ".") { host = host.dropLast() }
        let folded = host.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        var expected = defaultIndex
        if !folded.isEmpty {
            if let exact = names.firstIndex(where: { $0 == folded }) {
                expected = exact
            } else {
                var best: (length: Int, site: Int)?
                for (site, name) in names.enumerated() where name.starts(with: "*.".utf8) {
                    let suffix = name.dropFirst()
                    if folded.count > suffix.count, folded.suffix(suffix.count).elementsEqual(suffix),
                       best == nil || suffix.count > best!.length {
                        best = (suffix.count, site)
                    }
                }
                if let best { expected = best.site }
            }
        }
        check(routed == expected, "\(String(decoding: header, as: UTF8.self)) went to site \(routed), expected \(expected) of \(names.map { String(decoding: $0, as: UTF8.self) })")
        if !folded.isEmpty, String(validating: host, as: UTF8.self) != nil {
            check(router.route(String(decoding: folded, as: UTF8.self)) == expected, "route(String) disagrees with route(hostHeader:)")
        }
    }

    /// Percent-encoding: the Location of a slash redirect (built from a decoded path) holds
    /// only pchar bytes (RFC 3986 §3.3), "/" and %XX, so no header or URL can be broken out
    /// of, and %-decodes back to the path; the listing's query parameters (any request's
    /// query) decode without trapping, and a component without "%" or "+" stays as it is.
    static func percent(_ input: [UInt8]) {
        let path = String(decoding: input, as: UTF8.self)
        let encoded = Array(PercentEncoding.encodePath(path).utf8)
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$()*+,;=:@/%".utf8)
        check(encoded.allSatisfy(allowed.contains), "unsafe byte in \(String(decoding: encoded, as: UTF8.self))")
        var decoded: [UInt8] = []
        var i = 0
        while i < encoded.count {
            if encoded[i] == UInt8(ascii: "%") {
                check(i + 2 < encoded.count, "a cut escape")
                guard let high = ASCII.hexValue(encoded[i + 1]), let low = ASCII.hexValue(encoded[i + 2]) else {
                    return check(false, "a bad escape")
                }
                decoded.append(high << 4 | low)
                i += 3
            } else {
                decoded.append(encoded[i])
                i += 1
            }
        }
        check(decoded.elementsEqual(path.utf8), "\(String(decoding: encoded, as: UTF8.self)) does not decode to \(path.debugDescription)")
        let query = QueryParameters(path)
        _ = query["format"]
        let component = PercentEncoding.decodeQueryComponent(Substring(path))
        if !path.utf8.contains(UInt8(ascii: "%")) && !path.utf8.contains(UInt8(ascii: "+")) {
            check(component == path, "a component without escapes changed: \(path.debugDescription) -> \(component.debugDescription)")
        }
    }
}
