// CompressionQueue: background worker threads that gzip whole files into the
// GzipCache, so compressing a large file never stalls an event loop.
import CLinux  // struct timespec comes through <sys/epoll.h> in CLinux
import Glibc

/// Compresses files off the event loops and stores the results in a `GzipCache`.
///
/// An event loop that misses the cache calls `submit` with the file's open
/// descriptor and serves the identity body (or parks the request) meanwhile;
/// the completion runs later on a worker thread, and the caller hops back to
/// its own loop. Requests for a key already queued or running join that job
/// (its completion list), so a file is compressed once however many loops ask.
///
/// Thread safety: the job list, the per-key completion lists, the thread ids
/// and the shut-down flag live in one `State` guarded by `state` (a `Locked` (pthread mutex)),
/// never held while reading or compressing. Workers sleep in `read` on a pipe;
/// `submit` writes a one-byte wake-up token. The write end is non-blocking, so
/// an event loop never waits on it: a full pipe already holds plenty of
/// tokens, and a worker takes jobs until the list is empty before it sleeps
/// again, so no job is left behind. Completions are called outside the lock.
///
/// Lifetime: the workers keep the queue alive; call `shutdown()` when done.
public final class CompressionQueue: Sendable {
    /// Receives the compressed body, or nil when the file changed while being
    /// read, could not be read or compressed, the result does not fit the cache,
    /// or the queue shut down first. Called once, on a worker thread.
    public typealias Completion = @Sendable ([UInt8]?) -> Void

    struct Job {
        var fd: Int32
        var key: GzipCache.Key
    }

    struct State {
        var jobs: [Job] = []
        var waiters: [GzipCache.Key: [Completion]] = [:]
        var threads: [pthread_t] = []
        var isShutDown = false
    }

    /// The cache results go into.
    public let cache: GzipCache
    /// Bytes read per `pread` and fed to the deflater at a time.
    public let chunkBytes: Int
    private let wakeReadFD: Int32
    private let wakeWriteFD: Int32
    private let workerCount: Int
    // Guarded by its own mutex; see the type's comment.
    private let state = Locked(State())

    /// At most this many jobs wait (each holds a duplicated descriptor): 1,500 distinct
    /// large files took the server from 43 to 1,544 open descriptors. A file
    /// refused now is served uncompressed and submitted again by a later request.
    public let maxQueuedJobs: Int

    /// Starts `workers` threads (at least 1) compressing into `cache`.
    public init(cache: GzipCache, workers: Int = 1, chunkBytes: Int = 256 * 1024, maxQueuedJobs: Int = 32) {
        self.cache = cache
        self.maxQueuedJobs = max(1, maxQueuedJobs)
        self.chunkBytes = max(4096, chunkBytes)
        self.workerCount = max(1, workers)
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0, "pipe failed: errno \(errno)")
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFL, O_NONBLOCK)
        self.wakeReadFD = fds[0]
        self.wakeWriteFD = fds[1]
        for _ in 0..<workerCount {
            startWorker()
        }
    }

    /// Queues `fd`'s file for compression at `key.level` and returns true; the
    /// queue reads its own duplicate of `fd`, so the caller may close `fd`
    /// right away. `key` must describe the file as `fstat` saw it. Returns false,
    /// without ever calling `completion`, after `shutdown()`, when `maxQueuedJobs` jobs
    /// are waiting, or if `dup` fails.
    @discardableResult
    public func submit(fd: Int32, key: GzipCache.Key, completion: @escaping Completion) -> Bool {
        let maxQueuedJobs = maxQueuedJobs
        let accepted = state.withLock { state -> Bool in
            guard !state.isShutDown else { return false }
            if state.waiters[key] != nil {
                state.waiters[key]!.append(completion)
                return true
            }
            guard state.jobs.count < maxQueuedJobs else { return false }
            let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
            guard copy >= 0 else { return false }
            state.waiters[key] = [completion]
            state.jobs.append(Job(fd: copy, key: key))
            return true
        }
        if accepted { wake(count: 1) }
        return accepted
    }

    /// Jobs waiting (not yet taken by a worker); tests read it.
    public var queuedJobs: Int { state.withLock { $0.jobs.count } }

    /// Stops the workers: queued jobs are dropped (their completions get nil),
    /// a job being compressed finishes first. Waits for the threads to exit.
    /// Idempotent. Must not be called from a completion (a worker thread).
    public func shutdown() {
        let (dropped, threads) = state.withLock { state -> ([Job], [pthread_t]) in
            guard !state.isShutDown else { return ([], []) }
            state.isShutDown = true
            let dropped = state.jobs
            state.jobs = []
            let threads = state.threads
            state.threads = []
            return (dropped, threads)
        }
        guard !threads.isEmpty else { return }
        for job in dropped {
            close(job.fd)
            finish(job.key, result: nil)
        }
        wake(count: workerCount)
        for thread in threads {
            pthread_join(thread, nil)
        }
        close(wakeReadFD)
        close(wakeWriteFD)
    }

    // MARK: Workers

    private func startWorker() {
        switch startThread(name: "companion-gzip", { [self] in self.runWorker() }) {
        case .success(let thread): state.withLock { $0.threads.append(thread) }
        case .failure(let error): preconditionFailure("\(error)")
        }
    }

    private func runWorker() {
        while true {
            let next = state.withLock { state -> (job: Job?, exit: Bool) in
                if state.isShutDown { return (nil, true) }
                if !state.jobs.isEmpty { return (state.jobs.removeFirst(), false) }
                return (nil, false)
            }
            if let job = next.job {
                process(job)
            } else if next.exit {
                return
            } else {
                waitForToken()
            }
        }
    }

    private func process(_ job: Job) {
        defer { close(job.fd) }
        var result = cache.peek(job.key)
        if result == nil && cache.beginCompression(job.key) {
            defer { cache.endCompression(job.key) }
            // A job for this key may have finished just before the claim.
            result = cache.peek(job.key) ?? compressFile(job.fd, job.key)
        }
        finish(job.key, result: result)
    }

    private func finish(_ key: GzipCache.Key, result: [UInt8]?) {
        let completions = state.withLock { $0.waiters.removeValue(forKey: key) } ?? []
        for completion in completions {
            completion(result)
        }
    }

    /// Reads the whole file in `chunkBytes` pieces with `pread`, gzips it as a
    /// stream and stores it. Nil when the file is not the version `key` names
    /// (it changed under us) or the output would not fit the cache.
    private func compressFile(_ fd: Int32, _ key: GzipCache.Key) -> [UInt8]? {
        if key.coding != .gzip { return encodeFile(fd, key) }
        guard var deflater = try? Deflater(level: key.level) else { return nil }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 1)
        defer { buffer.deallocate() }
        var output: [UInt8] = []
        var offset = 0
        while true {
            let n = OpenFile.readFully(fd, into: buffer, at: offset)
            if n == 0 { break }
            offset += n
            // The file grew, or the output cannot be cached: stop early.
            guard offset <= key.size, output.count <= cache.capacityBytes else { return nil }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[..<n])
            guard (try? deflater.compress(chunk, finish: false, into: &output)) != nil else { return nil }
        }
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        guard (try? deflater.compress(empty, finish: true, into: &output)) != nil else { return nil }
        guard offset == key.size, isUnchanged(fd, key), output.count <= cache.capacityBytes else { return nil }
        cache.recordCompression()
        cache.insert(key, output)
        return output
    }

    /// Reads the whole file (at most `OneShotEncoder.maxInputBytes`) and encodes it in
    /// brotli or zstd at once (their one-shot encoders see the whole input, which is what
    /// brotli's best quality needs). Nil as for `compressFile`.
    private func encodeFile(_ fd: Int32, _ key: GzipCache.Key) -> [UInt8]? {
        guard key.size <= OneShotEncoder.maxInputBytes else { return nil }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, key.size + 1), alignment: 1)
        defer { buffer.deallocate() }
        var offset = 0
        while offset <= key.size {
            let n = OpenFile.readFully(fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[offset...]), at: offset)
            if n == 0 { break }
            offset += n
        }
        guard offset == key.size, isUnchanged(fd, key) else { return nil }
        let input = UnsafeRawBufferPointer(rebasing: buffer[..<offset])
        guard let output = OneShotEncoder.encode(input, coding: key.coding, level: key.level),
              output.count <= cache.capacityBytes else { return nil }
        cache.recordCompression()
        cache.insert(key, output)
        return output
    }

    /// True when `fd`'s size and mtime still match `key`.
    private func isUnchanged(_ fd: Int32, _ key: GzipCache.Key) -> Bool {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return false }
        return Int(info.st_size) == key.size && Int(info.st_mtim.tv_sec) == key.mtimeSeconds
            && Int(info.st_mtim.tv_nsec) == key.mtimeNanoseconds
    }

    /// Sleeps until a token arrives (one byte, so each token wakes one worker).
    private func waitForToken() {
        var token: UInt8 = 0
        while read(wakeReadFD, &token, 1) < 0 && errno == EINTR {}
    }

    /// Writes `count` tokens; EAGAIN (pipe full) is fine, see the type's comment.
    private func wake(count: Int) {
        let tokens = [UInt8](repeating: 1, count: count)
        while write(wakeWriteFD, tokens, tokens.count) < 0 && errno == EINTR {}
    }
}
