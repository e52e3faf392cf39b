// Tests for ConfigLoader on bad configs: one row per rule of SPEC §2, each with
// the exact key paths and messages expected, several problems at once, and
// JSON syntax errors with line and column. `$DIR` in a message stands for the
// temp folder holding config.json.

import Testing
@testable import CompanionCore

@Suite struct ConfigLoaderProblemsTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let label: String
        let json: String
        let problems: [(path: String, message: String)]
        var testDescription: String { label }

        init(_ label: String, _ json: String, _ problems: [(path: String, message: String)]) {
            self.label = label
            self.json = json
            self.problems = problems
        }
    }

    /// A valid site to fill `sites` when another key is under test.
    static let site = #"{"host": "a.test", "root": "sites/blog"}"#
    static let sites = #""sites": [\#(site)]"#

    static let cases: [Case] = [
        // Top level
        Case("top level is not an object", "[1]", [("", "expected an object, got an array")]),
        Case("unknown top-level key with a suggestion", #"{"listne": "127.0.0.1:80", \#(sites)}"#,
             [("listne", "unknown key (did you mean \"listen\"?)")]),
        Case("unknown top-level key without a near name", #"{\#(sites), "color": "blue"}"#,
             [("color", "unknown key (allowed: listen, workers, sites, accessLog, limits, user, acme, admin, trustedProxies)")]),
        Case("sites missing", #"{"workers": 1}"#, [("sites", "missing required key")]),
        Case("sites empty", #"{"sites": []}"#, [("sites", "must not be an empty list")]),
        Case("sites not a list", #"{"sites": {}}"#, [("sites", "expected a list, got an object")]),
        Case("site not an object", #"{"sites": ["a.test"]}"#, [("sites[0]", "expected an object, got \"a.test\"")]),

        // workers
        Case("workers is a string", #"{"workers": "two", \#(sites)}"#, [("workers", "expected an integer ≥ 0, got \"two\"")]),
        Case("workers is not integral", #"{"workers": 2.5, \#(sites)}"#, [("workers", "expected an integer ≥ 0, got 2.5")]),
        Case("workers is negative", #"{"workers": -1, \#(sites)}"#, [("workers", "expected an integer ≥ 0, got -1")]),

        // listen
        Case("listen without a port", #"{"listen": "localhost", \#(sites)}"#,
             [("listen", "invalid address \"localhost\"; " + ConfigLoader.listenForms)]),
        Case("listen list with bad entries", #"{"listen": ["127.0.0.1:8080", "[::1]:99999", "example.com:80", 80], \#(sites)}"#,
             [("listen[1]", "invalid address \"[::1]:99999\"; " + ConfigLoader.listenForms),
              ("listen[2]", "invalid address \"example.com:80\"; " + ConfigLoader.listenForms),
              ("listen[3]", "expected a string, got 80")]),
        Case("listen empty list", #"{"listen": [], \#(sites)}"#, [("listen", "must not be an empty list")]),
        Case("listen is a number", #"{"listen": 8080, \#(sites)}"#,
             [("listen", "expected a string or a list of strings, got 8080")]),
        Case("listen address twice", #"{"listen": ["127.0.0.1:80", "localhost:80"], \#(sites)}"#,
             [("listen[1]", "127.0.0.1:80 is already listed at listen[0]")]),

        // host
        Case("host and root missing", #"{"sites": [{"listing": true}]}"#,
             [("sites[0].host", "missing required key"), ("sites[0].root", "missing required key")]),
        Case("host empty list", #"{"sites": [{"host": [], "root": "sites/blog"}]}"#,
             [("sites[0].host", "must not be an empty list")]),
        Case("host names invalid",
             #"{"sites": [{"host": ["a..b", "exa mple.test", "a.*.test", "*", "-a.test", "a.test:80", "[::g]", "bücher.test", ""], "root": "sites/blog"}]}"#,
             [("sites[0].host[0]", "invalid host name \"a..b\": empty label (two dots in a row, or a leading dot)"),
              ("sites[0].host[1]", "invalid host name \"exa mple.test\": only letters, digits, '-' and '_' are allowed in a label"),
              ("sites[0].host[2]", "invalid host name \"a.*.test\": '*' is only allowed as the whole first label, as in *.example.test"),
              ("sites[0].host[3]", "invalid host name \"*\": a wildcard needs a domain after \"*.\"; unknown hosts go to the default site"),
              ("sites[0].host[4]", "invalid host name \"-a.test\": a label cannot start or end with '-'"),
              ("sites[0].host[5]", "invalid host name \"a.test:80\": a host name has no port (the port of the Host header is ignored)"),
              ("sites[0].host[6]", "invalid host name \"[::g]\": expected an IPv6 address in brackets, as in [::1]"),
              ("sites[0].host[7]", "invalid host name \"bücher.test\": write international names in their xn-- (punycode) form"),
              ("sites[0].host[8]", "must not be empty")]),
        Case("host used by two sites, case-insensitively",
             #"{"sites": [\#(site), {"host": "b.test", "root": "sites/docs"}, {"host": ["A.Test", "*.b.test"], "root": "sites/docs"}]}"#,
             [("sites[2].host[0]", "\"a.test\" is already used by sites[0]")]),
        Case("host listed twice in one site", #"{"sites": [{"host": ["a.test", "a.test."], "root": "sites/blog"}]}"#,
             [("sites[0].host[1]", "\"a.test.\" is listed twice")]),

        // root
        Case("root does not exist", #"{"sites": [\#(site), {"host": "b.test", "root": "sites/blg"}]}"#,
             [("sites[1].root", "directory does not exist: sites/blg (resolved to $DIR/sites/blg)")]),
        Case("absolute root does not exist", #"{"sites": [{"host": "b.test", "root": "/nonexistent-companion/www"}]}"#,
             [("sites[0].root", "directory does not exist: /nonexistent-companion/www")]),
        Case("root is a file", #"{"sites": [{"host": "b.test", "root": "sites/file.txt"}]}"#,
             [("sites[0].root", "not a directory: sites/file.txt (resolved to $DIR/sites/file.txt)")]),
        Case("root is not a string", #"{"sites": [{"host": "b.test", "root": 1}]}"#,
             [("sites[0].root", "expected a string, got 1")]),

        // index, listing, default
        Case("index entries invalid", #"{"sites": [{"host": "a.test", "root": "sites/blog", "index": ["ok.html", "a/b.html", "..", ".hidden", 3]}]}"#,
             [("sites[0].index[1]", "expected a plain file name without '/', got \"a/b.html\""),
              ("sites[0].index[2]", "index file names cannot start with '.' (dotfiles are never served), got \"..\""),
              ("sites[0].index[3]", "index file names cannot start with '.' (dotfiles are never served), got \".hidden\""),
              ("sites[0].index[4]", "expected a string, got 3")]),
        Case("index is a string", #"{"sites": [{"host": "a.test", "root": "sites/blog", "index": "index.html"}]}"#,
             [("sites[0].index", "expected a list, got \"index.html\"")]),
        Case("listing and default are not Booleans", #"{"sites": [{"host": "a.test", "root": "sites/blog", "listing": "no", "default": 1}]}"#,
             [("sites[0].listing", "expected true, false or an object, got \"no\""), ("sites[0].default", "expected true or false, got 1")]),
        Case("two more defaults",
             #"{"sites": [{"host": "a.test", "root": "sites/blog", "default": true}, {"host": "b.test", "root": "sites/blog", "default": true}, {"host": "c.test", "root": "sites/blog", "default": true}]}"#,
             [("sites[1].default", "only one site can be the default; sites[0] already is"),
              ("sites[2].default", "only one site can be the default; sites[0] already is")]),
        Case("second default with a missing root",
             #"{"sites": [{"host": "a.test", "root": "sites/blog", "default": true}, {"host": "b.test", "default": true}]}"#,
             [("sites[1].root", "missing required key"),
              ("sites[1].default", "only one site can be the default; sites[0] already is")]),
        Case("unknown site key", #"{"sites": [{"host": "a.test", "root": "sites/blog", "lisitng": true}]}"#,
             [("sites[0].lisitng", "unknown key (did you mean \"listing\"?)")]),

        // gzip
        Case("gzip is a string", #"{"sites": [{"host": "a.test", "root": "sites/blog", "gzip": "yes"}]}"#,
             [("sites[0].gzip", "expected true, false or an object, got \"yes\"")]),
        Case("gzip object values out of range",
             #"{"sites": [{"host": "a.test", "root": "sites/blog", "gzip": {"level": 0, "minBytes": -1, "types": ["text", "text/*", 5], "cacheBytes": 1.5, "lvl": 3}}]}"#,
             [("sites[0].gzip.lvl", "unknown key (did you mean \"level\"?)"),
              ("sites[0].gzip.level", "expected an integer from 1 to 9, got 0"),
              ("sites[0].gzip.minBytes", "expected an integer ≥ 0, got -1"),
              ("sites[0].gzip.types[0]", "expected a media type such as \"text/*\" or \"application/json\", got \"text\""),
              ("sites[0].gzip.types[2]", "expected a string, got 5"),
              ("sites[0].gzip.cacheBytes", "expected an integer ≥ 0, got 1.5")]),

        // plugins
        Case("plugins entries invalid",
             #"{"sites": [{"host": "a.test", "root": "sites/blog", "plugins": [{"type": "headers"}, "cors", {"match": "/a"}, {"type": 7}]}]}"#,
             [("sites[0].plugins[1]", "expected an object with a \"type\", got \"cors\""),
              ("sites[0].plugins[2].type", "missing required key"),
              ("sites[0].plugins[3].type", "expected a string, got 7")]),
        Case("plugins is an object", #"{"sites": [{"host": "a.test", "root": "sites/blog", "plugins": {"type": "cors"}}]}"#,
             [("sites[0].plugins", "expected a list, got an object")]),

        // accessLog
        Case("accessLog without sqlite and with bad values",
             #"{\#(sites), "accessLog": {"flushMs": 0, "retainDays": 0, "anonymizeClients": "yes", "path": "x"}}"#,
             [("accessLog.path", "unknown key (allowed: sqlite, postgres, hostName, flushMs, retainDays, anonymizeClients)"),
              ("accessLog.flushMs", "expected an integer from 1 to 60000, got 0"),
              ("accessLog.retainDays", "expected an integer ≥ 1, got 0"),
              ("accessLog.anonymizeClients", "expected true or false, got \"yes\""),
              ("accessLog.sqlite", "missing required key")]),
        Case("accessLog is a string", #"{\#(sites), "accessLog": "logs/access.sqlite"}"#,
             [("accessLog", "expected an object, got \"logs/access.sqlite\"")]),
        Case("accessLog.sqlite is a directory", #"{\#(sites), "accessLog": {"sqlite": "sites"}}"#,
             [("accessLog.sqlite", "expected a database file, got a directory: sites")]),

        // limits, user
        Case("limits not positive integers",
             #"{\#(sites), "limits": {"headerTimeoutMs": 0, "maxBodyBytes": "1MB", "maxheaderbytes": 5, "idleTimeoutMs": 1.5}}"#,
             [("limits.maxheaderbytes", "unknown key (did you mean \"maxHeaderBytes\"?)"),
              ("limits.headerTimeoutMs", "expected an integer ≥ 1, got 0"),
              ("limits.maxBodyBytes", "expected an integer ≥ 1, got \"1MB\""),
              ("limits.idleTimeoutMs", "expected an integer ≥ 1, got 1.5")]),
        Case("user is a number", #"{\#(sites), "user": 33}"#, [("user", "expected a string, got 33")]),
        Case("user is empty", #"{\#(sites), "user": ""}"#, [("user", "must not be empty")]),
        Case("user does not exist", #"{\#(sites), "user": "no-such-user-companion"}"#,
             [("user", "no such user: no-such-user-companion")]),

        // Several problems at once, in file order.
        Case("several problems across sections",
             #"{"listen": "127.0.0.1", "workers": "two", "sites": [{"host": "a.test", "root": "sites/blg", "lisitng": true}, {"host": "a.test", "root": "sites/docs", "gzip": {"level": 12}}], "limits": {"maxBodyBytes": 0}}"#,
             [("listen", "invalid address \"127.0.0.1\"; " + ConfigLoader.listenForms),
              ("workers", "expected an integer ≥ 0, got \"two\""),
              ("sites[0].lisitng", "unknown key (did you mean \"listing\"?)"),
              ("sites[0].root", "directory does not exist: sites/blg (resolved to $DIR/sites/blg)"),
              ("sites[1].host", "\"a.test\" is already used by sites[0]"),
              ("sites[1].gzip.level", "expected an integer from 1 to 9, got 12"),
              ("limits.maxBodyBytes", "expected an integer ≥ 1, got 0")]),

        // JSON syntax errors: one problem, with line and column.
        Case("line comment", "{\n  \(sites),\n  // workers\n  \"workers\": 1\n}",
             [("", "line 3, column 3: comments are not allowed in JSON")]),
        Case("block comment", #"{/* c */ \#(sites)}"#, [("", "line 1, column 2: comments are not allowed in JSON")]),
        Case("trailing comma", "{\n  \(sites),\n}", [("", "line 2, column 54: trailing comma is not allowed in JSON")]),
        Case("duplicate top-level key", "{\(sites),\n \"sites\": []}",
             [("sites", "line 2, column 2: duplicate key \"sites\" (first on line 1)")]),
        Case("duplicate nested key", #"{"sites": [{"host": "a.test", "root": "sites/blog", "root": "sites/docs"}]}"#,
             [("sites[0].root", "line 1, column 53: duplicate key \"root\" (first on line 1)")]),
    ]

    @Test(arguments: cases)
    func reportsEveryProblemWithItsKeyPath(_ test: Case) {
        let folder = ConfigTestFolder()
        defer { folder.remove() }
        let error = #expect(throws: ConfigError.self) { try folder.load(test.json) }
        let expected = test.problems.map {
            ConfigProblem(path: $0.path, message: $0.message.replacingOccurrences(of: "$DIR", with: folder.path))
        }
        #expect(error?.problems == expected)
        #expect(error?.file == folder.path + "/config.json")
    }

    @Test func fixtureWithSeveralProblemsListsThemAll() {
        let path = ConfigTestFolder.fixture("several-problems.json")
        let error = #expect(throws: ConfigError.self) { try ConfigLoader().load(path: path) }
        #expect(error?.problems.map(\.path) == [
            "listen[1]", "workers", "sites[0].lisitng", "sites[1].root", "sites[2].host[0]",
            "sites[2].gzip.level", "limits.maxBodyBytes",
        ])
    }

    @Test(arguments: [
        ("comments.json", "line 3, column 3: comments are not allowed in JSON"),
        ("trailing-comma.json", "line 3, column 55: trailing comma is not allowed in JSON"),
    ])
    func fixtureSyntaxErrorsNameLineAndColumn(file: String, message: String) {
        let path = ConfigTestFolder.fixture(file)
        let error = #expect(throws: ConfigError.self) { try ConfigLoader().load(path: path) }
        #expect(error?.problems == [ConfigProblem(path: "", message: message)])
        #expect(error?.description == "\(path): \(message)")
    }
}

extension String {
    /// Plain substring replacement (no Foundation in the test target either).
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
