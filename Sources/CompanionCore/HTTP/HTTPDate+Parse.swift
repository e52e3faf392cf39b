// HTTPDate+Parse: reads the three HTTP-date forms of RFC 9110 §5.6.7 from raw header
// bytes, without building a String:
//   IMF-fixdate  Sun, 06 Nov 1994 08:49:37 GMT   (preferred)
//   rfc850-date  Sunday, 06-Nov-94 08:49:37 GMT  (obsolete, 2-digit year)
//   asctime-date Sun Nov  6 08:49:37 1994        (obsolete)
import Glibc

extension HTTPDate {
    /// Parses an HTTP-date in any of the three forms (RFC 9110 §5.6.7).
    ///
    /// Names are case-sensitive as the grammar says; the weekday must be a valid name but
    /// is not checked against the date (as nginx does). Surrounding SP/HTAB are ignored.
    /// - Parameter bytes: the field value.
    /// - Returns: seconds since the epoch, or nil when the value is not a valid HTTP-date
    ///   (callers then ignore the header, RFC 9110 §13.1.3).
    public static func parse<C: Collection>(_ bytes: C) -> Int? where C.Element == UInt8 {
        parse(bytes, now: time(nil))
    }

    /// - Parameter now: the clock used to place a two-digit RFC 850 year.
    static func parse<C: Collection>(_ bytes: C, now: Int) -> Int? where C.Element == UInt8 {
        if let result = bytes.withContiguousStorageIfAvailable({ parse(buffer: $0, now: now) }) {
            return result
        }
        return Array(bytes).withUnsafeBufferPointer { parse(buffer: $0, now: now) }
    }

    private static func parse(buffer: UnsafeBufferPointer<UInt8>, now: Int) -> Int? {
        var start = 0, end = buffer.count
        while start < end, buffer[start] == 0x20 || buffer[start] == 0x09 { start += 1 }
        while end > start, buffer[end - 1] == 0x20 || buffer[end - 1] == 0x09 { end -= 1 }
        let value = UnsafeBufferPointer(rebasing: buffer[start..<end])
        if value.count == 29, value[3] == UInt8(ascii: ",") { return parseIMF(value) }
        if value.count == 24, value[3] == UInt8(ascii: " ") { return parseAsctime(value) }
        if let comma = value.firstIndex(of: UInt8(ascii: ",")), value.count == comma + 24 {
            return parseRFC850(value, comma: comma, now: now)
        }
        return nil
    }

    /// `Sun, 06 Nov 1994 08:49:37 GMT`
    private static func parseIMF(_ v: UnsafeBufferPointer<UInt8>) -> Int? {
        guard dayNames.contains(where: { matches(v, at: 0, $0) }),
              v[4] == 0x20, v[7] == 0x20, v[11] == 0x20, v[16] == 0x20, v[25] == 0x20,
              matches(v, at: 26, gmt),
              let day = number(v, at: 5, count: 2),
              let month = month(v, at: 8),
              let year = number(v, at: 12, count: 4),
              let clock = clock(v, at: 17)
        else { return nil }
        return epoch(year: year, month: month, day: day, clock: clock)
    }

    /// `Sunday, 06-Nov-94 08:49:37 GMT`
    private static func parseRFC850(_ v: UnsafeBufferPointer<UInt8>, comma: Int, now: Int) -> Int? {
        let p = comma + 1
        guard longDayNames.contains(where: { $0.count == comma && matches(v, at: 0, $0) }),
              v[p] == 0x20, v[p + 3] == UInt8(ascii: "-"), v[p + 7] == UInt8(ascii: "-"),
              v[p + 10] == 0x20, v[p + 19] == 0x20, matches(v, at: p + 20, gmt),
              let day = number(v, at: p + 1, count: 2),
              let month = month(v, at: p + 4),
              let shortYear = number(v, at: p + 8, count: 2),
              let clock = clock(v, at: p + 11)
        else { return nil }
        // RFC 9110 §5.6.7: a two-digit year more than 50 years in the future means the most
        // recent past year with the same last two digits.
        let currentYear = civil(fromDays: now.quotientAndRemainder(dividingBy: 86_400).quotient).year
        var year = currentYear - currentYear % 100 + shortYear
        if year > currentYear + 50 { year -= 100 }
        return epoch(year: year, month: month, day: day, clock: clock)
    }

    /// `Sun Nov  6 08:49:37 1994` (the day is space-padded: "SP DIGIT" or "2DIGIT").
    private static func parseAsctime(_ v: UnsafeBufferPointer<UInt8>) -> Int? {
        let day: Int?
        if v[8] == 0x20 { day = number(v, at: 9, count: 1) } else { day = number(v, at: 8, count: 2) }
        guard dayNames.contains(where: { matches(v, at: 0, $0) }),
              v[7] == 0x20, v[10] == 0x20, v[19] == 0x20,
              let day,
              let month = month(v, at: 4),
              let clock = clock(v, at: 11),
              let year = number(v, at: 20, count: 4)
        else { return nil }
        return epoch(year: year, month: month, day: day, clock: clock)
    }

    private static let gmt: [UInt8] = Array("GMT".utf8)

    private static func matches(_ v: UnsafeBufferPointer<UInt8>, at offset: Int, _ word: [UInt8]) -> Bool {
        guard offset + word.count <= v.count else { return false }
        for index in 0..<word.count where v[offset + index] != word[index] { return false }
        return true
    }

    private static func number(_ v: UnsafeBufferPointer<UInt8>, at offset: Int, count: Int) -> Int? {
        var result = 0
        for index in offset..<offset + count {
            let digit = v[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            result = result * 10 + Int(digit)
        }
        return result
    }

    private static func month(_ v: UnsafeBufferPointer<UInt8>, at offset: Int) -> Int? {
        monthNames.firstIndex(where: { matches(v, at: offset, $0) }).map { $0 + 1 }
    }

    /// `HH:MM:SS` → seconds of the day; 60 is allowed as a leap second.
    private static func clock(_ v: UnsafeBufferPointer<UInt8>, at offset: Int) -> Int? {
        guard v[offset + 2] == UInt8(ascii: ":"), v[offset + 5] == UInt8(ascii: ":"),
              let hour = number(v, at: offset, count: 2), hour < 24,
              let minute = number(v, at: offset + 3, count: 2), minute < 60,
              let second = number(v, at: offset + 6, count: 2), second <= 60
        else { return nil }
        return hour * 3600 + minute * 60 + second
    }

    private static func epoch(year: Int, month: Int, day: Int, clock: Int) -> Int? {
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(month, year: year) else { return nil }
        return days(fromYear: year, month: month, day: day) * 86_400 + clock
    }
}
