// ACME against Debian's pebble (the ACME test server), started here on loopback with its
// own test CA, validating the real HTTP-01 challenge against companion's plain listener.
// pebble-challtestsrv is pebble's DNS: it resolves every test name to 127.0.0.1.
// Free ports are picked for pebble and for companion's plain listener (pebble's HTTP-01
// validation connects to it); pebble starts first, its readiness a TCP connect.
import CompanionCore
import Foundation
import Testing

/// pebble and pebble-challtestsrv as child processes, logging to files (never to the
/// test's pipes), stopped in deinit.
final class Pebble {
    let folder = makeTempDirectory()
    let files: TLSFiles
    let port: Int
    let managementPort: Int
    private var processes: [Process] = []
    var log: String { (try? String(contentsOf: folder.appendingPathComponent("pebble.log"), encoding: .utf8)) ?? "" }
    var directory: String { "https://localhost:\(port)/dir" }

    /// - Parameters:
    ///   - httpPort: where pebble's HTTP-01 validation connects (companion's plain listener).
    ///   - validitySeconds: lifetime of the certificates it issues.
    ///   - blocked: names it refuses to issue for.
    init(httpPort: Int, validitySeconds: Int, blocked: [String]) throws {
        files = try TLSFiles([("pebble", "localhost")])
        let ports = try (0..<4).map { _ in try Self.freePort() }
        port = ports[0]
        managementPort = ports[1]
        let config = """
            {"pebble": {"listenAddress": "127.0.0.1:\(ports[0])", "managementListenAddress": "127.0.0.1:\(ports[1])",
              "certificate": "\(files.certificate("pebble"))", "privateKey": "\(files.key("pebble"))",
              "httpPort": \(httpPort), "tlsPort": \(ports[2]), "ocspResponderURL": "",
              "externalAccountBindingRequired": false, "certificateValidityPeriod": \(validitySeconds),
              "domainBlocklist": [\(blocked.map { "\"\($0)\"" }.joined(separator: ","))]}}
            """
        let configURL = folder.appendingPathComponent("pebble.json")
        try Data(config.utf8).write(to: configURL)
        try start("/usr/bin/pebble-challtestsrv", ["-dns01", "127.0.0.1:\(ports[3])", "-http01", "", "-https01", "",
                                                   "-tlsalpn01", "", "-management", "127.0.0.1:\(try Self.freePort())",
                                                   "-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""], log: "challtestsrv.log")
        try start("/usr/bin/pebble", ["-config", configURL.path, "-dnsserver", "127.0.0.1:\(ports[3])"], log: "pebble.log",
                  environment: ["PEBBLE_VA_NOSLEEP": "1"])
        guard Self.waitForListener(port), Self.waitForListener(managementPort) else {
            throw TLSTestError("pebble did not start: \(log)")
        }
    }

    private func start(_ executable: String, _ arguments: [String], log: String, environment: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = folder
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let logURL = folder.appendingPathComponent(log)
        try Data().write(to: logURL)
        let handle = try FileHandle(forWritingTo: logURL)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        processes.append(process)
    }

    /// The root pebble signs with (its management API), to verify what companion serves.
    func root() throws -> String {
        let path = folder.appendingPathComponent("root.pem").path
        let result = try runTool(["curl", "-sS", "--cacert", files.ca, "-o", path, "https://localhost:\(managementPort)/roots/0"])
        guard result.status == 0 else { throw TLSTestError("no pebble root: \(result.stderr)") }
        return path
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = loopbackAddress()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Readiness: a TCP connect succeeds (polled, at most 20 s).
    static func waitForListener(_ port: Int) -> Bool {
        for _ in 0..<400 {
            if (try? RawClient(port: port)) != nil { return true }
            usleep(50_000)
        }
        return false
    }

    deinit {
        for process in processes where process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: folder)
    }
}

@Suite(.serialized) struct ACMETests {
    @Test func issuesServesWithoutRestartRenewsAndRetriesAFailingOrder() throws {
        // Companion's plain port is picked first: pebble's HTTP-01 validation connects to it.
        let plainPort = try Pebble.freePort()
        let pebble = try Pebble(httpPort: plainPort, validitySeconds: 9, blocked: ["blocked.test"])
        let json = """
            {"listen": ["127.0.0.1:\(plainPort)", "TLS"], "workers": 2,
             "acme": {"directory": "\(pebble.directory)", "email": "ops@example.org", "storage": "state/acme",
                      "agreeToTerms": true, "trustedRoots": "\(pebble.files.ca)"},
             "sites": [{"host": ["a.test", "www.a.test"], "root": "a", "tls": "acme", "default": true},
                       {"host": "blocked.test", "root": "b", "tls": "acme"}]}
            """
        let server = try TLSServer(json, files: try TLSFiles([]), acmeRetryMilliseconds: 200)
        let root = try pebble.root()
        // Issuance: a.test becomes reachable over HTTPS, verified against pebble's root,
        // without a restart.
        var served = ""
        for _ in 0..<200 where served != "site a\n" {
            served = try runTool(["curl", "-sS", "--cacert", root, "--resolve", "www.a.test:\(server.httpsPort):127.0.0.1",
                                  "https://www.a.test:\(server.httpsPort)/"]).stdout
            if served != "site a\n" { usleep(50_000) }
        }
        #expect(served == "site a\n", "\(pebble.log.suffix(2000))")
        let stored = server.folder.appendingPathComponent("state/acme/certificates/a.test")
        let keyMode = try FileManager.default.attributesOfItem(atPath: stored.appendingPathComponent("key.pem").path)[.posixPermissions] as? Int
        #expect(keyMode == 0o600)
        let accountMode = try FileManager.default.attributesOfItem(
            atPath: server.folder.appendingPathComponent("state/acme/account.key").path)[.posixPermissions] as? Int
        #expect(accountMode == 0o600)
        // The blocked site's orders fail: its HTTPS handshake fails with an alert, its plain
        // HTTP works, and the orders are retried (with back-off) while a.test is served.
        let blockedTLS = try runTool(["openssl", "s_client", "-connect", "127.0.0.1:\(server.httpsPort)", "-servername", "blocked.test"], input: "")
        #expect(blockedTLS.status != 0)
        #expect(blockedTLS.stderr.contains("unrecognized name"))
        #expect(try RawClient.get(port: plainPort, path: "/", host: "blocked.test").hasSuffix("site b\n"))
        let attemptsBefore = server.server.acmeCounts.attempts
        for _ in 0..<200 where server.server.acmeCounts.attempts < attemptsBefore + 2 { usleep(50_000) }
        #expect(server.server.acmeCounts.attempts >= attemptsBefore + 2)
        #expect(try runTool(["curl", "-sS", "--cacert", root, "--resolve", "a.test:\(server.httpsPort):127.0.0.1",
                             "https://a.test:\(server.httpsPort)/"]).stdout == "site a\n")
        // Renewal at two thirds of the 9-second lifetime: a new serial is served.
        func servedSerial() throws -> String {
            try runTool(["sh", "-c", "openssl s_client -connect 127.0.0.1:\(server.httpsPort) -servername a.test </dev/null 2>/dev/null"
                         + " | openssl x509 -noout -serial"]).stdout
        }
        let first = try servedSerial()
        #expect(first.hasPrefix("serial="))
        var renewed = first
        for _ in 0..<300 where renewed == first {
            usleep(50_000)
            renewed = try servedSerial()
        }
        #expect(renewed != first && renewed.hasPrefix("serial="))
        #expect(server.server.acmeCounts.issued >= 2)
    }
}
