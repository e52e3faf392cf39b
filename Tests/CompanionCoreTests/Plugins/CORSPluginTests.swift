// CORSPlugin: Access-Control-Allow-Origin for "*" and listed origins (with Vary:
// Origin), preflight answered 204 for allowed origins only; config problems.
import Testing
@testable import CompanionCore

@Suite struct CORSPluginTests {
    @Test func anyOrigin() throws {
        let directory = TempDirectory()
        directory.write("a/data.json", "{}")
        let server = try PluginTest.server(directory, plugins: #"{"type": "cors", "origins": "*"}"#)
        let response = try get(server.port, "/data.json", headers: ["Origin: https://anywhere.example"])
        #expect(response.status == 200)
        #expect(response.header("Access-Control-Allow-Origin") == "*")
        #expect(!response.headers("Vary").contains("Origin"))
        #expect(try get(server.port, "/data.json").header("Access-Control-Allow-Origin") == nil)
    }

    static let listed = """
    {"type": "cors", "origins": ["https://app.example", "http://localhost:3000"], "match": "/api/*",
     "methods": ["GET", "POST"], "headers": ["X-Token", "Content-Type"], "maxAge": 600}
    """

    @Test func listedOrigins() throws {
        let directory = TempDirectory()
        directory.write("a/api/data.json", "{}")
        directory.write("a/other.json", "{}")
        let server = try PluginTest.server(directory, plugins: Self.listed)

        let allowed = try get(server.port, "/api/data.json", headers: ["Origin: https://app.example"])
        #expect(allowed.header("Access-Control-Allow-Origin") == "https://app.example")
        #expect(allowed.headers("Vary").contains("Origin"))
        let mixedCase = try get(server.port, "/api/data.json", headers: ["Origin: HTTP://LocalHost:3000"])
        #expect(mixedCase.header("Access-Control-Allow-Origin") == "http://localhost:3000")

        let refused = try get(server.port, "/api/data.json", headers: ["Origin: https://evil.example"])
        #expect(refused.status == 200)
        #expect(refused.header("Access-Control-Allow-Origin") == nil)
        #expect(refused.headers("Vary").contains("Origin"))
        #expect(try get(server.port, "/api/data.json").headers("Vary").contains("Origin"))

        let unmatched = try get(server.port, "/other.json", headers: ["Origin: https://app.example"])
        #expect(unmatched.header("Access-Control-Allow-Origin") == nil)
    }

    @Test func preflight() throws {
        let directory = TempDirectory()
        let server = try PluginTest.server(directory, plugins: Self.listed)
        let request = "OPTIONS /api/items HTTP/1.1\r\nHost: a.test\r\nOrigin: https://app.example\r\n"
            + "Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: x-token\r\nConnection: close\r\n\r\n"
        let preflight = try roundTrip(server.port, request)
        #expect(preflight.status == 204)
        #expect(preflight.header("Access-Control-Allow-Origin") == "https://app.example")
        #expect(preflight.header("Access-Control-Allow-Methods") == "GET, POST")
        #expect(preflight.header("Access-Control-Allow-Headers") == "X-Token, Content-Type")
        #expect(preflight.header("Access-Control-Max-Age") == "600")
        #expect(preflight.headers("Vary").contains("Origin"))

        let refused = try roundTrip(server.port, request.replacingAll("https://app.example", with: "https://evil.example"))
        #expect(refused.status == 204)  // the plain OPTIONS answer
        #expect(refused.header("Access-Control-Allow-Origin") == nil)
        #expect(refused.header("Allow") == "GET, HEAD, OPTIONS")

        // OPTIONS without Access-Control-Request-Method is not a preflight.
        let plain = try roundTrip(server.port, "OPTIONS /api/items HTTP/1.1\r\nHost: a.test\r\nOrigin: https://app.example\r\nConnection: close\r\n\r\n")
        #expect(plain.header("Allow") == "GET, HEAD, OPTIONS")
        #expect(plain.header("Access-Control-Allow-Methods") == nil)
    }

    @Test func defaultsForMethods() throws {
        let directory = TempDirectory()
        let server = try PluginTest.server(directory, plugins: #"{"type": "cors", "origins": "*"}"#)
        let preflight = try roundTrip(server.port, "OPTIONS /x HTTP/1.1\r\nHost: a.test\r\nOrigin: https://a.example\r\n"
                                      + "Access-Control-Request-Method: GET\r\nConnection: close\r\n\r\n")
        #expect(preflight.header("Access-Control-Allow-Methods") == "GET, HEAD")
        #expect(preflight.header("Access-Control-Allow-Headers") == nil)
        #expect(preflight.header("Access-Control-Max-Age") == nil)
    }

    static let problemCases: [(label: String, plugin: String, problem: String)] = [
        ("missing origins", #"{"type": "cors"}"#, "sites[0].plugins[1].origins: missing required key"),
        ("origin with path", #"{"type": "cors", "origins": ["https://a.example/app"]}"#, "sites[0].plugins[1].origins[0]: expected an origin"),
        ("origin without scheme", #"{"type": "cors", "origins": ["a.example"]}"#, "sites[0].plugins[1].origins[0]: expected an origin"),
        ("origins word", #"{"type": "cors", "origins": "any"}"#, "sites[0].plugins[1].origins: expected \"*\" or a list"),
        ("bad method", #"{"type": "cors", "origins": "*", "methods": ["G ET"]}"#, "sites[0].plugins[1].methods[0]: expected a token"),
        ("bad header", #"{"type": "cors", "origins": "*", "headers": ["X:Y"]}"#, "sites[0].plugins[1].headers[0]: expected a token"),
        ("negative maxAge", #"{"type": "cors", "origins": "*", "maxAge": -1}"#, "sites[0].plugins[1].maxAge: expected an integer from 0"),
        ("bad match", #"{"type": "cors", "origins": "*", "match": "api"}"#, "sites[0].plugins[1].match: expected a path"),
        ("unknown key", #"{"type": "cors", "origins": "*", "credentials": true}"#, "sites[0].plugins[1].credentials: unknown key"),
    ]

    @Test(arguments: problemCases)
    func configProblems(label: String, plugin: String, problem: String) {
        #expect(PluginTest.hasProblem(plugin, problem), "\(label)")
    }
}
