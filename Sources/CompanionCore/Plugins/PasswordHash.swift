// PasswordHash: checking and making the crypt(3) password hashes the basicAuth
// plugin stores (SPEC §4), through the system's libcrypt (libxcrypt).
import CLinux

/// crypt(3) hashes for `basicAuth` users: verification of the formats that
/// `htpasswd -B`, `mkpasswd` and `openssl passwd` write, and bcrypt hashes for
/// `companion hash-password`.
///
/// The corresponding C functions are `crypt_r` and `crypt_gensalt_rn`.
/// A bcrypt check at cost 10 takes tens of milliseconds on purpose; callers on
/// an event loop should remember successful checks rather than repeat them.
public enum PasswordHash {
    /// bcrypt cost for new hashes: 2^10 rounds, `htpasswd -B -C 10`.
    public static let bcryptCost = 10

    /// True when `password` hashes to `hash`. False for a wrong password and
    /// for unsupported or malformed hashes (see `isSupportedHash`).
    ///
    /// SECURITY: the freshly computed hash is compared with `hash` in constant
    /// time (every byte is looked at), so response timing does not tell how
    /// much of a guess was right (darkhttpd f477619). A password containing NUL
    /// is refused: C would see only the part before it.
    public static func verify(password: String, hash: String) -> Bool {
        guard isSupportedHash(hash), !password.utf8.contains(0) else { return false }
        guard let computed = crypt(password, setting: hash) else { return false }
        return constantTimeEquals(Array(computed.utf8), Array(hash.utf8))
    }

    /// A new bcrypt hash (`$2b$10$...`, 60 characters) of `password` with a
    /// random salt from the system, or nil when `password` is empty, contains
    /// NUL, or libcrypt fails. bcrypt uses the first 72 bytes of a password.
    /// `$2b$` and the `$2y$` that `htpasswd -B` writes are the same algorithm.
    public static func make(password: String) -> String? {
        make(password: password, prefix: "$2b$", cost: bcryptCost)
    }

    /// A new hash with the libcrypt method named by `prefix` (`"$2b$"`,
    /// `"$6$"`, `"$y$"`, ...) and `cost` (0 = the method's default).
    static func make(password: String, prefix: String, cost: Int) -> String? {
        guard !password.isEmpty, !password.utf8.contains(0) else { return nil }
        let size = Int(CRYPT_GENSALT_OUTPUT_SIZE)
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: size)
        defer { buffer.deallocate() }
        // A nil random-bytes argument makes libcrypt read them from the OS.
        guard let setting = crypt_gensalt_rn(prefix, UInt(cost), nil, 0, buffer, Int32(size)) else { return nil }
        return crypt(password, setting: String(cString: setting))
    }

    /// True for the crypt(3) formats libcrypt checks and we accept: bcrypt
    /// (`$2y$`, `$2b$`, `$2a$`), SHA-256-crypt (`$5$`), SHA-512-crypt (`$6$`)
    /// and yescrypt (`$y$`), each well-formed.
    ///
    /// SECURITY: DES, MD5-crypt (`$1$`) and Apache's `$apr1$` (plain
    /// `htpasswd`'s default) are refused: weak, and `$apr1$` is not crypt(3).
    public static func isSupportedHash(_ hash: String) -> Bool {
        let bytes = Array(hash.utf8)
        guard bytes.count <= 512 else { return false }
        if hasPrefix(bytes, "$2a$") || hasPrefix(bytes, "$2b$") || hasPrefix(bytes, "$2y$") {
            return isBcrypt(bytes)
        }
        let fields = bytes.split(separator: UInt8(ascii: "$"), omittingEmptySubsequences: false)
        // "$5$salt$hash" splits into ["", "5", "salt", "hash"].
        guard fields.count >= 4, fields[0].isEmpty else { return false }
        var rest = Array(fields.dropFirst(2))
        switch Array(fields[1]) {
        case Array("5".utf8), Array("6".utf8):
            let hashLength = fields[1].first == UInt8(ascii: "5") ? 43 : 86
            // Optional "rounds=N$" before the salt.
            if let first = rest.first, first.starts(with: "rounds=".utf8) {
                guard first.count > 7, first.dropFirst(7).allSatisfy(isDigit) else { return false }
                rest.removeFirst()
            }
            return rest.count == 2 && (1...16).contains(rest[0].count) && rest[1].count == hashLength
                && rest.allSatisfy { isCryptBase64($0) }
        case Array("y".utf8):
            // $y$params$salt$hash
            return rest.count == 3 && !rest[0].isEmpty && !rest[1].isEmpty && rest[2].count == 43
                && rest.allSatisfy { isCryptBase64($0) }
        default:
            return false
        }
    }

    // MARK: Helpers

    /// crypt_r with its 32 KiB state on the heap, wiped afterwards. Nil when
    /// libcrypt fails (it returns NULL or a string starting with `*`).
    static func crypt(_ password: String, setting: String) -> String? {
        let data = UnsafeMutablePointer<crypt_data>.allocate(capacity: 1)
        data.initialize(to: crypt_data())
        defer {
            // The state held the password; do not leave it in freed memory.
            UnsafeMutableRawPointer(data).initializeMemory(
                as: UInt8.self, repeating: 0, count: MemoryLayout<crypt_data>.size)
            data.deallocate()
        }
        guard let result = companion_crypt(password, setting, data) else { return nil }
        let hash = String(cString: result)
        return hash.hasPrefix("*") ? nil : hash
    }

    /// Compares every byte whatever the first difference; the length of a hash
    /// is fixed by its format, so comparing it first reveals nothing.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices {
            difference |= a[index] ^ b[index]
        }
        return difference == 0
    }

    /// `$2b$CC$` + 22 salt + 31 hash characters, cost 04...31.
    private static func isBcrypt(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == 60, bytes[6] == UInt8(ascii: "$"), isDigit(bytes[4]), isDigit(bytes[5]) else {
            return false
        }
        let cost = Int(bytes[4] - UInt8(ascii: "0")) * 10 + Int(bytes[5] - UInt8(ascii: "0"))
        return (4...31).contains(cost) && isCryptBase64(bytes[7...])
    }

    private static func hasPrefix(_ bytes: [UInt8], _ prefix: String) -> Bool {
        bytes.starts(with: prefix.utf8)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    /// The crypt alphabet `./0-9A-Za-z`.
    private static func isCryptBase64<S: Sequence>(_ bytes: S) -> Bool where S.Element == UInt8 {
        bytes.allSatisfy { byte in
            isDigit(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "/")
        }
    }
}
