import ArgumentParser
import Testing
@testable import CompanionCLI

@Suite struct TimeFilterTests {
    /// 2026-11-27T10:00:00Z
    static let base: Int64 = 1_795_773_600_000_000

    @Test(arguments: [
        ("30m", TimeFilter.Value.ago(seconds: 1800)),
        ("2h", .ago(seconds: 7200)),
        ("7d", .ago(seconds: 604_800)),
        ("45s", .ago(seconds: 45)),
        ("2w", .ago(seconds: 1_209_600)),
        ("2026-11-27", .at(micros: base - 36_000_000_000)),
        ("2026-11-27T10:00:00Z", .at(micros: base)),
        ("2026-11-27t10:00:00z", .at(micros: base)),
        ("2026-11-27 10:00:00Z", .at(micros: base)),
        ("2026-11-27T10:00:00.25Z", .at(micros: base + 250_000)),
        ("2026-11-27T10:00:00.1234567Z", .at(micros: base + 123_456)),
        ("2026-11-27T11:30:00+01:30", .at(micros: base)),
        ("2026-11-27T08:00:00-02:00", .at(micros: base)),
        ("2024-02-29", .at(micros: 1_709_164_800_000_000)),
    ] as [(String, TimeFilter.Value)])
    func parses(text: String, value: TimeFilter.Value) {
        #expect(TimeFilter(argument: text).value == value)
    }

    @Test func relativeCountsBackFromNow() throws {
        #expect(try TimeFilter(argument: "2h").resolve(option: "--since", nowMicros: TimeFilterTests.base) == TimeFilterTests.base - 7_200_000_000)
    }

    @Test(arguments: ["", "yesterday", "30", "m", "-5m", "5y", "2026-13-01", "2025-02-29", "2026-11-27T10:00Z",
                      "2026-11-27T10:00:00", "2026-11-27T25:00:00Z", "2026-11-27T10:00:00+0100", "2026-11-27T10:00:00.Z"])
    func rejectsWithTheAcceptedForms(text: String) {
        #expect(TimeFilter(argument: text).value == nil)
        do {
            _ = try TimeFilter(argument: text).resolve(option: "--until", nowMicros: 0)
            Issue.record("\(text) should be rejected")
        } catch {
            #expect(error.message == "--until: expected 30m, 2h, 7d, 2026-11-27 or an RFC 3339 time such as 2026-11-27T10:00:00Z; got \"\(text)\"")
        }
    }
}
