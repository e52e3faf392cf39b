// ACMEKey: an ECDSA P-256 key for ACME: the account key that signs every request (JWS
// ES256, RFC 7515/7518) and is identified by its JWK thumbprint (RFC 7638), and the
// certificate keys whose CSRs the CA signs. Keys are stored as PKCS#8 PEM, mode 0600.
import CSSL
import Glibc

struct ACMEError: Error, Sendable, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

final class ACMEKey {
    let key: OpaquePointer

    private init(key: OpaquePointer) { self.key = key }
    deinit { EVP_PKEY_free(key) }

    static func generate() throws(ACMEError) -> ACMEKey {
        ERR_clear_error()
        guard let key = companion_ec_p256_generate() else { throw ACMEError("cannot make a P-256 key: \(OpenSSLErrors.drain())") }
        return ACMEKey(key: key)
    }

    static func fromPEM(_ pem: [UInt8]) -> ACMEKey? {
        pem.withUnsafeBufferPointer { buffer in
            companion_private_key_from_pem(buffer.baseAddress, Int32(buffer.count)).map { ACMEKey(key: $0) }
        }
    }

    /// The key as PKCS#8 PEM.
    func pem() throws(ACMEError) -> [UInt8] {
        var out: UnsafeMutablePointer<CChar>?
        let length = companion_private_key_pem(key, &out)
        guard length > 0, let out else { throw ACMEError("cannot encode the key: \(OpenSSLErrors.drain())") }
        defer { companion_openssl_free(out) }
        return out.withMemoryRebound(to: UInt8.self, capacity: Int(length)) { Array(UnsafeBufferPointer(start: $0, count: Int(length))) }
    }

    /// The public key as a JWK with members in lexicographic order (RFC 7638 §3).
    func jwk() -> String {
        var xy = [UInt8](repeating: 0, count: 64)
        _ = companion_ec_public_xy(key, &xy)
        return #"{"crv":"P-256","kty":"EC","x":""# + Base64URL.encode(xy[0..<32]) + #"","y":""# + Base64URL.encode(xy[32..<64]) + #""}"#
    }

    /// base64url(SHA-256(JWK)): the account's part of every key authorization (RFC 8555 §8.1).
    func thumbprint() -> String {
        Base64URL.encode(Self.sha256(Array(jwk().utf8)))
    }

    /// ES256 signature (r || s) of `data`.
    func sign(_ data: [UInt8]) throws(ACMEError) -> [UInt8] {
        var signature = [UInt8](repeating: 0, count: 64)
        ERR_clear_error()
        guard companion_es256_sign(key, data, data.count, &signature) == 1 else {
            throw ACMEError("cannot sign: \(OpenSSLErrors.drain())")
        }
        return signature
    }

    /// A DER PKCS#10 request for `names` (the first is the subject CN), signed by this key.
    func certificateRequest(names: [String]) throws(ACMEError) -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        let san = names.map { "DNS:" + $0 }.joined(separator: ",")
        ERR_clear_error()
        let length = companion_make_csr_der(key, names[0], san, &out)
        guard length > 0, let out else { throw ACMEError("cannot make the CSR: \(OpenSSLErrors.drain())") }
        defer { companion_openssl_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(length)))
    }

    static func sha256(_ data: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        _ = companion_sha256(data, data.count, &digest)
        return digest
    }
}

/// RFC 4648 §5 base64url without padding, as JWS uses it.
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity(input.count * 4 / 3 + 3)
        var i = 0
        while i + 3 <= input.count {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            i += 3
        }
        let rest = input.count - i
        if rest == 1 {
            let n = UInt32(input[i]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)]]
        } else if rest == 2 {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)]]
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func encode(_ text: String) -> String { encode(Array(text.utf8)) }
}

/// A JSON string literal for `text` (the config's escaper: quotes, backslashes and
/// controls escaped, RFC 8259 §7).
func jsonString(_ text: String) -> String {
    "\"" + JSONValue.escapeForMessage(text) + "\""
}
