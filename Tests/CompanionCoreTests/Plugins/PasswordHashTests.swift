// Tests for PasswordHash: real htpasswd/openssl fixtures verify, wrong
// passwords and malformed or unsupported hashes do not, make() round-trips.
import Testing
@testable import CompanionCore

@Suite struct PasswordHashTests {
    /// `htpasswd -nbB alice 'correct horse battery staple'` (apache2-utils 2.4).
    static let htpasswdBcrypt = "$2y$05$Ibma2rxJG/CjVcvEK8vhSesrOpH65rfxlbPg5uVFgJzBKgf1vFqlO"
    /// `htpasswd -nbB bob 'pässwörd'`: a UTF-8 password.
    static let htpasswdBcryptUTF8 = "$2y$05$FKddO4TQUPVb.7QuxSCvEOiUsfV4oavmxpZMncoItMPy4yW.E2cJq"
    /// `openssl passwd -6 -salt saltsalt 'sha512 secret'`
    static let sha512 =
        "$6$saltsalt$Ezsw5vbDx/tfkEXZE/Ygh13DDyQ8uW7Ec4770li08YuebeUyuhmmpfWzVZG3tGrT5SgDth0BVdgvrMFpG9K630"
    /// `openssl passwd -5 -salt saltsalt 'sha256 secret'`
    static let sha256 = "$5$saltsalt$2GGW/gDwrnjD3d8pCOewFVU6ytNesTRHJ9qFO5HJ/Z4"

    static let fixtures: [(String, String)] = [
        ("correct horse battery staple", htpasswdBcrypt),
        ("pässwörd", htpasswdBcryptUTF8),
        ("sha512 secret", sha512),
        ("sha256 secret", sha256),
    ]

    @Test(arguments: fixtures)
    func verifiesRealHashes(password: String, hash: String) {
        #expect(PasswordHash.isSupportedHash(hash))
        #expect(PasswordHash.verify(password: password, hash: hash))
    }

    @Test(arguments: fixtures)
    func rejectsWrongPasswords(password: String, hash: String) {
        #expect(!PasswordHash.verify(password: password + "x", hash: hash))
        #expect(!PasswordHash.verify(password: String(password.dropLast()), hash: hash))
        #expect(!PasswordHash.verify(password: "", hash: hash))
        #expect(!PasswordHash.verify(password: password + "\u{0}", hash: hash))
    }

    @Test func bcryptVariantsVerifyAlike() {
        // $2y$ (htpasswd), $2b$ and $2a$ are the same algorithm for ASCII passwords.
        for prefix in ["$2b$", "$2a$"] {
            let hash = prefix + Self.htpasswdBcrypt.dropFirst(4)
            #expect(PasswordHash.verify(password: "correct horse battery staple", hash: hash), "\(prefix)")
        }
    }

    static let unsupported: [String] = [
        "", "plain", "*", "!locked", "ab01FAX.bQRSU",
        "$apr1$pMskg5uH$CRX08Jq2uWmLQUL5CjuPw.",  // htpasswd -m (MD5, not crypt(3))
        "$1$saltsalt$abcdefghijklmnopqrstuv",  // MD5-crypt
        "$2y$05$Ibma2rxJG/CjVcvEK8vhSesrOpH65rfxlbPg5uVFgJzBKgf1vFql",  // one short
        "$2y$05$Ibma2rxJG/CjVcvEK8vhSesrOpH65rfxlbPg5uVFgJzBKgf1vFqlOx",  // one long
        "$2y$05$Ibma2rxJG/CjVcvEK8vhSesrOpH65rfxlbPg5uVFgJzBKgf1vFql!",  // outside the alphabet
        "$2y$03$Ibma2rxJG/CjVcvEK8vhSesrOpH65rfxlbPg5uVFgJzBKgf1vFqlO",  // cost too low
        "$2y$32$Ibma2rxJG/CjVcvEK8vhSesrOpH65rfxlbPg5uVFgJzBKgf1vFqlO",  // cost too high
        "$2x$05$Ibma2rxJG/CjVcvEK8vhSesrOpH65rfxlbPg5uVFgJzBKgf1vFqlO",  // buggy-era variant
        "$6$saltsalt$Ezsw5vbDx/tfkEXZE/Ygh13DDyQ8uW7Ec4770li08YuebeUyuhmmpfWzVZG3tGrT5SgDth0BVdgvrMFpG9K63",
        "$6$$Ezsw5vbDx/tfkEXZE/Ygh13DDyQ8uW7Ec4770li08YuebeUyuhmmpfWzVZG3tGrT5SgDth0BVdgvrMFpG9K630",
        "$5$rounds=$saltsalt$2GGW/gDwrnjD3d8pCOewFVU6ytNesTRHJ9qFO5HJ/Z4",
        "$5$saltsaltsaltsalts$2GGW/gDwrnjD3d8pCOewFVU6ytNesTRHJ9qFO5HJ/Z4",  // salt over 16
        "$y$j9T$salt",
        "$y$$salt$aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        String(repeating: "$6$", count: 300),
    ]

    @Test(arguments: unsupported)
    func refusesUnsupportedOrMalformedHashes(hash: String) {
        #expect(!PasswordHash.isSupportedHash(hash), "\(hash)")
        #expect(!PasswordHash.verify(password: "anything", hash: hash))
    }

    @Test func madeHashIsBcryptAndVerifies() throws {
        let hash = try #require(PasswordHash.make(password: "s3cret!"))
        #expect(hash.hasPrefix("$2b$10$"))
        #expect(hash.utf8.count == 60)
        #expect(PasswordHash.isSupportedHash(hash))
        #expect(PasswordHash.verify(password: "s3cret!", hash: hash))
        #expect(!PasswordHash.verify(password: "s3cret?", hash: hash))
        let again = try #require(PasswordHash.make(password: "s3cret!"))
        #expect(again != hash, "each hash gets its own random salt")
    }

    @Test(arguments: [("$y$", 0), ("$6$", 0), ("$5$", 0), ("$6$", 6000), ("$5$", 1000), ("$2b$", 4)])
    func otherLibcryptMethodsRoundTrip(prefix: String, cost: Int) throws {
        let hash = try #require(PasswordHash.make(password: "pw", prefix: prefix, cost: cost))
        if cost > 0 && prefix != "$2b$" { #expect(hash.contains("rounds=\(cost)$")) }
        #expect(PasswordHash.isSupportedHash(hash), "\(hash)")
        #expect(PasswordHash.verify(password: "pw", hash: hash))
        #expect(!PasswordHash.verify(password: "pW", hash: hash))
    }

    @Test func makeRefusesEmptyAndNULPasswords() {
        #expect(PasswordHash.make(password: "") == nil)
        #expect(PasswordHash.make(password: "a\u{0}b") == nil)
    }

    @Test func constantTimeEquality() {
        #expect(PasswordHash.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!PasswordHash.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!PasswordHash.constantTimeEquals([1, 2, 3], [1, 2]))
        #expect(PasswordHash.constantTimeEquals([], []))
    }
}
