// BlockUserAgentPlugin: a custom plugin type `blockUserAgent` that refuses
// requests whose User-Agent contains one of the configured words (ASCII
// case-insensitive), optionally only under a path pattern:
//   {"type": "blockUserAgent", "contains": ["BadBot", "curl/"], "match": "/private/*"}
import CompanionCore

/// Answers 403 to matching user agents.
public struct BlockUserAgentPlugin: Middleware {
    /// Lowercased words; a User-Agent containing any of them is refused.
    public let words: [[UInt8]]
    public let match: PathPattern?

    public init(words: [String], match: PathPattern? = nil) {
        self.words = words.map { Array($0.lowercased().utf8) }
        self.match = match
    }

    /// The plugin type to register: `registry.register(BlockUserAgentPlugin.type)`.
    public static let type = PluginType(
        name: "blockUserAgent",
        keys: ["contains", "match"],
        parse: { (options: inout PluginOptions) -> BlockUserAgentPlugin? in
            let match = options.pattern("match")
            let words = options.stringList("contains", expected: "a non-empty word") { !$0.isEmpty }
            if options.value("contains") == nil { options.reportMissing("contains") }
            guard options.problems.isEmpty, let words else { return nil }
            return BlockUserAgentPlugin(words: words, match: match)
        },
        build: { settings, _ in settings })

    public func respond(to request: Request, next: (Request) -> Response) -> Response {
        if let match, !match.matches(request.path) { return next(request) }
        guard let agent = request.header(.userAgent), words.contains(where: { Self.contains(agent, $0) }) else {
            return next(request)
        }
        return .error(.forbidden)
    }

    /// True when `haystack` contains `needle` (lowercase), ignoring ASCII case; no String is built.
    static func contains(_ haystack: ArraySlice<UInt8>, _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        var start = haystack.startIndex
        while start + needle.count <= haystack.endIndex {
            var index = 0
            while index < needle.count {
                var byte = haystack[start + index]
                if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { byte |= 0x20 }
                if byte != needle[index] { break }
                index += 1
            }
            if index == needle.count { return true }
            start += 1
        }
        return false
    }
}
