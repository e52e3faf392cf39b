// Conditional: the RFC 9110 §13.2.2 matrix, entity-tag list parsing, If-Range, ETag shapes.
import Testing
@testable import CompanionCore

@Suite struct ConditionalTests {
    static let etag = "\"5f3a1b2c.1c8-400\""
    static let other = "\"5f3a1b2c.1c8-401\""
    static let lastModified = 784_111_777  // Sun, 06 Nov 1994 08:49:37 GMT
    static let same = "Sun, 06 Nov 1994 08:49:37 GMT"
    static let before = "Sun, 06 Nov 1994 08:49:36 GMT"
    static let after = "Sun, 06 Nov 1994 08:49:38 GMT"

    struct Case: Sendable, CustomStringConvertible {
        var label: String
        var ifMatch: String? = nil
        var ifNoneMatch: String? = nil
        var ifModifiedSince: String? = nil
        var ifUnmodifiedSince: String? = nil
        var isGetOrHead = true
        var expected: ConditionalResult
        var description: String { label }
    }

    static let matrix: [Case] = [
        Case(label: "no preconditions", expected: .proceed),
        // If-None-Match (weak comparison).
        Case(label: "INM exact", ifNoneMatch: etag, expected: .notModified),
        Case(label: "INM weak form of ours", ifNoneMatch: "W/" + etag, expected: .notModified),
        Case(label: "INM other", ifNoneMatch: other, expected: .proceed),
        Case(label: "INM list hit", ifNoneMatch: "\"a\", " + etag + " ,\"b\"", expected: .notModified),
        Case(label: "INM list miss", ifNoneMatch: "\"a\",\"b\"", expected: .proceed),
        Case(label: "INM empty elements", ifNoneMatch: " , ," + etag + ",", expected: .notModified),
        Case(label: "INM star", ifNoneMatch: "*", expected: .notModified),
        Case(label: "INM star non-GET", ifNoneMatch: "*", isGetOrHead: false, expected: .preconditionFailed),
        Case(label: "INM hit non-GET", ifNoneMatch: etag, isGetOrHead: false, expected: .preconditionFailed),
        Case(label: "INM unquoted", ifNoneMatch: "5f3a1b2c.1c8-400", expected: .proceed),
        Case(label: "INM malformed list", ifNoneMatch: etag + " junk", expected: .proceed),
        Case(label: "INM prefix only", ifNoneMatch: "\"5f3a1b2c\"", expected: .proceed),
        // If-Modified-Since (only without If-None-Match, GET/HEAD).
        Case(label: "IMS same", ifModifiedSince: same, expected: .notModified),
        Case(label: "IMS later", ifModifiedSince: after, expected: .notModified),
        Case(label: "IMS earlier", ifModifiedSince: before, expected: .proceed),
        Case(label: "IMS invalid ignored", ifModifiedSince: "yesterday", expected: .proceed),
        Case(label: "IMS rfc850", ifModifiedSince: "Sunday, 06-Nov-94 08:49:37 GMT", expected: .notModified),
        Case(label: "IMS asctime", ifModifiedSince: "Sun Nov  6 08:49:37 1994", expected: .notModified),
        Case(label: "IMS non-GET ignored", ifModifiedSince: same, isGetOrHead: false, expected: .proceed),
        Case(label: "INM miss beats IMS", ifNoneMatch: other, ifModifiedSince: after, expected: .proceed),
        Case(label: "INM hit with old IMS", ifNoneMatch: etag, ifModifiedSince: before, expected: .notModified),
        // If-Match (strong comparison).
        Case(label: "IM exact", ifMatch: etag, expected: .proceed),
        Case(label: "IM star", ifMatch: "*", expected: .proceed),
        Case(label: "IM list hit", ifMatch: other + ", " + etag, expected: .proceed),
        Case(label: "IM other", ifMatch: other, expected: .preconditionFailed),
        Case(label: "IM weak never matches", ifMatch: "W/" + etag, expected: .preconditionFailed),
        Case(label: "IM malformed", ifMatch: "nonsense", expected: .preconditionFailed),
        Case(label: "IM fail beats INM", ifMatch: other, ifNoneMatch: etag, expected: .preconditionFailed),
        Case(label: "IM pass then INM hit", ifMatch: etag, ifNoneMatch: etag, expected: .notModified),
        // If-Unmodified-Since (only without If-Match).
        Case(label: "IUS same", ifUnmodifiedSince: same, expected: .proceed),
        Case(label: "IUS later", ifUnmodifiedSince: after, expected: .proceed),
        Case(label: "IUS earlier", ifUnmodifiedSince: before, expected: .preconditionFailed),
        Case(label: "IUS invalid ignored", ifUnmodifiedSince: "soon", expected: .proceed),
        Case(label: "IM pass overrides IUS", ifMatch: etag, ifUnmodifiedSince: before, expected: .proceed),
        Case(label: "IUS fail beats IMS", ifModifiedSince: same, ifUnmodifiedSince: before,
             expected: .preconditionFailed),
        Case(label: "IUS pass then IMS", ifModifiedSince: same, ifUnmodifiedSince: after, expected: .notModified),
    ]

    @Test(arguments: matrix)
    func evaluates(_ c: Case) {
        func bytes(_ s: String?) -> ArraySlice<UInt8>? { s.map { ArraySlice($0.utf8) } }
        let result = Conditional.evaluate(
            ifMatch: bytes(c.ifMatch), ifNoneMatch: bytes(c.ifNoneMatch),
            ifModifiedSince: bytes(c.ifModifiedSince), ifUnmodifiedSince: bytes(c.ifUnmodifiedSince),
            etag: Self.etag, lastModified: Self.lastModified, isGetOrHead: c.isGetOrHead)
        #expect(result == c.expected, "\(c.label)")
    }

    @Test func weakEtagOfOursMatchesOnlyWeakly() {
        let weak = "W/" + Self.etag
        #expect(EntityTagList.matches(ArraySlice(Self.etag.utf8), etag: weak, weakComparison: true))
        #expect(!EntityTagList.matches(ArraySlice(Self.etag.utf8), etag: weak, weakComparison: false))
        #expect(EntityTagList.matches(ArraySlice("*".utf8), etag: weak, weakComparison: false))
    }

    static let ifRangeCases: [(String, Bool)] = [
        (etag, true),
        ("  " + etag + " ", true),
        (other, false),
        ("W/" + etag, false),  // weak tags never match If-Range
        (etag + ", " + etag, false),  // a single tag only
        (same, true),
        (before, false),
        (after, false),  // a date must match exactly
        ("Sunday, 06-Nov-94 08:49:37 GMT", true),
        ("garbage", false),
        ("", false),
        ("*", false),
    ]

    @Test(arguments: ifRangeCases)
    func ifRange(value: String, expected: Bool) {
        #expect(Conditional.ifRangeAllows(ArraySlice(value.utf8), etag: Self.etag, lastModified: Self.lastModified,
                                          now: Self.lastModified + 60) == expected, "\(value)")
    }

    /// Regression: a date starting with "W" (Wednesday) was taken for a weak
    /// entity-tag, so a matching date got 200 instead of 206 one day a week.
    @Test func ifRangeWithAWednesdayDate() {
        let wednesday = 1_445_412_480  // Wed, 21 Oct 2015 07:28:00 GMT
        #expect(Conditional.ifRangeAllows(ArraySlice("Wed, 21 Oct 2015 07:28:00 GMT".utf8), etag: Self.etag,
                                          lastModified: wednesday, now: wednesday + 60))
        #expect(Conditional.ifRangeAllows(ArraySlice("Wednesday, 21-Oct-15 07:28:00 GMT".utf8), etag: Self.etag,
                                          lastModified: wednesday, now: wednesday + 60))
        #expect(!Conditional.ifRangeAllows(ArraySlice("W/\"x\"".utf8), etag: "\"x\"", lastModified: 0, now: 60))
        #expect(!Conditional.ifRangeAllows(ArraySlice("W".utf8), etag: Self.etag, lastModified: 0, now: 60))
    }

    /// RFC 9110 §8.8.2.2: a Last-Modified in the same second as the Date is
    /// weak, so it never allows a 206; one second earlier it does.
    @Test func ifRangeDateMustBeStrong() {
        let value = ArraySlice(Self.same.utf8)
        #expect(!Conditional.ifRangeAllows(value, etag: Self.etag, lastModified: Self.lastModified, now: Self.lastModified))
        #expect(Conditional.ifRangeAllows(value, etag: Self.etag, lastModified: Self.lastModified, now: Self.lastModified + 1))
    }

    @Test func etagShape() {
        #expect(ETag.make(size: 1024, mtimeSeconds: 0x5f3a1b2c, mtimeNanoseconds: 456) == "\"5f3a1b2c.1c8-400\"")
        #expect(ETag.make(size: 0, mtimeSeconds: 0, mtimeNanoseconds: 0) == "\"0.0-0\"")
        #expect(ETag.make(size: 5, mtimeSeconds: -1, mtimeNanoseconds: 0) == "\"ffffffffffffffff.0-5\"")
        // Same second, different nanoseconds: different tags.
        #expect(ETag.make(size: 5, mtimeSeconds: 10, mtimeNanoseconds: 1)
                != ETag.make(size: 5, mtimeSeconds: 10, mtimeNanoseconds: 2))
        #expect(ETag.variant("\"5f3a1b2c.1c8-400\"", suffix: "gzip") == "\"5f3a1b2c.1c8-400-gzip\"")
        #expect(ETag.variant("W/\"abc\"", suffix: "br") == "W/\"abc-br\"")
        // A variant tag does not satisfy a conditional for the identity tag, nor the reverse.
        let gzip = ETag.variant(Self.etag, suffix: "gzip")
        #expect(Conditional.evaluate(ifMatch: nil, ifNoneMatch: ArraySlice(Self.etag.utf8), ifModifiedSince: nil,
                                     ifUnmodifiedSince: nil, etag: gzip, lastModified: 0, isGetOrHead: true)
                == .proceed)
    }
}
