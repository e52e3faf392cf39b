// Tests for ConfigLoader on valid configs: the SPEC §2 example in a real temp
// folder, defaults, path resolution against the config folder, the fixture
// file, and the plugin-validator hook.

import Glibc
import Testing
@testable import CompanionCore

@Suite struct ConfigLoaderTests {
    /// SPEC §2's example, verbatim.
    static let specExample = """
        {
          "listen": ["127.0.0.1:8080"],
          "workers": 0,
          "sites": [
            { "host": ["blog.localhost", "localhost"], "root": "sites/blog",
              "index": ["index.html"], "listing": false, "gzip": true, "default": true,
              "plugins": [ { "type": "headers", "match": "/assets/*",
                             "set": { "Cache-Control": "public, max-age=31536000, immutable" } } ] },
            { "host": "docs.localhost", "root": "sites/docs", "listing": true }
          ],
          "accessLog": { "sqlite": "logs/access.sqlite" },
          "limits": { "headerTimeoutMs": 10000, "idleTimeoutMs": 60000, "maxHeaderBytes": 16384 }
        }
        """

    @Test func loadsTheSpecExampleWithResolvedValues() throws {
        let folder = ConfigTestFolder()
        defer { folder.remove() }
        folder.writeFile("config.json", Self.specExample)
        let config = try ConfigLoader().load(path: folder.path + "/config.json")

        #expect(config.listen == [ListenAddress(host: "127.0.0.1", port: 8080, isIPv6: false)])
        #expect(config.workers == sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #expect(config.configPath == folder.path + "/config.json")
        #expect(config.defaultSiteIndex == 0)
        #expect(config.sites.count == 2)

        let blog = config.sites[0]
        #expect(blog.hosts == ["blog.localhost", "localhost"])
        #expect(blog.root == folder.path + "/sites/blog")
        #expect(blog.index == ["index.html"])
        #expect(!blog.listing)
        #expect(blog.gzip == GzipSettings())
        #expect(blog.isDefault)
        #expect(blog.plugins.count == 1)
        #expect(blog.plugins[0].type == "headers")
        #expect(blog.plugins[0].keyPath == "sites[0].plugins[0]")
        #expect(blog.plugins[0].options["match"] == .string("/assets/*"))
        #expect(blog.plugins[0].options["type"] == .string("headers"))
        #expect(blog.plugins[0].options["set"]?["Cache-Control"] == .string("public, max-age=31536000, immutable"))

        let docs = config.sites[1]
        #expect(docs.hosts == ["docs.localhost"])
        #expect(docs.root == folder.path + "/sites/docs")
        #expect(docs.index == ["index.html"])
        #expect(docs.listing)
        #expect(!docs.isDefault)
        #expect(docs.plugins.isEmpty)

        var expectedLog = AccessLogConfig(sqlite: folder.path + "/logs/access.sqlite")
        expectedLog.flushMs = 1000
        #expect(config.accessLog == expectedLog)
        #expect(config.limits == Limits())
        #expect(config.user == nil)
    }

    @Test func fillsDefaultsForAMinimalConfig() throws {
        let folder = ConfigTestFolder()
        defer { folder.remove() }
        let config = try folder.load(#"{"sites": [{"host": "A.Test.", "root": "sites/blog"}]}"#)
        #expect(config.listen.map(\.description) == ["127.0.0.1:8080"])
        #expect(config.workers >= 1)
        #expect(config.sites[0].hosts == ["a.test"])
        #expect(config.sites[0].index == ["index.html"])
        #expect(!config.sites[0].listing)
        #expect(config.sites[0].gzip.enabled)
        #expect(config.sites[0].gzip.cacheBytes == 64 << 20)
        #expect(config.sites[0].gzip.types == nil)
        #expect(config.defaultSiteIndex == 0)
        #expect(config.accessLog == nil)
        #expect(config.limits.maxBodyBytes == 1 << 20)
    }

    @Test func readsEveryOptionalKey() throws {
        let folder = ConfigTestFolder()
        defer { folder.remove() }
        let config = try folder.load("""
            {
              "listen": "[::]:0", "workers": 3, "user": "root",
              "sites": [
                { "host": "a.test", "root": "sites/blog" },
                { "host": ["*.b.test", "[::1]"], "root": "\(folder.path)/sites/docs", "index": ["home.htm", "index.html"],
                  "gzip": { "level": 1, "minBytes": 0, "types": ["Text/*", "application/json"], "cacheBytes": 0 },
                  "default": true, "listing": true, "plugins": [] }
              ],
              "accessLog": { "sqlite": "/var/tmp/x.sqlite", "flushMs": 60000, "retainDays": 7, "anonymizeClients": true },
              "limits": { "headerTimeoutMs": 1, "idleTimeoutMs": 2, "maxHeaderBytes": 3, "maxBodyBytes": 4e0 }
            }
            """)
        #expect(config.listen == [ListenAddress(host: "::", port: 0, isIPv6: true)])
        #expect(config.workers == 3)
        #expect(config.user == "root")
        #expect(config.defaultSiteIndex == 1)
        let site = config.sites[1]
        #expect(site.hosts == ["*.b.test", "[::1]"])
        #expect(site.root == folder.path + "/sites/docs")
        #expect(site.index == ["home.htm", "index.html"])
        var gzip = GzipSettings()
        gzip.level = 1
        gzip.minBytes = 0
        gzip.types = ["text/*", "application/json"]
        gzip.cacheBytes = 0
        #expect(site.gzip == gzip)
        var log = AccessLogConfig(sqlite: "/var/tmp/x.sqlite")
        log.flushMs = 60000
        log.retainDays = 7
        log.anonymizeClients = true
        #expect(config.accessLog == log)
        #expect(config.limits.headerTimeoutMs == 1)
        #expect(config.limits.idleTimeoutMs == 2)
        #expect(config.limits.maxHeaderBytes == 3)
        #expect(config.limits.maxBodyBytes == 4)
    }

    @Test func gzipFalseTurnsCompressionOff() throws {
        let folder = ConfigTestFolder()
        defer { folder.remove() }
        let config = try folder.load(#"{"sites": [{"host": "a.test", "root": "sites/blog", "gzip": false}]}"#)
        #expect(!config.sites[0].gzip.enabled)
    }

    @Test func rootResolvesAgainstTheConfigFolderAndThroughSymlinks() throws {
        let folder = ConfigTestFolder()
        defer { folder.remove() }
        folder.makeDirectory("conf")
        #expect(symlink(folder.path + "/sites/blog", folder.path + "/conf/www") == 0)
        let config = try ConfigLoader().load(
            bytes: Array(#"{"sites": [{"host": "a.test", "root": "./www/"}, {"host": "b.test", "root": "../sites/docs"}]}"#.utf8),
            configPath: folder.path + "/conf/config.json")
        #expect(config.sites[0].root == folder.path + "/sites/blog")
        #expect(config.sites[1].root == folder.path + "/sites/docs")
    }

    @Test func loadsTheFixtureFile() throws {
        let path = ConfigTestFolder.fixture("good.json")
        let config = try ConfigLoader().load(path: path)
        let fixtures = String(path.dropLast("/good.json".count))
        #expect(config.listen.map(\.description) == ["127.0.0.1:8080", "[::1]:8080"])
        #expect(config.sites.map(\.hosts) == [["blog.localhost", "localhost"], ["docs.localhost"]])
        #expect(config.sites[0].root == ConfigFile.realPath(fixtures + "/sites/blog"))
        #expect(config.sites[1].gzip.level == 9)
        #expect(config.sites[1].gzip.types == ["text/*", "application/json"])
        #expect(config.accessLog?.sqlite == fixtures + "/logs/access.sqlite")
        #expect(config.accessLog?.retainDays == 30)
        #expect(config.limits.headerTimeoutMs == 5000)
    }

    @Test func pluginValidatorProblemsAreAppendedWithTheirPaths() {
        let folder = ConfigTestFolder()
        defer { folder.remove() }
        let loader = ConfigLoader { plugin in
            plugin.type == "headers" ? [] : [ConfigProblem(path: ConfigProblem.keyPath(plugin.keyPath, "type"),
                                                           message: "unknown plugin type \"\(plugin.type)\"")]
        }
        let json = """
            {"sites": [{"host": "a.test", "root": "sites/blog",
                        "plugins": [{"type": "headers"}, {"type": "redirekt", "from": "/a"}]}]}
            """
        let error = #expect(throws: ConfigError.self) { try folder.load(json, loader: loader) }
        #expect(error?.problems == [ConfigProblem(path: "sites[0].plugins[1].type", message: "unknown plugin type \"redirekt\"")])
    }

    @Test func missingFileIsAConfigError() {
        let error = #expect(throws: ConfigError.self) { try ConfigLoader().load(path: "/nonexistent-companion/config.json") }
        #expect(error?.file == "/nonexistent-companion/config.json")
        #expect(error?.description == "/nonexistent-companion/config.json: cannot read the config file: no such file or directory")
    }

    @Test func directoryAsConfigIsAConfigError() {
        let folder = ConfigTestFolder()
        defer { folder.remove() }
        let error = #expect(throws: ConfigError.self) { try ConfigLoader().load(path: folder.path) }
        #expect(error?.problems == [ConfigProblem(path: "", message: "cannot read the config file: it is a directory")])
    }

    @Test func errorDescriptionHasOneLinePerProblem() {
        let error = ConfigError(file: "config.json", problems: [
            ConfigProblem(path: "sites[1].root", message: "directory does not exist: sites/blg"),
            ConfigProblem(path: "", message: "line 3, column 5: comments are not allowed in JSON"),
        ])
        #expect(error.description == """
            config.json: sites[1].root: directory does not exist: sites/blg
            config.json: line 3, column 5: comments are not allowed in JSON
            """)
    }

    @Test(arguments: [
        ("", "listen", "listen"), ("sites[0]", "root", "sites[0].root"),
        ("set", "Cache-Control", "set.Cache-Control"), ("set", "a.b", #"set["a.b"]"#), ("x", "", #"x[""]"#),
    ])
    func keyPathSpelling(base: String, key: String, expected: String) {
        #expect(ConfigProblem.keyPath(base, key) == expected)
    }
}
