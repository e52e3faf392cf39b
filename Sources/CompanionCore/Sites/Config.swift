// Config: the resolved, validated config (SPEC §2) as plain values. Built only
// by ConfigLoader, which guarantees every field below holds a checked value:
// absolute paths, lowercased host names, defaults filled in. Key names keep
// their SPEC spelling, so a config key and its field are found by the same search.

/// An address to listen on: `127.0.0.1:8080`, `[::1]:8080`, `0.0.0.0:0`.
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// The numeric address in canonical text form (`127.0.0.1`, `::1`, `0.0.0.0`, `::`), without brackets.
    public var host: String
    /// TCP port, 0–65535; 0 asks the kernel for a free port.
    public var port: Int
    /// Whether `host` is an IPv6 address (bind with `AF_INET6`).
    public var isIPv6: Bool
    /// HTTPS on this address (`{"address": ..., "tls": true}`, SPEC §6).
    public var tls: Bool
    /// Every connection starts with a PROXY protocol v1 or v2 header (SPEC §7).
    public var proxyProtocol: Bool = false

    /// Creates an address; prefer ``ConfigLoader/parseListenAddress(_:)`` for user input.
    public init(host: String, port: Int, isIPv6: Bool, tls: Bool = false) {
        self.host = host
        self.port = port
        self.isIPv6 = isIPv6
        self.tls = tls
    }

    /// `127.0.0.1:8080` or `[::1]:8080`.
    public var description: String {
        isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// On-the-fly gzip settings of a site (`sites[].gzip`).
public struct GzipSettings: Sendable, Equatable {
    /// `gzip: false` turns compression off; an object or `true` turns it on.
    public var enabled: Bool = true
    /// zlib level, 1 (fast) – 9 (small).
    public var level: Int = 6
    /// Bodies smaller than this are sent as they are.
    public var minBytes: Int = 256
    /// Compressible media types (`text/*`, `application/json`), lowercased; `nil` = the built-in list.
    public var types: [String]? = nil
    /// Upper bound of the in-memory cache of compressed bodies.
    public var cacheBytes: Int = 64 << 20

    /// The defaults: on, level 6, 256 bytes, built-in types, 64 MiB cache.
    public init() {}
}

/// One entry of `sites[].plugins`, not yet interpreted: the plugin registry turns it into middleware.
public struct PluginConfig: Sendable {
    /// The `type` member (`headers`, `redirect`, ...).
    public var type: String
    /// The whole plugin object, `type` included.
    public var options: JSONValue
    /// Where it sits in the file (`sites[0].plugins[1]`), to prefix the plugin's own problems.
    public var keyPath: String

    /// Creates a plugin entry.
    public init(type: String, options: JSONValue, keyPath: String) {
        self.type = type
        self.options = options
        self.keyPath = keyPath
    }
}

/// Where a site's certificate comes from (`sites[].tls`, SPEC §6).
public enum SiteTLS: Sendable, Equatable {
    /// PEM files: the certificate (the leaf, then any intermediates) and its private key.
    case files(certificate: String, key: String)
    /// Issued and renewed over ACME (top-level `acme`).
    case acme
}

/// The operators' listener (top-level `admin`, SPEC §7): `/metrics`, `/healthz`.
public struct AdminConfig: Sendable, Equatable {
    /// Where it listens; loopback unless the operator says otherwise.
    public var listen: ListenAddress

    public init(listen: ListenAddress) {
        self.listen = listen
    }
}

/// The ACME client's settings (top-level `acme`, SPEC §6).
public struct ACMEConfig: Sendable, Equatable {
    /// The directory URL (`https://acme-v02.api.letsencrypt.org/directory`).
    public var directory: String
    /// Contact for the account (`mailto:` is added).
    public var email: String?
    /// Absolute folder for the account key and the certificates.
    public var storage: String
    /// The CA's terms of service are accepted (required by most CAs).
    public var agreeToTerms: Bool = false
    /// PEM file of CA certificates to trust for the directory's HTTPS instead of the
    /// system's (a private or test CA such as pebble's).
    public var trustedRoots: String?

    public init(directory: String, storage: String) {
        self.directory = directory
        self.storage = storage
    }

    /// Where a site's issued certificate (`fullchain.pem`) and key (`key.pem`) live.
    public func certificateFolder(for siteName: String) -> String {
        storage + "/certificates/" + String(siteName.map { $0 == "*" ? "_" : $0 })
    }
}

/// One site: the host names it answers and the folder it serves.
public struct SiteConfig: Sendable {
    /// Host names, lowercased, without a trailing dot; may start with `*.` (wildcard). Never empty.
    public var hosts: [String]
    /// The document root, absolute with symlinks resolved (an existing directory at load time).
    public var root: String
    /// File names tried, in order, for a directory request.
    public var index: [String] = ["index.html"]
    /// Whether a directory without an index file is listed (else 403).
    public var listing: Bool = false
    /// A listing shows at most this many entries (the first ones in the requested order) and
    /// says how many more there are: a directory of 100,000 files is not a 15 MB page.
    public var listingMaxEntries: Int = SiteConfig.defaultListingMaxEntries
    public static let defaultListingMaxEntries = 1000
    /// Compression settings.
    public var gzip = GzipSettings()
    /// Whether this site answers requests for unknown hosts.
    public var isDefault: Bool = false
    /// Plugins in config order (outermost first).
    public var plugins: [PluginConfig] = []
    /// HTTPS certificate, if the site is served over TLS.
    public var tls: SiteTLS? = nil
    /// `tls.hsts`: the `Strict-Transport-Security` value of its HTTPS responses.
    public var hsts: String? = nil
    /// Plain-HTTP requests get 308 to the same URL on HTTPS (ACME challenges excepted).
    public var httpsRedirect: Bool = false

    /// Creates a site with the defaults of SPEC §2 for everything but hosts and root.
    public init(hosts: [String], root: String) {
        self.hosts = hosts
        self.root = root
    }
}

/// Where and how the access log is written (`accessLog`).
public struct AccessLogConfig: Sendable, Equatable {
    /// Absolute path of the SQLite database (created with its folder if missing); empty when
    /// the log goes to PostgreSQL only.
    public var sqlite: String
    /// `postgresql://` URL of a PostgreSQL database that receives the same rows (SPEC §7).
    public var postgres: String? = nil
    /// The `host_name` of this server's PostgreSQL rows (default: the machine's host name).
    public var hostName: String? = nil
    /// Upper bound, in milliseconds, on how far the database may lag behind responses.
    public var flushMs: Int = 1000
    /// Rows older than this many days are deleted; `nil` keeps everything.
    public var retainDays: Int? = nil
    /// Zero the last IPv4 octet / last 80 IPv6 bits of client addresses.
    public var anonymizeClients: Bool = false

    /// Creates a config for the database at `sqlite` with the default options.
    public init(sqlite: String) {
        self.sqlite = sqlite
    }
}

/// Per-connection limits (`limits`).
public struct Limits: Sendable, Equatable {
    /// Time allowed for a complete request head.
    public var headerTimeoutMs = 10000
    /// Idle keep-alive connections close after this.
    public var idleTimeoutMs = 60000
    /// Upper bound of the header fields after the request line.
    public var maxHeaderBytes = 16384
    /// Larger request bodies get 413.
    public var maxBodyBytes = 1 << 20

    /// The defaults of SPEC §2.
    public init() {}
}

/// The whole validated config.
public struct ServerConfig: Sendable {
    /// Addresses to listen on; never empty (default `127.0.0.1:8080`).
    public var listen: [ListenAddress]
    /// Number of event loops; already resolved (config 0 or absent → online CPUs).
    public var workers: Int
    /// Sites in config order; never empty.
    public var sites: [SiteConfig]
    /// The access log, or `nil` to log nothing.
    public var accessLog: AccessLogConfig?
    /// Connection limits.
    public var limits: Limits
    /// User to switch to after binding when started as root.
    public var user: String?
    /// Absolute path of the config file (for SIGHUP reloads).
    public var configPath: String
    /// Index into ``sites`` of the site that answers unknown hosts.
    public var defaultSiteIndex: Int
    /// The ACME client's settings, when a site has `"tls": "acme"`.
    public var acme: ACMEConfig? = nil
    /// The admin listener, if any (never one of `listen`).
    public var admin: AdminConfig? = nil
    /// Peers whose X-Forwarded-For/-Proto and PROXY headers are believed (SPEC §7).
    public var trustedProxies: TrustedProxies = .none

    /// Creates a config; ``ConfigLoader`` is the normal way to get one.
    public init(listen: [ListenAddress], workers: Int, sites: [SiteConfig], accessLog: AccessLogConfig?,
                limits: Limits, user: String?, configPath: String, defaultSiteIndex: Int) {
        self.listen = listen
        self.workers = workers
        self.sites = sites
        self.accessLog = accessLog
        self.limits = limits
        self.user = user
        self.configPath = configPath
        self.defaultSiteIndex = defaultSiteIndex
    }

    /// A router over ``sites`` with ``defaultSiteIndex`` as the fallback.
    public func makeHostRouter() -> HostRouter {
        HostRouter(sites: sites, defaultIndex: defaultSiteIndex)
    }
}
