// Live tests of the security rules: traversal (plain, encoded, double-encoded,
// backslashes), dotfiles, symlink escape, request smuggling vectors, limits and
// a slowloris client cut off while others are served.
import Glibc
import Testing
@testable import CompanionCore

@Suite struct SecurityTests {
    static func makeServer(_ directory: TempDirectory, topLevel: String = "") throws -> TestServer {
        directory.write("secret.txt", "TOP SECRET")
        directory.write("a/index.html", "home")
        directory.write("a/sub/file.txt", "inside")
        directory.write("a/.env", "PASSWORD=1")
        directory.write("a/.well-known/security.txt", "Contact: me")
        directory.symlink("a/escape.txt", to: directory.path + "/secret.txt")
        directory.symlink("a/escape-dir", to: directory.path)
        directory.symlink("a/relative-escape", to: "../secret.txt")
        directory.symlink("a/inside-link.txt", to: "sub/file.txt")
        directory.symlink("a/absolute-inside.txt", to: directory.path + "/a/sub/file.txt")
        return try TestServer(directory: directory, topLevel: topLevel)
    }

    static let traversals: [(String, Int)] = [
        ("/../secret.txt", 400),
        ("/sub/../../secret.txt", 400),
        ("/%2e%2e/secret.txt", 400),
        ("/%2E%2E/secret.txt", 400),
        ("/..%2fsecret.txt", 400),
        ("/sub/..%2f..%2fsecret.txt", 400),
        ("/%252e%252e/secret.txt", 404),        // decoded once: a literal "%2e%2e" segment
        ("/..\\secret.txt", 404),                // backslash is an ordinary byte on Linux
        ("/%5c..%5csecret.txt", 404),
        ("/sub/%00.txt", 400),
        ("/sub/%zz", 400),
        ("sub/file.txt", 400),
        ("/escape.txt", 404),
        ("/escape-dir/secret.txt", 404),
        ("/relative-escape", 404),
        ("/.env", 404),
        ("/sub/../.env", 404),
        ("/%2eenv", 404),
    ]

    @Test(arguments: traversals)
    func traversalNeverLeavesTheRoot(path: String, status: Int) throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let response = try roundTrip(server.port, "GET \(path) HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
        #expect(response.status == status, "\(path)")
        #expect(!response.text.contains("SECRET"))
        #expect(!response.text.contains("PASSWORD"))
    }

    @Test func inRootSymlinksAndWellKnownAreServed() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        #expect(try get(server.port, "/inside-link.txt").text == "inside")
        #expect(try get(server.port, "/absolute-inside.txt").text == "inside")
        #expect(try get(server.port, "/.well-known/security.txt").text == "Contact: me")
        #expect(try get(server.port, "/sub/./file.txt").text == "inside")
        #expect(try get(server.port, "//sub//file.txt").text == "inside")
    }

    static let smuggling: [(String, String)] = [
        ("TE chunked", "POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        ("CL and TE", "POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        ("two CL", "GET / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n"),
        ("CL list", "GET / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5, 5\r\n\r\nhello"),
        ("CL sign", "GET / HTTP/1.1\r\nHost: a.test\r\nContent-Length: +5\r\n\r\nhello"),
        ("space before colon", "GET / HTTP/1.1\r\nHost: a.test\r\nContent-Length : 5\r\n\r\nhello"),
        ("obs-fold", "GET / HTTP/1.1\r\nHost: a.test\r\nX-A: b\r\n c\r\n\r\n"),
        ("bare CR", "GET / HTTP/1.1\r\nHost: a.test\rX: y\r\n\r\n"),
        ("TE in 1.0", "GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
    ]

    @Test(arguments: smuggling)
    func smugglingVectorsAre400AndClose(label: String, request: String) throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory)
        let connection = try TestConnection(port: server.port)
        connection.send(request + "GET /index.html HTTP/1.1\r\nHost: a.test\r\n\r\n")
        let response = try connection.readResponse()
        #expect(response.status == 400, "\(label)")
        #expect(response.header("Connection") == "close", "\(label)")
        // The smuggled second request is never answered.
        #expect(connection.readUntilClose().isEmpty, "\(label)")
    }

    @Test func limits() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory, topLevel: "\"limits\": {\"maxHeaderBytes\": 2048, \"maxBodyBytes\": 100},")
        let longTarget = "/" + String(repeating: "a", count: 9000)
        #expect(try roundTrip(server.port, "GET \(longTarget) HTTP/1.1\r\nHost: a.test\r\n\r\n").status == 414)
        let bigHeader = "X-Big: " + String(repeating: "b", count: 3000)
        #expect(try roundTrip(server.port, "GET / HTTP/1.1\r\nHost: a.test\r\n\(bigHeader)\r\n\r\n").status == 431)
        let manyFields = (0..<101).map { "X-\($0): v\r\n" }.joined()
        #expect(try roundTrip(server.port, "GET / HTTP/1.1\r\nHost: a.test\r\n\(manyFields)\r\n").status == 431)
        let tooLarge = try roundTrip(server.port, "POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 101\r\n\r\n")
        #expect(tooLarge.status == 413)
        #expect(try roundTrip(server.port, "GET / HTTP/2.0\r\nHost: a.test\r\n\r\n").status == 505)
        #expect(try roundTrip(server.port, "GET / HTTX/1.1\r\nHost: a.test\r\n\r\n").status == 400)
    }

    @Test func slowClientIsCutOffWhileOthersAreServed() throws {
        let directory = TempDirectory()
        let server = try Self.makeServer(directory, topLevel: "\"limits\": {\"headerTimeoutMs\": 600},")
        let slow = try TestConnection(port: server.port)
        slow.send("GET / HTTP/1.1\r\nHost: a.")
        let silent = try TestConnection(port: server.port)
        // Others are served while the slow client dribbles.
        for _ in 0..<5 {
            #expect(try get(server.port, "/").text == "home")
            slow.send("t")
        }
        let cutOff = try slow.readResponse()
        #expect(cutOff.status == 408)
        #expect(slow.isClosedByPeer())
        // A connection that never sent a byte is closed silently.
        #expect(silent.readUntilClose().isEmpty)
    }
}
