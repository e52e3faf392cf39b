// Differential check of RequestParser against h11: the same 5,720 requests that
// fuzz/differential/h11_corpus.py fed to h11 (valid, borderline, malformed, and random
// mutations of valid ones, each followed by a second request) are parsed here; accept /
// reject / incomplete and the framing (where the next request starts) must agree, except
// where a rule below, with its RFC section, says why companion differs.
import Glibc
import Testing
@testable import CompanionCore

struct H11Case {
    enum Verdict: String { case accept, reject, incomplete }
    let kind: String
    let verdict: Verdict
    /// Where h11 saw the next request start (accepted cases).
    let frame: Int
    let bytes: [UInt8]

    static func load() throws -> [H11Case] {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)   // HTTP/H11DifferentialTests.swift, CompanionCoreTests
        let path = parts.joined(separator: "/") + "/Fixtures/h11/corpus.tsv"
        let bytes = try ConfigFile.read(path).get()
        let text = String(decoding: bytes, as: UTF8.self)
        return try text.split(separator: "\n").map { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            try #require(fields.count == 4)
            return H11Case(kind: String(fields[0]), verdict: try #require(Verdict(rawValue: String(fields[1]))),
                           frame: try #require(Int(fields[2])), bytes: try #require(decodeHex(fields[3])))
        }
    }

    static func decodeHex(_ text: Substring) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = ASCII.hexValue(digits[index]), let low = ASCII.hexValue(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}

/// Our verdict on the same bytes: a one-shot parse, and the body by Content-Length.
func companionVerdict(_ bytes: [UInt8]) -> (H11Case.Verdict, Int) {
    let result = bytes.withUnsafeBytes { RequestParser().parse($0) }
    switch result {
    case .needMore: return (.incomplete, -1)
    case .reject: return (.reject, -1)
    case .complete(let head, let consumed):
        let frame = consumed + head.contentLength
        return frame <= bytes.count ? (.accept, frame) : (.incomplete, -1)
    }
}

/// Why companion may answer differently from h11, each with the rule it follows. A case
/// where the two disagree must show at least one of these in its bytes (checked by the
/// loose, independent look at the bytes in `differences(in:)`, not by our parser).
enum H11Difference: String, CaseIterable {
    /// RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request line;
    /// h11 rejects them, companion skips them (as nginx does).
    case leadingEmptyLines
    /// RFC 9112 §6.1 and §11.2: companion reads no request bodies but by Content-Length and
    /// answers any Transfer-Encoding with 400 and a close, so no framing is ever guessed (the
    /// smuggling pattern); h11 decodes chunked bodies.
    case transferEncoding
    /// RFC 9110 §8.6 and RFC 9112 §6.3 (5): a list or repeated Content-Length MAY be accepted
    /// when all values agree; companion rejects every one (400).
    case contentLengthList
    /// RFC 9110 §5.5: field values are VCHAR, obs-text, SP and HTAB; other controls (0x01-0x1F,
    /// DEL) are not in the grammar, so companion answers 400; h11 passes them through.
    case controlInFieldValue
    /// RFC 9112 §3.2: a server MUST answer 400 to a Host field with an invalid value (RFC 3986
    /// §3.2.2 host [":" port]); h11 does not check the value.
    case invalidHost
    /// RFC 9112 §5.2: obs-fold MUST be rejected or replaced; companion rejects it.
    case obsFold
    /// RFC 9112 §3.2: a request target is origin-form ("/..."), absolute-form, "*" (OPTIONS) or
    /// authority-form (CONNECT, which a static server does not offer); companion rejects the rest.
    case targetForm
    /// RFC 9110 §15.6.6: 505 for a major version other than 1 (and for HTTP/0.9 in an
    /// HTTP/1 request line); h11 accepts any digit.digit.
    case httpVersion
    /// SPEC §3 limits: request line over 8 KiB is 414, header section over 16 KiB is 431
    /// (RFC 9112 §3, RFC 6585 §5); the corpus ran h11 with a 32 KiB limit.
    case sizeLimit

    /// Whether companion rejects (true) or h11 does (false) when this applies.
    var companionIsStricter: Bool { self != .leadingEmptyLines }
}

/// The differences whose signs are in `bytes`: a deliberately simple reading of the request,
/// independent of RequestParser.
func differences(in bytes: [UInt8]) -> Set<H11Difference> {
    var found = Set<H11Difference>()
    if let first = bytes.first, first == 0x0D || first == 0x0A { found.insert(.leadingEmptyLines) }
    // Lines up to the first empty one, with LF or CRLF ends.
    var lines: [ArraySlice<UInt8>] = []
    var start = bytes.startIndex
    while start < bytes.endIndex, bytes[start] == 0x0D || bytes[start] == 0x0A { start += 1 }
    var index = start
    while index < bytes.endIndex {
        if bytes[index] == 0x0A {
            var line = bytes[start..<index]
            if line.last == 0x0D { line = line.dropLast() }
            if line.isEmpty { break }
            lines.append(line)
            start = index + 1
        }
        index += 1
    }
    guard let requestLine = lines.first else { return found }
    let parts = requestLine.split(separator: 0x20, omittingEmptySubsequences: false)
    if requestLine.count > 8192 { found.insert(.sizeLimit) }
    if lines.dropFirst().reduce(0, { $0 + $1.count + 2 }) > 16384 { found.insert(.sizeLimit) }
    if parts.count == 3 {
        let target = parts[1]
        let lowered = String(decoding: target.prefix(8), as: UTF8.self).lowercased()
        if target.first != UInt8(ascii: "/") && target.elementsEqual("*".utf8) == false
            && !lowered.hasPrefix("http://") && !lowered.hasPrefix("https://") {
            found.insert(.targetForm)
        }
        let version = Array(parts[2])
        if !(version.count == 8 && version.starts(with: "HTTP/1.".utf8) && (0x30...0x39).contains(version[7])) {
            found.insert(.httpVersion)
        }
    }
    var contentLengths = 0
    for line in lines.dropFirst() {
        if line.first == 0x20 || line.first == 0x09 { found.insert(.obsFold) }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
        let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
        let value = line[(colon + 1)...]
        if value.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) { found.insert(.controlInFieldValue) }
        switch name {
        case "transfer-encoding": found.insert(.transferEncoding)
        case "content-length":
            contentLengths += 1
            if value.contains(UInt8(ascii: ",")) { found.insert(.contentLengthList) }
        case "host":
            if !isValidHostField(value) { found.insert(.invalidHost) }
        default: break
        }
    }
    if contentLengths > 1 { found.insert(.contentLengthList) }
    return found
}

/// RFC 3986 §3.2.2-3: IP-literal or reg-name (unreserved, pct-encoded, sub-delims), then an
/// optional ":" port of digits; surrounding OWS allowed; empty is valid (RFC 9110 §7.2).
func isValidHostField(_ raw: ArraySlice<UInt8>) -> Bool {
    let value = Array(raw.drop(while: { $0 == 0x20 || $0 == 0x09 }).reversed().drop(while: { $0 == 0x20 || $0 == 0x09 }).reversed())
    var index = 0
    if value.first == UInt8(ascii: "[") {
        guard let close = value.firstIndex(of: UInt8(ascii: "]")) else { return false }
        // IPv6address by libc's reader (IPvFuture is not used on the web).
        var address = in6_addr()
        let text = String(decoding: value[1..<close], as: UTF8.self)
        guard inet_pton(AF_INET6, text, &address) == 1 else { return false }
        index = close + 1
    } else {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=".utf8)
        while index < value.count {
            if allowed.contains(value[index]) {
                index += 1
            } else if value[index] == UInt8(ascii: "%"), index + 2 < value.count,
                      ASCII.hexValue(value[index + 1]) != nil, ASCII.hexValue(value[index + 2]) != nil {
                index += 3
            } else {
                break
            }
        }
    }
    if index == value.count { return true }
    guard value[index] == UInt8(ascii: ":") else { return false }
    return value[(index + 1)...].allSatisfy { (0x30...0x39).contains($0) }
}

@Suite struct H11DifferentialTests {
    /// Every case: the same verdict and the same framing as h11, or a listed difference.
    @Test func companionAgreesWithH11OrSaysWhy() throws {
        let cases = try H11Case.load()
        #expect(cases.count >= 5000)
        var tally: [String: Int] = [:]
        var agreed = 0
        for item in cases {
            let (ours, frame) = companionVerdict(item.bytes)
            if ours == item.verdict {
                // Both accepted: the next request must start at the same byte.
                #expect(ours != .accept || frame == item.frame,
                        "\(item.kind): framing differs, h11 \(item.frame) vs \(frame): \(String(decoding: item.bytes, as: UTF8.self).debugDescription)")
                agreed += 1
                continue
            }
            let stricter = ours == .reject && item.verdict == .accept
            let reasons = differences(in: item.bytes).filter { $0.companionIsStricter == stricter }
            #expect(!reasons.isEmpty && (stricter || ours == .accept),
                    "\(item.kind): h11 \(item.verdict), companion \(ours), no listed reason: \(String(decoding: item.bytes.prefix(300), as: UTF8.self).debugDescription)")
            for reason in reasons { tally[reason.rawValue, default: 0] += 1 }
        }
        // The committed corpus: the agreement and the tally of known differences.
        print("h11 differential: \(cases.count) cases, \(agreed) agree; differences: \(tally.sorted { $0.key < $1.key })")
        #expect(agreed >= cases.count * 9 / 10)
    }

    /// The reasons are not vacuous: each one is seen in the corpus, and the reading of the bytes
    /// finds none in a plain valid request.
    @Test func everyListedDifferenceOccursAndValidRequestsShowNone() throws {
        let cases = try H11Case.load()
        var seen = Set<H11Difference>()
        for item in cases where item.kind != "mutated" && item.kind != "valid" {
            let (ours, _) = companionVerdict(item.bytes)
            if ours != item.verdict { seen.formUnion(differences(in: item.bytes)) }
        }
        #expect(seen == Set(H11Difference.allCases))
        for item in cases where item.kind == "valid" {
            #expect(differences(in: item.bytes).isEmpty, "\(String(decoding: item.bytes, as: UTF8.self).debugDescription)")
        }
    }
}
