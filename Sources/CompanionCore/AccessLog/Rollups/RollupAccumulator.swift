// RollupAccumulator: the sums of one commit for every rollup table, built from the
// rows the writer is inserting (no read-back), then added to the tables with one
// UPSERT per touched rollup row inside the same transaction as the rows, so the
// rollups and the raw rows never disagree, even after kill -9. Writer thread only.

struct RollupAccumulator {
    /// A rollup row's identity: which rollup, the bucket start (Unix seconds) and up to
    /// four dimension values (unused ones 0).
    struct Key: Hashable {
        var rollup: Int
        var start: Int64
        var d0: Int64, d1: Int64, d2: Int64, d3: Int64

        /// One word into the hasher instead of six (the writer hashes six keys per row): the
        /// fields mixed with odd multipliers; equality still compares every field.
        func hash(into hasher: inout Hasher) {
            var mixed = UInt64(bitPattern: start) &* 0x9E37_79B9_7F4A_7C15
            mixed ^= UInt64(bitPattern: d0) &* 0xC2B2_AE3D_27D4_EB4F
            mixed ^= UInt64(bitPattern: d1) &* 0x1656_67B1_9E37_79F9
            mixed ^= UInt64(bitPattern: d2) &* 0x85EB_CA77_C2B2_AE63
            mixed ^= UInt64(bitPattern: d3) &* 0x27D4_EB2F_1656_67C5
            mixed ^= UInt64(rollup) &* 0xFF51_AFD7_ED55_8CCD
            hasher.combine(mixed)
        }
    }

    struct Totals {
        var requests = 0
        var bytes = 0
        var durationMicros = 0
        /// (bucket, count) pairs, unordered; a path or a minute has few distinct buckets.
        var histogram: [(bucket: Int, count: UInt64)] = []

        mutating func add(bytes: Int, durationMicros: Int, bucket: Int?) {
            requests += 1
            self.bytes += bytes
            self.durationMicros += durationMicros
            if let bucket { addDuration(bucket: bucket) }
        }

        mutating func addDuration(bucket: Int) {
            for i in histogram.indices where histogram[i].bucket == bucket {
                histogram[i].count += 1
                return
            }
            histogram.append((bucket, 1))
        }

        func encodedHistogram() -> [UInt8] {
            var bytes: [UInt8] = []
            for (bucket, count) in histogram.sorted(by: { $0.bucket < $1.bucket }) {
                DurationHistogram.appendVarint(UInt64(bucket), to: &bytes)
                DurationHistogram.appendVarint(count, to: &bytes)
            }
            return bytes
        }
    }

    /// The values of one row that the rollups group by (`strings` ids, 0 for NULL).
    struct RowValues {
        var milliseconds: Int64
        var site: Int64, status: Int64, method: Int64, path: Int64
        var referrer: Int64, userAgent: Int64, client: Int64
        /// 1 for a crawler's User-Agent, else 0.
        var crawler: Int64
        var bytes: Int, durationMicros: Int

        /// The value of `dimension` (0 for none: a rollup with fewer than four dimensions).
        @inline(__always)
        func value(of dimension: RollupDimension?) -> Int64 {
            switch dimension {
            case .site: site
            case .status: status
            case .method: method
            case .path: path
            case .referrer: referrer
            case .user_agent: userAgent
            case .client: client
            case .crawler: crawler
            case nil: 0
            }
        }
    }

    /// `Rollup.all` flattened for `add`, which runs six times a row: no array or string of
    /// a `Rollup` is touched per row.
    private struct Plan {
        /// The bucket widths whose starts `add` computes once a row with constant divisors
        /// (a division by a variable was a quarter of `add`'s samples under perf).
        enum Width { case minute, hour, day, other }

        var width: Width
        var unitMs: Int64
        var d0: RollupDimension?, d1: RollupDimension?, d2: RollupDimension?, d3: RollupDimension?
        var hasHistogram: Bool

        init(_ rollup: Rollup) {
            func dimension(_ i: Int) -> RollupDimension? { i < rollup.dimensions.count ? rollup.dimensions[i] : nil }
            width = switch rollup.unitMs { case 60_000: .minute; case 3_600_000: .hour; case 86_400_000: .day; default: .other }
            unitMs = rollup.unitMs
            d0 = dimension(0); d1 = dimension(1); d2 = dimension(2); d3 = dimension(3)
            hasHistogram = rollup.hasHistogram
        }
    }

    private static let plans = Rollup.all.map(Plan.init)

    private(set) var index: [Key: Int] = [:]
    private(set) var totals: [Totals] = []
    private let plans = RollupAccumulator.plans
    /// The previous row's key and slot per rollup (`rollup` -1: none): consecutive rows mostly
    /// share their minute, site, status and method, so most rows skip the dictionary (hashing
    /// six keys a row was ~1,500 of the writer's instructions per row under callgrind).
    private var lastKeys = [Key](repeating: Key(rollup: -1, start: 0, d0: 0, d1: 0, d2: 0, d3: 0), count: Rollup.all.count)
    private var lastSlots = [Int](repeating: 0, count: Rollup.all.count)

    var isEmpty: Bool { totals.isEmpty }

    mutating func removeAll() {
        index.removeAll(keepingCapacity: true)
        totals.removeAll(keepingCapacity: true)
        for number in lastKeys.indices { lastKeys[number].rollup = -1 }
    }

    mutating func add(_ row: RowValues) {
        let bucket = DurationHistogram.bucket(ofMicros: row.durationMicros)
        let minute = row.milliseconds / 60_000 * 60
        let hour = row.milliseconds / 3_600_000 * 3600
        let day = row.milliseconds / 86_400_000 * 86_400
        for number in 0..<plans.count {
            let plan = plans[number]
            let start = switch plan.width {
            case .minute: minute
            case .hour: hour
            case .day: day
            case .other: row.milliseconds / plan.unitMs * (plan.unitMs / 1000)
            }
            let key = Key(rollup: number, start: start,
                          d0: row.value(of: plan.d0), d1: row.value(of: plan.d1),
                          d2: row.value(of: plan.d2), d3: row.value(of: plan.d3))
            let slot: Int
            if lastKeys[number] == key {
                slot = lastSlots[number]
            } else {
                if let found = index[key] {
                    slot = found
                } else {
                    slot = totals.count
                    index[key] = slot
                    totals.append(Totals())
                }
                lastKeys[number] = key
                lastSlots[number] = slot
            }
            totals[slot].add(bytes: row.bytes, durationMicros: row.durationMicros, bucket: plan.hasHistogram ? bucket : nil)
        }
    }

    /// Adds every accumulated row to its table with `statements[rollup]` (`Rollup.upsertSQL`).
    func write(with statements: [SQLiteStatement]) throws(SQLiteError) {
        for (key, slot) in index {
            let rollup = Rollup.all[key.rollup]
            let statement = statements[key.rollup]
            let row = totals[slot]
            statement.bind(key.start, at: 1)
            var parameter: Int32 = 2
            for d in 0..<rollup.dimensions.count {
                statement.bind(d == 0 ? key.d0 : d == 1 ? key.d1 : d == 2 ? key.d2 : key.d3, at: parameter)
                parameter += 1
            }
            statement.bind(row.requests, at: parameter)
            statement.bind(row.bytes, at: parameter + 1)
            statement.bind(row.durationMicros, at: parameter + 2)
            if rollup.hasHistogram { statement.bind(blob: row.encodedHistogram(), at: parameter + 3) }
            defer { statement.reset() }
            try statement.step()
        }
    }
}
