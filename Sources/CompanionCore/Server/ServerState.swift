// ServerState: everything a loop needs to answer requests under one config:
// the sites with their chains, the host router, the parser limits and the
// access-log writer. A reload builds a new ServerState and hands it to every
// loop; requests in flight finish with the state they started with.

import Synchronization

/// An immutable snapshot of the serving configuration.
public final class ServerState: Sendable {
    public let config: ServerConfig
    public let sites: [Site]
    let router: HostRouter
    let parserLimits: ParserLimits
    let accessLog: AccessLogWriter?
    /// A second sink for the same rows (PostgreSQL beside the SQLite file).
    let accessLogMirror: AccessLogWriter?
    let gzipCache: GzipCache
    /// The certificates of the sites, when a listener serves HTTPS.
    let tls: TLSContextSet?
    /// ACME HTTP-01 answers, shared with the ACME client (nil without `acme`).
    let challenges: ACMEChallenges?
    /// `https://` + this + host: the port suffix of redirects (empty for 443).
    let httpsPortSuffix: String
    /// The counters behind /metrics (nil for states built without a server, in tests).
    let metrics: ServerMetrics?
    /// The live report on the admin listener (nil without an admin listener or an access log).
    let dashboard: Dashboard?
    /// Distinct for every state the process makes: what a connection's RoutingMemo compares,
    /// holding no reference (an address could be reused by a later state).
    let serial = ServerState.serials.add(1, ordering: .relaxed).newValue
    private static let serials = Atomic<UInt64>(0)

    /// - Parameter compressionQueue: compresses large files off the loops for `gzipCache`;
    ///   nil serves large files uncompressed until something else fills the cache.
    /// - Parameters:
    ///   - previousTLS: the certificates of the state being replaced: a site whose files
    ///     are now broken keeps what it loaded (see TLSContextSet).
    ///   - report: where certificate problems of a reload go (stderr).
    init(config: ServerConfig, accessLog: AccessLogWriter?, accessLogMirror: AccessLogWriter? = nil, gzipCache: GzipCache,
         compressionQueue: CompressionQueue? = nil, plugins: PluginRegistry,
         previousTLS: TLSContextSet? = nil, challenges: ACMEChallenges? = nil, metrics: ServerMetrics? = nil,
         dashboard: Dashboard? = nil, report: (String) -> Void = { writeLineToStandardError("companion: \($0)") }) throws(ServerError) {
        self.config = config
        self.accessLog = accessLog
        self.accessLogMirror = accessLogMirror
        self.gzipCache = gzipCache
        self.challenges = challenges
        self.metrics = metrics
        self.dashboard = dashboard
        if config.listen.contains(where: \.tls) {
            tls = try TLSContextSet(config: config, previous: previousTLS, report: report)
        } else {
            tls = nil
        }
        let httpsPort = config.listen.first(where: \.tls)?.port ?? 443
        httpsPortSuffix = httpsPort == 443 ? "" : ":\(httpsPort)"
        var sites: [Site] = []
        for (index, siteConfig) in config.sites.enumerated() {
            let resolver: PathResolver
            do {
                resolver = try PathResolver(root: siteConfig.root)
            } catch {
                throw ServerError("sites[\(index)].root: cannot open \(siteConfig.root): \(error)")
            }
            var stages: [any Middleware] = []
            for plugin in siteConfig.plugins {
                do {
                    stages.append(try plugins.makeMiddleware(plugin, site: siteConfig, resolver: resolver))
                } catch let problem as ConfigProblem {
                    throw ServerError(problem.description)   // names its key: `sites[0].plugins[1].pages.404: ...`
                } catch {
                    throw ServerError("\(plugin.keyPath): \(error)")
                }
            }
            let chain = Chain(
                plugins: stages,
                gzip: siteConfig.gzip.enabled
                    ? GzipMiddleware(settings: siteConfig.gzip, cache: gzipCache, queue: compressionQueue,
                                     siteRoot: siteConfig.root)
                    : nil,
                index: IndexMiddleware(indexNames: siteConfig.index),
                listing: siteConfig.listing ? ListingMiddleware() : nil,
                staticFiles: StaticFileMiddleware())
            sites.append(Site(config: siteConfig, resolver: resolver, chain: chain,
                              metricsSlot: metrics?.slot(forSite: Site.name(of: siteConfig)) ?? 0))
        }
        self.sites = sites
        self.router = HostRouter(sites: config.sites, defaultIndex: config.defaultSiteIndex)
        self.parserLimits = ParserLimits(maxRequestLineBytes: 8192, maxHeaderBytes: config.limits.maxHeaderBytes, maxHeaderCount: 100)
    }
}

/// A start-up or reload failure, as one sentence for stderr.
public struct ServerError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
