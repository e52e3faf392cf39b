// TimeFilter: the grammar of `--since` / `--until` (SPEC §5): a duration back
// from now (`30m`, `2h`, `7d`; also `45s`, `2w`), a date (`2026-11-27`, midnight
// UTC) or an RFC 3339 date-time (`2026-11-27T10:00:00Z`, `…T11:00:00.5+01:00`).
import ArgumentParser
import CompanionCore

/// The value of `--since` or `--until`.
///
/// Like `StatusFilter`, parsing as an argument never fails; `resolve` throws the
/// message that names the option and the accepted forms.
public struct TimeFilter: ExpressibleByArgument, Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        /// So many seconds before now.
        case ago(seconds: Int64)
        /// A fixed time, Unix-epoch microseconds.
        case at(micros: Int64)
    }

    public let argument: String
    /// nil when `argument` is not valid.
    public let value: Value?

    public static let acceptedForms = "30m, 2h, 7d, 2026-11-27 or an RFC 3339 time such as 2026-11-27T10:00:00Z"

    public init(argument: String) {
        self.argument = argument
        self.value = TimeFilter.parse(argument)
    }

    /// The time in Unix-epoch microseconds.
    /// - Parameters:
    ///   - option: `--since` or `--until`, for the error message.
    ///   - nowMicros: what relative values count back from.
    public func resolve(option: String, nowMicros: Int64) throws(ValidationError) -> Int64 {
        switch value {
        case .ago(let seconds): return nowMicros - seconds * 1_000_000
        case .at(let micros): return micros
        case nil: throw ValidationError("\(option): expected \(TimeFilter.acceptedForms); got \"\(argument)\"")
        }
    }

    static func parse(_ text: String) -> Value? {
        let b = Array(text.utf8)
        if let seconds = parseDuration(b) { return .ago(seconds: seconds) }
        if b.count == 10, let date = parseDate(b) { return .at(micros: date.epochMicros) }
        return parseDateTime(b).map { .at(micros: $0) }
    }

    /// `<digits><s|m|h|d|w>`, at most ~100 years.
    private static func parseDuration(_ b: [UInt8]) -> Int64? {
        guard b.count >= 2, b.count <= 10, let number = digits(b.dropLast()) else { return nil }
        let unit: Int64
        switch b.last! {
        case UInt8(ascii: "s"): unit = 1
        case UInt8(ascii: "m"): unit = 60
        case UInt8(ascii: "h"): unit = 3600
        case UInt8(ascii: "d"): unit = 86_400
        case UInt8(ascii: "w"): unit = 604_800
        default: return nil
        }
        let seconds = Int64(number) * unit
        return seconds <= 100 * 366 * 86_400 ? seconds : nil
    }

    /// RFC 3339 §5.6 full-date: `YYYY-MM-DD`.
    private static func parseDate(_ b: [UInt8]) -> UTCTime? {
        guard b.count >= 10, b[4] == 0x2D, b[7] == 0x2D,
              let year = digits(b[0..<4]), let month = digits(b[5..<7]), let day = digits(b[8..<10]),
              UTCTime.isValidDate(year: year, month: month, day: day) else { return nil }
        return UTCTime(year: year, month: month, day: day)
    }

    /// RFC 3339 §5.6 date-time: full-date "T" HH:MM:SS [.frac] ("Z" / ±HH:MM).
    /// §5.6 note: "T" and "Z" may be lower case; a space may separate date and time.
    private static func parseDateTime(_ b: [UInt8]) -> Int64? {
        guard b.count >= 20, var time = parseDate(b), [0x54, 0x74, 0x20].contains(b[10]),
              b[13] == 0x3A, b[16] == 0x3A,
              let hour = digits(b[11..<13]), let minute = digits(b[14..<16]), let second = digits(b[17..<19]),
              hour < 24, minute < 60, second < 61 else { return nil }
        time.hour = hour; time.minute = minute; time.second = min(second, 59)
        var index = 19
        if b[index] == 0x2E {
            let start = index + 1
            index = start
            while index < b.count, (0x30...0x39).contains(b[index]) { index += 1 }
            guard index > start else { return nil }
            let fraction = Array(b[start..<min(index, start + 6)]) + Array(repeating: 0x30, count: max(0, 6 - (index - start)))
            time.micros = digits(fraction[...]) ?? 0
        }
        guard index < b.count else { return nil }
        var offsetMinutes = 0
        if b[index] | 0x20 == 0x7A, index + 1 == b.count {
            offsetMinutes = 0
        } else if b[index] == 0x2B || b[index] == 0x2D, index + 6 == b.count, b[index + 3] == 0x3A,
                  let h = digits(b[index + 1..<index + 3]), let m = digits(b[index + 4..<index + 6]), h < 24, m < 60 {
            offsetMinutes = (h * 60 + m) * (b[index] == 0x2D ? -1 : 1)
        } else {
            return nil
        }
        return time.epochMicros - Int64(offsetMinutes) * 60_000_000
    }

    private static func digits(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard !bytes.isEmpty else { return nil }
        var value = 0
        for byte in bytes {
            guard (0x30...0x39).contains(byte) else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }
}
