// BasicAuthPlugin: 401 with a challenge unless the credentials match a user's
// hash, `match` limits it, verified logins are remembered (no bcrypt per
// request); base64 and header parsing; config problems.
import Testing
@testable import CompanionCore

@Suite struct BasicAuthPluginTests {
    /// bcrypt at cost 4 keeps the tests fast; the format is what `hash-password` writes.
    static let annHash = PasswordHash.make(password: "s3cret:with colon", prefix: "$2b$", cost: 4)!
    static let bobHash = PasswordHash.make(password: "hunter2", prefix: "$6$", cost: 0)!

    static func basic(_ credentials: String) -> String {
        "Authorization: Basic " + base64(Array(credentials.utf8))
    }

    static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
            let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << UInt32(16 - 8 * $1.offset) }
            for position in 0..<4 {
                out.append(position <= chunk.count ? alphabet[Int(value >> UInt32(18 - 6 * position) & 63)] : UInt8(ascii: "="))
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func makeServer(_ directory: TempDirectory) throws -> TestServer {
        directory.write("a/private/report.txt", "numbers")
        directory.write("a/public.txt", "hello")
        return try PluginTest.server(directory, plugins: """
            {"type": "basicAuth", "realm": "Staff only", "match": "/private/*",
             "users": {"ann": "\(annHash)", "bob": "\(bobHash)"}}
            """)
    }

    static let cases: [(label: String, header: String?, status: Int)] = [
        ("no credentials", nil, 401),
        ("right password", basic("ann:s3cret:with colon"), 200),
        ("sha512-crypt user", basic("bob:hunter2"), 200),
        ("wrong password", basic("ann:s3cret"), 401),
        ("unknown user", basic("eve:hunter2"), 401),
        ("other user's password", basic("bob:s3cret:with colon"), 401),
        ("lowercase scheme", "Authorization: basic " + base64(Array("bob:hunter2".utf8)), 200),
        ("bearer scheme", "Authorization: Bearer abc", 401),
        ("no colon", basic("annsecret"), 401),
        ("broken base64", "Authorization: Basic !!!!", 401),
        ("empty token", "Authorization: Basic ", 401),
    ]

    @Test(arguments: cases)
    func authorization(label: String, header: String?, status: Int) throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let response = try get(server.port, "/private/report.txt", headers: header.map { [$0] } ?? [])
        #expect(response.status == status, "\(label)")
        if status == 401 {
            #expect(response.header("WWW-Authenticate") == "Basic realm=\"Staff only\", charset=\"UTF-8\"", "\(label)")
            #expect(!response.text.contains("numbers"))
        } else {
            #expect(response.text == "numbers", "\(label)")
        }
    }

    @Test func unmatchedPathsNeedNoCredentials() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        #expect(try get(server.port, "/public.txt").status == 200)
        // The match sees the normalised path: an encoded detour is still protected.
        #expect(try get(server.port, "/public/..%2fprivate/report.txt").status != 200)
        #expect(try get(server.port, "/x/../private/report.txt").status == 401)
    }

    @Test func verifiedLoginsAreRemembered() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let plugin = try #require(server.server.state.sites[0].chain.plugins.compactMap { $0 as? BasicAuthPlugin }.first)
        #expect(plugin.verified.count == 0)
        #expect(try get(server.port, "/private/report.txt", headers: [Self.basic("ann:s3cret:with colon")]).status == 200)
        #expect(plugin.verified.count == 1)
        #expect(try get(server.port, "/private/report.txt", headers: [Self.basic("ann:s3cret:with colon")]).status == 200)
        #expect(plugin.verified.count == 1)
        // A wrong password is never remembered, and never matches a remembered one.
        #expect(try get(server.port, "/private/report.txt", headers: [Self.basic("ann:s3cret:with colo")]).status == 401)
        #expect(plugin.verified.count == 1)
    }

    @Test func theCredentialCacheIsBounded() {
        let cache = VerifiedCredentials(capacity: 2)
        for name in ["a", "b", "c"] { cache.insert(.init(user: name, password: [1])) }
        #expect(cache.count <= 2)
        #expect(cache.contains(.init(user: "c", password: [1])))
        #expect(!cache.contains(.init(user: "c", password: [2])))
    }

    static let base64Cases: [(input: String, output: String?)] = [
        ("", ""), ("YQ==", "a"), ("YQ", "a"), ("YWI=", "ab"), ("YWI", "ab"), ("YWJj", "abc"),
        ("YWxhZGRpbjpvcGVuc2VzYW1l", "aladdin:opensesame"),
        ("Y", nil), ("Y===", nil), ("YR==", nil), ("YQ=", nil), ("YQ==YQ==", nil), ("YW-_", nil), ("YW J", nil),
    ]

    @Test(arguments: base64Cases)
    func base64Decoding(input: String, output: String?) {
        let decoded = BasicAuthPlugin.base64Decode(Array(input.utf8))
        #expect(decoded.map { String(decoding: $0, as: UTF8.self) } == output, "\(input)")
    }

    @Test func credentialParsing() throws {
        let parsed = try #require(BasicAuthPlugin.basicCredentials(Array("  BASIC   YWxhZGRpbjpvcGVuOnNlc2FtZQ== ".utf8)[...]))
        #expect(Array(parsed.user) == Array("aladdin".utf8))
        #expect(Array(parsed.password) == Array("open:sesame".utf8))
        #expect(BasicAuthPlugin.basicCredentials(Array("Basic".utf8)[...]) == nil)
        #expect(BasicAuthPlugin.basicCredentials(Array("BasicYQ==".utf8)[...]) == nil)
    }

    static let problemCases: [(label: String, plugin: String, problem: String)] = [
        ("missing users", #"{"type": "basicAuth"}"#, "sites[0].plugins[1].users: missing required key"),
        ("empty users", #"{"type": "basicAuth", "users": {}}"#, "sites[0].plugins[1].users: expected an object"),
        ("apr1 hash", #"{"type": "basicAuth", "users": {"ann": "$apr1$abc$def"}}"#, "sites[0].plugins[1].users.ann: expected a password hash"),
        ("plain password", #"{"type": "basicAuth", "users": {"ann": "hunter2"}}"#, "sites[0].plugins[1].users.ann: expected a password hash"),
        ("colon in name", #"{"type": "basicAuth", "users": {"a:b": "x"}}"#, "sites[0].plugins[1].users.a:b: a user name must be"),
        ("quote in realm", #"{"type": "basicAuth", "realm": "a\"b", "users": {"ann": "x"}}"#, "sites[0].plugins[1].realm: expected text without quotes"),
        ("bad match", #"{"type": "basicAuth", "match": "private", "users": {"ann": "x"}}"#, "sites[0].plugins[1].match: expected a path"),
        ("unknown key", #"{"type": "basicAuth", "user": {"ann": "x"}}"#, "sites[0].plugins[1].user: unknown key (did you mean \"users\"?)"),
    ]

    @Test(arguments: problemCases)
    func configProblems(label: String, plugin: String, problem: String) {
        #expect(PluginTest.hasProblem(plugin, problem), "\(label)")
    }

    @Test func hashesAreNotEchoed() {
        let problems = PluginTest.problems(#"{"type": "basicAuth", "users": {"ann": "$1$salt$secretish"}}"#)
        #expect(problems.count == 1)
        #expect(!problems.joined().contains("secretish"))
    }
}

/// Every wrong password costs a bcrypt check on the event loop; 30 wrong
/// guesses pipelined in one packet stalled an unrelated client for 1.6 s.
@Suite struct BasicAuthFloodTests {
    static func makeServer(_ directory: TempDirectory) throws -> TestServer {
        directory.write("a/private/report.txt", "numbers")
        return try PluginTest.server(directory, plugins: """
            {"type": "basicAuth", "match": "/private/*", "users": {"ann": "\(BasicAuthPluginTests.annHash)"}}
            """)
    }

    @Test func aWrongPasswordEndsThePipeline() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let connection = try TestConnection(port: server.port)
        var packet = ""
        for i in 0..<30 {
            packet += "GET /private/report.txt HTTP/1.1\r\nHost: a.test\r\n\(BasicAuthPluginTests.basic("ann:guess\(i)"))\r\n\r\n"
        }
        connection.send(packet)
        let first = try connection.readResponse()
        #expect(first.status == 401)
        #expect(first.header("Connection") == "close")
        #expect(connection.isClosedByPeer())   // guesses 2…30 were never checked
    }

    @Test func aClientGetsFiveWrongGuessesPerWindowThen429() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        var statuses: [Int] = []
        for i in 0..<8 {
            let response = try get(server.port, "/private/report.txt", headers: [BasicAuthPluginTests.basic("ann:guess\(i)")])
            statuses.append(response.status)
            if response.status == 429 { #expect(response.header("Retry-After") == "10") }
        }
        #expect(statuses == [401, 401, 401, 401, 401, 429, 429, 429])
        // Unknown users count too (they cost the decoy check).
        #expect(try get(server.port, "/private/report.txt", headers: [BasicAuthPluginTests.basic("eve:x")]).status == 429)
        // A request without credentials is just challenged (no check, no count).
        #expect(try get(server.port, "/private/report.txt").status == 401)
    }

    @Test func rememberedLoginsAreNotLimited() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let good = BasicAuthPluginTests.basic("ann:s3cret:with colon")
        #expect(try get(server.port, "/private/report.txt", headers: [good]).text == "numbers")
        for i in 0..<5 { _ = try get(server.port, "/private/report.txt", headers: [BasicAuthPluginTests.basic("ann:bad\(i)")]) }
        // The budget is spent, but a verified login needs no check.
        #expect(try get(server.port, "/private/report.txt", headers: [good]).text == "numbers")
    }
}
