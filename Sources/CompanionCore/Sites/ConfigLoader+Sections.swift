// ConfigLoader+Sections: the smaller objects of config.json: `sites[].gzip`,
// `accessLog` and `limits`. Each key keeps its SPEC spelling; each value is
// range-checked here so the server can use it without further checks.

extension ConfigLoader {
    static let gzipKeys = ["level", "minBytes", "types", "cacheBytes"]
    static let accessLogKeys = ["sqlite", "postgres", "hostName", "flushMs", "retainDays", "anonymizeClients"]
    static let limitKeys = ["headerTimeoutMs", "idleTimeoutMs", "maxHeaderBytes", "maxBodyBytes"]

    /// `gzip`: `true`/`false`, or an object (meaning on) with `level` 1–9, `minBytes` ≥ 0,
    /// `types` (media types or `type/*`) and `cacheBytes` ≥ 0.
    /// `listing`: `true`, `false`, or `{"maxEntries": N}` (an object turns listings on).
    func readListing(_ value: JSONValue, at path: String, into site: inout SiteConfig,
                     validator: inout ConfigValidator) {
        if case .bool(let enabled) = value {
            site.listing = enabled
            return
        }
        guard value.objectValue != nil else {
            validator.report(path, "expected true, false or an object, got \(value.shortDescription)")
            return
        }
        guard let members = validator.object(value, at: path, allowed: ["maxEntries"]) else { return }
        site.listing = true
        for (key, member) in members where key == "maxEntries" {
            let memberPath = ConfigProblem.keyPath(path, key)
            site.listingMaxEntries = validator.integer(member, at: memberPath, in: 1...1_000_000) ?? site.listingMaxEntries
        }
    }

    func readGzip(_ value: JSONValue, at path: String, into validator: inout ConfigValidator) -> GzipSettings? {
        var settings = GzipSettings()
        if case .bool(let enabled) = value {
            settings.enabled = enabled
            return settings
        }
        guard value.objectValue != nil else {
            validator.report(path, "expected true, false or an object, got \(value.shortDescription)")
            return nil
        }
        guard let members = validator.object(value, at: path, allowed: Self.gzipKeys) else { return nil }
        for (key, member) in members {
            let memberPath = ConfigProblem.keyPath(path, key)
            switch key {
            case "level": settings.level = validator.integer(member, at: memberPath, in: 1...9) ?? settings.level
            case "minBytes": settings.minBytes = validator.integer(member, at: memberPath, in: 0...Int.max) ?? settings.minBytes
            case "cacheBytes": settings.cacheBytes = validator.integer(member, at: memberPath, in: 0...Int.max) ?? settings.cacheBytes
            case "types": settings.types = readMediaTypes(member, at: memberPath, into: &validator)
            default: break
            }
        }
        return settings
    }

    /// A list of media types such as `text/*` or `application/json` (RFC 9110 §8.3.1 tokens), lowercased.
    func readMediaTypes(_ value: JSONValue, at path: String, into validator: inout ConfigValidator) -> [String]? {
        guard let elements = validator.array(value, at: path) else { return nil }
        var types: [String] = []
        for (index, element) in elements.enumerated() {
            let elementPath = ConfigProblem.keyPath(path, index: index)
            guard let text = validator.string(element, at: elementPath) else { continue }
            let parts = text.lowercased().split(separator: "/", omittingEmptySubsequences: false)
            let isValid = parts.count == 2 && Self.isToken(parts[0]) && (parts[1] == "*" || Self.isToken(parts[1]))
            if isValid {
                types.append(text.lowercased())
            } else {
                validator.report(elementPath, "expected a media type such as \"text/*\" or \"application/json\", got \(element.shortDescription)")
            }
        }
        return types
    }

    /// RFC 9110 §5.6.2 `token`: one or more tchar.
    static func isToken(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            default:
                return "!#$%&'*+-.^_`|~".utf8.contains(byte)
            }
        }
    }

    /// `accessLog`: `sqlite` (required; a file path, resolved against the config folder),
    /// `flushMs` 1–60000, `retainDays` ≥ 1, `anonymizeClients`.
    func readAccessLog(_ value: JSONValue, at path: String, folder: String,
                       into validator: inout ConfigValidator) -> AccessLogConfig? {
        guard let members = validator.object(value, at: path, allowed: Self.accessLogKeys) else { return nil }
        var config = AccessLogConfig(sqlite: "")
        var hasDatabase = false
        for (key, member) in members {
            let memberPath = ConfigProblem.keyPath(path, key)
            switch key {
            case "sqlite":
                hasDatabase = true
                guard let written = validator.string(member, at: memberPath) else { continue }
                let absolute = ConfigFile.resolve(written, against: folder)
                if case .directory = ConfigFile.kind(of: absolute) {
                    validator.report(memberPath, "expected a database file, got a directory: \(written)")
                }
                config.sqlite = absolute
            case "flushMs":
                config.flushMs = validator.integer(member, at: memberPath, in: 1...60000) ?? config.flushMs
            case "retainDays":
                config.retainDays = validator.integer(member, at: memberPath, in: 1...Int.max)
            case "anonymizeClients":
                config.anonymizeClients = validator.bool(member, at: memberPath) ?? false
            case "postgres":
                hasDatabase = true
                guard let url = validator.string(member, at: memberPath) else { continue }
                if !PostgresConnection.isURL(url) {
                    validator.report(memberPath, "expected a postgresql:// URL, got \(member.shortDescription)")
                }
                config.postgres = url
            case "hostName":
                guard let name = validator.string(member, at: memberPath) else { continue }
                if name.isEmpty || name.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) {
                    validator.report(memberPath, "expected a host name without spaces, got \(member.shortDescription)")
                }
                config.hostName = name
            default:
                break
            }
        }
        if !hasDatabase { validator.reportMissing(ConfigProblem.keyPath(path, "sqlite")) }
        return config
    }

    /// `limits`: every key a positive integer.
    func readLimits(_ value: JSONValue, at path: String, into validator: inout ConfigValidator) -> Limits {
        var limits = Limits()
        guard let members = validator.object(value, at: path, allowed: Self.limitKeys) else { return limits }
        for (key, member) in members where Self.limitKeys.contains(key) {
            let memberPath = ConfigProblem.keyPath(path, key)
            guard let number = validator.integer(member, at: memberPath, in: 1...Int.max) else { continue }
            switch key {
            case "headerTimeoutMs": limits.headerTimeoutMs = number
            case "idleTimeoutMs": limits.idleTimeoutMs = number
            case "maxHeaderBytes": limits.maxHeaderBytes = number
            case "maxBodyBytes": limits.maxBodyBytes = number
            default: break
            }
        }
        return limits
    }
}

extension ConfigLoader {
    /// The keys of the top-level `acme` object.
    static let acmeKeys = ["directory", "email", "storage", "agreeToTerms", "trustedRoots"]

    /// `acme` (SPEC §6): the directory URL (https), a contact, the storage folder (made at
    /// start if missing) and the acceptance of the CA's terms.
    func readACME(_ value: JSONValue, at path: String, folder: String, into validator: inout ConfigValidator) -> ACMEConfig? {
        guard let members = validator.object(value, at: path, allowed: Self.acmeKeys) else { return nil }
        var config = ACMEConfig(directory: "", storage: ConfigFile.resolve("state/acme", against: folder))
        for (key, member) in members {
            let memberPath = ConfigProblem.keyPath(path, key)
            switch key {
            case "directory":
                guard let url = validator.string(member, at: memberPath) else { continue }
                if HTTPSURL(url) == nil {
                    validator.report(memberPath, "expected an https:// URL, got \(member.shortDescription)")
                }
                config.directory = url
            case "email":
                guard let email = validator.string(member, at: memberPath) else { continue }
                if !email.contains("@") || email.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) {
                    validator.report(memberPath, "expected an e-mail address, got \(member.shortDescription)")
                }
                config.email = email
            case "storage":
                if let written = validator.string(member, at: memberPath) {
                    config.storage = ConfigFile.resolve(written, against: folder)
                }
            case "agreeToTerms":
                config.agreeToTerms = validator.bool(member, at: memberPath) ?? false
            case "trustedRoots":
                if let written = validator.string(member, at: memberPath) {
                    config.trustedRoots = ConfigFile.resolve(written, against: folder)
                }
            default:
                break
            }
        }
        if members.first(where: { $0.key == "directory" }) == nil { validator.reportMissing(ConfigProblem.keyPath(path, "directory")) }
        if !config.agreeToTerms {
            validator.report(ConfigProblem.keyPath(path, "agreeToTerms"),
                             "must be true: certificates are only issued to accounts that accept the CA's terms")
        }
        return config
    }

    /// What must hold between listeners and sites for HTTPS: a TLS listener needs a site with
    /// a certificate, `"tls": "acme"` needs `acme`, and `httpsRedirect` needs a TLS listener
    /// or trusted proxies (HTTPS ends at the proxy, which says so in X-Forwarded-Proto).
    func checkTLS(listen: [ListenAddress], sites: [SiteConfig], acme: ACMEConfig?, behindProxies: Bool,
                  into validator: inout ConfigValidator) {
        let hasTLSListener = listen.contains(where: \.tls)
        if hasTLSListener && !sites.contains(where: { $0.tls != nil }) {
            validator.report("listen", "a TLS listener needs at least one site with \"tls\"")
        }
        for (index, site) in sites.enumerated() {
            let sitePath = ConfigProblem.keyPath("sites", index: index)
            if site.tls == .acme && acme == nil {
                validator.report(ConfigProblem.keyPath(sitePath, "tls"), "\"acme\" needs the top-level \"acme\" settings")
            }
            if site.tls == .acme && site.hosts.contains(where: { $0.hasPrefix("*.") }) {
                validator.report(ConfigProblem.keyPath(sitePath, "tls"),
                                 "ACME's HTTP-01 challenge cannot issue wildcard names; give this site a certificate file")
            }
            if site.httpsRedirect && !hasTLSListener && !behindProxies {
                validator.report(ConfigProblem.keyPath(sitePath, "httpsRedirect"),
                                 "needs a listener with \"tls\": true, or trustedProxies that terminate HTTPS")
            }
        }
    }
}

extension ConfigLoader {
    /// `admin` (SPEC §7): `{"listen": "127.0.0.1:9180"}`, one HOST:PORT of its own.
    func readAdmin(_ value: JSONValue, at path: String, into validator: inout ConfigValidator) -> AdminConfig? {
        guard let members = validator.object(value, at: path, allowed: ["listen"]) else { return nil }
        guard let member = members.first(where: { $0.key == "listen" })?.value else {
            validator.reportMissing(ConfigProblem.keyPath(path, "listen"))
            return nil
        }
        let memberPath = ConfigProblem.keyPath(path, "listen")
        guard let text = validator.string(member, at: memberPath) else { return nil }
        guard let address = Self.parseListenAddress(text) else {
            validator.report(memberPath, "invalid address \(member.shortDescription); \(Self.listenForms)")
            return nil
        }
        return AdminConfig(listen: address)
    }
}

extension ConfigLoader {
    /// `trustedProxies` (SPEC §7): addresses and CIDR ranges, IPv4 or IPv6, as one string or
    /// a list. A range with host bits set ("10.0.0.1/8") is refused as a likely typo.
    func readTrustedProxies(_ value: JSONValue, at path: String, into validator: inout ConfigValidator) -> TrustedProxies {
        guard let entries = validator.stringOrList(value, at: path) else { return .none }
        var ranges: [AddressRange] = []
        for entry in entries {
            guard let text = validator.string(entry.value, at: entry.path) else { continue }
            guard let range = AddressRange(text) else {
                validator.report(entry.path, "expected an IP address or CIDR range such as 10.0.0.0/8 or fd00::/8, got \(entry.value.shortDescription)")
                continue
            }
            ranges.append(range)
        }
        return TrustedProxies(ranges)
    }
}
