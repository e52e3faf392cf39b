// Hostile clients over TLS, against the real binary: descriptor
// exhaustion (`ulimit -n 64` with more TLS clients than descriptors; the server keeps
// running and serves everyone once they leave) and slow readers of a large file (each
// holds at most its socket buffer, OpenSSL's record buffer and the queue's bound, so RSS
// stays flat while an ordinary client is served). Slowloris during the handshake is in
// HTTPSTests (a partial ClientHello meets the header timeout).
import Foundation
import Glibc
import Testing

@Suite(.serialized) struct HostileTLSTests {
    static func start(_ folder: URL, files: TLSFiles, limit: Int?) throws -> (CompanionProcess, Int) {
        let site = folder.appendingPathComponent("site")
        try FileManager.default.createDirectory(at: site, withIntermediateDirectories: true)
        try Data("site a\n".utf8).write(to: site.appendingPathComponent("index.html"))
        var big = Data(count: 16 << 20)
        big[0] = 1
        try big.write(to: site.appendingPathComponent("big.bin"))
        let config = folder.appendingPathComponent("config.json")
        try """
            {"listen": {"address": "127.0.0.1:0", "tls": true}, "workers": 1,
             "sites": [{"host": "a.test", "root": "site", "tls": {"certificate": "\(files.certificate("a"))", "key": "\(files.key("a"))"}}]}
            """.write(to: config, atomically: true, encoding: .utf8)
        let server: CompanionProcess
        if let limit {
            server = try CompanionProcess(["-c", "ulimit -n \(limit) && exec \"$0\" serve --config \"$1\"", CompanionProcess.binary, config.path],
                                          executable: "/bin/bash")
        } else {
            server = try CompanionProcess(["serve", "--config", config.path])
        }
        guard let line = server.waitForLine(containing: "listening on https://"),
              let port = Int(line.split(separator: ":").last?.filter(\.isNumber) ?? "") else {
            server.signal(SIGKILL)
            throw TLSTestError("no https listener")
        }
        return (server, port)
    }

    @Test func moreTLSClientsThanDescriptorsAndTheServerRecovers() throws {
        let folder = makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let files = try TLSFiles([("a", "a.test")])
        let (server, port) = try Self.start(folder, files: files, limit: 64)
        defer { server.signal(SIGKILL) }
        let program = """
            import socket, ssl, sys, threading
            port, ca = int(sys.argv[1]), sys.argv[2]
            ctx = ssl.create_default_context(cafile=ca)
            held, outcomes, lock = [], {"served": 0, "failed": 0}, threading.Lock()
            def hold():
                try:
                    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=3), server_hostname="a.test")
                    s.sendall(b"GET / HTTP/1.1\\r\\nHost: a.test\\r\\n\\r\\n")
                    ok = s.recv(100).startswith(b"HTTP/1.1 200")
                    with lock: held.append(s)
                except Exception:
                    ok = False
                with lock: outcomes["served" if ok else "failed"] += 1
            threads = [threading.Thread(target=hold) for _ in range(90)]
            for t in threads: t.start()
            for t in threads: t.join()
            print("exhausted", outcomes["failed"] > 0)
            for s in held: s.close()
            ok = 0
            for _ in range(50):
                s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname="a.test")
                s.sendall(b"GET / HTTP/1.1\\r\\nHost: a.test\\r\\nConnection: close\\r\\n\\r\\n")
                data = read_to_close(s)
                ok += data.startswith(b"HTTP/1.1 200") and data.endswith(b"site a\\n")
            print("recovered", ok)
            """
        let result = try runPython(program, ["\(port)", files.ca], timeout: 120)
        #expect(result.stdout == "exhausted True\nrecovered 50\n", "\(result.stderr.suffix(1500))")
        #expect(server.process.isRunning)
    }

    @Test func slowTLSReadersOfALargeFileDoNotStallOthersOrGrowMemory() throws {
        let folder = makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let files = try TLSFiles([("a", "a.test")])
        let (server, port) = try Self.start(folder, files: files, limit: nil)
        defer { server.signal(SIGKILL) }
        let pid = server.process.processIdentifier
        let before = SlowReaderTests.residentKiB(pid)
        let program = """
            import socket, ssl, sys, time
            port, ca = int(sys.argv[1]), sys.argv[2]
            ctx = ssl.create_default_context(cafile=ca)
            slow = []
            for _ in range(20):
                raw = socket.socket()
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                raw.connect(("127.0.0.1", port))
                s = ctx.wrap_socket(raw, server_hostname="a.test")
                s.sendall(b"GET /big.bin HTTP/1.1\\r\\nHost: a.test\\r\\n\\r\\n")
                s.recv(1000)                          # the head, then nothing more is read
                slow.append(s)
            s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname="a.test")
            s.sendall(b"GET / HTTP/1.1\\r\\nHost: a.test\\r\\nConnection: close\\r\\n\\r\\n")
            data = read_to_close(s)
            print("served", data.endswith(b"site a\\n"))
            sys.stdout.flush()
            sys.stdin.readline()                      # hold the slow readers while RSS is read
            """
        let client = try HeldPythonClient(program, ["\(port)", files.ca], folder: folder)
        #expect(try client.firstLine() == "served True\n")
        let during = SlowReaderTests.residentKiB(pid)
        _ = try client.release()
        // 20 stalled 16 MB downloads: each holds its socket buffers and one TLS record,
        // not the file (the bound is generous for allocator noise). Not under a sanitizer,
        // whose allocator keeps freed memory (Tests/sanitizers/run.sh sets COMPANION_SANITIZER).
        if getenv("COMPANION_SANITIZER") == nil {
            #expect(during - before < 24 * 1024, "RSS grew from \(before) KiB to \(during) KiB")
        }
    }
}
