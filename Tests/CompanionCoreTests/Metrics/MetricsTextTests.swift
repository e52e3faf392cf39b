// The pieces of the Prometheus text that are easy to get subtly wrong: decimal seconds
// without float noise, label escaping, and site slots that survive reloads.
@testable import CompanionCore
import Testing

struct MetricsTextTests {
    @Test func secondsAreExactDecimals() {
        #expect(MetricsText.seconds(2500) == "0.0025")
        #expect(MetricsText.seconds(100) == "0.0001")
        #expect(MetricsText.seconds(10_000_000) == "10")
        #expect(MetricsText.seconds(1_250_000) == "1.25")
        #expect(MetricsText.seconds(0) == "0")
    }

    @Test func labelValuesAreEscaped() {
        #expect(MetricsText.escapeLabel("a\"b\\c\nd") == #"a\"b\\c\nd"#)
        #expect(MetricsText.escapeLabel("plain.example") == "plain.example")
    }

    @Test func siteSlotsAreStableAndBounded() {
        let metrics = ServerMetrics(loopCount: 1)
        let a = metrics.slot(forSite: "a.test")
        #expect(a == 1)   // 0 is "_none"
        #expect(metrics.slot(forSite: "b.test") == 2)
        #expect(metrics.slot(forSite: "a.test") == a)
        for i in 0..<200 { _ = metrics.slot(forSite: "site\(i).test") }
        #expect(metrics.siteNames.count == LoopMetrics.siteSlots)
        #expect(metrics.siteNames.last == "_other")
        #expect(metrics.slot(forSite: "late.test") == LoopMetrics.siteSlots - 1)
        #expect(metrics.slot(forSite: "b.test") == 2)
    }

    @Test func durationsFallIntoTheirBuckets() {
        let loop = LoopMetrics()
        loop.recordResponse(siteSlot: 1, status: 200, bytes: 10, durationMicros: 100)     // ≤ 100 µs
        loop.recordResponse(siteSlot: 1, status: 404, bytes: 5, durationMicros: 101)      // ≤ 250 µs
        loop.recordResponse(siteSlot: 1, status: 503, bytes: 5, durationMicros: 99_000_000) // +Inf
        #expect(loop.value(LoopMetrics.Cell.durations) == 1)
        #expect(loop.value(LoopMetrics.Cell.durations + 1) == 1)
        #expect(loop.value(LoopMetrics.Cell.durations + LoopMetrics.durationBoundsMicros.count) == 1)
        #expect(loop.value(LoopMetrics.Cell.sites + LoopMetrics.columnsPerSite + 1) == 1)   // 2xx of slot 1
        #expect(loop.value(LoopMetrics.Cell.sites + LoopMetrics.columnsPerSite + 5) == 20)  // bytes of slot 1
    }
}
