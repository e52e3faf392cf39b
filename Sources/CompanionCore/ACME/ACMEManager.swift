// ACMEManager: keeps every `"tls": "acme"` site's certificate current, on its own thread
// ("companion-acme"; network calls never run on an event loop). For each such site it
// reads the stored certificate (`acme.storage/certificates/NAME/`); a missing one, or one
// past two thirds of its lifetime, or one that no longer covers the site's hosts, is
// ordered (ACMEClient.swift). The new chain and key are written next to the old ones
// (key 0600) and renamed into place, then the server reloads its certificates: new
// handshakes get the certificate, open connections keep theirs. A failed order is
// retried after 1, 2, 4, ... times `retryMilliseconds` (at most a day), each wait
// jittered by ±25 % so a fleet does not retry in step; serving is never affected.
import Glibc

final class ACMEManager: @unchecked Sendable {
    // @unchecked Sendable: everything below but `ticker` is touched only on the ticker's
    // thread (the job); `ticker` is itself thread-safe.
    private let ticker = Ticker(name: "companion-acme")
    private let challenges: ACMEChallenges
    private let retryMilliseconds: Int
    private var client: ACMEClient?
    private var clientConfig: ACMEConfig?
    /// Per site name: consecutive failures and the earliest next attempt (monotonic ms).
    private var failures: [String: Int] = [:]
    private var nextAttempt: [String: Int64] = [:]
    static let maxRetryMilliseconds = 24 * 3600 * 1000
    /// Orders attempted and certificates issued since start (read from any thread).
    let counts = Locked((attempts: 0, issued: 0))

    init(challenges: ACMEChallenges, retryMilliseconds: Int) {
        self.challenges = challenges
        self.retryMilliseconds = retryMilliseconds
    }

    /// Starts the thread. `config` returns the config in force (it changes with reloads);
    /// `installed` reloads the server's certificates after an issuance.
    func start(config: @escaping @Sendable () -> ServerConfig, installed: @escaping @Sendable () -> Void) {
        ticker.start { [self] in
            run(config(), installed: installed)
        }
    }

    func stop() { ticker.stop() }

    /// One pass over the ACME sites; returns the milliseconds until the next one is due.
    private func run(_ config: ServerConfig, installed: () -> Void) -> Int {
        guard let acme = config.acme else { return 3_600_000 }
        var nextDue = 3_600_000
        let now = monotonicMilliseconds()
        let wallNow = Int64(UTCTime.nowMicros() / 1_000_000)
        for site in config.sites where site.tls == .acme {
            let name = site.hosts[0]
            let folder = acme.certificateFolder(for: name)
            if let current = try? CertificateKeyPair.load(certificatePath: folder + "/fullchain.pem", keyPath: folder + "/key.pem"),
               site.hosts.allSatisfy(current.covers) {
                let renewAt = current.notBefore + (current.notAfter - current.notBefore) * 2 / 3
                if wallNow < renewAt {
                    nextDue = min(nextDue, Int(min(Int64(Int32.max), (renewAt - wallNow) * 1000)))
                    continue
                }
            }
            if let due = nextAttempt[name], due > now {
                nextDue = min(nextDue, Int(due - now))
                continue
            }
            counts.withLock { $0.attempts += 1 }
            do {
                let (chain, key) = try order(site.hosts, acme: acme)
                try store(chain: chain, key: key, in: folder)
                failures[name] = nil
                nextAttempt[name] = nil
                counts.withLock { $0.issued += 1 }
                writeLineToStandardError("companion: acme: certificate issued for \(site.hosts.joined(separator: ", "))")
                installed()
                nextDue = min(nextDue, 50)   // the next pass schedules its renewal
            } catch {
                let count = (failures[name] ?? 0) + 1
                failures[name] = count
                let base = min(Self.maxRetryMilliseconds, retryMilliseconds << min(count - 1, 20))
                let jitter = Int.random(in: -(base / 4)...(base / 4))
                let delay = max(10, base + jitter)
                nextAttempt[name] = now + Int64(delay)
                nextDue = min(nextDue, delay)
                writeLineToStandardError("companion: acme: \(name): \(error); retrying in \(Self.describe(milliseconds: delay))")
            }
        }
        return max(10, nextDue)
    }

    private func order(_ names: [String], acme: ACMEConfig) throws(ACMEError) -> (chain: [UInt8], key: [UInt8]) {
        if client == nil || clientConfig != acme {
            client = try ACMEClient(config: acme, accountKey: try accountKey(acme))
            clientConfig = acme
        }
        guard let client else { throw ACMEError("no client") }
        do {
            return try client.issue(names: names, publish: { challenges.publish(token: $0, keyAuthorization: $1) },
                                    withdraw: { challenges.withdraw(token: $0) })
        } catch {
            self.client = nil   // start the next attempt from the directory again
            throw error
        }
    }

    /// The account key stored under `storage` (made, mode 0600, on first use).
    private func accountKey(_ acme: ACMEConfig) throws(ACMEError) -> ACMEKey {
        let path = acme.storage + "/account.key"
        if case .success(let bytes) = ConfigFile.read(path, naming: "the account key") {
            guard let key = ACMEKey.fromPEM(bytes) else { throw ACMEError("\(path): not a PEM private key") }
            return key
        }
        let key = try ACMEKey.generate()
        try Self.makeFolders(acme.storage)
        try Self.writeAtomically(try key.pem(), to: path, mode: 0o600)
        return key
    }

    private func store(chain: [UInt8], key: [UInt8], in folder: String) throws(ACMEError) {
        do {
            _ = try CertificateKeyPair.load(certificatePEM: chain, keyPEM: key)   // refuse a chain that does not parse
        } catch {
            throw ACMEError("the CA's certificate cannot be used: \(error)")
        }
        try Self.makeFolders(folder)
        // The key first: a reader that sees the new chain finds its key already in place;
        // one that sees the new key with the old chain refuses the mismatch and keeps the old pair.
        try Self.writeAtomically(key, to: folder + "/key.pem", mode: 0o600)
        try Self.writeAtomically(chain, to: folder + "/fullchain.pem", mode: 0o644)
    }

    // MARK: - Files

    static func makeFolders(_ path: String) throws(ACMEError) {
        var current = ""
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o700) != 0 && errno != EEXIST {
                throw ACMEError("cannot create \(current): \(String(cString: strerror(errno)))")
            }
        }
    }

    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t) throws(ACMEError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw ACMEError("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        fchmod(fd, mode)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw ACMEError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    static func describe(milliseconds: Int) -> String {
        milliseconds < 1000 ? "\(milliseconds) ms" : milliseconds < 120_000 ? "\(milliseconds / 1000) s" : "\(milliseconds / 60_000) min"
    }
}
