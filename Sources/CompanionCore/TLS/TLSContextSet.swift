// TLSContextSet: the OpenSSL contexts of one server state. A base context takes every new
// connection; its ClientHello callback (server name, SNI) switches the connection to the
// context of the site the name routes to, exact names before wildcards, and a missing or
// unknown name to the default site's. A site that has no certificate (an ACME site before
// its first issuance, or a site without `tls`) fails the handshake with an
// unrecognized_name alert. All contexts: TLS 1.2 and 1.3 only, Mozilla "intermediate"
// ciphers, no renegotiation or compression, ALPN http/1.1, stateless session tickets under
// the process-wide rotating keys (TicketKeys.swift).
//
// A reload builds a new set and reads every certificate and key again; a site whose files
// are now broken keeps the pair the old set loaded (and says why).
import CSSL
import Glibc

/// Where a site's certificate comes from and whether it is there yet.
struct CertificateSource: Hashable, Sendable {
    var certificate: String
    var key: String
    /// An ACME site's files do not exist before the first issuance: that is not an error.
    var mayBeMissing: Bool
}

public final class TLSContextSet: @unchecked Sendable {
    // @unchecked Sendable: immutable after init. SSL_CTX objects are safe to share between
    // threads once configured (OpenSSL locks their session state and reference counts).

    /// The context SSL_new uses: the default site's, or one without a certificate that only
    /// selects one (its own reference: freed in deinit like the others).
    let baseContext: OpaquePointer
    /// Per site (config order): its context, nil when it has no certificate.
    let siteContexts: [OpaquePointer?]
    let pairs: [CertificateKeyPair?]
    let sources: [CertificateSource?]
    /// The certificate and key files as they were when loaded (certificate, key per site);
    /// `filesChanged` compares them with the disk.
    private let stamps: [FileStamp?]
    private let sniRouter: HostRouter
    private let defaultSite: Int

    /// Mozilla's "intermediate" TLS 1.2 list without the DHE suites (no DH parameters).
    static let cipherList = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
        + "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
    static let groups = "X25519:prime256v1:secp384r1"
    /// TLS 1.3 suites in Mozilla's "intermediate" order: AES-128-GCM first (as strong in
    /// practice, and a third cheaper per byte than AES-256 on bulk bodies).
    static let suites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

    /// Loads every site's certificate. `previous`: the set being replaced, whose pairs are
    /// kept for files that are now broken (each reported to `report`) or, for an ACME site,
    /// missing.
    /// - Throws: at start-up (no `previous`), a certificate that cannot be used.
    init(config: ServerConfig, previous: TLSContextSet?, report: (String) -> Void) throws(ServerError) {
        var loaded: [CertificateKeyPair?] = []
        var sources: [CertificateSource?] = []
        var stamps: [FileStamp?] = []
        for (index, site) in config.sites.enumerated() {
            guard let source = site.certificateSource(acme: config.acme) else {
                loaded.append(nil)
                sources.append(nil)
                stamps.append(contentsOf: [nil, nil])
                continue
            }
            sources.append(source)
            // Stamped before reading: a file replaced while it is read shows as changed at the next check.
            stamps.append(FileStamp(path: source.certificate))
            stamps.append(FileStamp(path: source.key))
            let old = previous?.pair(for: source)
            do {
                loaded.append(try CertificateKeyPair.load(certificatePath: source.certificate, keyPath: source.key))
            } catch {
                if source.mayBeMissing && access(source.certificate, F_OK) != 0 {
                    loaded.append(old)
                } else if let old {
                    report("sites[\(index)].tls: \(error); keeping the certificate loaded before")
                    loaded.append(old)
                } else if previous != nil {
                    report("sites[\(index)].tls: \(error)")
                    loaded.append(nil)
                } else {
                    throw ServerError("sites[\(index)].tls: \(error)")
                }
            }
        }
        guard let base = Self.makeContext() else { throw ServerError("TLS: cannot create a context: \(OpenSSLErrors.drain())") }
        var contexts: [OpaquePointer?] = []
        for (index, pair) in loaded.enumerated() {
            guard let pair else {
                contexts.append(nil)
                continue
            }
            guard let context = Self.makeContext(), Self.use(pair, in: context) else {
                SSL_CTX_free(base)
                for case let context? in contexts { SSL_CTX_free(context) }
                throw ServerError("sites[\(index)].tls: OpenSSL refused the certificate: \(OpenSSLErrors.drain())")
            }
            contexts.append(context)
        }
        // The default site's context takes new connections when it has a certificate: a
        // client without SNI, or one naming the default site, is then never switched
        // (SSL_set_SSL_CTX copies the certificate state: measured ~15% of a full handshake's
        // server CPU with one site).
        if config.defaultSiteIndex < contexts.count, let defaultContext = contexts[config.defaultSiteIndex] {
            SSL_CTX_free(base)
            SSL_CTX_up_ref(defaultContext)
            self.baseContext = defaultContext
        } else {
            self.baseContext = base
        }
        self.siteContexts = contexts
        self.pairs = loaded
        self.sources = sources
        self.stamps = stamps
        self.sniRouter = HostRouter(sites: config.sites, defaultIndex: -1)
        self.defaultSite = config.defaultSiteIndex
        let me = Unmanaged.passUnretained(self).toOpaque()
        for context in [baseContext] + contexts.compactMap({ $0 }) {
            _ = companion_SSL_CTX_set_tlsext_servername_arg(context, me)
        }
    }

    deinit {
        SSL_CTX_free(baseContext)
        for case let context? in siteContexts { SSL_CTX_free(context) }
    }

    /// Whether a certificate or key file changed on disk since this set was loaded (a
    /// renewal by certbot or lego, an ACME issuance): two stat calls per site.
    func filesChanged() -> Bool {
        for (index, source) in sources.enumerated() {
            guard let source else { continue }
            if FileStamp(path: source.certificate) != stamps[2 * index] || FileStamp(path: source.key) != stamps[2 * index + 1] {
                return true
            }
        }
        return false
    }

    private func pair(for source: CertificateSource) -> CertificateKeyPair? {
        guard let index = sources.firstIndex(of: source) else { return nil }
        return pairs[index]
    }

    /// The site an SNI name routes to, -1 for none.
    func site(forServerName name: UnsafePointer<CChar>?) -> Int {
        guard let name else { return -1 }
        return sniRouter.route(String(cString: name))
    }

    // MARK: - Contexts

    private static func makeContext() -> OpaquePointer? {
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_server_method()) else { return nil }
        _ = companion_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION)
        _ = companion_SSL_CTX_set_max_proto_version(context, TLS1_3_VERSION)
        _ = SSL_CTX_set_options(context, UInt64(companion_SSL_options()))
        _ = companion_SSL_CTX_set_mode(context, companion_SSL_modes())
        _ = companion_SSL_CTX_set_read_ahead(context, 1)
        _ = SSL_CTX_set_cipher_list(context, cipherList)
        _ = SSL_CTX_set_ciphersuites(context, suites)
        _ = companion_SSL_CTX_set1_groups_list(context, groups)
        // Stateless tickets only: no per-context session cache to share or bound.
        _ = companion_SSL_CTX_set_session_cache_mode(context, Int(SSL_SESS_CACHE_OFF))
        _ = SSL_CTX_set_num_tickets(context, 1)
        _ = companion_SSL_CTX_set_tlsext_ticket_key_evp_cb(context, TicketKeys.callback)
        _ = companion_SSL_CTX_set_tlsext_servername_callback(context, serverNameCallback)
        SSL_CTX_set_alpn_select_cb(context, alpnCallback, nil)
        return context
    }

    private static func use(_ pair: CertificateKeyPair, in context: OpaquePointer) -> Bool {
        ERR_clear_error()
        guard let stack = companion_x509_stack_new() else { return false }
        for cert in pair.chain.dropFirst() {
            X509_up_ref(cert)
            _ = companion_x509_stack_push(stack, cert)
        }
        let ok = SSL_CTX_use_cert_and_key(context, pair.chain[0], pair.key, stack, 1) == 1
        companion_x509_stack_free(stack)
        return ok
    }

    /// ClientHello's server name: switch to the site's context, remember the site on the session.
    private static let serverNameCallback: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int32>?,
                                                           UnsafeMutableRawPointer?) -> Int32 = { ssl, alert, arg in
        guard let ssl, let arg else { return SSL_TLSEXT_ERR_ALERT_FATAL }
        let set = Unmanaged<TLSContextSet>.fromOpaque(arg).takeUnretainedValue()
        let named = set.site(forServerName: SSL_get_servername(ssl, Int32(TLSEXT_NAMETYPE_host_name)))
        let chosen = named >= 0 ? named : set.defaultSite
        guard chosen >= 0, chosen < set.siteContexts.count, let context = set.siteContexts[chosen] else {
            alert?.pointee = SSL_AD_UNRECOGNIZED_NAME
            return SSL_TLSEXT_ERR_ALERT_FATAL
        }
        if let session = SSL_get_ex_data(ssl, 0) {
            Unmanaged<TLSSession>.fromOpaque(session).takeUnretainedValue().serverNameSite = named
        }
        _ = SSL_set_SSL_CTX(ssl, context)
        return SSL_TLSEXT_ERR_OK
    }

    /// ALPN: http/1.1 when the client offers it; otherwise no ALPN at all (RFC 7301 allows
    /// the server to not answer, and the client then speaks HTTP/1.1 or gives up).
    private static let alpnCallback: @convention(c) (OpaquePointer?, UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
                                                     UnsafeMutablePointer<UInt8>?, UnsafePointer<UInt8>?, UInt32,
                                                     UnsafeMutableRawPointer?) -> Int32 = { _, out, outLength, offered, offeredLength, _ in
        guard let out, let outLength, let offered else { return SSL_TLSEXT_ERR_NOACK }
        let wanted: [UInt8] = Array("http/1.1".utf8)
        var i = 0
        let count = Int(offeredLength)
        while i < count {
            let length = Int(offered[i])
            if i + 1 + length > count { break }
            if length == wanted.count && (0..<length).allSatisfy({ offered[i + 1 + $0] == wanted[$0] }) {
                out.pointee = offered + i + 1
                outLength.pointee = UInt8(length)
                return SSL_TLSEXT_ERR_OK
            }
            i += 1 + length
        }
        return SSL_TLSEXT_ERR_NOACK
    }
}

extension SiteConfig {
    /// The files this site's certificate is read from: its own, or the ACME storage's.
    func certificateSource(acme: ACMEConfig?) -> CertificateSource? {
        switch tls {
        case nil: return nil
        case .files(let certificate, let key)?:
            return CertificateSource(certificate: certificate, key: key, mayBeMissing: false)
        case .acme?:
            guard let acme else { return nil }
            let folder = acme.certificateFolder(for: hosts[0])
            return CertificateSource(certificate: folder + "/fullchain.pem", key: folder + "/key.pem", mayBeMissing: true)
        }
    }
}

/// What identifies one version of a file cheaply: inode, size, modification time (nil
/// fields for a missing file).
struct FileStamp: Equatable {
    var inode: UInt64 = 0
    var size: Int64 = -1
    var modifiedNanoseconds: Int64 = 0

    init(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return }
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modifiedNanoseconds = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
    }
}
