// `companion serve`: load the config, bind, serve until SIGTERM/SIGINT, reload on SIGHUP.
import ArgumentParser
import CompanionCore
import Glibc

public struct ServeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the sites in the config until SIGTERM or SIGINT (SIGHUP reloads the config).")

    @OptionGroup public var options: ConfigOptions

    @Option(name: .long, help: ArgumentHelp("Listen on HOST:PORT instead of the config's `listen` (repeatable; [::1]:8080 for IPv6, port 0 picks a free port).", valueName: "addr"))
    public var listen: [String] = []

    @Option(name: .long, help: "Number of event loops (threads); 0 = one per CPU. Overrides `workers`.")
    public var workers: Int?

    public init() {}

    public func validate() throws {
        for value in listen where ConfigLoader.parseListenAddress(value) == nil {
            throw ValidationError("--listen: expected HOST:PORT such as 127.0.0.1:8080 or [::1]:8080; got \"\(value)\"")
        }
        if let workers, workers < 0 {
            throw ValidationError("--workers: expected a number ≥ 0; got \(workers)")
        }
    }

    public func run() throws {
        let registry = ActivePlugins.registry
        var config: ServerConfig
        do {
            config = try registry.configLoader.load(path: options.config)
        } catch {
            throw CLIError.config(error)
        }
        applyOverrides(to: &config)

        Signals.blockServerSignals()
        let notifier = SystemdNotifier()
        let server: Server
        do {
            server = try Server(config: config, plugins: registry, inheritedSockets: SocketActivation.takeInheritedSockets(),
                                dashboardQueryParser: LogFilterOptions.dashboardParser(configPath: options.config))
        } catch {
            throw CLIError.message(error.description)
        }
        for address in server.boundAddresses {
            writeLineToStandardError("companion: listening on \(address.tls ? "https" : "http")://\(address)/")
        }
        if let admin = server.boundAdminAddress {
            writeLineToStandardError("companion: admin (metrics, health) on http://\(admin)/")
        }
        for (index, site) in config.sites.enumerated() {
            let flags = [index == config.defaultSiteIndex ? "default" : nil,
                         site.listing ? "listing" : nil, site.gzip.enabled ? "gzip" : nil].compactMap { $0 }
            writeLineToStandardError("companion: site \(site.hosts.joined(separator: ", ")) -> \(site.root)\(flags.isEmpty ? "" : " (\(flags.joined(separator: ", ")))")")
        }
        // Start-up is over: what it alone touched of the code and read-only data leaves the
        // resident set (see StartupPages). Before "ready", so whoever waits for it sees that.
        StartupPages.release()
        writeLineToStandardError("companion: ready (\(config.workers) worker\(config.workers == 1 ? "" : "s"), pid \(getpid()))")
        notifier.ready(status: "serving \(config.sites.count) site\(config.sites.count == 1 ? "" : "s")")

        let configPath = options.config
        Signals.waitForShutdown {
            notifier.reloading()
            defer { notifier.ready(status: "serving") }
            do {
                var fresh = try registry.configLoader.load(path: configPath)
                applyOverrides(to: &fresh)
                try server.reload(fresh)
                // The reload ran start-up code again (the config loader, new sites): give it
                // back as start-up did, or each reload leaves ~3 MiB more resident.
                StartupPages.release()
                return nil
            } catch let error as ConfigError {
                server.recordFailedReload()
                return error.description
            } catch {
                return "\(error)"
            }
        }
        notifier.stopping()
        writeLineToStandardError("companion: stopping (finishing responses in flight, at most 10 s)")
        server.stop(graceMilliseconds: 10_000)
        writeLineToStandardError("companion: stopped")
    }

    private func applyOverrides(to config: inout ServerConfig) {
        if !listen.isEmpty { config.listen = listen.compactMap(ConfigLoader.parseListenAddress) }
        if let workers { config.workers = workers == 0 ? ConfigLoader.onlineCPUCount() : workers }
    }
}

/// Errors the CLI prints as `companion: <message>` lines and exits 1 for.
enum CLIError: Error, CustomStringConvertible {
    case config(ConfigError)
    case message(String)

    var description: String {
        switch self {
        case .config(let error): return error.description
        case .message(let text): return text
        }
    }
}
