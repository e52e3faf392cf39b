// Running under systemd (SPEC §7): the notify protocol spoken by companion itself
// (READY=1, RELOADING=1 then READY=1 around SIGHUP, STOPPING=1), received on a Unix datagram
// socket as systemd would; socket activation (LISTEN_FDS) serving on the inherited socket;
// and the unit files in contrib/ verified by systemd-analyze.
import CompanionCore
import Foundation
import Testing

/// A Unix datagram socket at a temp path: what systemd's NOTIFY_SOCKET is.
final class NotifySocket {
    let fd: Int32
    let path: String

    init(folder: URL) throws {
        path = folder.appendingPathComponent("notify").path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var tv = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else { throw POSIXError(.EADDRINUSE) }
    }

    deinit { close(fd) }

    /// The next datagram (waits at most 20 s; "" on timeout).
    func receive() -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
    }
}

@Suite(.serialized) struct ServiceTests {
    static func siteFolder() throws -> URL {
        let dir = makeTempDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("site"), withIntermediateDirectories: true)
        try Data("hello\n".utf8).write(to: dir.appendingPathComponent("site/index.html"))
        return dir
    }

    @Test func notifyMessagesArriveInOrder() throws {
        let dir = try Self.siteFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("config.json")
        try #"{"listen": "127.0.0.1:0", "sites": [{"host": "a.test", "root": "site"}]}"#.write(to: config, atomically: true, encoding: .utf8)
        let notify = try NotifySocket(folder: dir)
        let server = try CompanionProcess(["serve", "--config", config.path], environment: ["NOTIFY_SOCKET": notify.path])
        let ready = notify.receive()
        #expect(ready.hasPrefix("READY=1\n"))
        #expect(ready.contains("MAINPID=\(server.process.processIdentifier)"))
        // READY comes once the listener serves: a request right after it is answered.
        let port = try #require(server.waitForPort())
        #expect(try RawClient.get(port: port, path: "/", host: "a.test").hasPrefix("HTTP/1.1 200"))

        server.signal(SIGHUP)
        let reloading = notify.receive()
        #expect(reloading.hasPrefix("RELOADING=1\nMONOTONIC_USEC="))
        #expect(notify.receive().hasPrefix("READY=1"))
        #expect(server.waitForLine(containing: "config reloaded") != nil)

        // A reload that fails still ends with READY=1 (the old config keeps serving).
        try #"{"listen": "127.0.0.1:0", "sites": []}"#.write(to: config, atomically: true, encoding: .utf8)
        server.signal(SIGHUP)
        #expect(notify.receive().hasPrefix("RELOADING=1"))
        #expect(notify.receive().hasPrefix("READY=1"))

        server.signal(SIGTERM)
        #expect(notify.receive() == "STOPPING=1")
        #expect(server.waitForExit() == 0)
    }

    /// The inherited socket is made by a Python parent exactly as systemd does it: bound and
    /// listening, at descriptor 3, with LISTEN_FDS=1 and LISTEN_PID set to the server's pid.
    static let activator = """
        import os, socket, subprocess, sys, time
        binary, config_path, folder, mode = sys.argv[1:5]
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        port = sock.getsockname()[1]
        listen_port = port if mode == "match" else 0   # port 0 never names an inherited socket
        with open(config_path, "w") as f:
            f.write('{"listen": "127.0.0.1:%d", "sites": [{"host": "a.test", "root": "site"}]}' % listen_port)
        fd = sock.detach()
        if fd != 3:
            os.dup2(fd, 3)
            os.close(fd)
        os.set_inheritable(3, True)
        log = open(os.path.join(folder, "server.log"), "w")
        server = subprocess.Popen(["sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" serve --config "$1"', binary, config_path],
                                  pass_fds=(3,), stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        os.close(3)
        if mode == "match":
            # Connecting works at once (the kernel queues it on the inherited socket); the
            # answer comes when the server runs.
            c = socket.create_connection(("127.0.0.1", port), timeout=20)
            c.sendall(b"GET / HTTP/1.1\\r\\nHost: a.test\\r\\nConnection: close\\r\\n\\r\\n")
            print(read_to_close(c).split(b"\\r\\n")[0].decode())
            server.terminate()
        print("exit", server.wait(timeout=30))
        sys.stdout.flush()
        print(open(os.path.join(folder, "server.log")).read())
        """

    @Test func socketActivationServesTheInheritedSocket() throws {
        let dir = try Self.siteFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("config.json").path
        let result = try runPython(Self.activator, [CompanionProcess.binary, config, dir.path, "match"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.first == "HTTP/1.1 200 OK", "\(result.stdout)")
        #expect(lines.dropFirst().first == "exit 0")
    }

    @Test func anInheritedSocketForNoListenAddressStopsTheStart() throws {
        let dir = try Self.siteFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("config.json").path
        let result = try runPython(Self.activator, [CompanionProcess.binary, config, dir.path, "other"])
        #expect(result.stdout.hasPrefix("exit 1\n"), "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("socket activation: descriptor 3 is bound to 127.0.0.1:"))
    }

    @Test func unitFilesPassSystemdAnalyzeVerify() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze") else { return }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The unit names /usr/bin/companion; verify checks that the binary exists, so the
        // copy names the built one. Documentation=man:companion(1) is looked up with man.
        let unit = try String(contentsOf: root.appendingPathComponent("contrib/companion.service"), encoding: .utf8)
            .replacingOccurrences(of: "/usr/bin/companion", with: CompanionProcess.binary)
        try Data(unit.utf8).write(to: dir.appendingPathComponent("companion.service"))
        try FileManager.default.copyItem(at: root.appendingPathComponent("contrib/companion.socket"),
                                         to: dir.appendingPathComponent("companion.socket"))
        let man = dir.appendingPathComponent("man/man1")
        try FileManager.default.createDirectory(at: man, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: root.appendingPathComponent("contrib/companion.1"), to: man.appendingPathComponent("companion.1"))
        let result = try runTool(["env", "MANPATH=\(dir.appendingPathComponent("man").path)", "systemd-analyze", "verify",
                                  dir.appendingPathComponent("companion.service").path, dir.appendingPathComponent("companion.socket").path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.isEmpty && result.stderr.isEmpty, "warnings: \(result.stdout)\(result.stderr)")   // unknown keys only warn
    }
}
