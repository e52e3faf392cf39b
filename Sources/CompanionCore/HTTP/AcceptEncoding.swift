// AcceptEncoding: which content codings a request's Accept-Encoding header
// allows (RFC 9110 §12.5.3), parsed from bytes, and the sidecar choice among
// them (SPEC §3 Compression: preference br, zstd, gzip).

/// The content codings a client accepts, among those companion can serve.
public struct AcceptEncoding: Sendable, Equatable {
    public var gzip: Bool
    public var br: Bool
    public var zstd: Bool
    /// The q-values (thousandths) the accepted codings came with: they rank the variants
    /// (`best(where:)`). Not part of equality: two headers accepting the same codings are
    /// equal.
    var gzipQ: Int16 = 0, brQ: Int16 = 0, zstdQ: Int16 = 0

    public init(gzip: Bool = false, br: Bool = false, zstd: Bool = false) {
        self.gzip = gzip
        self.br = br
        self.zstd = zstd
        gzipQ = gzip ? 1000 : 0
        brQ = br ? 1000 : 0
        zstdQ = zstd ? 1000 : 0
    }

    public static func == (a: AcceptEncoding, b: AcceptEncoding) -> Bool {
        a.gzip == b.gzip && a.br == b.br && a.zstd == b.zstd
    }

    /// The client's q-value for `coding` (0: refused).
    func quality(_ coding: ContentCoding) -> Int {
        switch coding {
        case .gzip: Int(gzipQ)
        case .br: Int(brQ)
        case .zstd: Int(zstdQ)
        }
    }

    /// Of the accepted codings that `available` allows, the one with the highest q-value;
    /// on a tie the server's preference (br, zstd, gzip). No allocation (a per-request path).
    func best(where available: (ContentCoding) -> Bool) -> ContentCoding? {
        var chosen: ContentCoding?
        var chosenQ = 0
        for coding in ContentCoding.serverPreference {
            let q = quality(coding)
            if q > chosenQ, available(coding) {
                chosen = coding
                chosenQ = q
            }
        }
        return chosen
    }

    /// Nothing but identity: what a missing or empty header means here.
    public static let none = AcceptEncoding()

    /// Parses an `Accept-Encoding` field value (RFC 9110 §12.5.3):
    /// `#( codings [ OWS ";" OWS "q=" qvalue ] )`, codings case-insensitive.
    ///
    /// - A coding with q=0 (`0`, `0.0`, `0.000`) is refused, any q > 0 accepts.
    /// - `*` stands for every coding not listed by name (§12.5.3), so
    ///   `*;q=0, gzip` accepts gzip only and `gzip;q=0, *` everything but gzip.
    /// - `x-gzip` is gzip (RFC 9110 §8.4.1.3). `identity` changes nothing: the
    ///   identity body is always a fallback here.
    /// - A coding listed twice counts with its lowest q, so a refusal wins.
    /// - Malformed elements (bad qvalue, other parameters, stray bytes) are
    ///   ignored one by one; the rest of the list still counts.
    /// - A missing (nil) or empty header accepts nothing: such clients get the
    ///   identity body, as nginx does.
    public static func parse<C: Collection>(_ header: C?) -> AcceptEncoding where C.Element == UInt8 {
        guard let header else { return .none }
        var weights = Weights()
        var rest = header[...]
        while !rest.isEmpty {
            let comma = rest.firstIndex(of: UInt8(ascii: ",")) ?? rest.endIndex
            parseElement(rest[rest.startIndex..<comma], into: &weights)
            rest = comma == rest.endIndex ? rest[comma...] : rest[rest.index(after: comma)...]
        }
        var result = AcceptEncoding()
        result.gzipQ = Int16(weights.effective(weights.gzip))
        result.brQ = Int16(weights.effective(weights.br))
        result.zstdQ = Int16(weights.effective(weights.zstd))
        result.gzip = result.gzipQ > 0
        result.br = result.brQ > 0
        result.zstd = result.zstdQ > 0
        return result
    }

    /// The precompressed sidecar to serve: the first of br, zstd, gzip that the
    /// client accepts and that exists. Returns the content-coding name
    /// (`"br"`, `"zstd"` or `"gzip"`, for the files `NAME.br`, `NAME.zst`,
    /// `NAME.gz`), or nil for the identity body.
    public func preferredSidecar(available: (br: Bool, zstd: Bool, gzip: Bool)) -> String? {
        if br && available.br { return "br" }
        if zstd && available.zstd { return "zstd" }
        if gzip && available.gzip { return "gzip" }
        return nil
    }

    /// q-values in thousandths (0...1000) for the codings we care about; nil = not listed.
    struct Weights {
        var gzip: Int?
        var br: Int?
        var zstd: Int?
        var star: Int?

        /// Explicit listing first, else `*`, else not accepted (0).
        func effective(_ explicit: Int?) -> Int { explicit ?? star ?? 0 }

        static func lower(_ old: Int?, _ new: Int) -> Int { min(old ?? new, new) }
    }

    /// One list element: `coding [ OWS ";" OWS "q=" qvalue ]`, surrounded by OWS.
    static func parseElement<S: Collection>(_ element: S, into weights: inout Weights)
    where S.Element == UInt8, S.SubSequence == S {
        let trimmed = trimOWS(element)
        guard !trimmed.isEmpty else { return }  // empty list elements are allowed
        let nameEnd = trimmed.firstIndex { !isTokenByte($0) } ?? trimmed.endIndex
        let name = trimmed[trimmed.startIndex..<nameEnd]
        guard !name.isEmpty else { return }
        var weight = 1000
        let parameter = trimOWS(trimmed[nameEnd...])
        if !parameter.isEmpty {
            guard parameter.first == UInt8(ascii: ";") else { return }
            let assignment = trimOWS(parameter.dropFirst())
            guard assignment.count >= 2,
                assignment.first! | 0x20 == UInt8(ascii: "q"),
                assignment.dropFirst().first == UInt8(ascii: "="),
                let q = parseQValue(assignment.dropFirst(2))
            else { return }
            weight = q
        }
        if matches(name, "gzip") || matches(name, "x-gzip") {
            weights.gzip = Weights.lower(weights.gzip, weight)
        } else if matches(name, "br") {
            weights.br = Weights.lower(weights.br, weight)
        } else if matches(name, "zstd") {
            weights.zstd = Weights.lower(weights.zstd, weight)
        } else if matches(name, "*") {
            weights.star = Weights.lower(weights.star, weight)
        }
        // identity and codings we do not serve change nothing.
    }

    /// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )` (RFC 9110 §12.4.2),
    /// in thousandths; nil when malformed.
    static func parseQValue<S: Collection>(_ bytes: S) -> Int? where S.Element == UInt8 {
        var iterator = bytes.makeIterator()
        guard let first = iterator.next(), first == UInt8(ascii: "0") || first == UInt8(ascii: "1") else {
            return nil
        }
        var value = first == UInt8(ascii: "1") ? 1000 : 0
        guard let dot = iterator.next() else { return value }
        guard dot == UInt8(ascii: ".") else { return nil }
        var scale = 100
        var digits = 0
        while let digit = iterator.next() {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit), digits < 3 else { return nil }
            value += Int(digit - UInt8(ascii: "0")) * scale
            scale /= 10
            digits += 1
        }
        return value <= 1000 ? value : nil
    }

    /// ASCII case-insensitive comparison of `name` with the lowercase `coding`,
    /// without building a String.
    static func matches<S: Collection>(_ name: S, _ coding: StaticString) -> Bool where S.Element == UInt8 {
        guard name.count == coding.utf8CodeUnitCount else { return false }
        var index = 0
        for byte in name {
            let lower = (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
            guard lower == coding.utf8Start[index] else { return false }
            index += 1
        }
        return true
    }

    private static func isOWS(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    /// Drops optional whitespace (SP, HTAB) at both ends.
    static func trimOWS<S: Collection>(_ bytes: S) -> S where S.Element == UInt8, S.SubSequence == S {
        let trimmed = bytes.drop(while: isOWS)
        var end = trimmed.startIndex
        var index = trimmed.startIndex
        while index != trimmed.endIndex {
            if !isOWS(trimmed[index]) { end = trimmed.index(after: index) }
            index = trimmed.index(after: index)
        }
        return trimmed[trimmed.startIndex..<end]
    }

    /// tchar (RFC 9110 §5.6.2).
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
