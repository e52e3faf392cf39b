// Tests for `companion check`: option parsing, the resolved summary on stdout
// for a good config, every problem on stderr as `companion: FILE: PATH: ...`
// with exit status 1, and a missing file.

import ArgumentParser
import CompanionCore
import Testing
@testable import CompanionCLI

@Suite struct CheckCommandTests {
    /// `Tests/Fixtures/configs/<name>`, found relative to this source file.
    static func fixture(_ name: String, file: String = #filePath) -> String {
        var parts = file.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)  // CheckCommandTests.swift, CompanionCLITests
        return parts.joined(separator: "/") + "/Fixtures/configs/" + name
    }

    @Test func configOptionDefaultsToConfigJSON() throws {
        #expect(try CheckCommand.parse([]).options.config == "config.json")
        #expect(try CheckCommand.parse(["--config", "/etc/companion.json"]).options.config == "/etc/companion.json")
        #expect(CheckCommand.configuration.commandName == "check")
    }

    @Test func goodConfigPrintsListenersAndOneLinePerSite() throws {
        let path = Self.fixture("good.json")
        let folder = String(path.dropLast("/good.json".count))
        let outcome = CheckCommand.check(configPath: path, loader: ConfigLoader())
        #expect(outcome.exitCode == 0)
        #expect(outcome.stderr.isEmpty)
        let workers = try ConfigLoader().load(path: path).workers
        let blogRoot = try ConfigLoader().load(path: path).sites[0].root
        let docsRoot = try ConfigLoader().load(path: path).sites[1].root
        #expect(blogRoot.hasSuffix("/Fixtures/configs/sites/blog"))
        #expect(outcome.stdout == [
            "config OK: \(path)",
            "listen 127.0.0.1:8080",
            "listen [::1]:8080",
            "workers \(workers)",
            "sites[0] hosts=blog.localhost,localhost root=\(blogRoot) index=index.html listing=off"
                + " gzip=on level=6 minBytes=256 default=yes plugins=headers",
            "sites[1] hosts=docs.localhost root=\(docsRoot) index=index.html listing=on"
                + " gzip=on level=9 minBytes=1024 types=text/*,application/json default=no plugins=-",
            "accessLog sqlite=\(folder)/logs/access.sqlite flushMs=500 retainDays=30 anonymizeClients=false",
            "limits headerTimeoutMs=5000 idleTimeoutMs=30000 maxHeaderBytes=8192 maxBodyBytes=1048576",
        ])
    }

    @Test func badConfigListsEveryProblemOnStderrAndExits1() {
        let path = Self.fixture("several-problems.json")
        let outcome = CheckCommand.check(configPath: path, loader: ConfigLoader())
        #expect(outcome.exitCode == 1)
        #expect(outcome.stdout.isEmpty)
        let folder = String(path.dropLast("/several-problems.json".count))
        #expect(outcome.stderr == [
            "companion: \(path): listen[1]: invalid address \"localhost\"; \(ConfigLoader.listenForms)",
            "companion: \(path): workers: expected an integer ≥ 0, got \"two\"",
            "companion: \(path): sites[0].lisitng: unknown key (did you mean \"listing\"?)",
            "companion: \(path): sites[1].root: directory does not exist: sites/blg (resolved to \(folder)/sites/blg)",
            "companion: \(path): sites[2].host[0]: \"blog.localhost\" is already used by sites[0]",
            "companion: \(path): sites[2].gzip.level: expected an integer from 1 to 9, got 12",
            "companion: \(path): limits.maxBodyBytes: expected an integer ≥ 1, got 0",
        ])
    }

    @Test func commentsAreReportedWithLineAndColumn() {
        let path = Self.fixture("comments.json")
        let outcome = CheckCommand.check(configPath: path, loader: ConfigLoader())
        #expect(outcome.exitCode == 1)
        #expect(outcome.stderr == ["companion: \(path): line 3, column 3: comments are not allowed in JSON"])
    }

    @Test func missingFileIsReportedWithoutAStackTrace() {
        let outcome = CheckCommand.check(configPath: "/nonexistent-companion/config.json", loader: ConfigLoader())
        #expect(outcome == CheckCommand.Outcome(
            stdout: [],
            stderr: ["companion: /nonexistent-companion/config.json: cannot read the config file: no such file or directory"],
            exitCode: 1))
    }

    @Test func runThrowsExitCode1ForABadConfig() throws {
        let command = try CheckCommand.parse(["--config", "/nonexistent-companion/config.json"])
        let error = #expect(throws: ExitCode.self) { try command.run() }
        #expect(error?.rawValue == 1)
    }

    @Test func runSucceedsForAGoodConfig() throws {
        let command = try CheckCommand.parse(["--config", Self.fixture("good.json")])
        try command.run()
    }
}
