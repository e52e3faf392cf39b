// runCompanion(plugins:) / ActivePlugins: `check` (and `serve`) load configs
// with the registry a custom binary chose, so its plugin types are accepted.
import ArgumentParser
import CompanionCore
import Glibc
import Testing
@testable import CompanionCLI

/// A do-nothing custom plugin type.
struct NoopPlugin: Middleware {
    static let type = PluginType(name: "noop", keys: [], parse: { _ in NoopPlugin() }, build: { settings, _ in settings })
    func respond(to request: Request, next: (Request) -> Response) -> Response { next(request) }
}

@Suite struct CompanionPluginsTests {
    @Test func checkUsesTheActiveRegistry() throws {
        var template = Array("/tmp/companion-cli-plugins-XXXXXX".utf8CString)
        #expect(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) } != nil)
        let folder = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let path = folder + "/config.json"
        defer { unlink(path); rmdir(folder) }
        let json = #"{"sites": [{"host": "a.test", "root": ".", "plugins": [{"type": "noop"}, {"type": "headers", "set": {"A": "b"}}]}]}"#
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = json.utf8CString.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)

        let builtIn = CheckCommand.check(configPath: path, loader: PluginRegistry.builtIn.configLoader)
        #expect(builtIn.exitCode == 1)
        #expect(builtIn.stderr.contains { $0.contains("sites[0].plugins[0].type: unknown plugin type \"noop\"") })

        // The active registry is process-wide: use a superset of the built-ins, so tests
        // running in parallel see every type they expect, and put the built-ins back.
        var custom = PluginRegistry.builtIn
        custom.register(NoopPlugin.type)
        ActivePlugins.use(custom)
        defer { ActivePlugins.use(.builtIn) }
        #expect(ActivePlugins.registry.names.contains("noop"))
        try CheckCommand.parse(["--config", path]).run()
    }
}
