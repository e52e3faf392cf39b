// What a plugin's `build` throws reaches the operator with a key path: a ConfigProblem
// names its own (the key inside the plugin's options), any other error gets the plugin's.
@testable import CompanionCore
import Testing

@Suite struct PluginBuildErrorTests {
    struct Unused: Middleware {
        func respond(to request: Request, next: (Request) -> Response) -> Response { next(request) }
    }

    struct NotFound: Error, CustomStringConvertible {
        var description: String { "template.html: no such file" }
    }

    static let keyed = PluginType(name: "keyed", keys: [], parse: { _ in Unused() },
                                  build: { _, _ in throw ConfigProblem(path: "sites[0].plugins[0].template", message: "no such file") })
    static let unkeyed = PluginType(name: "unkeyed", keys: [], parse: { _ in Unused() }, build: { _, _ in throw NotFound() })

    func startError(_ type: String) throws -> String? {
        let folder = TemporaryFolder()
        defer { folder.remove() }
        var registry = PluginRegistry.builtIn
        registry.register(Self.keyed)
        registry.register(Self.unkeyed)
        let json = #"{"listen": "127.0.0.1:0", "sites": [{"host": "a.test", "root": ".", "plugins": [{"type": "\#(type)"}]}]}"#
        let config = try registry.configLoader.load(bytes: Array(json.utf8), configPath: folder.path + "/config.json")
        do {
            let server = try Server(config: config, plugins: registry)
            server.stop(graceMilliseconds: 0)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func aConfigProblemKeepsItsKeyPath() throws {
        #expect(try startError("keyed") == "sites[0].plugins[0].template: no such file")
    }

    @Test func anyOtherErrorIsReportedUnderThePluginsKeyPath() throws {
        #expect(try startError("unkeyed") == "sites[0].plugins[0]: template.html: no such file")
    }
}
