// Tests for `companion hash-password`: line handling, the error messages, and
// that the printed hash verifies.
import ArgumentParser
import Glibc
import Testing
@testable import CompanionCLI
@testable import CompanionCore

@Suite struct HashPasswordCommandTests {
    @Test func isNamedHashPassword() throws {
        #expect(HashPasswordCommand.configuration.commandName == "hash-password")
        _ = try HashPasswordCommand.parse([])
    }

    /// (stdin bytes, the password the hash must verify)
    static let lines: [(String, String)] = [
        ("secret\n", "secret"),
        ("secret\r\n", "secret"),
        ("secret", "secret"),
        ("first\nsecond\n", "first"),
        (" spaced out \n", " spaced out "),
        ("pässwörd\n", "pässwörd"),
        (String(repeating: "x", count: 72) + "\n", String(repeating: "x", count: 72)),
    ]

    @Test(arguments: lines)
    func hashesTheFirstLine(input: String, password: String) throws {
        let hash = try HashPasswordCommand.hash(input: Array(input.utf8))
        #expect(hash.hasPrefix("$2b$10$"))
        #expect(PasswordHash.verify(password: password, hash: hash))
    }

    static let failures: [([UInt8], HashPasswordError, String)] = [
        ([], .emptyPassword, "empty password"),
        (Array("\n".utf8), .emptyPassword, "empty password"),
        (Array("\r\n".utf8), .emptyPassword, "empty password"),
        (Array("\nsecret\n".utf8), .emptyPassword, "empty password"),
        ([0x61, 0x00, 0x62, 0x0A], .containsNUL, "the password contains a NUL byte"),
        ([0x61, 0xFF, 0x0A], .notUTF8, "the password is not valid UTF-8"),
        (Array(String(repeating: "x", count: 73).utf8), .tooLong(73),
         "the password is 73 bytes long; bcrypt uses only the first 72"),
    ]

    @Test(arguments: failures)
    func refusesBadInput(input: [UInt8], error: HashPasswordError, message: String) {
        #expect(throws: error) { _ = try HashPasswordCommand.hash(input: input) }
        #expect("companion: \(error)" == "companion: " + message)
    }

    @Test func readsOneLineFromADescriptor() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let text = Array("hunter2\nleft over".utf8)
        #expect(write(fds[1], text, text.count) == text.count)
        close(fds[1])
        #expect(HashPasswordCommand.readLine(from: fds[0], hidingEcho: false) == Array("hunter2\n".utf8))
        #expect(HashPasswordCommand.readLine(from: fds[0], hidingEcho: false) == Array("left over".utf8))
        #expect(HashPasswordCommand.readLine(from: fds[0], hidingEcho: false) == [])
    }
}
