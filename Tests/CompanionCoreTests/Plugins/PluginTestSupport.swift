// Helpers shared by the plugin tests: config problems for one plugin entry
// (loaded through the built-in registry, as `companion check` does) and a live
// server whose default site runs a list of plugins.
import Testing
@testable import CompanionCore

enum PluginTest {
    /// The problems reported for `plugin` (a JSON object) placed at
    /// `sites[0].plugins[1]`, after a valid headers plugin at index 0.
    static func problems(_ plugin: String) -> [String] {
        let directory = TempDirectory("companion-plugin-config")
        let json = """
        {"listen": "127.0.0.1:0", "sites": [{"host": "a.test", "root": ".", "plugins": [
            {"type": "headers", "set": {"X-First": "1"}}, \(plugin)]}]}
        """
        do {
            _ = try PluginRegistry.builtIn.configLoader.load(bytes: Array(json.utf8),
                                                                configPath: directory.path + "/config.json")
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    /// True when some problem starts with `prefix` (`sites[0].plugins[1].status: expected`).
    static func hasProblem(_ plugin: String, _ prefix: String) -> Bool {
        let found = problems(plugin)
        let matched = found.contains { $0.hasPrefix(prefix) }
        if !matched { Issue.record("no problem starting with \(prefix) in \(found)") }
        return matched
    }

    /// A live server whose default site `a.test` (root `a/`, listing on) runs `plugins`
    /// (a JSON list body, without the brackets).
    static func server(_ directory: TempDirectory, plugins: String, site: String = "") throws -> TestServer {
        try TestServer(directory: directory, siteA: ", \"plugins\": [\(plugins)]" + site)
    }
}
