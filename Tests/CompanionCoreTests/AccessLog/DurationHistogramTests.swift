// DurationHistogram: the buckets the rollups and every percentile use, and the blob
// encoding read back from files any tool may have written.
import Testing
@testable import CompanionCore

@Suite struct DurationHistogramTests {
    @Test func everyBucketHoldsTheDurationsBetweenItsBounds() {
        for bucket in 0..<DurationHistogram.bucketCount {
            let upper = DurationHistogram.upperBound(ofBucket: bucket)
            let lower = bucket == 0 ? 0 : DurationHistogram.upperBound(ofBucket: bucket - 1) + 1
            #expect(DurationHistogram.bucket(ofMicros: upper) == bucket)
            #expect(DurationHistogram.bucket(ofMicros: lower) == bucket)
            // At most 12.5 % wide.
            #expect(Double(upper - lower) <= Double(max(lower, 1)) * 0.125 + 1)
        }
        #expect(DurationHistogram.upperBound(ofBucket: DurationHistogram.bucketCount - 1) == DurationHistogram.maxMicros)
        #expect(DurationHistogram.bucket(ofMicros: .max) == DurationHistogram.bucketCount - 1)
        #expect(DurationHistogram.bucket(ofMicros: -5) == 0)
    }

    @Test func percentilesAreNearestRankBucketBounds() {
        var histogram = DurationHistogram()
        for micros in [50, 100, 300, 1500, 2000, 12000] { histogram.add(micros: micros) }
        #expect(histogram.percentile(50) == 319)
        #expect(histogram.percentile(95) == 12287)
        #expect(histogram.percentile(0) == 51)
        #expect(DurationHistogram().percentile(50) == nil)
    }

    @Test func blobsRoundTripAndForeignOnesAreRefused() throws {
        var histogram = DurationHistogram()
        for micros in [3, 3, 900, 70_000] { histogram.add(micros: micros) }
        let blob = histogram.encoded()
        var decoded = DurationHistogram()
        #expect(blob.withUnsafeBytes { decoded.merge(encoded: $0) })
        #expect(decoded == histogram)
        // Found by fuzz/run.sh histogram: a bucket past the last (279 of 272) was accepted,
        // and its bound (2^37 - 1) was a percentile no duration can have.
        var foreign = DurationHistogram()
        let bad: [UInt8] = [0x00, 0x01, 0x07, 0x03, 0x10, 0x80, 0x01, 0x97, 0x02, 0x01]
        #expect(!bad.withUnsafeBytes { foreign.merge(encoded: $0) })
        #expect((foreign.percentile(100) ?? 0) <= DurationHistogram.maxMicros)
        // Found by fuzz/run.sh histogram: a count of 2^64 - 1 trapped converting the rank.
        var huge = DurationHistogram()
        let counts: [UInt8] = [0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x05, 0x03]
        #expect(counts.withUnsafeBytes { huge.merge(encoded: $0) })
        // (The total wraps: the answer is garbage for garbage, but an answer, and a bucket's bound.)
        for percent in [1.0, 50, 99, 100] {
            let value = try #require(huge.percentile(percent))
            #expect(DurationHistogram.upperBound(ofBucket: DurationHistogram.bucket(ofMicros: value)) == value)
        }
        // A varint that never ends is refused too.
        #expect(![UInt8](repeating: 0xFF, count: 12).withUnsafeBytes { foreign.merge(encoded: $0) })
    }

    /// The writer's per-commit sums keep a dense span of buckets that widens both ways; their
    /// blob must be the one a DurationHistogram of the same durations encodes (in bucket order,
    /// no empty buckets), whatever order the durations came in.
    @Test func aCommitsSpanOfBucketsEncodesLikeAHistogram() {
        var generator = SplitMix(seed: 13)
        for round in 0..<200 {
            var totals = RollupAccumulator.Totals()
            var expected = DurationHistogram()
            let count = Int.random(in: 1...40, using: &generator)
            for _ in 0..<count {
                // Mostly close together, sometimes far below or above (0 µs to the cap and past it).
                let micros = switch Int.random(in: 0..<10, using: &generator) {
                case 0: Int.random(in: 0...7, using: &generator)
                case 1: Int.random(in: 0...(1 << 37), using: &generator)
                default: Int.random(in: 200...900, using: &generator)
                }
                totals.add(bytes: 0, durationMicros: micros, bucket: DurationHistogram.bucket(ofMicros: micros))
                expected.add(micros: micros)
            }
            #expect(totals.encodedHistogram() == expected.encoded(), "round \(round)")
            #expect(totals.requests == count)
        }
        #expect(RollupAccumulator.Totals().encodedHistogram().isEmpty)
    }
}
