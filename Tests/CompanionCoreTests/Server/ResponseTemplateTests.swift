// Response templates (ResponseTemplate.swift): a plain request for a cached file is answered
// from the head the full path wrote for it. What a client sees must not change: each request
// here is sent three times on one connection, the first answered the full way and the next
// two from the template, and all three must be the same response but for the Date value.
// Requests that are not plain, sites with plugins, changed files and reloads go the full way.
import Glibc
import Testing
@testable import CompanionCore

@Suite struct ResponseTemplateTests {
    /// Status, header lines in order (the Date value blanked: the one thing a template
    /// rewrites) and body.
    static func shape(_ response: TestResponse) -> String {
        let headers = response.headers.map { $0.0.lowercased() == "date" ? "Date: -" : "\($0.0): \($0.1)" }
        return "\(response.status)\n" + headers.joined(separator: "\n") + "\n\n" + String(decoding: response.body, as: UTF8.self)
    }

    /// Answers from templates so far (counted before each response is queued).
    static func templateAnswers(_ server: TestServer) -> Int {
        server.server.metrics.total(LoopMetrics.Cell.templateAnswers)
    }

    /// The sites' files, all modified at one fixed time (b/.hidden is never served).
    static let files: [(path: String, bytes: [UInt8])] = [
        ("a/page.html", Array(String(repeating: "<p>page</p>\n", count: 40).utf8)),
        ("a/image.png", [UInt8](repeating: 0x89, count: 700)),
        ("a/empty.txt", []),
        ("a/docs/guide.css", Array("body { color: #333 }\n".utf8)),
        ("a/ü.txt", Array("unicode name".utf8)),
        ("a/index.html", Array("the index".utf8)),
        ("b/b.txt", Array("site b".utf8)),
        ("b/.hidden", Array("not served".utf8)),
    ]

    /// A server for `files` (sites a.test and b.test; `siteB`: more of b's JSON) that keeps
    /// answers for a minute unless a file changes, and one connection to it.
    static func start(siteB: String = "") throws -> (TempDirectory, TestServer, TestConnection) {
        let directory = TempDirectory()
        for (path, bytes) in files {
            directory.write(path, bytes)
            directory.setModified(path, 1_700_000_000)
        }
        let server = try TestServer(directory: directory, siteB: siteB, fileCacheMilliseconds: 60_000)
        return (directory, server, try TestConnection(port: server.port))
    }

    /// Plain request heads (without the final empty line); the file each asks for, touched
    /// before its three requests so that the first goes the full way (a missing path is
    /// asked for once only); whether the answer has a template (two of the three requests).
    static let plainRequests: [(touch: String?, templated: Bool, head: String)] = [
        ("a/page.html", true, "GET /page.html HTTP/1.1\r\nHost: a.test"),
        ("a/page.html", true, "HEAD /page.html HTTP/1.1\r\nHost: a.test"),
        ("a/image.png", true, "GET /image.png HTTP/1.1\r\nHost: a.test\r\nUser-Agent: test\r\nAccept: */*"),
        ("a/page.html", true, "GET /page.html?v=2&x HTTP/1.1\r\nHost: a.test"),
        ("a/page.html", true, "GET http://a.test/page.html HTTP/1.1\r\nHost: other.test"),
        ("a/page.html", true, "GET /page.html HTTP/1.1\r\nHost: A.TEST:8080\r\nConnection: keep-alive"),
        ("a/docs/guide.css", true, "GET /docs/%67uide.css HTTP/1.1\r\nHost: a.test"),
        ("a/docs/guide.css", true, "GET /docs/./../docs//guide.css HTTP/1.1\r\nHost: a.test"),
        ("a/empty.txt", true, "GET /empty.txt HTTP/1.1\r\nHost: a.test"),
        ("a/ü.txt", true, "GET /%C3%BC.txt HTTP/1.1\r\nHost: a.test"),
        ("b/b.txt", true, "GET /b.txt HTTP/1.1\r\nHost: b.test"),
        ("a/index.html", true, "GET / HTTP/1.1\r\nHost: a.test"),   // the index file of a directory's path
        ("a/index.html", true, "HEAD /index.html HTTP/1.1\r\nHost: a.test"),
        // Connections that close after the answer, and HTTP/1.0's keep-alive: the finalizer's
        // Connection line goes into the copy.
        ("a/page.html", true, "GET /page.html HTTP/1.1\r\nHost: a.test\r\nConnection: close"),
        ("a/image.png", true, "GET /image.png HTTP/1.0"),
        ("a/image.png", true, "HEAD /image.png HTTP/1.0\r\nHost: a.test"),
        ("a/page.html", true, "GET /page.html HTTP/1.0\r\nConnection: keep-alive"),
        // Paths that resolve to nothing: the 404 and its page.
        (nil, true, "GET /missing.html HTTP/1.1\r\nHost: a.test"),
        (nil, true, "HEAD /missing-too.html HTTP/1.1\r\nHost: a.test"),
        (nil, true, "GET /gone/away.txt HTTP/1.0"),
        (nil, true, "GET /.hidden HTTP/1.1\r\nHost: b.test"),
        (nil, true, "GET /b.txt HTTP/1.1\r\nHost: unknown.test"),   // the default site (a) has no b.txt
        // The full way every time.
        (nil, false, "GET /docs/ HTTP/1.1\r\nHost: a.test"),   // a listing
        (nil, false, "GET /nothing/ HTTP/1.1\r\nHost: a.test"),   // a directory's path: not found
    ]

    @Test func aTemplatedAnswerIsTheResponseTheFullPathWrote() throws {
        let (directory, server, _) = try Self.start()
        for (index, (file, _, request)) in Self.plainRequests.enumerated() {
            // A new modification time drops the file's entry (and template): the first of the
            // three is answered the full way.
            if let file { directory.setModified(file, 1_700_000_100 + index) }
            let isHead = request.hasPrefix("HEAD")
            let closes = request.contains("Connection: close") || (request.contains("HTTP/1.0") && !request.contains("keep-alive"))
            var answers: [TestResponse] = []
            if closes {
                for _ in 0..<3 {
                    let connection = try TestConnection(port: server.port)
                    connection.send(request + "\r\n\r\n")
                    answers.append(try connection.readResponse(headRequest: isHead))
                    #expect(connection.isClosedByPeer())
                }
            } else {
                let connection = try TestConnection(port: server.port)
                connection.send(String(repeating: request + "\r\n\r\n", count: 3))   // pipelined: one turn
                for _ in 0..<3 { answers.append(try connection.readResponse(headRequest: isHead)) }
            }
            let (full, first, second) = (answers[0], answers[1], answers[2])
            #expect(Self.shape(first) == Self.shape(full), "\(request)")
            #expect(Self.shape(second) == Self.shape(full), "\(request)")
            #expect(full.header("Date") != nil && first.header("Date") != nil)
            // And apart at least a second, the Date is the current one, not the template's.
            if index == 0 {
                let before = HTTPDate.parse(Array(full.header("Date")!.utf8))!
                var now = timespec()
                clock_gettime(CLOCK_REALTIME, &now)
                while Int(now.tv_sec) <= before + 1 {
                    var pause = timespec(tv_sec: 0, tv_nsec: 100_000_000)
                    nanosleep(&pause, nil)   // waits for the wall clock to pass a second, not for the server
                    clock_gettime(CLOCK_REALTIME, &now)
                }
                let connection = try TestConnection(port: server.port)
                connection.send(request + "\r\n\r\n")
                let later = try connection.readResponse()
                #expect(HTTPDate.parse(Array(later.header("Date")!.utf8))! > before)
                #expect(Self.shape(later) == Self.shape(full))
            }
        }
        // Two template answers for each templated request, and one for the later request.
        let answered = Self.templateAnswers(server)
        #expect(answered == 2 * Self.plainRequests.filter(\.templated).count + 1)
        let page = try get(server.port, "/page.html")
        #expect(page.header("Vary") == "Accept-Encoding" && page.header("Accept-Ranges") == "bytes")
    }

    /// Each of these changes the answer, so none may come from the template (or write one).
    @Test func requestsThatAreNotPlainGoTheFullWay() throws {
        let (_, server, connection) = try Self.start()
        connection.send("GET /page.html HTTP/1.1\r\nHost: a.test\r\n\r\nGET /page.html HTTP/1.1\r\nHost: a.test\r\n\r\n")
        let plain = try connection.readResponse()
        _ = try connection.readResponse()
        let etag = plain.header("ETag")!
        let date = plain.header("Last-Modified")!
        let before = Self.templateAnswers(server)
        #expect(before == 1)

        let cases: [(String, (TestResponse) -> Bool)] = [
            ("If-None-Match: \(etag)", { $0.status == 304 }),
            ("If-Modified-Since: \(date)", { $0.status == 304 }),
            ("If-Match: \"other\"", { $0.status == 412 }),
            ("If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT", { $0.status == 412 }),
            ("Range: bytes=0-3", { $0.status == 206 && $0.text == "<p>p" }),
            ("Range: bytes=0-3\r\nIf-Range: \"other\"", { $0.status == 200 && $0.body == plain.body }),
            ("Accept-Encoding: gzip", { $0.header("Content-Encoding") == "gzip" }),
            ("Accept-Encoding: br;q=0.5, gzip", { $0.header("Content-Encoding") == "gzip" }),
        ]
        for (field, check) in cases {
            connection.send("GET /page.html HTTP/1.1\r\nHost: a.test\r\n\(field)\r\n\r\n")
            let response = try connection.readResponse()
            #expect(check(response), "\(field): \(response)")
        }
        // A body, OPTIONS, a listing, a directory without its slash.
        connection.send("POST /page.html HTTP/1.1\r\nHost: a.test\r\nContent-Length: 2\r\n\r\nhi")
        #expect(try connection.readResponse().status == 405)
        connection.send("OPTIONS /page.html HTTP/1.1\r\nHost: a.test\r\n\r\n")
        #expect(try connection.readResponse().header("Allow") == "GET, HEAD, OPTIONS")
        connection.send("GET /docs/ HTTP/1.1\r\nHost: a.test\r\n\r\nGET /docs/ HTTP/1.1\r\nHost: a.test\r\n\r\n")
        #expect(try connection.readResponse().text.contains("guide.css"))
        #expect(try connection.readResponse().text.contains("guide.css"))
        connection.send("GET /docs HTTP/1.1\r\nHost: a.test\r\n\r\n")
        #expect(try connection.readResponse().header("Location") == "/docs/")
        #expect(Self.templateAnswers(server) == before)

        // The template is still the plain answer afterwards.
        let again = try TestConnection(port: server.port)
        again.send("GET /page.html HTTP/1.1\r\nHost: a.test\r\n\r\n")
        #expect(Self.shape(try again.readResponse()) == Self.shape(plain))
        let after = Self.templateAnswers(server)
        #expect(after == before + 1)
    }

    /// Every browser sends Accept-Encoding. Where the gzip stage would send the identity
    /// answer anyway (a type or size it does not compress and no sidecar of an accepted
    /// coding, a 404, no coding accepted, a site without the stage), the template answers;
    /// where it would encode, or a sidecar appears, the full way does.
    @Test func requestsThatAcceptEncodingsUseTheTemplateWhereTheAnswerIsTheSame() throws {
        let (directory, server, _) = try Self.start(siteB: ", \"gzip\": false")
        let browser = "Accept-Encoding: gzip, deflate, br, zstd"
        // Three on one connection: the first goes the full way (and writes the template, or
        // learns which sidecars are absent), the next two come from the template.
        let templated: [String] = [
            "GET /image.png HTTP/1.1\r\nHost: a.test\r\n\(browser)",   // image/png: never compressed
            "HEAD /image.png HTTP/1.1\r\nHost: a.test\r\n\(browser)",
            "GET /empty.txt HTTP/1.1\r\nHost: a.test\r\nAccept-Encoding: gzip",   // under minBytes
            "GET /missing.html HTTP/1.1\r\nHost: a.test\r\n\(browser)",   // a 404
            "GET /page.html HTTP/1.1\r\nHost: a.test\r\nAccept-Encoding: identity",   // no coding accepted
            "GET /page.html HTTP/1.1\r\nHost: a.test\r\nAccept-Encoding: gzip;q=0",
            "GET /b.txt HTTP/1.1\r\nHost: b.test\r\n\(browser)",   // gzip off for site b
        ]
        for request in templated {
            let before = Self.templateAnswers(server)
            let connection = try TestConnection(port: server.port)
            connection.send(String(repeating: request + "\r\n\r\n", count: 3))
            let isHead = request.hasPrefix("HEAD")
            let answers = try (0..<3).map { _ in try connection.readResponse(headRequest: isHead) }
            #expect(answers.allSatisfy { $0.header("Content-Encoding") == nil }, "\(request)")
            #expect(Self.shape(answers[1]) == Self.shape(answers[0]), "\(request)")
            #expect(Self.shape(answers[2]) == Self.shape(answers[0]), "\(request)")
            // Plain and accepting, the same answer.
            let plain = try TestConnection(port: server.port)
            let field = try #require(request.firstRange(of: "\r\nAccept-Encoding"))
            plain.send(String(request[..<field.lowerBound]) + "\r\n\r\n")
            #expect(Self.shape(try plain.readResponse(headRequest: isHead)) == Self.shape(answers[0]), "\(request)")
            #expect(Self.templateAnswers(server) >= before + 2, "\(request)")
        }

        // A compressible file is encoded for a client that accepts it: never the template.
        let before = Self.templateAnswers(server)
        let connection = try TestConnection(port: server.port)
        connection.send(String(repeating: "GET /page.html HTTP/1.1\r\nHost: a.test\r\n\(browser)\r\n\r\n", count: 3))
        for _ in 0..<3 { #expect(try connection.readResponse().header("Content-Encoding") != nil) }
        #expect(Self.templateAnswers(server) == before)

        // A sidecar deployed for the image takes over on the next request, for the codings
        // that have one; one that accepts only another coding still gets the template.
        directory.write("a/image.png.br", Array("BR-SIDECAR".utf8))
        let next = try get(server.port, "/image.png", headers: [browser])
        #expect(next.header("Content-Encoding") == "br" && next.text == "BR-SIDECAR")
        connection.send(String(repeating: "GET /image.png HTTP/1.1\r\nHost: a.test\r\nAccept-Encoding: gzip\r\n\r\n", count: 3))
        let gzipOnly = try (0..<3).map { _ in try connection.readResponse() }
        #expect(gzipOnly.allSatisfy { $0.header("Content-Encoding") == nil && $0.body == [UInt8](repeating: 0x89, count: 700) })
        let afterSidecar = Self.templateAnswers(server)
        #expect(try get(server.port, "/image.png", headers: ["Accept-Encoding: br"]).text == "BR-SIDECAR")
        #expect(Self.templateAnswers(server) == afterSidecar)
    }

    @Test func aSiteWithPluginsHasNoTemplates() throws {
        let (_, server, connection) = try Self.start(siteB: """
            , "plugins": [{"type": "headers", "set": {"X-Plugin": "ran"}}]
            """)
        connection.send(String(repeating: "GET /b.txt HTTP/1.1\r\nHost: b.test\r\n\r\n", count: 3))
        for _ in 0..<3 { #expect(try connection.readResponse().header("X-Plugin") == "ran") }
        #expect(Self.templateAnswers(server) == 0)
    }

    /// A template lives as long as its cache entry: a changed file is answered with its new
    /// length and validators, and gets a new template.
    @Test func aChangedFileGetsANewTemplate() throws {
        let (directory, server, connection) = try Self.start()
        var etags: Set<String> = []
        for round in 1...20 {
            directory.write("a/page.html", String(repeating: "v\(round) ", count: round))
            directory.setModified("a/page.html", 1_700_000_000 + round)
            connection.send(String(repeating: "GET /page.html HTTP/1.1\r\nHost: a.test\r\n\r\n", count: 2))
            let full = try connection.readResponse()
            let templated = try connection.readResponse()
            #expect(full.text == String(repeating: "v\(round) ", count: round))
            #expect(Self.shape(templated) == Self.shape(full))
            etags.insert(full.header("ETag") ?? "")
        }
        #expect(etags.count == 20)
        #expect(Self.templateAnswers(server) == 20)
    }

    /// A 404's template goes when the path comes into being.
    @Test func aCreatedFileReplacesThe404() throws {
        let (directory, server, connection) = try Self.start()
        let request = String(repeating: "GET /later/new.txt HTTP/1.1\r\nHost: a.test\r\n\r\n", count: 2)
        connection.send(request)
        let missing = try connection.readResponse()
        #expect(missing.status == 404)
        #expect(Self.shape(try connection.readResponse()) == Self.shape(missing))
        #expect(Self.templateAnswers(server) == 1)
        directory.write("a/later/new.txt", "here now")
        // In the past, like the other files: a file written in a second the loop's clock has
        // not reached yet gets no template (its Last-Modified would be clamped to the Date),
        // so with the write's own time this raced the clock (once in a full CI run).
        directory.setModified("a/later/new.txt", 1_700_000_000)
        connection.send(request)
        #expect(try connection.readResponse().text == "here now")
        #expect(try connection.readResponse().text == "here now")
        #expect(Self.templateAnswers(server) == 2)
    }

    /// A reload makes new sites: a template written under the old config is not used, and
    /// the new config's answer (here: gzip off, so no Vary) is what later requests get.
    @Test func aReloadedConfigIsNotAnsweredFromOldTemplates() throws {
        let (_, server, _) = try Self.start()   // the server keeps the directory
        let request = String(repeating: "GET /page.html HTTP/1.1\r\nHost: a.test\r\n\r\n", count: 2)
        let connection = try TestConnection(port: server.port)
        connection.send(request)
        #expect(try connection.readResponse().header("Vary") == "Accept-Encoding")
        #expect(try connection.readResponse().header("Vary") == "Accept-Encoding")

        #expect(try server.reloadReplacing("\"listing\": true", with: "\"listing\": true, \"gzip\": false"))
        connection.send(request)
        #expect(try connection.readResponse().header("Vary") == nil)
        #expect(try connection.readResponse().header("Vary") == nil)
        #expect(Self.templateAnswers(server) == 2)
    }

    /// A file modified "in the future" is sent with the Date as its Last-Modified (RFC 9110
    /// §8.8.2.1), which changes every second: no template is kept for it.
    @Test func aFileFromTheFutureHasNoTemplate() throws {
        let (directory, server, connection) = try Self.start()
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        directory.write("a/future.txt", "later")
        directory.setModified("a/future.txt", Int(now.tv_sec) + 86_400)
        connection.send(String(repeating: "GET /future.txt HTTP/1.1\r\nHost: a.test\r\n\r\n", count: 3))
        for _ in 0..<3 {
            let response = try connection.readResponse()
            #expect(response.header("Last-Modified") == response.header("Date"))
        }
        #expect(Self.templateAnswers(server) == 0)
    }
}
