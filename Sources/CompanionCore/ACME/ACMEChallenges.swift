// ACMEChallenges: the HTTP-01 answers the ACME client has published, read by the loops
// when a request for /.well-known/acme-challenge/TOKEN arrives on a plain listener
// (RFC 8555 §8.3). Answered from memory, before any site routing, redirect or plugin.

public final class ACMEChallenges: Sendable {
    static let pathPrefix = "/.well-known/acme-challenge/"
    // A pthread mutex (Locked): the ACME thread adds and removes, loops read (rarely: only
    // requests under the prefix ask).
    private let answers = Locked([String: String]())

    public init() {}

    func publish(token: String, keyAuthorization: String) {
        answers.withLock { $0[token] = keyAuthorization }
    }

    func withdraw(token: String) {
        answers.withLock { $0[token] = nil }
    }

    /// The key authorization for `path` (`/.well-known/acme-challenge/TOKEN`), if published.
    func answer(forPath path: String) -> String? {
        guard path.hasPrefix(Self.pathPrefix) else { return nil }
        let token = String(path.dropFirst(Self.pathPrefix.count))
        return answers.withLock { $0[token] }
    }
}
