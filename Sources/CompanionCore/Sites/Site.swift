// Site: one virtual host at run time: its config, its root-contained resolver
// and its composed middleware chain. Immutable after construction and shared
// by every event loop.

/// A site ready to serve.
public final class Site: Sendable {
    public let config: SiteConfig
    /// The first host name: what the access log records as `site`.
    public let name: String
    /// `name` as bytes, for the access log's rows (copied per request).
    let nameUTF8: [UInt8]
    /// The only way to reach the file system for this site (SECURITY: one resolver
    /// for files, index files, sidecars, fallbacks and error pages).
    public let resolver: PathResolver
    /// Built after `init` because the stages may need the site's resolver.
    let chain: Chain
    /// This site's row in the loops' request counters (ServerMetrics).
    let metricsSlot: Int

    /// The first host name: what the access log records as `site` and /metrics labels it.
    static func name(of config: SiteConfig) -> String { config.hosts.first ?? "default" }

    init(config: SiteConfig, resolver: PathResolver, chain: Chain, metricsSlot: Int = 0) {
        self.metricsSlot = metricsSlot
        self.config = config
        self.name = Self.name(of: config)
        self.nameUTF8 = Array(name.utf8)
        self.resolver = resolver
        self.chain = chain
    }
}
