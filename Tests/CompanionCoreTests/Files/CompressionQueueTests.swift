// Tests for CompressionQueue: a file is compressed once off the calling thread,
// the completion sees the bytes, changed files and shutdown give nil or false.
import Glibc
import Testing
@testable import CompanionCore

@Suite struct CompressionQueueTests {
    /// A file in a unique temp folder, removed by `remove()`.
    struct TempFile {
        let directory: String
        let path: String
        let fd: Int32

        init(_ contents: [UInt8]) throws {
            var template = Array("/tmp/companion-gzip-XXXXXX".utf8CString)
            let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
            directory = String(cString: try #require(made))
            path = directory + "/body.txt"
            fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            try #require(fd >= 0)
            let written = contents.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            try #require(written == contents.count)
        }

        func key(level: Int = 6) -> GzipCache.Key {
            var info = stat()
            _ = fstat(fd, &info)
            return GzipCache.Key(
                path: path, size: Int(info.st_size), mtimeSeconds: Int(info.st_mtim.tv_sec),
                mtimeNanoseconds: Int(info.st_mtim.tv_nsec), level: level)
        }

        func remove() {
            close(fd)
            unlink(path)
            rmdir(directory)
        }
    }

    static let text: [UInt8] = Array(String(repeating: "function compressMe() { return 42; }\n", count: 30_000).utf8)

    static func compress(_ queue: CompressionQueue, fd: Int32, key: GzipCache.Key) async -> [UInt8]? {
        await withCheckedContinuation { continuation in
            let accepted = queue.submit(fd: fd, key: key) { continuation.resume(returning: $0) }
            if !accepted { continuation.resume(returning: nil) }
        }
    }

    /// The queue was unbounded and each waiting job holds a duplicated
    /// descriptor (1,500 distinct large files: 1,544 open descriptors). Now at most
    /// `maxQueuedJobs` wait; further submits are refused and hold nothing.
    @Test func theQueueIsBoundedAndRefusalsHoldNoDescriptor() throws {
        let file = try TempFile(Self.text)
        defer { file.remove() }
        let queue = CompressionQueue(cache: GzipCache(capacityBytes: 64 << 20), workers: 1, maxQueuedJobs: 4)
        defer { queue.shutdown() }
        var accepted = 0
        var refused = 0
        for i in 0..<200 {
            var key = file.key()
            key.path += "#\(i)"   // 200 distinct files as far as the queue knows
            if queue.submit(fd: file.fd, key: key, completion: { _ in }) { accepted += 1 } else { refused += 1 }
            #expect(queue.queuedJobs <= 4)
        }
        #expect(refused > 0)
        #expect(accepted + refused == 200)
    }

    @Test func compressesAFileOnceAndCompletionSeesTheBytes() async throws {
        let file = try TempFile(Self.text)
        defer { file.remove() }
        let cache = GzipCache(capacityBytes: 1 << 20)
        let queue = CompressionQueue(cache: cache, chunkBytes: 64 * 1024)
        defer { queue.shutdown() }

        let key = file.key()
        let body = try #require(await Self.compress(queue, fd: file.fd, key: key))
        #expect(try Inflater.gunzip(body) == Self.text)
        #expect(cache.compressions == 1)
        #expect(cache.lookup(key) == body)

        let again = await Self.compress(queue, fd: file.fd, key: key)
        #expect(again == body)
        #expect(cache.compressions == 1, "a cached file is not compressed again")
    }

    @Test func concurrentRequestsShareOneCompression() async throws {
        let file = try TempFile(Self.text)
        defer { file.remove() }
        let cache = GzipCache(capacityBytes: 1 << 20)
        let queue = CompressionQueue(cache: cache, workers: 2)
        defer { queue.shutdown() }
        let key = file.key(level: 9)

        let results = await withTaskGroup(of: [UInt8]?.self) { group in
            for _ in 0..<8 {
                group.addTask { await Self.compress(queue, fd: file.fd, key: key) }
            }
            var all: [[UInt8]?] = []
            for await result in group { all.append(result) }
            return all
        }
        #expect(results.count == 8)
        #expect(Set(results.map { $0 ?? [] }).count == 1)
        #expect(results.allSatisfy { $0 != nil })
        #expect(cache.compressions == 1)
    }

    @Test(arguments: [-1, 1])
    func fileThatDoesNotMatchItsKeyGivesNil(sizeDelta: Int) async throws {
        let file = try TempFile(Self.text)
        defer { file.remove() }
        let cache = GzipCache(capacityBytes: 1 << 20)
        let queue = CompressionQueue(cache: cache)
        defer { queue.shutdown() }
        var key = file.key()
        key.size += sizeDelta
        #expect(await Self.compress(queue, fd: file.fd, key: key) == nil)
        #expect(cache.count == 0)
        #expect(cache.compressions == 0)
    }

    @Test func resultTooBigForTheCacheGivesNil() async throws {
        let file = try TempFile(Self.text)
        defer { file.remove() }
        let cache = GzipCache(capacityBytes: 100)
        let queue = CompressionQueue(cache: cache)
        defer { queue.shutdown() }
        #expect(await Self.compress(queue, fd: file.fd, key: file.key()) == nil)
        #expect(cache.count == 0)
    }

    @Test func submitAfterShutdownIsRefused() throws {
        let file = try TempFile(Self.text)
        defer { file.remove() }
        let queue = CompressionQueue(cache: GzipCache(capacityBytes: 1 << 20))
        queue.shutdown()
        queue.shutdown()
        #expect(!queue.submit(fd: file.fd, key: file.key()) { _ in Issue.record("completion after refusal") })
    }
}
