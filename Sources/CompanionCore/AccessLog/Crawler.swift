// Crawler: which User-Agents count as crawlers, for `--crawlers-only` and
// `--ignore-crawlers` (GoAccess's options of the same names), the rollups' `crawler`
// dimension and the report's "Bots" family. One rule everywhere, so an answer from a
// rollup, from the raw rows and from PostgreSQL agree: the agent contains one of
// `tokens`, ASCII letters compared without case (other bytes exactly).

public enum Crawler {
    /// What crawlers put in their User-Agent ("Googlebot", "bingbot", "Baiduspider",
    /// "Yahoo! Slurp", "facebookexternalhit", "AhrefsBot", "DotBot", "Screaming Frog SEO Spider").
    public static let tokens = ["bot", "crawler", "spider", "slurp", "facebookexternalhit"]

    /// The same rule as a PostgreSQL regular expression for `~*` (tokens are plain letters).
    static let postgresPattern = "(" + tokens.joined(separator: "|") + ")"

    private static let tokenBytes: [[UInt8]] = tokens.map { Array($0.utf8) }

    /// Whether the agent's bytes contain a token.
    public static func matches(_ agent: UnsafeRawBufferPointer) -> Bool {
        let count = agent.count
        for token in tokenBytes where token.count <= count {
            for start in 0...(count - token.count) where matchesAt(agent, start, token) { return true }
        }
        return false
    }

    public static func matches(_ agent: String) -> Bool {
        var agent = agent
        return agent.withUTF8 { matches(UnsafeRawBufferPointer($0)) }
    }

    @inline(__always)
    private static func matchesAt(_ agent: UnsafeRawBufferPointer, _ start: Int, _ token: [UInt8]) -> Bool {
        for i in 0..<token.count {
            let byte = agent[start + i]
            // ASCII letters only: folding other bytes would map e.g. '[' onto '{'.
            let folded = (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
            if folded != token[i] { return false }
        }
        return true
    }
}
