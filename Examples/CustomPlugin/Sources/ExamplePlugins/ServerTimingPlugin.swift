// ServerTimingPlugin: a custom plugin type `serverTiming` that measures how long
// the rest of the chain took and reports it to the browser's dev tools:
//   {"type": "serverTiming", "metric": "app"}  →  Server-Timing: app;dur=0.042
// (W3C Server Timing: `dur` is in milliseconds; here with microsecond precision).
import CompanionCore
import Glibc

/// Adds `Server-Timing: <metric>;dur=<milliseconds>` to every response.
public struct ServerTimingPlugin: Middleware {
    /// The metric name (a token), `app` by default.
    public let metric: String

    public init(metric: String = "app") {
        self.metric = metric
    }

    /// The plugin type to register: `registry.register(ServerTimingPlugin.type)`.
    ///
    /// `parse` runs at config load (for `companion check` and `serve`) and reports
    /// problems with their key paths; `build` runs once per site with valid settings.
    public static let type = PluginType(
        name: "serverTiming",
        keys: ["metric"],
        parse: { (options: inout PluginOptions) -> ServerTimingPlugin? in
            let metric = options.string("metric") ?? "app"
            let isToken = metric.utf8.allSatisfy { byte in
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            }
            if !isToken { options.report("metric", "expected letters, digits, '-' or '_', got \"\(metric)\"") }
            return options.problems.isEmpty ? ServerTimingPlugin(metric: metric) : nil
        },
        build: { settings, _ in settings })

    /// Runs on the event-loop thread: time the inner stages, then add the header.
    public func respond(to request: Request, next: (Request) -> Response) -> Response {
        let start = Self.nowNanoseconds()
        var response = next(request)
        let elapsed = Self.nowNanoseconds() - start
        response.addHeader("Server-Timing", "\(metric);dur=\(Self.milliseconds(elapsed))")
        return response
    }

    /// Monotonic clock in nanoseconds.
    static func nowNanoseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int(now.tv_sec) * 1_000_000_000 + Int(now.tv_nsec)
    }

    /// 42_000 ns → "0.042".
    static func milliseconds(_ nanoseconds: Int) -> String {
        let micros = max(0, nanoseconds) / 1000
        let fraction = String(micros % 1000)
        return "\(micros / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
