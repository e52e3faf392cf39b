// StatusFilter: the grammar of `companion logs --status` (SPEC §5):
//   404 | 4xx | 400-499 | a comma-separated list of those (404,500).
import ArgumentParser

/// The value of `--status`: one or more status ranges, matched with OR.
///
/// Parsing as an argument never fails, so that `LogsCommand.validate()` can throw
/// the exact sentence `--status: expected 404, 4xx, 400-499 or 404,500; got "4x"`
/// (ArgumentParser would otherwise wrap our message in its own).
public struct StatusFilter: ExpressibleByArgument, Sendable, Equatable {
    /// The text as given on the command line.
    public let argument: String
    /// The ranges, nil when `argument` is not valid.
    public let ranges: [ClosedRange<Int>]?

    public static let acceptedForms = "404, 4xx, 400-499 or 404,500"

    public init(argument: String) {
        self.argument = argument
        self.ranges = StatusFilter.parse(argument)
    }

    /// The ranges, or the error naming the option and the accepted forms.
    public func validRanges() throws(ValidationError) -> [ClosedRange<Int>] {
        guard let ranges else {
            throw ValidationError("--status: expected \(StatusFilter.acceptedForms); got \"\(argument)\"")
        }
        return ranges
    }

    /// Parses the whole list; nil when any item is not one of the forms.
    static func parse(_ text: String) -> [ClosedRange<Int>]? {
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
        var ranges: [ClosedRange<Int>] = []
        for item in items {
            guard let range = parseItem(Array(item.utf8)) else { return nil }
            ranges.append(range)
        }
        return ranges.isEmpty ? nil : ranges
    }

    private static func parseItem(_ b: [UInt8]) -> ClosedRange<Int>? {
        if b.count == 3, let code = status(b[0..<3]) { return code...code }
        if b.count == 3, (0x31...0x35).contains(b[0]), b[1] | 0x20 == 0x78, b[2] | 0x20 == 0x78 {
            let hundreds = Int(b[0] - 0x30) * 100
            return hundreds...(hundreds + 99)
        }
        if b.count == 7, b[3] == 0x2D, let low = status(b[0..<3]), let high = status(b[4..<7]), low <= high {
            return low...high
        }
        return nil
    }

    /// A three-digit status 100...599.
    private static func status(_ bytes: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for byte in bytes {
            guard (0x30...0x39).contains(byte) else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return (100...599).contains(value) ? value : nil
    }
}
