// Certificates change under a running server (SPEC §6): a renewed file on disk or a reload
// gives new handshakes the new certificate while open connections keep theirs; a broken
// new file keeps the old one; reloads under load lose no request. Also `companion check`'s
// certificate problems and the access log's scheme and tls_version columns.
import CompanionCLI
import CompanionCore
import Foundation
import Testing

@Suite(.serialized) struct HTTPSReloadTests {
    static let json = """
        {"listen": ["PLAIN", "TLS"], "workers": 2, "accessLog": {"sqlite": "log/access.sqlite", "flushMs": 50},
         "sites": [{"host": "a.test", "root": "a", "tls": {"certificate": "CERTS/a.pem", "key": "CERTS/a.key"}}]}
        """

    /// Replaces a.pem/a.key by a new pair for `names`, as certbot's renewal does (rename
    /// into place: the server never sees half a file).
    static func renew(_ files: TLSFiles, names: String) throws {
        let fresh = try TLSFiles([("a", names)], folder: files.folder.appendingPathComponent("next"))
        for (source, target) in [(fresh.certificate("a"), files.certificate("a")), (fresh.key("a"), files.key("a"))] {
            _ = rename(source, target + ".tmp")
            _ = rename(target + ".tmp", target)
        }
        // The new leaf is signed by a new CA: trust both.
        let bundle = try String(contentsOfFile: files.ca, encoding: .utf8) + String(contentsOfFile: fresh.ca, encoding: .utf8)
        try Data(bundle.utf8).write(to: URL(fileURLWithPath: files.ca))
    }

    /// Polls the certificate presented for a.test until its names include `name` (the
    /// watcher's next check), as openssl s_client shows them.
    static func waitForName(_ server: TLSServer, _ name: String) throws -> Bool {
        for _ in 0..<200 {
            let names = try runTool(["sh", "-c", "openssl s_client -connect 127.0.0.1:\(server.httpsPort) -servername a.test "
                                     + "</dev/null 2>/dev/null | openssl x509 -noout -ext subjectAltName"])
            if names.stdout.contains(name) { return true }
            usleep(25_000)
        }
        return false
    }

    @Test func aRenewedFileIsServedToNewHandshakesWhileOpenConnectionsKeepTheirs() throws {
        let files = try TLSFiles([("a", "a.test")])
        let server = try TLSServer(Self.json, files: files, certificateCheckMilliseconds: 50)
        // An open keep-alive connection made before the renewal.
        let program = """
            import socket, ssl, sys
            ctx = ssl.create_default_context(cafile=sys.argv[2])
            s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))), server_hostname="a.test")
            def get():
                s.sendall(b"GET / HTTP/1.1\\r\\nHost: a.test\\r\\n\\r\\n")
                data = b""
                while not data.endswith(b"site a\\n"):
                    data += s.recv(65536)
                return data.split(b"\\r\\n")[0].decode()
            print(get(), s.getpeercert()["subjectAltName"])
            sys.stdout.flush()
            sys.stdin.readline()
            print(get(), s.getpeercert()["subjectAltName"])
            """
        let client = try HeldPythonClient(program, ["\(server.httpsPort)", files.ca], folder: server.folder)
        // Wait for the first answer before renewing.
        #expect(try client.firstLine() == "HTTP/1.1 200 OK (('DNS', 'a.test'),)\n")
        try Self.renew(files, names: "a.test,renewed.a.test")
        #expect(try Self.waitForName(server, "renewed.a.test"))
        // The open connection still works and still has the old certificate.
        #expect(try client.release() == "HTTP/1.1 200 OK (('DNS', 'a.test'),)\nHTTP/1.1 200 OK (('DNS', 'a.test'),)\n")
    }

    @Test func aBrokenNewCertificateKeepsTheOldOne() throws {
        let files = try TLSFiles([("a", "a.test"), ("other", "other.test")])
        let server = try TLSServer(Self.json, files: files)
        // A certificate whose key does not match, then a file that is not PEM at all.
        _ = rename(files.certificate("other"), files.certificate("a"))
        try server.server.reload(server.server.state.config)
        #expect(try server.presentedSubject(serverName: "a.test") == "a.test")
        try Data("not a certificate".utf8).write(to: URL(fileURLWithPath: files.certificate("a")))
        try server.server.reload(server.server.state.config)
        #expect(try server.presentedSubject(serverName: "a.test") == "a.test")
        #expect(try server.curl("a.test", "/", files: files).stdout == "site a\n")
    }

    @Test func reloadsUnderLoadLoseNoRequest() throws {
        let files = try TLSFiles([("a", "a.test")])
        let server = try TLSServer(Self.json, files: files)
        let program = """
            import socket, ssl, sys, threading
            port, ca = int(sys.argv[1]), sys.argv[2]
            ctx = ssl.create_default_context(cafile=ca)
            counts = {"ok": 0, "bad": 0}
            lock = threading.Lock()
            def worker(keepalive):
                s = None
                for i in range(150):
                    try:
                        if s is None:
                            s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="a.test")
                        s.sendall(b"GET / HTTP/1.1\\r\\nHost: a.test\\r\\n" + (b"" if keepalive else b"Connection: close\\r\\n") + b"\\r\\n")
                        data = b""
                        while not data.endswith(b"site a\\n"):
                            d = s.recv(65536)
                            if not d: break
                            data += d
                        ok = data.startswith(b"HTTP/1.1 200") and data.endswith(b"site a\\n")
                        if not keepalive:
                            s.close(); s = None
                    except Exception as e:
                        ok = False; s = None
                    with lock:
                        counts["ok" if ok else "bad"] += 1
            threads = [threading.Thread(target=worker, args=(k,)) for k in (True, True, False, False)]
            for t in threads: t.start()
            for t in threads: t.join()
            print(counts["ok"], counts["bad"])
            """
        let client = Process()
        client.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        client.arguments = ["120", "python3", "-c", program, "\(server.httpsPort)", files.ca]
        let outputFolder = makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: outputFolder) }
        let output = outputFolder.appendingPathComponent("out")
        try Data().write(to: output)
        client.standardOutput = try FileHandle(forWritingTo: output)
        try client.run()
        var reloads = 0
        while client.isRunning {
            try server.server.reload(server.server.state.config)
            reloads += 1
            usleep(10_000)
        }
        #expect(reloads > 5)
        #expect(try String(contentsOf: output, encoding: .utf8) == "600 0\n")
    }

    @Test func accessLogRecordsSchemeAndTLSVersionAndNoRowForFailedHandshakes() throws {
        let files = try TLSFiles([("a", "a.test")])
        let server = try TLSServer(Self.json, files: files)
        #expect(try server.curl("a.test", "/", files: files, extra: ["--tls-max", "1.2"]).stdout == "site a\n")
        #expect(try server.curl("a.test", "/", files: files).stdout == "site a\n")
        #expect(try RawClient.get(port: server.httpPort, path: "/", host: "a.test").hasPrefix("HTTP/1.1 200"))
        _ = try runTool(["openssl", "s_client", "-connect", "127.0.0.1:\(server.httpsPort)", "-tls1_1"], input: "")
        server.server.stop()
        let database = server.folder.appendingPathComponent("log/access.sqlite").path
        // Sorted: with two loops, consecutive requests' rows may reach the writer in either order.
        let rows = try runTool(["sqlite3", database, "SELECT scheme, IFNULL(tls_version, '-') FROM requests ORDER BY 1, 2"])
        #expect(rows.stdout == "http|-\nhttps|TLSv1.2\nhttps|TLSv1.3\n")
    }
}

@Suite struct CheckCertificateTests {
    static func check(_ site: String, files: TLSFiles) throws -> CheckCommand.Outcome {
        let folder = makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("a"), withIntermediateDirectories: true)
        let json = """
            {"listen": ["127.0.0.1:0", {"address": "127.0.0.1:0", "tls": true}],
             "sites": [{"host": ["a.test", "www.a.test"], "root": "a", "tls": \(site)}]}
            """.replacingOccurrences(of: "CERTS/", with: files.path + "/")
        let path = folder.appendingPathComponent("config.json").path
        try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        return CheckCommand.check(configPath: path, loader: PluginRegistry.builtIn.configLoader)
    }

    @Test func aGoodCertificateIsSummarised() throws {
        let files = try TLSFiles([("a", "a.test,www.a.test")])
        let outcome = try Self.check(#"{"certificate": "CERTS/a.pem", "key": "CERTS/a.key"}"#, files: files)
        #expect(outcome.exitCode == 0)
        #expect(outcome.stderr == [])
        #expect(outcome.stdout.contains { $0.hasPrefix("sites[0] certificate a.test,www.a.test valid until ") })
        #expect(outcome.stdout.contains { $0.hasSuffix(" tls") && $0.hasPrefix("listen 127.0.0.1:0") })
    }

    @Test func problemsNameTheKeyPathAndTheFile() throws {
        let files = try TLSFiles([("a", "a.test"), ("b", "a.test,www.a.test"), ("old", "a.test,www.a.test@1@-10"),
                                  ("soon", "a.test,www.a.test@5")])
        let uncovered = try Self.check(#"{"certificate": "CERTS/a.pem", "key": "CERTS/a.key"}"#, files: files)
        #expect(uncovered.exitCode == 1)
        #expect(uncovered.stderr.count == 1)
        #expect(uncovered.stderr[0].contains("sites[0].tls.certificate: \(files.certificate("a")) does not cover www.a.test (it names a.test)"))
        let mismatch = try Self.check(#"{"certificate": "CERTS/b.pem", "key": "CERTS/a.key"}"#, files: files)
        #expect(mismatch.stderr.count == 1)
        #expect(mismatch.stderr[0].contains("sites[0].tls.key: \(files.key("a")): the key does not match the certificate in \(files.certificate("b"))"))
        let missing = try Self.check(#"{"certificate": "CERTS/none.pem", "key": "CERTS/a.key"}"#, files: files)
        #expect(missing.stderr.first?.contains("sites[0].tls.certificate: \(files.path)/none.pem: cannot read it: no such file or directory") == true)
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: files.path + "/bad.key"))
        let badKey = try Self.check(#"{"certificate": "CERTS/b.pem", "key": "CERTS/bad.key"}"#, files: files)
        #expect(badKey.stderr.first?.contains("sites[0].tls.key: \(files.path)/bad.key: no PEM private key in it") == true)
        let expired = try Self.check(#"{"certificate": "CERTS/old.pem", "key": "CERTS/old.key"}"#, files: files)
        #expect(expired.exitCode == 1)
        #expect(expired.stderr.first?.contains("sites[0].tls.certificate: \(files.certificate("old")) expired on ") == true)
        let soon = try Self.check(#"{"certificate": "CERTS/soon.pem", "key": "CERTS/soon.key"}"#, files: files)
        #expect(soon.exitCode == 0)
        #expect(soon.stderr.count == 1)
        #expect(soon.stderr.first?.contains("warning:") == true)
        #expect(soon.stderr.first?.contains("sites[0].tls.certificate: \(files.certificate("soon")) expires in 4 days") == true)
    }
}
