// Support for the HTTPS tests: certificates from Tests/tls/make_certs.py (a throwaway CA
// per test), an in-process server with plain and TLS listeners, and real TLS clients
// (curl, openssl s_client, Python's ssl) run as child processes under `timeout`, their
// output in files rather than pipes so a child that lingers cannot hang the test.
import CompanionCore
import Foundation

/// 127.0.0.1, port 0 (the kernel picks one at bind).
func loopbackAddress() -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return address
}

/// Runs `arguments` (through coreutils `timeout`), optionally feeding `input`.
func runTool(_ arguments: [String], input: String? = nil, timeout: Int = 60) throws -> (status: Int32, stdout: String, stderr: String) {
    let folder = makeTempDirectory()
    defer { try? FileManager.default.removeItem(at: folder) }
    let outURL = folder.appendingPathComponent("out")
    let errURL = folder.appendingPathComponent("err")
    try Data().write(to: outURL)
    try Data().write(to: errURL)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
    process.arguments = ["\(timeout)"] + arguments
    process.standardOutput = try FileHandle(forWritingTo: outURL)
    process.standardError = try FileHandle(forWritingTo: errURL)
    if let input {
        let inURL = folder.appendingPathComponent("in")
        try Data(input.utf8).write(to: inURL)
        process.standardInput = try FileHandle(forReadingFrom: inURL)
    } else {
        process.standardInput = FileHandle.nullDevice
    }
    try process.run()
    process.waitUntilExit()
    return (process.terminationStatus, try String(contentsOf: outURL, encoding: .utf8),
            (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
}

/// Helpers every Python client of these tests has: `read_to_close(sock)` reads until the
/// server closes.
let pythonPrelude = """
    def read_to_close(sock):
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk

    """

/// Runs a Python program (the TLS client side of a test) with `arguments` as sys.argv[1:].
func runPython(_ program: String, _ arguments: [String] = [], timeout: Int = 60) throws -> (status: Int32, stdout: String, stderr: String) {
    try runTool(["python3", "-c", pythonPrelude + program] + arguments, timeout: timeout)
}

/// A Python client that prints one line and then holds its connections until `release`
/// (it waits on stdin, a FIFO), so the test can act on the server in between.
final class HeldPythonClient {
    private let process = Process()
    private let output: URL
    private let writer: Int32

    init(_ program: String, _ arguments: [String], folder: URL) throws {
        let fifo = folder.appendingPathComponent("hold").path
        mkfifo(fifo, 0o600)
        output = folder.appendingPathComponent("held-out")
        try Data().write(to: output)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["60", "sh", "-c", "python3 -c \"$0\" \"$@\" < \(fifo)", pythonPrelude + program] + arguments
        process.standardOutput = try FileHandle(forWritingTo: output)
        try process.run()
        writer = open(fifo, O_WRONLY)   // blocks until the client opened its end
    }

    /// The client's output once it is a whole line (polled, at most 20 s: the write may
    /// arrive in parts).
    func firstLine() throws -> String {
        var printed = ""
        for _ in 0..<800 where !printed.hasSuffix("\n") {
            printed = try String(contentsOf: output, encoding: .utf8)
            if !printed.hasSuffix("\n") { usleep(25_000) }
        }
        return printed
    }

    /// Lets the client go on (a line on its stdin), waits for it to end, returns all it printed.
    func release() throws -> String {
        _ = write(writer, "\n", 1)
        close(writer)
        process.waitUntilExit()
        return try String(contentsOf: output, encoding: .utf8)
    }
}

/// A temp folder with a CA and leaf certificates: `TLSFiles(["a": "a.test,*.a.test"])`
/// makes ca.pem, a.pem, a.key (see Tests/tls/make_certs.py for the spec syntax).
final class TLSFiles {
    let folder: URL
    var path: String { folder.path }
    var ca: String { folder.appendingPathComponent("ca.pem").path }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("tls/make_certs.py").path

    init(_ leaves: [(String, String)], folder: URL? = nil) throws {
        self.folder = folder ?? makeTempDirectory()
        let result = try runTool(["python3", Self.script, self.folder.path] + leaves.map { "\($0.0)=\($0.1)" })
        guard result.status == 0 else { throw TLSTestError("make_certs.py failed: \(result.stderr)") }
    }

    func certificate(_ name: String) -> String { folder.appendingPathComponent(name + ".pem").path }
    func key(_ name: String) -> String { folder.appendingPathComponent(name + ".key").path }

    deinit { try? FileManager.default.removeItem(at: folder) }
}

struct TLSTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// An in-process server from config JSON in which "PLAIN" and "TLS" stand for a plain and
/// a TLS listener on ephemeral ports, and "CERTS/" for the TLSFiles folder.
final class TLSServer {
    let folder: URL
    let server: Server
    let httpPort: Int
    let httpsPort: Int
    let configPath: String

    init(_ json: String, files: TLSFiles, certificateCheckMilliseconds: Int = 2000, acmeRetryMilliseconds: Int = 60_000,
         replacements: [(String, String)] = []) throws {
        folder = makeTempDirectory()
        for name in ["a", "b", "w", "x"] {
            let site = folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: site, withIntermediateDirectories: true)
            try Data("site \(name)\n".utf8).write(to: site.appendingPathComponent("index.html"))
        }
        let text = json.replacingOccurrences(of: "\"PLAIN\"", with: "\"127.0.0.1:0\"")
            .replacingOccurrences(of: "\"TLS\"", with: "{\"address\": \"127.0.0.1:0\", \"tls\": true}")
            .replacingOccurrences(of: "CERTS/", with: files.path + "/")
        var replaced = text
        for (target, value) in replacements { replaced = replaced.replacingOccurrences(of: target, with: value) }
        configPath = folder.appendingPathComponent("config.json").path
        try Data(replaced.utf8).write(to: URL(fileURLWithPath: configPath))
        let config = try PluginRegistry.builtIn.configLoader.load(path: configPath)
        server = try Server(config: config, certificateCheckMilliseconds: certificateCheckMilliseconds,
                            acmeRetryMilliseconds: acmeRetryMilliseconds)
        httpPort = server.boundAddresses.first { !$0.tls }?.port ?? 0
        httpsPort = server.boundAddresses.first { $0.tls }?.port ?? 0
    }

    func write(_ relative: String, _ data: Data) throws {
        let url = folder.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
    }

    deinit {
        server.stop(graceMilliseconds: 2000)
        try? FileManager.default.removeItem(at: folder)
    }

    /// The subject CN of the certificate the server presents for `serverName` (nil: no SNI),
    /// from `openssl s_client`; nil when the handshake fails.
    func presentedSubject(serverName: String?) throws -> String? {
        var arguments = ["openssl", "s_client", "-connect", "127.0.0.1:\(httpsPort)"]
        arguments += serverName.map { ["-servername", $0] } ?? ["-noservername"]
        let result = try runTool(arguments, input: "")
        guard let line = result.stdout.split(separator: "\n").first(where: { $0.hasPrefix("subject=") }) else { return nil }
        return line.components(separatedBy: "CN = ").last.map { String($0) }
    }

    /// curl against the TLS listener with SNI and Host `host` resolved to loopback.
    func curl(_ host: String, _ path: String, files: TLSFiles, extra: [String] = []) throws -> (status: Int32, stdout: String, stderr: String) {
        try runTool(["curl", "-sS", "--cacert", files.ca, "--resolve", "\(host):\(httpsPort):127.0.0.1"] + extra
                    + ["https://\(host):\(httpsPort)\(path)"])
    }
}
