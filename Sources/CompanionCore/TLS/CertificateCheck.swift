// CertificateCheck: what `companion check` says about each site's certificate (SPEC §6):
// files that cannot be read or parsed, a key that does not belong to the certificate,
// host names the certificate does not cover, and its expiry: expired is an error, within
// 14 days a warning. Every line names the key path (`sites[1].tls.certificate`).

public enum CertificateCheck {
    /// A certificate expiring within this many days is worth a warning.
    public static let warningDays: Int64 = 14

    public struct Report: Sendable, Equatable {
        /// Problems that make the config unusable (`sites[1].tls.key: ...`).
        public var errors: [String] = []
        /// Worth knowing, not fatal (expiry within 14 days).
        public var warnings: [String] = []
        /// One line per TLS site for the summary (`sites[0] certificate a.test,*.a.test valid until 2027-03-01`).
        public var summary: [String] = []
    }

    /// Checks every site with `tls` in `config` at `now` (seconds since the epoch).
    public static func check(_ config: ServerConfig, now: Int64) -> Report {
        var report = Report()
        for (index, site) in config.sites.enumerated() {
            guard let tls = site.tls, let source = site.certificateSource(acme: config.acme) else { continue }
            let path = "sites[\(index)].tls"
            let pair: CertificateKeyPair
            do {
                pair = try CertificateKeyPair.load(certificatePath: source.certificate, keyPath: source.key)
            } catch {
                if tls == .acme {
                    report.summary.append("sites[\(index)] certificate: none yet (ACME issues it at start)")
                } else {
                    report.errors.append("\(path).\(error.file.rawValue): \(error)")
                }
                continue
            }
            let uncovered = site.hosts.filter { !pair.covers($0) }
            if !uncovered.isEmpty {
                report.errors.append("\(path).certificate: \(source.certificate) does not cover \(uncovered.joined(separator: ", "))"
                                     + " (it names \(pair.names.joined(separator: ", ")))")
            }
            let until = UTCTime.dateString(seconds: pair.notAfter)
            if pair.notAfter <= now {
                report.errors.append("\(path).certificate: \(source.certificate) expired on \(until)")
            } else if pair.notAfter - now < warningDays * 86400 {
                let days = (pair.notAfter - now) / 86400
                let renewal = tls == .acme ? " (ACME renews it)" : ""
                report.warnings.append("\(path).certificate: \(source.certificate) expires in \(days) day\(days == 1 ? "" : "s"), on \(until)\(renewal)")
            }
            if pair.notBefore > now {
                report.errors.append("\(path).certificate: \(source.certificate) is not valid before \(UTCTime.dateString(seconds: pair.notBefore))")
            }
            report.summary.append("sites[\(index)] certificate \(pair.names.joined(separator: ",")) valid until \(until)")
        }
        return report
    }
}
