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
        /// Counts of the duration buckets `firstBucket ..< firstBucket + counts.count`: a dense
        /// span, because one key's durations fall in neighbouring buckets, and indexing it
        /// costs a few instructions a row where searching (bucket, count) pairs cost ~150
        /// (callgrind). The widest span, 0 µs to the largest duration, is under 300 buckets.
        var firstBucket = 0
        var counts: [UInt64] = []

        mutating func add(bytes: Int, durationMicros: Int, bucket: Int?) {
            requests += 1
            self.bytes += bytes
            self.durationMicros += durationMicros
            if let bucket { addDuration(bucket: bucket) }
        }

        @inline(__always)
        mutating func addDuration(bucket: Int) {
            let i = bucket &- firstBucket
            if i >= 0 && i < counts.count {
                counts[i] += 1
            } else {
                widen(toInclude: bucket)
                counts[bucket - firstBucket] += 1
            }
        }

        private mutating func widen(toInclude bucket: Int) {
            if counts.isEmpty {
                firstBucket = bucket
                counts = [0]
            } else if bucket < firstBucket {
                counts.insert(contentsOf: repeatElement(0, count: firstBucket - bucket), at: 0)
                firstBucket = bucket
            } else {
                counts.append(contentsOf: repeatElement(0, count: bucket - firstBucket - counts.count + 1))
            }
        }

        /// The buckets in order, as `DurationHistogram` blobs hold them (empty ones left out).
        func encodedHistogram() -> [UInt8] {
            var bytes: [UInt8] = []
            for (i, count) in counts.enumerated() where count > 0 {
                DurationHistogram.appendVarint(UInt64(firstBucket + i), to: &bytes)
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
        /// The `Input` bits its key is made of.
        var inputs: UInt16

        init(_ rollup: Rollup) {
            func dimension(_ i: Int) -> RollupDimension? { i < rollup.dimensions.count ? rollup.dimensions[i] : nil }
            width = switch rollup.unitMs { case 60_000: .minute; case 3_600_000: .hour; case 86_400_000: .day; default: .other }
            unitMs = rollup.unitMs
            d0 = dimension(0); d1 = dimension(1); d2 = dimension(2); d3 = dimension(3)
            hasHistogram = rollup.hasHistogram
            inputs = switch width {
            case .minute: Input.minute
            case .hour: Input.hour
            case .day: Input.day
            case .other: Input.always   // its start is not among the compared values
            }
            for dimension in rollup.dimensions { inputs |= Input.bit(dimension) }
        }
    }

    /// Bits for what a key is made of: the bucket starts, then each dimension.
    private enum Input {
        static let always: UInt16 = 1
        static let minute: UInt16 = 1 << 1
        static let hour: UInt16 = 1 << 2
        static let day: UInt16 = 1 << 3
        @inline(__always)
        static func bit(_ dimension: RollupDimension) -> UInt16 {
            switch dimension {
            case .site: 1 << 4
            case .status: 1 << 5
            case .method: 1 << 6
            case .path: 1 << 7
            case .referrer: 1 << 8
            case .user_agent: 1 << 9
            case .client: 1 << 10
            case .crawler: 1 << 11
            }
        }
    }

    private static let plans = Rollup.all.map(Plan.init)

    private(set) var index: [Key: Int] = [:]
    private(set) var totals: [Totals] = []
    private let plans = RollupAccumulator.plans
    /// The previous row and its buckets' starts, nil after `removeAll`: consecutive rows mostly
    /// share their minute, site, status and method, so most rollups add to the previous row's
    /// slot without building a key or hashing it (hashing six keys a row was ~1,500 of the
    /// writer's instructions per row under callgrind).
    private var previous: (row: RowValues, minute: Int64, hour: Int64, day: Int64)?
    /// Each rollup's slot for the previous row (-1: none yet).
    private var lastSlots = [Int](repeating: -1, count: Rollup.all.count)

    var isEmpty: Bool { totals.isEmpty }

    mutating func removeAll() {
        index.removeAll(keepingCapacity: true)
        totals.removeAll(keepingCapacity: true)
        previous = nil
        for number in lastSlots.indices { lastSlots[number] = -1 }
    }

    mutating func add(_ row: RowValues) {
        let bucket = DurationHistogram.bucket(ofMicros: row.durationMicros)
        let minute = row.milliseconds / 60_000 * 60
        let hour = row.milliseconds / 3_600_000 * 3600
        let day = row.milliseconds / 86_400_000 * 86_400
        // Which of the values the keys are made of differ from the previous row's: a rollup
        // none of whose inputs changed adds to the same slot again, without building its key
        // (most rows repeat the site, status, method and minute of the row before).
        var changed = Input.always
        if let last = previous {
            if minute != last.minute { changed |= Input.minute }
            if hour != last.hour { changed |= Input.hour }
            if day != last.day { changed |= Input.day }
            if row.site != last.row.site { changed |= Input.bit(.site) }
            if row.status != last.row.status { changed |= Input.bit(.status) }
            if row.method != last.row.method { changed |= Input.bit(.method) }
            if row.path != last.row.path { changed |= Input.bit(.path) }
            if row.referrer != last.row.referrer { changed |= Input.bit(.referrer) }
            if row.userAgent != last.row.userAgent { changed |= Input.bit(.user_agent) }
            if row.client != last.row.client { changed |= Input.bit(.client) }
            if row.crawler != last.row.crawler { changed |= Input.bit(.crawler) }
        } else {
            changed = .max
        }
        previous = (row, minute, hour, day)
        for number in 0..<plans.count {
            let plan = plans[number]
            var slot = lastSlots[number]
            if changed & plan.inputs != 0 || slot < 0 {
                let start = switch plan.width {
                case .minute: minute
                case .hour: hour
                case .day: day
                case .other: row.milliseconds / plan.unitMs * (plan.unitMs / 1000)
                }
                let key = Key(rollup: number, start: start,
                              d0: row.value(of: plan.d0), d1: row.value(of: plan.d1),
                              d2: row.value(of: plan.d2), d3: row.value(of: plan.d3))
                if let found = index[key] {
                    slot = found
                } else {
                    slot = totals.count
                    index[key] = slot
                    totals.append(Totals())
                }
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
