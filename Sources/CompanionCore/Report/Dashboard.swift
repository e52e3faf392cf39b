// Dashboard: the report served live on the admin listener (SPEC §7):
// `GET /dashboard?site=a.test&since=1d` is the page, and the page's EventSource reads
// `GET /dashboard/events?...` (server-sent events, one port, no WebSocket). Each
// events response carries the report's new body when the log moved since the
// `Last-Event-ID` the browser sends, else nothing, and a `retry` of 500 ms, so the
// browser asks again: the page follows the log within about a second.
//
// Reading the log takes milliseconds to a few hundred on a large file, so it never
// runs on an event loop: a thread of its own keeps each asked-for view (a URL query)
// rendered, re-reading when the log's newest id moves; the loop answers from what the
// thread last rendered. A view nobody asked for in 30 s is dropped.
import Glibc
import Synchronization

/// Turns a dashboard URL's parameters into a query and its description (the CLI parses
/// them as `companion logs` options, so both accept the same filters with the same errors).
public typealias DashboardQueryParser = @Sendable (_ parameters: [(name: String, value: String)], _ nowMicros: Int64) throws -> (LogQuery, String)

public final class Dashboard: Sendable {
    /// The SQLite file or the PostgreSQL URL.
    let source: String
    let parse: DashboardQueryParser
    let openReader: @Sendable (String) throws -> any LogReading

    struct View {
        var parameters: [(name: String, value: String)]
        var body: String?
        /// Increases with each new rendering (the SSE event id).
        var generation = 0
        /// The log's newest id when `body` was read.
        var mark: Int64 = -1
        var renderedAtMs: Int64 = 0
        var lastAskedMs: Int64
    }

    struct State {
        var views: [String: View] = [:]
        var threadStarted = false
        var stopping = false
    }

    /// Guarded by its mutex; `wake` only carries wake-ups to the thread.
    let state = Mutex(State())
    let wake = WakeSignal()

    static let retryMilliseconds = 500
    static let viewLifetimeMs: Int64 = 30_000
    /// Relative windows (`since=1h`) move with the clock: re-read at least this often.
    static let refreshMs: Int64 = 10_000
    static let maxViews = 16
    /// A busy log moves every commit: one reading per view at most this often (a report of a
    /// large log takes a few hundred ms; this bounds the thread to a fraction of a core).
    static let minimumRenderIntervalMs: Int64 = 750

    public init(source: String, parse: @escaping DashboardQueryParser,
                openReader: @escaping @Sendable (String) throws -> any LogReading) {
        self.source = source
        self.parse = parse
        self.openReader = openReader
    }

    // MARK: - Answers (on an event loop: no reading of the log here)

    /// The page: the last rendering of this view when there is one, and the live script.
    func page(rawQuery: String) -> Response {
        let parameters: [(name: String, value: String)]
        do {
            parameters = try validated(rawQuery)
        } catch {
            return Self.text("\(error)\n", status: .badRequest)
        }
        let body = touch(rawQuery, parameters).body
        let html = ReportHTML.shell(body: body ?? "<p class=\"empty\">Reading the access log…</p>",
                                    title: "companion: live access log", liveScript: Self.script)
        var response = Response(status: .ok, body: .bytes(Array(html.utf8)))
        response.contentType = "text/html; charset=utf-8"
        response.extraHeaders.append(("Cache-Control", "no-store"))
        return response
    }

    /// One server-sent-events answer: the new body if the view moved past `lastEventID`.
    func events(rawQuery: String, lastEventID: String?) -> Response {
        let parameters: [(name: String, value: String)]
        do {
            parameters = try validated(rawQuery)
        } catch {
            return Self.text("\(error)\n", status: .badRequest)
        }
        let view = touch(rawQuery, parameters)
        var text = "retry: \(Self.retryMilliseconds)\n"
        if let body = view.body, String(view.generation) != lastEventID {
            text += "id: \(view.generation)\n"
            for line in body.split(separator: "\n", omittingEmptySubsequences: false) { text += "data: \(line)\n" }
        } else {
            text += ": no change\n"
        }
        text += "\n"
        var response = Response(status: .ok, body: .bytes(Array(text.utf8)))
        response.contentType = "text/event-stream; charset=utf-8"
        response.extraHeaders.append(("Cache-Control", "no-store"))
        return response
    }

    /// The parameters of a URL query, checked by parsing them once.
    private func validated(_ rawQuery: String) throws -> [(name: String, value: String)] {
        var parameters: [(name: String, value: String)] = []
        for pair in rawQuery.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            parameters.append((PercentEncoding.decodeQueryComponent(parts[0]),
                               parts.count > 1 ? PercentEncoding.decodeQueryComponent(parts[1]) : ""))
        }
        _ = try parse(parameters, UTCTime.nowMicros())
        return parameters
    }

    /// Marks the view as wanted (creating it) and returns it as last rendered.
    private func touch(_ key: String, _ parameters: [(name: String, value: String)]) -> View {
        let now = monotonicMilliseconds()
        let (view, startThread, isNew) = state.withLock { state -> (View, Bool, Bool) in
            var isNew = false
            if state.views[key] == nil {
                if state.views.count >= Self.maxViews,
                   let oldest = state.views.min(by: { $0.value.lastAskedMs < $1.value.lastAskedMs })?.key {
                    state.views[oldest] = nil
                }
                state.views[key] = View(parameters: parameters, lastAskedMs: now)
                isNew = true
            }
            state.views[key]!.lastAskedMs = now
            let start = !state.threadStarted && !state.stopping
            if start { state.threadStarted = true }
            return (state.views[key]!, start, isNew)
        }
        if startThread { _ = startDashboardThread(self) }
        if isNew { wake.signal() }
        return view
    }

    /// Ends the thread (server shutdown).
    public func stop() {
        state.withLock { $0.stopping = true }
        wake.signal()
    }

    // MARK: - The thread

    func run() {
        var reader: (any LogReading)?
        while true {
            let generation = wake.currentGeneration()
            let now = monotonicMilliseconds()
            let wanted = state.withLock { state -> [(String, View)]? in
                if state.stopping { return nil }
                state.views = state.views.filter { now - $0.value.lastAskedMs < Self.viewLifetimeMs }
                return state.views.map { ($0.key, $0.value) }
            }
            guard let wanted else { return }
            if !wanted.isEmpty {
                do {
                    if reader == nil { reader = try openReader(source) }
                    let mark = try reader!.maxID()
                    for (key, view) in wanted where (view.mark != mark && now - view.renderedAtMs >= Self.minimumRenderIntervalMs)
                        || now - view.renderedAtMs >= Self.refreshMs {
                        let nowMicros = UTCTime.nowMicros()
                        let body: String
                        do {
                            let (query, description) = try parse(view.parameters, nowMicros)
                            body = ReportHTML.body(try LogReport(reader: reader!, query: query, filterText: description, nowMicros: nowMicros))
                        } catch {
                            body = "<p class=\"empty\">\(ReportHTML.escape("\(error)"))</p>"
                        }
                        state.withLock { state in
                            guard var current = state.views[key] else { return }
                            current.body = body
                            current.generation += 1
                            current.mark = mark
                            current.renderedAtMs = now
                            state.views[key] = current
                        }
                    }
                } catch {
                    reader = nil   // the file is not there yet, or PostgreSQL restarted: open again next time
                }
            }
            // Four looks a second while someone watches; asleep until asked otherwise.
            wake.wait(after: generation, deadlineMs: wanted.isEmpty ? nil : monotonicMilliseconds() + 250)
        }
    }

    static func text(_ body: String, status: HTTPStatus) -> Response {
        var response = Response(status: status, body: .bytes(Array(body.utf8)))
        response.contentType = "text/plain; charset=utf-8"
        response.extraHeaders.append(("Cache-Control", "no-store"))
        return response
    }

    /// The page's script: the events of this page's own query replace the report's body.
    static let script = """
        (function () {
          var source = new EventSource('/dashboard/events' + window.location.search);
          source.onmessage = function (event) { document.getElementById('report').innerHTML = event.data; };
        })();
        """
}

/// Starts the dashboard's thread (detached; it returns after `stop()`).
func startDashboardThread(_ dashboard: Dashboard) -> Bool {
    guard case .success(let handle) = startThread(name: "companion-dash", { dashboard.run() }) else { return false }
    pthread_detach(handle)
    return true
}
