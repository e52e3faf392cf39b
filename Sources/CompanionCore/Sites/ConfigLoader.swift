// ConfigLoader: turns config.json (SPEC §2) into a ServerConfig, or a ConfigError
// listing every problem with its key path. Steps: read the file → parse strict
// JSON → walk the top-level keys in file order (each section in its own
// ConfigLoader+Aspect.swift) → throw all problems at once or return the config.
// Relative paths resolve against the folder of the config file, not the
// working directory. Not on the request path (start-up and SIGHUP only).

import CLinux
import Glibc

/// Loads and validates `config.json`.
///
/// Called at start-up, by `companion check` and on SIGHUP; it reads the file system
/// (site roots, user database) but changes nothing. Safe to call from any thread.
public struct ConfigLoader: Sendable {
    /// Checks one plugin entry; supplied by the plugin registry.
    let validatePlugin: @Sendable (PluginConfig) -> [ConfigProblem]

    /// The keys allowed at the top level of config.json.
    static let topLevelKeys = ["listen", "workers", "sites", "accessLog", "limits", "user", "acme", "admin", "trustedProxies"]

    /// Creates a loader.
    /// - Parameter validatePlugin: returns the problems of one `sites[i].plugins[j]` entry, with key
    ///   paths under `plugin.keyPath`. The default accepts any `type`.
    public init(validatePlugin: @escaping @Sendable (PluginConfig) -> [ConfigProblem] = { _ in [] }) {
        self.validatePlugin = validatePlugin
    }

    /// Reads and validates the config file at `path`.
    /// - Throws: ``ConfigError`` naming `path` as given, also when the file is missing or unreadable.
    public func load(path: String) throws(ConfigError) -> ServerConfig {
        switch ConfigFile.read(path) {
        case .success(let bytes):
            return try load(bytes: bytes, configPath: path)
        case .failure(let failure):
            throw ConfigError(file: path, problems: [ConfigProblem(path: "", message: failure.message)])
        }
    }

    /// Validates config bytes as if they were read from `configPath`, which names the file in
    /// errors and whose folder anchors relative paths.
    /// - Throws: ``ConfigError`` with every problem found.
    public func load(bytes: [UInt8], configPath: String) throws(ConfigError) -> ServerConfig {
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            let message = "line \(error.line), column \(error.column): \(error.message)"
            throw ConfigError(file: configPath, problems: [ConfigProblem(path: error.path, message: message)])
        }
        var validator = ConfigValidator()
        let absoluteConfigPath = ConfigFile.absolutePath(configPath)
        let folder = ConfigFile.directoryName(of: absoluteConfigPath)
        guard let members = validator.object(document, at: "", allowed: Self.topLevelKeys) else {
            throw ConfigError(file: configPath, problems: validator.problems)
        }

        var listen = [ListenAddress(host: "127.0.0.1", port: 8080, isIPv6: false)]
        var workers = 0
        var sites: (sites: [SiteConfig], defaultIndex: Int)?
        var accessLog: AccessLogConfig?
        var limits = Limits()
        var user: String?
        var acme: ACMEConfig?
        var admin: AdminConfig?
        var trustedProxies = TrustedProxies.none
        var hasSites = false
        for (key, value) in members {
            switch key {
            case "listen":
                listen = readListen(value, at: key, into: &validator) ?? listen
            case "workers":
                workers = validator.integer(value, at: key, in: 0...Int.max) ?? 0
            case "sites":
                hasSites = true
                sites = readSites(value, at: key, folder: folder, into: &validator)
            case "accessLog":
                accessLog = readAccessLog(value, at: key, folder: folder, into: &validator)
            case "limits":
                limits = readLimits(value, at: key, into: &validator)
            case "user":
                user = readUser(value, at: key, into: &validator)
            case "acme":
                acme = readACME(value, at: key, folder: folder, into: &validator)
            case "admin":
                admin = readAdmin(value, at: key, into: &validator)
            case "trustedProxies":
                trustedProxies = readTrustedProxies(value, at: key, into: &validator)
            default:
                break  // reported as an unknown key by `object`
            }
        }
        if !hasSites { validator.reportMissing("sites") }
        if let admin, admin.listen.port != 0,
           let index = listen.firstIndex(where: { $0.host == admin.listen.host && $0.port == admin.listen.port }) {
            validator.report("admin.listen", "\(admin.listen) is also listen[\(index)]: the admin listener must be an address of its own")
        }
        if trustedProxies.isEmpty, let index = listen.firstIndex(where: \.proxyProtocol) {
            validator.report("listen[\(index)].proxyProtocol",
                             "needs trustedProxies: the load balancers allowed to send PROXY headers (others are refused)")
        }
        if let sites { checkTLS(listen: listen, sites: sites.sites, acme: acme, behindProxies: !trustedProxies.isEmpty,
                                            into: &validator) }

        guard validator.problems.isEmpty, let sites else {
            throw ConfigError(file: configPath, problems: validator.problems)
        }
        var config = ServerConfig(
            listen: listen,
            workers: workers == 0 ? Self.onlineCPUCount() : workers,
            sites: sites.sites,
            accessLog: accessLog,
            limits: limits,
            user: user,
            configPath: absoluteConfigPath,
            defaultSiteIndex: sites.defaultIndex
        )
        config.acme = acme
        config.admin = admin
        config.trustedProxies = trustedProxies
        return config
    }

    /// `user`: a name that exists in the user database (checked now so `check` catches a typo
    /// before a root start-up fails half-way).
    func readUser(_ value: JSONValue, at path: String, into validator: inout ConfigValidator) -> String? {
        guard let name = validator.string(value, at: path) else { return nil }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        let status = getpwnam_r(name, &entry, &buffer, buffer.count, &result)
        if status == 0 && result == nil {
            validator.report(path, "no such user: \(name)")
            return nil
        }
        return name
    }

    /// Number of CPUs this process may run on (its affinity mask), at least 1.
    public static func onlineCPUCount() -> Int {
        Int(companion_available_cpus())
    }
}
