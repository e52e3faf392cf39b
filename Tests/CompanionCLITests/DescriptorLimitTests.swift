// Descriptor exhaustion: under a small `ulimit -n`, a lookup that fails for
// lack of descriptors is a 503 with Retry-After, never a 404 (which tells clients and
// caches that the file is gone), is never cached, and the server recovers fully once the
// clients leave (the file cache is sized from the limit and releases expired entries).
import Foundation
import Glibc
import Testing

@Suite struct DescriptorLimitTests {
    /// Status codes of the first response on each connection that got one within `seconds`.
    static func firstStatuses(_ clients: [RawClient], within seconds: Int) -> [Int: (status: Int, head: String)] {
        var answers: [Int: (Int, String)] = [:]
        var buffers = [[UInt8]](repeating: [], count: clients.count)
        var pollers = clients.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        var clock = timespec()
        clock_gettime(CLOCK_MONOTONIC, &clock)
        let deadline = clock.tv_sec + seconds
        while answers.count < clients.count {
            clock_gettime(CLOCK_MONOTONIC, &clock)
            if clock.tv_sec >= deadline { break }
            guard poll(&pollers, nfds_t(pollers.count), 200) > 0 else { continue }
            for index in pollers.indices where pollers[index].revents != 0 && answers[index] == nil {
                let chunk = clients[index].receive()
                if chunk.isEmpty { pollers[index].fd = -1; continue }
                buffers[index] += chunk
                let text = String(decoding: buffers[index], as: UTF8.self)
                if let end = text.range(of: "\r\n\r\n") {
                    let head = String(text[..<end.lowerBound])
                    answers[index] = (Int(head.split(separator: " ")[1]) ?? -1, head)
                    pollers[index].fd = -1
                }
            }
        }
        return answers
    }

    @Test func outOfDescriptorsIs503AndTheServerRecovers() throws {
        let dir = makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let site = dir.appendingPathComponent("site")
        try FileManager.default.createDirectory(at: site, withIntermediateDirectories: true)
        let files = 200
        for i in 0..<files { try "file \(i)".write(to: site.appendingPathComponent("f\(i).txt"), atomically: false, encoding: .utf8) }
        let config = dir.appendingPathComponent("config.json")
        try #"{"listen": "127.0.0.1:0", "workers": 1, "sites": [{"host": "a.test", "root": "site"}]}"#
            .write(to: config, atomically: true, encoding: .utf8)
        let server = try CompanionProcess(["-c", "ulimit -n 64 && exec \"$0\" serve --config \"$1\"", CompanionProcess.binary, config.path],
                                          executable: "/bin/bash")
        defer { server.signal(SIGKILL) }
        let port = try #require(server.waitForPort())

        // More clients than descriptors, each asking for a different existing file.
        var clients: [RawClient] = []
        for i in 0..<70 {
            let client = try RawClient(port: port)
            client.send("GET /f\(i).txt HTTP/1.1\r\nHost: a.test\r\n\r\n")
            clients.append(client)
        }
        let answers = Self.firstStatuses(clients, within: 3)
        let statuses = answers.values.map(\.status)
        #expect(!statuses.contains(404), "existing files answered 404: \(statuses)")
        #expect(statuses.allSatisfy { $0 == 200 || $0 == 503 }, "\(statuses)")
        #expect(statuses.contains(503), "the limit was not reached: \(statuses)")
        for answer in answers.values where answer.status == 503 {
            #expect(answer.head.contains("Retry-After: 1"))
        }
        clients.removeAll()

        // Once the clients are gone, every file is served again (nothing failed was cached,
        // and the cache does not sit on the descriptors).
        var wrong: [String] = []
        for i in 0..<files {
            let response = try RawClient.get(port: port, path: "/f\(i).txt", host: "a.test")
            if !(response.hasPrefix("HTTP/1.1 200") && response.hasSuffix("file \(i)")) {
                wrong.append("f\(i): \(response.prefix(12))")
            }
        }
        #expect(wrong.isEmpty, "\(wrong.count) of \(files) failed after recovery: \(wrong.prefix(5))")
    }
}
