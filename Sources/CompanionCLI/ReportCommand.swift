// ReportCommand: `companion report` writes the access log as one self-contained
// HTML page (LogReport, ReportHTML): every panel with the filters of `companion logs`.
import ArgumentParser
import CompanionCore
import Glibc

public struct ReportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the access log as one HTML report (no network, opens from disk).",
        discussion: """
            Panels: totals and duration percentiles, requests and bandwidth over time, status \
            classes over time, top paths, top 404s, 5xx by path, referrers, browsers and agents, \
            clients, sites. The filters are those of companion logs and apply to every panel.
            """
    )

    @OptionGroup var filters: LogFilterOptions

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write the report to this file (default: standard output).", valueName: "path"))
    var output: String?

    public init() {}

    public func run() throws {
        let html = try render()
        guard let output else { return TerminalOutput.write(html) }
        let fd = open(output, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LogsError("cannot write \(output): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var bytes = Array(html.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw LogsError("cannot write \(output): \(String(cString: strerror(errno)))") }
            bytes = bytes.dropFirst(written)
        }
    }

    /// The page for the database the filters name.
    public func render(databasePath: String? = nil, nowMicros: Int64 = UTCTime.nowMicros()) throws -> String {
        let source = try LogsCommand.openSource(try databasePath ?? filters.resolvedDatabasePath())
        let reader: any LogReading = switch source {
        case .sqlite(let reader): reader
        case .postgres(let reader): reader
        }
        let report = try LogReport(reader: reader, query: filters.query(nowMicros: nowMicros),
                                   filterText: filters.description(nowMicros: nowMicros), nowMicros: nowMicros)
        return ReportHTML.page(report)
    }
}
