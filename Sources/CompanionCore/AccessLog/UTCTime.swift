// UTCTime: Unix-epoch microseconds <-> civil UTC date and time, without
// Foundation. Formats the stored `time` column (`YYYY-MM-DDTHH:MM:SS.mmmZ`) and
// the combined-log time (`27/Nov/2026:10:00:00 +0000`).
import CLinux  // struct timespec comes through <sys/epoll.h> in CLinux
import Glibc

/// A UTC calendar time (proleptic Gregorian), used for the access log's text times.
public struct UTCTime: Equatable, Sendable {
    public var year: Int, month: Int, day: Int
    public var hour: Int, minute: Int, second: Int
    /// Microseconds within the second, 0...999_999.
    public var micros: Int

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, micros: Int = 0) {
        self.year = year; self.month = month; self.day = day
        self.hour = hour; self.minute = minute; self.second = second; self.micros = micros
    }

    /// Splits Unix-epoch microseconds into UTC fields.
    public init(epochMicros: Int64) {
        let perDay: Int64 = 86_400_000_000
        var days = epochMicros / perDay
        var rest = epochMicros % perDay
        if rest < 0 { rest += perDay; days -= 1 }
        (year, month, day) = UTCTime.civil(fromDays: Int(days))
        let seconds = Int(rest / 1_000_000)
        hour = seconds / 3600
        minute = seconds / 60 % 60
        second = seconds % 60
        micros = Int(rest % 1_000_000)
    }

    /// Unix-epoch microseconds of these fields.
    public var epochMicros: Int64 {
        let days = Int64(UTCTime.days(fromCivil: year, month, day))
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        return seconds * 1_000_000 + Int64(micros)
    }

    /// The stored form: `YYYY-MM-DDTHH:MM:SS.mmmZ` (milliseconds, truncated).
    public var storedText: String {
        "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2)).\(pad(micros / 1000, 3))Z"
    }

    /// Writes the stored form (24 bytes, `YYYY-MM-DDTHH:MM:SS.mmmZ`) at `out` without
    /// building a String: the access-log writer does this once per row.
    public func writeStoredText(to out: UnsafeMutablePointer<UInt8>) {
        @inline(__always) func put(_ value: Int, _ width: Int, _ at: Int) {
            var v = value
            for i in stride(from: at + width - 1, through: at, by: -1) {
                out[i] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: v % 10)
                v /= 10
            }
        }
        put(year, 4, 0); out[4] = UInt8(ascii: "-")
        put(month, 2, 5); out[7] = UInt8(ascii: "-")
        put(day, 2, 8); out[10] = UInt8(ascii: "T")
        put(hour, 2, 11); out[13] = UInt8(ascii: ":")
        put(minute, 2, 14); out[16] = UInt8(ascii: ":")
        put(second, 2, 17); out[19] = UInt8(ascii: ".")
        put(micros / 1000, 3, 20); out[23] = UInt8(ascii: "Z")
    }

    /// The length of the stored form.
    public static let storedTextLength = 24

    /// Writes stored times for a stream of rows (the access-log writer, one per row),
    /// reusing the `YYYY-MM-DDTHH:MM:SS.` text of the last second: rows mostly arrive
    /// many to a second, and the calendar arithmetic showed in the writer's profile.
    struct StoredTextFormatter {
        private var second = Int64.min
        private var prefix = [UInt8](repeating: 0, count: 24)

        mutating func write(epochMicros: Int64, to out: UnsafeMutablePointer<UInt8>) {
            var second = epochMicros / 1_000_000
            var micros = epochMicros % 1_000_000
            if micros < 0 { micros += 1_000_000; second -= 1 }
            if second != self.second {
                self.second = second
                prefix.withUnsafeMutableBufferPointer { UTCTime(epochMicros: second * 1_000_000).writeStoredText(to: $0.baseAddress!) }
            }
            prefix.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: 20) }
            let millis = Int(micros / 1000)
            out[20] = UInt8(ascii: "0") + UInt8(millis / 100)
            out[21] = UInt8(ascii: "0") + UInt8(millis / 10 % 10)
            out[22] = UInt8(ascii: "0") + UInt8(millis % 10)
            out[23] = UInt8(ascii: "Z")
        }
    }

    /// The stored form of an epoch-microsecond time.
    public static func storedText(epochMicros: Int64) -> String {
        UTCTime(epochMicros: epochMicros).storedText
    }

    /// Reads `YYYY-MM-DDTHH:MM:SS[.fff…]Z` as stored in the `time` column.
    public init?(storedText text: String) {
        let b = Array(text.utf8)
        guard b.count >= 20, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A,
              let y = digits(b, 0, 4), let mo = digits(b, 5, 2), let d = digits(b, 8, 2),
              let h = digits(b, 11, 2), let mi = digits(b, 14, 2), let s = digits(b, 17, 2) else { return nil }
        var fraction = 0
        if b.count >= 23, b[19] == 0x2E, let ms = digits(b, 20, 3) { fraction = ms * 1000 }
        self.init(year: y, month: mo, day: d, hour: h, minute: mi, second: s, micros: fraction)
    }

    /// The nginx `$time_local` form in UTC: `27/Nov/2026:10:00:00 +0000`.
    public var combinedLogText: String {
        let names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let name = (1...12).contains(month) ? names[month - 1] : "???"
        return "\(pad(day, 2))/\(name)/\(pad(year, 4)):\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2)) +0000"
    }

    /// `2027-03-01 12:00 UTC` for a time in seconds since the epoch (certificate dates).
    public static func dateString(seconds: Int64) -> String {
        let days = Int(seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400)
        let (year, month, day) = civil(fromDays: days)
        let rest = Int(seconds - Int64(days) * 86400)
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2)) \(pad(rest / 3600, 2)):\(pad(rest % 3600 / 60, 2)) UTC"
    }

    /// The current wall-clock time in Unix-epoch microseconds (`clock_gettime(CLOCK_REALTIME)`).
    public static func nowMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }

    /// True when the date exists in the Gregorian calendar.
    public static func isValidDate(year: Int, month: Int, day: Int) -> Bool {
        guard (1...12).contains(month), day >= 1 else { return false }
        let lengths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        return day <= (month == 2 && leap ? 29 : lengths[month - 1])
    }

    /// Days since 1970-01-01 for a civil date (HTTPDate holds the one implementation).
    static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int {
        HTTPDate.days(fromYear: year, month: month, day: day)
    }

    /// The civil date for a day count since 1970-01-01.
    static func civil(fromDays days: Int) -> (Int, Int, Int) {
        let date = HTTPDate.civil(fromDays: days)
        return (date.year, date.month, date.day)
    }
}

/// Zero-padded decimal of a non-negative number.
func pad(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}

/// The decimal number in `bytes[start..<start+count]`, or nil when any byte is not a digit.
func digits(_ bytes: [UInt8], _ start: Int, _ count: Int) -> Int? {
    guard start + count <= bytes.count else { return nil }
    var value = 0
    for byte in bytes[start..<start + count] {
        guard byte >= 0x30, byte <= 0x39 else { return nil }
        value = value * 10 + Int(byte - 0x30)
    }
    return value
}
