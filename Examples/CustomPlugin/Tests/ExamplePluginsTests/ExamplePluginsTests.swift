// Starts the real companion server (CompanionCore's `Server`) with the example
// plugins registered, on an ephemeral port, and checks them over a socket.
import CompanionCore
import ExamplePlugins
import Glibc
import Testing

@Suite struct ExamplePluginsTests {
    static var registry: PluginRegistry {
        var registry = PluginRegistry.builtIn
        registry.register(ServerTimingPlugin.type)
        registry.register(BlockUserAgentPlugin.type)
        return registry
    }

    static let plugins = """
    [{"type": "serverTiming", "metric": "app"},
     {"type": "blockUserAgent", "contains": ["BadBot"], "match": "/private/*"},
     {"type": "headers", "set": {"X-Built-In": "still works"}}]
    """

    @Test func pluginsAnswerOverTheNetwork() throws {
        let site = try Site()
        site.write("index.html", "hello")
        site.write("private/data.txt", "private")
        let config = try Self.registry.configLoader.load(
            bytes: Array(site.config(plugins: Self.plugins).utf8), configPath: site.path + "/config.json")
        let server = try Server(config: config, plugins: Self.registry)
        defer { server.stop(graceMilliseconds: 1000) }
        let port = server.boundAddresses[0].port

        let home = try fetch(port: port, path: "/")
        #expect(home.status == 200)
        #expect(home.body == "hello")
        let timing = try #require(home.headers["server-timing"])
        #expect(timing.hasPrefix("app;dur="))
        #expect(Double(timing.dropFirst("app;dur=".count)) != nil)
        #expect(home.headers["x-built-in"] == "still works")

        #expect(try fetch(port: port, path: "/private/data.txt", userAgent: "Mozilla/5.0").status == 200)
        let blocked = try fetch(port: port, path: "/private/data.txt", userAgent: "Mozilla/5.0 (compatible; badbot/2.1)")
        #expect(blocked.status == 403)
        #expect(blocked.headers["server-timing"] != nil)  // outer plugin still runs
        #expect(try fetch(port: port, path: "/", userAgent: "BadBot").status == 200)  // outside `match`
    }

    @Test func configProblemsNameTheKey() throws {
        let site = try Site()
        let bad = """
        [{"type": "serverTiming", "metric": "a b"}, {"type": "blockUserAgent", "contains": "BadBot"}]
        """
        do {
            _ = try Self.registry.configLoader.load(bytes: Array(site.config(plugins: bad).utf8),
                                                    configPath: site.path + "/config.json")
            Issue.record("the config was accepted")
        } catch {
            let paths = error.problems.map(\.path)
            #expect(paths == ["sites[0].plugins[0].metric", "sites[0].plugins[1].contains"])
        }
        // Without registering them, the types are unknown.
        #expect(throws: ConfigError.self) {
            try PluginRegistry.builtIn.configLoader.load(bytes: Array(site.config(plugins: Self.plugins).utf8),
                                                          configPath: site.path + "/config.json")
        }
    }
}

/// A temporary site root, removed when the test ends.
final class Site {
    let path: String

    init() throws {
        var template = Array("/tmp/companion-example-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw POSIXError(errno)
        }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit {
        _ = system("rm -rf '\(path)'")
    }

    func config(plugins: String) -> String {
        #"{"listen": "127.0.0.1:0", "workers": 1, "sites": [{"host": "example.test", "root": ".", "plugins": "#
            + plugins + "}]}"
    }

    func write(_ relative: String, _ text: String) {
        let full = path + "/" + relative
        if let slash = full.lastIndex(of: "/") { mkdir(String(full[..<slash]), 0o755) }
        let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = text.utf8CString.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
    }
}

struct POSIXError: Error { let code: Int32; init(_ code: Int32) { self.code = code } }

struct Reply {
    var status: Int
    var headers: [String: String]
    var body: String
}

/// One GET over a fresh connection (`Connection: close`), read to the end.
func fetch(port: Int, path: String, userAgent: String? = nil) throws -> Reply {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw POSIXError(errno) }
    var request = "GET \(path) HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n"
    if let userAgent { request += "User-Agent: \(userAgent)\r\n" }
    request += "\r\n"
    _ = request.utf8CString.withUnsafeBytes { send(fd, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
    var received: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        received += chunk[0..<n]
    }
    let text = String(decoding: received, as: UTF8.self)
    guard let split = text.firstRange(of: "\r\n\r\n") else { throw POSIXError(EPROTO) }
    let lines = text[..<split.lowerBound].split(separator: "\r\n")
    let status = Int(lines.first?.split(separator: " ")[1] ?? "") ?? 0
    var headers: [String: String] = [:]
    for line in lines.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingPrefix(" ").description
    }
    return Reply(status: status, headers: headers, body: String(text[split.upperBound...]))
}
