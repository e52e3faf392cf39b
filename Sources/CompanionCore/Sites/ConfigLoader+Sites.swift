// ConfigLoader+Sites: the `sites` array: one SiteConfig per entry, host names
// unique across all sites, at most one `default: true`. Host-name rules are in
// ConfigLoader+Hosts.swift, gzip in ConfigLoader+Sections.swift.

extension ConfigLoader {
    /// The keys allowed in a site object.
    static let siteKeys = ["host", "root", "index", "listing", "gzip", "default", "plugins", "tls", "httpsRedirect"]

    /// `sites`: a non-empty list of site objects. Returns the sites and the default index, or `nil`
    /// when any site has a problem (all of them are still checked and reported).
    func readSites(_ value: JSONValue, at path: String, folder: String,
                   into validator: inout ConfigValidator) -> (sites: [SiteConfig], defaultIndex: Int)? {
        guard let elements = validator.array(value, at: path, nonEmpty: true) else { return nil }
        var sites: [SiteConfig] = []
        var hostOwners: [String: Int] = [:]
        var defaultIndex: Int?
        var isValid = true
        for (index, element) in elements.enumerated() {
            let sitePath = ConfigProblem.keyPath(path, index: index)
            let problemsBefore = validator.problems.count
            let site = readSite(element, at: sitePath, index: index, folder: folder,
                                hostOwners: &hostOwners, into: &validator)
            if let site, site.isDefault {
                if let earlier = defaultIndex {
                    validator.report(ConfigProblem.keyPath(sitePath, "default"),
                                     "only one site can be the default; \(ConfigProblem.keyPath(path, index: earlier)) already is")
                } else {
                    defaultIndex = index
                }
            }
            if let site, validator.problems.count == problemsBefore {
                sites.append(site)
            } else {
                isValid = false
            }
        }
        return isValid ? (sites, defaultIndex ?? 0) : nil
    }

    /// One site object; `nil` when it is not an object. Problems are reported as found.
    func readSite(_ value: JSONValue, at path: String, index: Int, folder: String,
                  hostOwners: inout [String: Int], into validator: inout ConfigValidator) -> SiteConfig? {
        guard let members = validator.object(value, at: path, allowed: Self.siteKeys) else { return nil }
        var hosts: [String]?
        var root: String?
        var site = SiteConfig(hosts: [], root: "")
        for (key, member) in members {
            let memberPath = ConfigProblem.keyPath(path, key)
            switch key {
            case "host":
                hosts = readHosts(member, at: memberPath, site: index, owners: &hostOwners, into: &validator)
            case "root":
                root = readRoot(member, at: memberPath, folder: folder, into: &validator)
            case "index":
                site.index = readIndex(member, at: memberPath, into: &validator) ?? site.index
            case "listing":
                readListing(member, at: memberPath, into: &site, validator: &validator)
            case "gzip":
                site.gzip = readGzip(member, at: memberPath, into: &validator) ?? site.gzip
            case "default":
                site.isDefault = validator.bool(member, at: memberPath) ?? false
            case "plugins":
                site.plugins = readPlugins(member, at: memberPath, into: &validator)
            case "tls":
                readSiteTLS(member, at: memberPath, folder: folder, into: &site, validator: &validator)
            case "httpsRedirect":
                site.httpsRedirect = validator.bool(member, at: memberPath) ?? false
            default:
                break  // reported as an unknown key
            }
        }
        if members.first(where: { $0.key == "host" }) == nil { validator.reportMissing(ConfigProblem.keyPath(path, "host")) }
        if members.first(where: { $0.key == "root" }) == nil { validator.reportMissing(ConfigProblem.keyPath(path, "root")) }
        // Returned even when incomplete, so `default` is still checked across sites; the caller
        // drops sites that added problems.
        site.hosts = hosts ?? []
        site.root = root ?? ""
        return site
    }

    /// `tls`: `"acme"`, or `{"certificate": PEM, "key": PEM, "hsts": value}`, or
    /// `{"acme": true, "hsts": value}`. Paths resolve against the config folder; the files are
    /// read when the server starts (and by `companion check`).
    func readSiteTLS(_ value: JSONValue, at path: String, folder: String, into site: inout SiteConfig,
                     validator: inout ConfigValidator) {
        if let text = value.stringValue {
            if text == "acme" {
                site.tls = .acme
            } else {
                validator.report(path, "expected \"acme\" or an object with \"certificate\" and \"key\", got \(value.shortDescription)")
            }
            return
        }
        guard let members = validator.object(value, at: path, allowed: ["certificate", "key", "hsts", "acme"]) else { return }
        var certificate: String?
        var key: String?
        var acme = false
        for (name, member) in members {
            let memberPath = ConfigProblem.keyPath(path, name)
            switch name {
            case "certificate":
                certificate = validator.string(member, at: memberPath).map { ConfigFile.resolve($0, against: folder) }
            case "key":
                key = validator.string(member, at: memberPath).map { ConfigFile.resolve($0, against: folder) }
            case "acme":
                acme = validator.bool(member, at: memberPath) ?? false
            case "hsts":
                guard let hsts = validator.string(member, at: memberPath) else { continue }
                if hsts.isEmpty || hsts.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
                    validator.report(memberPath, "expected a header value such as \"max-age=63072000\"")
                } else {
                    site.hsts = hsts
                }
            default:
                break
            }
        }
        if acme {
            if certificate != nil || key != nil {
                validator.report(path, "give either \"acme\": true or \"certificate\" and \"key\", not both")
            }
            site.tls = .acme
            return
        }
        if certificate == nil { validator.reportMissing(ConfigProblem.keyPath(path, "certificate")) }
        if key == nil { validator.reportMissing(ConfigProblem.keyPath(path, "key")) }
        if let certificate, let key { site.tls = .files(certificate: certificate, key: key) }
    }

    /// `root`: an existing directory. Relative paths resolve against the config folder.
    /// SECURITY: the result is the real path (symlinks resolved), so a "real path stays inside the
    /// root" check (SPEC §3) compares canonical paths; a root that is itself a symlink would
    /// otherwise make every file look outside it, or a later change of the link move the site.
    func readRoot(_ value: JSONValue, at path: String, folder: String, into validator: inout ConfigValidator) -> String? {
        guard let written = validator.string(value, at: path) else { return nil }
        let absolute = ConfigFile.resolve(written, against: folder)
        let shown = written.hasPrefix("/") ? written : "\(written) (resolved to \(absolute))"
        switch ConfigFile.kind(of: absolute) {
        case .missing:
            validator.report(path, "directory does not exist: \(shown)")
        case .other:
            validator.report(path, "not a directory: \(shown)")
        case .inaccessible(let reason):
            validator.report(path, "cannot access directory: \(shown): \(reason)")
        case .directory:
            guard let real = ConfigFile.realPath(absolute) else {
                validator.report(path, "cannot resolve directory: \(shown)")
                return nil
            }
            return real
        }
        return nil
    }

    /// `index`: a list of plain file names tried in order (`index.html`).
    /// SECURITY: no `/` (an index must not reach into another folder, or out with `..`) and no
    /// dotfiles (they are never served, so such an index could never match).
    func readIndex(_ value: JSONValue, at path: String, into validator: inout ConfigValidator) -> [String]? {
        guard let elements = validator.array(value, at: path) else { return nil }
        var names: [String] = []
        var isValid = true
        for (index, element) in elements.enumerated() {
            let elementPath = ConfigProblem.keyPath(path, index: index)
            guard let name = validator.string(element, at: elementPath) else {
                isValid = false
                continue
            }
            let shown = element.shortDescription
            if name.contains("/") || name.utf8.contains(0) {
                validator.report(elementPath, "expected a plain file name without '/', got \(shown)")
                isValid = false
            } else if name.hasPrefix(".") {
                validator.report(elementPath, "index file names cannot start with '.' (dotfiles are never served), got \(shown)")
                isValid = false
            } else {
                names.append(name)
            }
        }
        return isValid ? names : nil
    }

    /// `plugins`: an ordered list of objects, each with a string `type`; the rest of each object is
    /// checked by the plugin registry through `validatePlugin`.
    func readPlugins(_ value: JSONValue, at path: String, into validator: inout ConfigValidator) -> [PluginConfig] {
        guard let elements = validator.array(value, at: path) else { return [] }
        var plugins: [PluginConfig] = []
        for (index, element) in elements.enumerated() {
            let pluginPath = ConfigProblem.keyPath(path, index: index)
            guard element.objectValue != nil else {
                validator.report(pluginPath, "expected an object with a \"type\", got \(element.shortDescription)")
                continue
            }
            let typePath = ConfigProblem.keyPath(pluginPath, "type")
            guard let typeValue = element["type"] else {
                validator.reportMissing(typePath)
                continue
            }
            guard let type = validator.string(typeValue, at: typePath) else { continue }
            let plugin = PluginConfig(type: type, options: element, keyPath: pluginPath)
            validator.append(contentsOf: validatePlugin(plugin))
            plugins.append(plugin)
        }
        return plugins
    }
}
