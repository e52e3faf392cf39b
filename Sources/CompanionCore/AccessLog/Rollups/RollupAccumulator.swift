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

        @inline(__always)
        func value(of dimension: RollupDimension) -> Int64 {
            switch dimension {
            case .site: site
            case .status: status
            case .method: method
            case .path: path
            case .referrer: referrer
            case .user_agent: userAgent
            case .client: client
            case .crawler: crawler
            }
        }
    }

    private(set) var index: [Key: Int] = [:]
    private(set) var totals: [Totals] = []
    /// The previous row's key and slot per rollup: consecutive rows mostly share their minute,
    /// site, status and method, so most rows skip the dictionary (hashing six keys a row was
    /// ~1,500 of the writer's instructions per row under callgrind).
    private var lastKeys: [Key?] = Array(repeating: nil, count: Rollup.all.count)
    private var lastSlots: [Int] = Array(repeating: 0, count: Rollup.all.count)

    var isEmpty: Bool { totals.isEmpty }

    mutating func removeAll() {
        index.removeAll(keepingCapacity: true)
        totals.removeAll(keepingCapacity: true)
        for number in lastKeys.indices { lastKeys[number] = nil }
    }

    mutating func add(_ row: RowValues) {
        let bucket = DurationHistogram.bucket(ofMicros: row.durationMicros)
        for (number, rollup) in Rollup.all.enumerated() {
            let dimensions = rollup.dimensions
            let key = Key(rollup: number, start: row.milliseconds / rollup.unitMs * (rollup.unitMs / 1000),
                          d0: row.value(of: dimensions[0]),
                          d1: dimensions.count > 1 ? row.value(of: dimensions[1]) : 0,
                          d2: dimensions.count > 2 ? row.value(of: dimensions[2]) : 0,
                          d3: dimensions.count > 3 ? row.value(of: dimensions[3]) : 0)
            let slot: Int
            if lastKeys[number] == key {
                slot = lastSlots[number]
            } else if let found = index[key] {
                slot = found
            } else {
                slot = totals.count
                index[key] = slot
                totals.append(Totals())
            }
            lastKeys[number] = key
            lastSlots[number] = slot
            totals[slot].requests += 1
            totals[slot].bytes += row.bytes
            totals[slot].durationMicros += row.durationMicros
            if rollup.hasHistogram { totals[slot].addDuration(bucket: bucket) }
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
