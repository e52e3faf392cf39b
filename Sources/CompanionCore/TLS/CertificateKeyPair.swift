// CertificateKeyPair: a certificate chain and its private key read from PEM files, with
// what `companion check` and the SNI table need to know about them (the names the leaf
// covers, its validity). Loading says which file is wrong and why; a key that does not
// belong to the certificate is refused, so a half-renewed pair never replaces a good one.
import CSSL
import Glibc

/// Why a certificate or key could not be used, as one sentence naming the file.
public struct CertificateError: Error, Sendable, CustomStringConvertible {
    /// Which of the two files is at fault.
    public enum File: String, Sendable { case certificate, key }
    public let file: File
    public let description: String
    public init(_ description: String, file: File = .certificate) {
        self.description = description
        self.file = file
    }
}

/// A loaded chain and key. Immutable; the OpenSSL objects are freed with it.
public final class CertificateKeyPair: @unchecked Sendable {
    // @unchecked Sendable: the X509 and EVP_PKEY objects are never modified after loading
    // (OpenSSL's reference counts, taken by SSL_CTX_use_*, are atomic).
    /// The leaf first, then the rest of the file's chain.
    let chain: [OpaquePointer]
    let key: OpaquePointer
    /// DNS names of the leaf's subjectAltName (lowercased), or its common name when it has none.
    public let names: [String]
    /// Validity of the leaf, in seconds since the epoch.
    public let notBefore: Int64
    public let notAfter: Int64

    private init(chain: [OpaquePointer], key: OpaquePointer, names: [String], notBefore: Int64, notAfter: Int64) {
        self.chain = chain
        self.key = key
        self.names = names
        self.notBefore = notBefore
        self.notAfter = notAfter
    }

    deinit {
        for cert in chain { X509_free(cert) }
        EVP_PKEY_free(key)
    }

    /// Reads `certificatePath` (PEM; the leaf, then any intermediates) and `keyPath` (a PEM
    /// private key) and checks that the key belongs to the leaf.
    public static func load(certificatePath: String, keyPath: String) throws(CertificateError) -> CertificateKeyPair {
        let chain = try parseChain(try readFile(certificatePath, .certificate), label: certificatePath)
        let keyPEM: [UInt8]
        do {
            keyPEM = try readFile(keyPath, .key)
        } catch {
            for cert in chain { X509_free(cert) }
            throw error
        }
        return try pair(chain, keyPEM: keyPEM, keyLabel: keyPath, certificateLabel: certificatePath)
    }

    /// Parses PEM text already in memory (ACME's downloaded chain and its key).
    static func load(certificatePEM: [UInt8], keyPEM: [UInt8]) throws(CertificateError) -> CertificateKeyPair {
        let chain = try parseChain(certificatePEM, label: "the downloaded chain")
        return try pair(chain, keyPEM: keyPEM, keyLabel: "the new key", certificateLabel: "the downloaded chain")
    }

    /// Whether one of the certificate's names covers `host` (a site's host name, itself
    /// possibly a wildcard): exact, or a `*.` name covering exactly one more label.
    public func covers(_ host: String) -> Bool {
        names.contains { Self.name($0, covers: host) }
    }

    static func name(_ name: String, covers host: String) -> Bool {
        if name == host { return true }
        guard name.hasPrefix("*."), !host.hasPrefix("*.") else { return false }
        let suffix = name.dropFirst(1)   // ".example.org"
        guard host.hasSuffix(suffix) else { return false }
        let label = host.dropLast(suffix.count)
        return !label.isEmpty && !label.contains(".")
    }

    // MARK: - Reading

    private static func readFile(_ path: String, _ file: CertificateError.File) throws(CertificateError) -> [UInt8] {
        switch ConfigFile.read(path, naming: "it") {
        case .success(let bytes): return bytes
        case .failure(let failure): throw CertificateError("\(path): \(failure.message)", file: file)
        }
    }

    /// The certificates in `pem`, leaf first; at least one, or the error names `label`.
    private static func parseChain(_ pem: [UInt8], label: String) throws(CertificateError) -> [OpaquePointer] {
        ERR_clear_error()
        let chain = pem.withUnsafeBytes { raw -> [OpaquePointer] in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return [] }
            defer { BIO_free(bio) }
            var chain: [OpaquePointer] = []
            while let cert = PEM_read_bio_X509(bio, nil, nil, nil) { chain.append(cert) }
            return chain
        }
        guard !chain.isEmpty else {
            throw CertificateError("\(label): no PEM certificate in it (\(OpenSSLErrors.drain()))")
        }
        ERR_clear_error()   // the read past the last certificate leaves "no start line"
        return chain
    }

    /// The pair of `chain` (taken: freed on failure) and the key in `keyPEM`, which must
    /// belong to the leaf.
    private static func pair(_ chain: [OpaquePointer], keyPEM: [UInt8], keyLabel: String,
                             certificateLabel: String) throws(CertificateError) -> CertificateKeyPair {
        ERR_clear_error()
        guard let key = keyPEM.withUnsafeBufferPointer({ companion_private_key_from_pem($0.baseAddress, Int32($0.count)) }) else {
            let reason = OpenSSLErrors.drain()
            for cert in chain { X509_free(cert) }
            throw CertificateError("\(keyLabel): no PEM private key in it (\(reason))", file: .key)
        }
        guard X509_check_private_key(chain[0], key) == 1 else {
            _ = OpenSSLErrors.drain()
            for cert in chain { X509_free(cert) }
            EVP_PKEY_free(key)
            throw CertificateError("\(keyLabel): the key does not match the certificate in \(certificateLabel)", file: .key)
        }
        return CertificateKeyPair(chain: chain, key: key, names: dnsNames(chain[0]),
                                  notBefore: time(companion_X509_notBefore(chain[0])),
                                  notAfter: time(companion_X509_notAfter(chain[0])))
    }

    /// subjectAltName DNS names, lowercased; the subject's CN when there are none.
    private static func dnsNames(_ cert: OpaquePointer) -> [String] {
        var names: [String] = []
        if let raw = X509_get_ext_d2i(cert, NID_subject_alt_name, nil, nil) {
            let list = OpaquePointer(raw)
            for i in 0..<companion_general_names_count(list) {
                guard let name = companion_general_names_at(list, i) else { continue }
                switch name.pointee.type {
                case GEN_DNS:
                    names.append(asn1String(name.pointee.d.dNSName).lowercased())
                case GEN_IPADD:
                    let octets = asn1Bytes(name.pointee.d.iPAddress)
                    if octets.count == 4 { names.append(octets.map(String.init).joined(separator: ".")) }
                default: break
                }
            }
            companion_general_names_free(list)
        }
        if names.isEmpty, let subject = X509_get_subject_name(cert) {
            var buffer = [CChar](repeating: 0, count: 256)
            let length = X509_NAME_get_text_by_NID(subject, NID_commonName, &buffer, Int32(buffer.count))
            if length > 0 {
                names.append(String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self).lowercased())
            }
        }
        return names
    }

    private static func asn1Bytes(_ string: UnsafeMutablePointer<ASN1_STRING>?) -> [UInt8] {
        guard let string, let data = ASN1_STRING_get0_data(string) else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(string))))
    }

    private static func asn1String(_ string: UnsafeMutablePointer<ASN1_STRING>?) -> String {
        String(decoding: asn1Bytes(string), as: UTF8.self)
    }

    /// An ASN1_TIME as seconds since the epoch.
    private static func time(_ value: UnsafePointer<ASN1_TIME>?) -> Int64 {
        guard let value else { return 0 }
        var parts = tm()
        guard ASN1_TIME_to_tm(value, &parts) == 1 else { return 0 }
        return Int64(timegm(&parts))
    }
}
