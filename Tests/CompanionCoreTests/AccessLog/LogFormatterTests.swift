import Testing
@testable import CompanionCore

@Suite struct LogFormatterTests {
    let formatter = LogFormatter(format: .csv)

    @Test(arguments: [
        (nil, ""), ("plain", "plain"), ("a,b", "\"a,b\""), ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("", ""),
        // Controls and bidi characters are escaped, formulas neutralised (OWASP).
        ("two\nlines", "two\\x0Alines"), ("cr\r", "cr\\x0D"),
        ("=1+2", "\"'=1+2\""), ("+cmd", "\"'+cmd\""), ("-2", "\"'-2\""), ("@SUM(A1)", "\"'@SUM(A1)\""),
        ("\tx", "\"'\\x09x\""), ("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\""), ("a=b", "a=b"),
        ("c1\u{9B}31m", "c1\\xC2\\x9B31m"), ("rtl\u{202E}txt", "rtl\\xE2\\x80\\xAEtxt"),
    ] as [(String?, String)])
    func csvFieldQuotesOnlyWhenNeeded(value: String?, expected: String) {
        #expect(formatter.csvField(value) == expected)
    }

    @Test(arguments: [
        (nil, "null"), ("a\"b\\c", #""a\"b\\c""#), ("\n\t\u{01}", #""\n\t\u0001""#), ("é😀", "\"é😀\""),
        ("c1\u{9B}", #""c1\u009b""#), ("bidi\u{202E}\u{2066}", #""bidi\u202e\u2066""#),
    ] as [(String?, String)])
    func jsonStringEscapes(value: String?, expected: String) {
        #expect(formatter.jsonString(value) == expected)
    }

    @Test(arguments: [
        ("plain text", "plain text"), ("a\"b", "a\\x22b"), ("a\\b", "a\\\\b"), ("tab\there", "tab\\x09here"),
        ("é", "\\xC3\\xA9"), ("\u{7F}", "\\x7F"),
    ])
    func combinedEscapesLikeNginx(value: String, expected: String) {
        #expect(formatter.combinedEscaped(value) == expected)
    }

    @Test func combinedLineForAnUnparsedRequest() {
        let row = AccessLogRow(id: 1, time: "2026-11-27T10:04:00.000Z", client: "192.0.2.1", status: 431, bytes: 0, durationMicros: 5)
        #expect(formatter.combinedLine(row) == "192.0.2.1 - - [27/Nov/2026:10:04:00 +0000] \"-\" 431 0 \"-\" \"-\"\n")
    }

    @Test func tableCutsLongLinesAndEscapesControlCharacters() {
        let table = LogFormatter(format: .table, terminalWidth: 10)
        #expect(table.cut("0123456789") == "0123456789")
        #expect(table.cut("0123456789A") == "012345678…")
        #expect(table.terminalSafe("a\u{1B}[31mb\u{9B}") == "a\\x1B[31mb\\xC2\\x9B")
        #expect(table.terminalSafe("evil\u{202E}gpj.exe") == "evil\\xE2\\x80\\xAEgpj.exe")
        #expect(table.milliseconds(12_345) == "12.345")
        #expect(table.milliseconds(7) == "0.007")
    }

    @Test func emptyResults() {
        #expect(LogFormatter(format: .json).rows([]) == "[]\n")
        #expect(LogFormatter(format: .ndjson).rows([]) == "")
        #expect(LogFormatter(format: .csv).rows([]).hasPrefix("id,time,"))
        #expect(LogFormatter(format: .csv).rows([], isFirstChunk: false) == "")
        #expect(LogFormatter(format: .json).groups([], grouping: LogGrouping(keys: [.status])) == "[]\n")
    }
}
