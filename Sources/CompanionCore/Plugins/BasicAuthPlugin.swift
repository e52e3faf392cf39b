// BasicAuthPlugin: `{"type": "basicAuth", "realm": "Staff", "users": {"ann":
// "$2y$10$..."}, "match": "/private/*"}` (SPEC §4, RFC 7617). Requests for a
// matching path need `Authorization: Basic base64(user:password)` naming a
// configured user whose crypt(3) hash the password matches; otherwise 401 with
// `WWW-Authenticate: Basic realm="...", charset="UTF-8"`.
// Header parsing and base64 live in BasicAuthPlugin+Credentials.swift.

/// HTTP Basic authentication for matching paths.
struct BasicAuthPlugin: Middleware {
    let match: PathPattern?
    /// User name → crypt(3) hash, checked at load with `PasswordHash.isSupportedHash`.
    let users: [String: String]
    /// A configured hash that unknown user names are checked against, so they take as
    /// long as known ones (no user enumeration by timing); the answer is still "no".
    let decoyHash: String
    /// The full `WWW-Authenticate` value.
    let challenge: String
    let verified: VerifiedCredentials
    /// Failed checks per client, shared by all loops.
    let failures: FailedAttempts

    static let type = PluginType(name: "basicAuth", keys: ["realm", "users", "match"], parse: parse) { settings, _ in
        settings
    }

    static func parse(_ options: inout PluginOptions) -> BasicAuthPlugin? {
        let match = options.pattern("match")
        let realm = options.string("realm") ?? "Restricted"
        if !realm.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            options.report("realm", "expected text without quotes, backslashes or control characters")
        }
        let users = parseUsers(&options)
        guard options.problems.isEmpty, let users, let decoy = users.sorted(by: { $0.key < $1.key }).first?.value else {
            return nil
        }
        return BasicAuthPlugin(match: match, users: users, decoyHash: decoy,
                               challenge: "Basic realm=\"\(realm)\", charset=\"UTF-8\"",
                               verified: VerifiedCredentials(capacity: 1024),
                               failures: FailedAttempts(limit: 5, windowMilliseconds: 10_000, capacity: 4096))
    }

    /// `users`: a non-empty object of name → hash. The hash is never echoed in messages.
    static func parseUsers(_ options: inout PluginOptions) -> [String: String]? {
        guard let value = options.value("users") else {
            options.reportMissing("users")
            return nil
        }
        guard let entries = value.objectValue, !entries.isEmpty else {
            options.report("users", "expected an object of user name → password hash such as"
                           + " {\"ann\": \"$2y$10$...\"} (see companion hash-password), got \(value.shortDescription)")
            return nil
        }
        var users: [String: String] = [:]
        for (name, member) in entries {
            let memberPath = ConfigProblem.keyPath(options.path("users"), name)
            // RFC 7617 §2: the user-id cannot contain a colon.
            guard !name.isEmpty, name.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F && $0 != UInt8(ascii: ":") }) else {
                options.validator.report(memberPath, "a user name must be non-empty text without ':' or control characters")
                continue
            }
            guard let hash = member.stringValue, PasswordHash.isSupportedHash(hash) else {
                options.validator.report(memberPath, "expected a password hash from `companion hash-password` or"
                                         + " `htpasswd -B` (bcrypt $2y$/$2b$, sha-crypt $5$/$6$ or yescrypt $y$);"
                                         + " MD5 ($1$, $apr1$) and DES hashes are refused")
                continue
            }
            users[name] = hash
        }
        return users
    }

    func respond(to request: Request, next: (Request) -> Response) -> Response {
        if let match, !request.matches(match) { return next(request) }
        let authorization = request.header(.authorization)
        guard let authorization else { return challengeResponse(closing: false) }
        let login = Self.login(authorization)
        if let login, users[login.user] != nil, verified.contains(login.key) { return next(request) }
        // SECURITY: a check costs a full bcrypt (~55 ms at cost 10) on the
        // event loop. A client gets `limit` failed checks per window, then 429 without a
        // check; and a wrong password closes the connection, so guesses pipelined in one
        // packet are not tried one after another while other clients wait.
        let now = monotonicMilliseconds()
        guard failures.allows(request.client, now: now) else {
            var response = Response.error(.tooManyRequests)
            response.addHeader("Retry-After", String(failures.windowMilliseconds / 1000))
            response.closesConnection = true
            return response
        }
        if check(login) { return next(request) }
        failures.record(request.client, now: now)
        return challengeResponse(closing: true)
    }

    private func challengeResponse(closing: Bool) -> Response {
        var response = Response.error(.unauthorized)
        response.addHeader("WWW-Authenticate", challenge)
        response.closesConnection = closing
        return response
    }

    /// Basic credentials parsed once per request: the user, the password and the digest
    /// key that `verified` remembers them by.
    struct Login {
        let user: String
        let password: String
        let key: VerifiedCredentials.Key
    }

    /// The credentials in `authorization`, or nil when it is not Basic credentials in UTF-8.
    static func login(_ authorization: ArraySlice<UInt8>) -> Login? {
        guard let credentials = basicCredentials(authorization),
              let user = String(validating: credentials.user, as: UTF8.self),
              let password = String(validating: credentials.password, as: UTF8.self)
        else { return nil }
        return Login(user: user, password: password, key: VerifiedCredentials.Key(user: user, password: credentials.password))
    }

    /// The full password check for credentials that are not remembered: true when `login`
    /// names a configured user whose hash the password matches (then it is remembered).
    ///
    /// SECURITY: a bcrypt check costs tens of milliseconds on the event loop, so a
    /// verified (user, password digest) pair is remembered (`VerifiedCredentials`) and a
    /// logged-in browser, which sends the header on every request, costs one check. Wrong
    /// passwords are not remembered: each one costs a full check, which is what makes
    /// guessing slow; `respond` limits how many a client may cost (FailedAttempts).
    /// Unknown users are checked against the decoy hash, so they take as long.
    func check(_ login: Login?) -> Bool {
        guard let login else { return false }
        guard let hash = users[login.user] else {
            _ = PasswordHash.verify(password: login.password, hash: decoyHash)
            return false
        }
        guard PasswordHash.verify(password: login.password, hash: hash) else { return false }
        verified.insert(login.key)
        return true
    }
}

/// Successful (user, password digest) pairs, so bcrypt runs once per login, not per request.
///
/// Thread safety: shared by all loops; the set lives in `state`, a `Locked` (pthread mutex), held only for
/// one lookup or insert. Bounded: when `capacity` pairs are stored, the set is emptied
/// (the next request of each user pays one check again).
final class VerifiedCredentials: Sendable {
    /// A user and a digest of the password: the password itself is not kept.
    ///
    /// SECURITY: the digest is two 64-bit SipHash values (Swift's `Hasher`, keyed with a
    /// per-process random seed, with different domain tags), 128 bits in all. The seed is
    /// secret, so an attacker cannot search offline for another password with the same
    /// digest; online, 2^128 guesses are out of reach.
    struct Key: Hashable, Sendable {
        var user: String
        var digest0: Int
        var digest1: Int

        init(user: String, password: ArraySlice<UInt8>) {
            self.user = user
            var first = Hasher()
            first.combine(0x6261_7369_6331 as UInt64)
            first.combine(user)
            password.withUnsafeBytes { first.combine(bytes: $0) }
            var second = Hasher()
            second.combine(0x6261_7369_6332 as UInt64)
            second.combine(user)
            password.withUnsafeBytes { second.combine(bytes: $0) }
            digest0 = first.finalize()
            digest1 = second.finalize()
        }
    }

    let capacity: Int
    private let state = Locked(Set<Key>())

    init(capacity: Int) { self.capacity = max(1, capacity) }

    func contains(_ key: Key) -> Bool { state.withLock { $0.contains(key) } }

    func insert(_ key: Key) {
        let capacity = capacity
        state.withLock { set in
            if set.count >= capacity { set.removeAll(keepingCapacity: true) }
            set.insert(key)
        }
    }

    var count: Int { state.withLock { $0.count } }
}

/// Failed password checks per client address within a sliding window, so one client
/// cannot make the loops run bcrypt for it more than `limit` times per window.
///
/// Thread safety: shared by all loops; the table lives in a `Locked` (pthread mutex), held for one lookup
/// or update. Bounded: at `capacity` clients the table is emptied (an attacker with many
/// addresses then gets a fresh budget, as it would with a new address anyway).
final class FailedAttempts: Sendable {
    struct Entry: Sendable {
        var count: Int
        var windowStart: Int64
    }

    let limit: Int
    let windowMilliseconds: Int64
    let capacity: Int
    private let state = Locked([String: Entry]())

    init(limit: Int, windowMilliseconds: Int64, capacity: Int) {
        self.limit = limit
        self.windowMilliseconds = windowMilliseconds
        self.capacity = capacity
    }

    /// Whether `client` may have another password check now.
    func allows(_ client: String, now: Int64) -> Bool {
        state.withLock { table in
            guard let entry = table[client] else { return true }
            if now - entry.windowStart >= windowMilliseconds {
                table[client] = nil
                return true
            }
            return entry.count < limit
        }
    }

    func record(_ client: String, now: Int64) {
        let (capacity, window) = (capacity, windowMilliseconds)
        state.withLock { table in
            if var entry = table[client], now - entry.windowStart < window {
                entry.count += 1
                table[client] = entry
            } else {
                if table.count >= capacity { table.removeAll(keepingCapacity: true) }
                table[client] = Entry(count: 1, windowStart: now)
            }
        }
    }
}
