// HTTPDate: HTTP-date formatting and parsing (RFC 9110 §5.6.7) and RFC 3339 UTC
// timestamps, with the calendar math done here (days-from-civil, Howard Hinnant's
// algorithms), no Foundation. Formatting writes bytes straight into a buffer.

/// HTTP-date (IMF-fixdate, RFC 850, asctime) and RFC 3339 conversions, all in UTC.
public enum HTTPDate {
    static let dayNames: [[UInt8]] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].map { Array($0.utf8) }
    static let longDayNames: [[UInt8]] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
        .map { Array($0.utf8) }
    static let monthNames: [[UInt8]] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].map { Array($0.utf8) }

    /// Formats IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 §5.6.7).
    /// - Parameter epochSeconds: seconds since 1970-01-01T00:00:00Z (may be negative).
    public static func format(epochSeconds: Int) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(29)
        write(epochSeconds: epochSeconds, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the 29-byte IMF-fixdate for `epochSeconds` to `buffer` (no allocation beyond
    /// the buffer's growth). Used for `Date` and `Last-Modified` header values.
    public static func write(epochSeconds: Int, into buffer: inout [UInt8]) {
        let (days, secondOfDay) = epochSeconds.quotientAndRemainderFloored(by: 86_400)
        let (year, month, day) = civil(fromDays: days)
        // 1970-01-01 was a Thursday (index 4).
        let weekday = (days % 7 + 11) % 7
        buffer.append(contentsOf: dayNames[weekday])
        buffer.append(UInt8(ascii: ","))
        buffer.append(UInt8(ascii: " "))
        appendDigits(day, width: 2, into: &buffer)
        buffer.append(UInt8(ascii: " "))
        buffer.append(contentsOf: monthNames[month - 1])
        buffer.append(UInt8(ascii: " "))
        appendDigits(year, width: 4, into: &buffer)
        buffer.append(UInt8(ascii: " "))
        appendClock(secondOfDay, into: &buffer)
        buffer.append(contentsOf: [UInt8(ascii: " "), UInt8(ascii: "G"), UInt8(ascii: "M"), UInt8(ascii: "T")])
    }

    /// Formats an RFC 3339 UTC timestamp: `2026-11-27T03:25:00Z`, or with milliseconds
    /// `2026-11-27T03:25:00.123Z` (the access-log `time` column and listing JSON `mtime`).
    /// - Parameters:
    ///   - epochSeconds: seconds since the epoch.
    ///   - milliseconds: 0-999 to include a fraction, or nil for whole seconds.
    public static func rfc3339(epochSeconds: Int, milliseconds: Int?) -> String {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(24)
        let (days, secondOfDay) = epochSeconds.quotientAndRemainderFloored(by: 86_400)
        let (year, month, day) = civil(fromDays: days)
        appendDigits(year, width: 4, into: &buffer)
        buffer.append(UInt8(ascii: "-"))
        appendDigits(month, width: 2, into: &buffer)
        buffer.append(UInt8(ascii: "-"))
        appendDigits(day, width: 2, into: &buffer)
        buffer.append(UInt8(ascii: "T"))
        appendClock(secondOfDay, into: &buffer)
        if let milliseconds {
            buffer.append(UInt8(ascii: "."))
            appendDigits(min(max(milliseconds, 0), 999), width: 3, into: &buffer)
        }
        buffer.append(UInt8(ascii: "Z"))
        return String(decoding: buffer, as: UTF8.self)
    }

    // MARK: - Calendar math

    /// Days since 1970-01-01 for a proleptic Gregorian date (Hinnant, days_from_civil).
    static func days(fromYear year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date for a day count since 1970-01-01 (Hinnant, civil_from_days).
    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    static func daysInMonth(_ month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // MARK: - Digits

    /// Appends `value` in decimal, zero-padded to `width` (negative years get a '-').
    /// Writes in place: no temporary array.
    static func appendDigits(_ value: Int, width: Int, into buffer: inout [UInt8]) {
        var magnitude = value.magnitude
        if value < 0 { buffer.append(UInt8(ascii: "-")) }
        var count = 1
        var probe = magnitude / 10
        while probe > 0 {
            count += 1
            probe /= 10
        }
        buffer.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: max(width, count)))
        var index = buffer.count - 1
        repeat {
            buffer[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
            index -= 1
        } while magnitude > 0
    }

    /// Appends `HH:MM:SS` for a second of the day (0..<86400).
    static func appendClock(_ secondOfDay: Int, into buffer: inout [UInt8]) {
        appendDigits(secondOfDay / 3600, width: 2, into: &buffer)
        buffer.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay / 60 % 60, width: 2, into: &buffer)
        buffer.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 60, width: 2, into: &buffer)
    }
}

extension Int {
    /// Floored division: the remainder is always in 0..<divisor (for dates before 1970).
    fileprivate func quotientAndRemainderFloored(by divisor: Int) -> (Int, Int) {
        let (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}
