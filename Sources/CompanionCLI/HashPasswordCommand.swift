// HashPasswordCommand: `companion hash-password` (SPEC §1): reads a password on
// stdin and prints a bcrypt hash for the basicAuth plugin's `users`.
import ArgumentParser
import CompanionCore
import Glibc

/// `companion hash-password`: one line from stdin in, one hash out.
public struct HashPasswordCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "hash-password",
        abstract: "Read a password on stdin and print a hash for the basicAuth plugin.",
        discussion: """
            Reads one line (the trailing newline is not part of the password) and prints a \
            bcrypt hash ($2b$, cost 10) to put in a basicAuth plugin's "users". On a terminal \
            the password is not echoed. Example: printf '%s\\n' 'secret' | companion hash-password

            Hashes from `htpasswd -nB`, `mkpasswd` (sha-512, yescrypt) work as well.
            """
    )

    /// bcrypt reads at most this many bytes of a password.
    public static let maxPasswordBytes = 72
    /// Input read from stdin is cut off here; any password this long is refused.
    static let maxInputBytes = 4096

    public init() {}

    public func run() throws {
        let isTerminal = isatty(STDIN_FILENO) == 1
        let input = Self.readLine(from: STDIN_FILENO, hidingEcho: isTerminal)
        do {
            print(try Self.hash(input: input))
        } catch {
            var message = Array("companion: \(error)\n".utf8)
            _ = write(STDERR_FILENO, &message, message.count)
            throw ExitCode.failure
        }
    }

    /// The command without stdin: `input` is what was read, up to and
    /// including the first newline. Returns the hash to print.
    public static func hash(input: [UInt8]) throws(HashPasswordError) -> String {
        var line = input[...]
        if let newline = line.firstIndex(of: UInt8(ascii: "\n")) {
            line = line[..<newline]
        }
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        guard !line.isEmpty else { throw .emptyPassword }
        guard !line.contains(0) else { throw .containsNUL }
        guard line.count <= maxPasswordBytes else { throw .tooLong(line.count) }
        guard let password = String(validating: line, as: UTF8.self) else { throw .notUTF8 }
        guard let hash = PasswordHash.make(password: password) else { throw .hashingFailed }
        return hash
    }

    /// Reads `fd` up to the first newline or end of input (at most
    /// `maxInputBytes`). With `hidingEcho`, prompts on stderr and turns the
    /// terminal's echo off while reading.
    static func readLine(from fd: Int32, hidingEcho: Bool) -> [UInt8] {
        var saved = termios()
        let restoreEcho = hidingEcho && tcgetattr(fd, &saved) == 0
        if restoreEcho {
            var prompt = Array("Password: ".utf8)
            _ = write(STDERR_FILENO, &prompt, prompt.count)
            var silent = saved
            silent.c_lflag &= ~tcflag_t(ECHO)
            _ = tcsetattr(fd, TCSAFLUSH, &silent)
        }
        defer {
            if restoreEcho {
                _ = tcsetattr(fd, TCSAFLUSH, &saved)
                var newline: [UInt8] = [UInt8(ascii: "\n")]
                _ = write(STDERR_FILENO, &newline, 1)
            }
        }
        var input: [UInt8] = []
        var byte: UInt8 = 0
        // One byte at a time: stops at the newline without consuming more.
        while input.count < maxInputBytes {
            let n = read(fd, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            guard n == 1 else { break }
            input.append(byte)
            if byte == UInt8(ascii: "\n") { break }
        }
        return input
    }
}

/// Why `hash-password` printed no hash; the description is the message after
/// `companion: `.
public enum HashPasswordError: Error, Equatable, CustomStringConvertible {
    case emptyPassword
    case containsNUL
    case tooLong(Int)
    case notUTF8
    case hashingFailed

    public var description: String {
        switch self {
        case .emptyPassword: "empty password"
        case .containsNUL: "the password contains a NUL byte"
        case .tooLong(let count):
            "the password is \(count) bytes long; bcrypt uses only the first \(HashPasswordCommand.maxPasswordBytes)"
        case .notUTF8: "the password is not valid UTF-8"
        case .hashingFailed: "libcrypt could not hash the password"
        }
    }
}
