// HTTPDate: formatting, the three parse forms of RFC 9110 §5.6.7, round trips, rejects.
import Testing
@testable import CompanionCore

@Suite struct HTTPDateTests {
    static let known: [(Int, String, String)] = [
        (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT", "1994-11-06T08:49:37Z"),  // RFC 9110's example
        (0, "Thu, 01 Jan 1970 00:00:00 GMT", "1970-01-01T00:00:00Z"),
        (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT", "2000-02-29T00:00:00Z"),
        (1_795_749_900, "Fri, 27 Nov 2026 03:25:00 GMT", "2026-11-27T03:25:00Z"),
        (2_147_483_647, "Tue, 19 Jan 2038 03:14:07 GMT", "2038-01-19T03:14:07Z"),
        (4_133_980_799, "Fri, 31 Dec 2100 23:59:59 GMT", "2100-12-31T23:59:59Z"),
        (-1, "Wed, 31 Dec 1969 23:59:59 GMT", "1969-12-31T23:59:59Z"),
        (-2_208_988_800, "Mon, 01 Jan 1900 00:00:00 GMT", "1900-01-01T00:00:00Z"),
        (253_402_300_799, "Fri, 31 Dec 9999 23:59:59 GMT", "9999-12-31T23:59:59Z"),
    ]

    @Test(arguments: known)
    func formats(epoch: Int, imf: String, rfc3339: String) {
        #expect(HTTPDate.format(epochSeconds: epoch) == imf)
        #expect(HTTPDate.rfc3339(epochSeconds: epoch, milliseconds: nil) == rfc3339)
        var buffer: [UInt8] = Array("Date: ".utf8)
        HTTPDate.write(epochSeconds: epoch, into: &buffer)
        #expect(buffer == Array(("Date: " + imf).utf8))
        #expect(HTTPDate.parse(Array(imf.utf8)) == epoch)
    }

    @Test func rfc3339Milliseconds() {
        #expect(HTTPDate.rfc3339(epochSeconds: 1_795_749_900, milliseconds: 7) == "2026-11-27T03:25:00.007Z")
        #expect(HTTPDate.rfc3339(epochSeconds: 1_795_749_900, milliseconds: 999) == "2026-11-27T03:25:00.999Z")
        #expect(HTTPDate.rfc3339(epochSeconds: 1_795_749_900, milliseconds: 0) == "2026-11-27T03:25:00.000Z")
    }

    @Test func threeFormsOfTheSameInstant() {
        let now = 1_795_749_900  // 2026
        for form in ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"] {
            #expect(HTTPDate.parse(Array(form.utf8), now: now) == 784_111_777, "\(form)")
        }
        #expect(HTTPDate.parse("Thu Nov 26 08:49:37 2026".utf8) == 1_795_682_977)
        #expect(HTTPDate.parse("  Sun, 06 Nov 1994 08:49:37 GMT\t".utf8) == 784_111_777)
        #expect(HTTPDate.parse(ArraySlice("xSun, 06 Nov 1994 08:49:37 GMT".utf8).dropFirst()) == 784_111_777)
    }

    @Test func rfc850TwoDigitYearsFollowTheFiftyYearRule() {
        let in2026 = 1_795_749_900
        #expect(HTTPDate.parse("Thursday, 01-Jan-70 00:00:00 GMT".utf8, now: in2026) == 3_155_760_000)  // 2070
        #expect(HTTPDate.parse("Friday, 27-Nov-26 03:25:00 GMT".utf8, now: in2026) == in2026)
        // 76 → 2076 is exactly 50 years ahead: kept; 77 → 2077 is more: 1977.
        #expect(HTTPDate.parse("Friday, 01-Jan-77 00:00:00 GMT".utf8, now: in2026) == 220_924_800)
        #expect(HTTPDate.parse("Wednesday, 01-Jan-76 00:00:00 GMT".utf8, now: in2026) == 3_345_062_400)
    }

    static let invalid: [String] = [
        "",
        "garbage",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 gmt",
        "sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 nov 1994 08:49:37 GMT",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 29 Feb 1900 08:49:37 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 06 Nov 1994 08-49-37 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT,",
        "Sun, 06 Nov 1994 +8:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sundae, 06-Nov-94 08:49:37 GMT",
        "Sun, 06-Nov-94 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994",
        "Sun Nov  6 08:49:37 94  ",
        "Sun Nov 06 08:49:37 1994x",
        "1994-11-06T08:49:37Z",
        "784111777",
    ]

    @Test(arguments: invalid)
    func rejects(value: String) {
        #expect(HTTPDate.parse(Array(value.utf8)) == nil, "\(value)")
    }

    @Test func acceptsLeapSecondAndZeroPaddedAsctimeDay() {
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:60 GMT".utf8) == 784_111_800)
        #expect(HTTPDate.parse("Sun Nov 06 08:49:37 1994".utf8) == 784_111_777)
    }

    @Test func roundTripsAcrossFourHundredYears() {
        // Every 9 days and 7 hours from 1800 to 2200: format → parse is the identity, and the
        // day arithmetic agrees with the civil conversion.
        var epoch = -5_364_662_400
        while epoch < 7_258_118_400 {
            #expect(HTTPDate.parse(Array(HTTPDate.format(epochSeconds: epoch).utf8)) == epoch)
            epoch += 9 * 86_400 + 7 * 3600 + 13
        }
        for days in -800_000...800_000 where days % 997 == 0 {
            let (y, m, d) = HTTPDate.civil(fromDays: days)
            #expect(HTTPDate.days(fromYear: y, month: m, day: d) == days)
        }
    }
}
