// PluginRegistry: the named plugin types a config may use in `sites[].plugins`.
// A plugin type is a name, a validator that reports problems with their key
// paths (run at config load), and a factory that builds its middleware once per
// site. Built-in types register themselves in `builtIn`; a custom `companion`
// binary registers more (see Examples/CustomPlugin).

/// What a plugin factory gets besides its own config.
public struct PluginContext: Sendable {
    /// The site the plugin belongs to.
    public let site: SiteConfig
    /// The site's root-contained resolver: the only way a plugin may read files.
    public let resolver: PathResolver
}

/// One plugin type.
public struct PluginType: Sendable {
    public let name: String
    /// Checks `config.options`; returns one problem per bad key, with paths like
    /// `sites[0].plugins[1].status`. Called at config load, never per request.
    public let validate: @Sendable (PluginConfig) -> [ConfigProblem]
    /// Builds the middleware for a config that passed `validate`.
    public let make: @Sendable (PluginConfig, PluginContext) throws -> any Middleware

    public init(name: String,
                validate: @escaping @Sendable (PluginConfig) -> [ConfigProblem],
                make: @escaping @Sendable (PluginConfig, PluginContext) throws -> any Middleware) {
        self.name = name
        self.validate = validate
        self.make = make
    }
}

/// A set of plugin types by name.
public struct PluginRegistry: Sendable {
    private var types: [String: PluginType] = [:]

    public init(_ types: [PluginType] = []) {
        for type in types { self.types[type.name] = type }
    }

    /// Adds (or replaces) a plugin type.
    public mutating func register(_ type: PluginType) {
        types[type.name] = type
    }

    /// The registered names, sorted.
    public var names: [String] { types.keys.sorted() }

    /// Config-load validation: an unknown `type` or the type's own problems.
    public func validate(_ plugin: PluginConfig) -> [ConfigProblem] {
        guard let type = types[plugin.type] else {
            return [ConfigProblem(path: plugin.keyPath + ".type",
                                  message: "unknown plugin type \"\(plugin.type)\" (known: \(names.joined(separator: ", ")))")]
        }
        return type.validate(plugin)
    }

    /// Builds the middleware for `plugin` in `site`.
    public func makeMiddleware(_ plugin: PluginConfig, site: SiteConfig, resolver: PathResolver) throws -> any Middleware {
        guard let type = types[plugin.type] else { throw ServerError("unknown plugin type \"\(plugin.type)\"") }
        return try type.make(plugin, PluginContext(site: site, resolver: resolver))
    }

    /// A config loader that validates plugins against this registry.
    public var configLoader: ConfigLoader {
        let registry = self
        return ConfigLoader(validatePlugin: { registry.validate($0) })
    }
}

extension PluginRegistry {
    /// The built-in plugin types of SPEC §4.
    public static var builtIn: PluginRegistry {
        PluginRegistry(BuiltInPlugins.all)
    }
}

/// The list of built-in plugin types (one file per plugin in this folder).
enum BuiltInPlugins {
    static var all: [PluginType] {
        [HeadersPlugin.type, RedirectPlugin.type, SPAFallbackPlugin.type, ErrorPagesPlugin.type,
         CORSPlugin.type, BasicAuthPlugin.type]
    }
}
