// AccessLogWorker+Strings: the writer's side of the compact log (schema 4): a row's
// texts become `strings` ids (cached; new texts inserted; `strings.day` kept at the
// newest day that uses each text, for retention), and the rollups' bookkeeping
// (folding rows inserted by another connection, the covered id). Writer thread only,
// inside the commit's transaction.

/// The ids of the previous row, per field: consecutive rows mostly share their site,
/// method, protocol, scheme and encoding, and a byte compare is cheaper than a hash.
/// One per transaction (the pointers belong to its rows).
struct FieldMemo {
    var texts = [UnsafeRawBufferPointer?](repeating: nil, count: AccessLogBatch.Field.allCases.count)
    var ids = [Int64](repeating: 0, count: AccessLogBatch.Field.allCases.count)
    var day: Int32 = -1
    /// The previous row's User-Agent id and whether it is a crawler's.
    var agentID: Int64 = -1
    var agentIsCrawler = false
    /// The previous row's shape and its id (0: none yet this day).
    var shape = ShapeKey()
    var shapeID: Int64 = 0

    /// Whether `a` and `b`, both `count` bytes, hold the same bytes. Most fields are short (a
    /// method, a protocol, an address, a site, a path): up to 16 bytes are compared with two
    /// overlapping loads of each instead of a call to memcmp (eight calls a row were ~150 of
    /// the writer's instructions a row under callgrind).
    @inline(__always)
    static func sameBytes(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Bool {
        switch count {
        case 0:
            return true
        case 1...3:   // the first, middle and last byte cover every position
            return a.load(as: UInt8.self) == b.load(as: UInt8.self)
                && a.load(fromByteOffset: count >> 1, as: UInt8.self) == b.load(fromByteOffset: count >> 1, as: UInt8.self)
                && a.load(fromByteOffset: count - 1, as: UInt8.self) == b.load(fromByteOffset: count - 1, as: UInt8.self)
        case 4...7:
            return a.loadUnaligned(as: UInt32.self) == b.loadUnaligned(as: UInt32.self)
                && a.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self) == b.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
        case 8...16:
            return a.loadUnaligned(as: UInt64.self) == b.loadUnaligned(as: UInt64.self)
                && a.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self) == b.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        default:
            return memcmp(a, b, count) == 0
        }
    }

    /// Forgets the texts at a new day (each id's `strings.day` must be raised again); the
    /// agent's crawler flag belongs to its id and stays.
    mutating func reset() {
        for i in texts.indices { texts[i] = nil }
        day = -1
        shapeID = 0
    }
}

/// The seven `strings` ids of a `shapes` row, in `AccessLogSchema.shapeColumns` order (0 for
/// NULL). Stored fields rather than an array: a row builds one without allocating.
struct ShapeKey: Hashable {
    var site: Int64 = 0, host: Int64 = 0, method: Int64 = 0, protocolVersion: Int64 = 0
    var encoding: Int64 = 0, scheme: Int64 = 0, tlsVersion: Int64 = 0

    static let count = 7

    subscript(slot: Int) -> Int64 {
        get {
            switch slot {
            case 0: site
            case 1: host
            case 2: method
            case 3: protocolVersion
            case 4: encoding
            case 5: scheme
            default: tlsVersion
            }
        }
        set {
            switch slot {
            case 0: site = newValue
            case 1: host = newValue
            case 2: method = newValue
            case 3: protocolVersion = newValue
            case 4: encoding = newValue
            case 5: scheme = newValue
            default: tlsVersion = newValue
            }
        }
    }
}

/// Prepared statements on `strings`.
struct StringStatements {
    let find: SQLiteStatement
    let insert: SQLiteStatement
    let markDay: SQLiteStatement
    /// `AccessLogSchema.shapeUpsertSQL`.
    let shape: SQLiteStatement

    init(_ database: SQLiteDatabase) throws(SQLiteError) {
        find = try database.prepare("SELECT id, day FROM strings WHERE value = ?1")
        insert = try database.prepare("INSERT INTO strings (value, day) VALUES (?1, ?2)")
        markDay = try database.prepare("UPDATE strings SET day = MAX(day, ?1) WHERE id = ?2")
        shape = try database.prepare(AccessLogSchema.shapeUpsertSQL)
    }
}

extension AccessLogWorker {
    /// The `strings` id of a field's raw bytes, for a row of Unix day `day`.
    /// The previous row's id when the text is the same (most fields of most rows): inlined
    /// into the caller, so a hit costs no call (the function's entry and exit were ~170 of the
    /// writer's instructions a row).
    @inline(__always)
    func stringID(_ text: UnsafeRawBufferPointer, field: AccessLogBatch.Field, day: Int32, anonymize: Bool,
                  memo: inout FieldMemo) throws(SQLiteError) -> Int64 {
        let slot = field.rawValue
        if memo.day == day, let previous = memo.texts[slot], previous.count == text.count,
           text.count == 0 || FieldMemo.sameBytes(previous.baseAddress!, text.baseAddress!, count: text.count) {
            return memo.ids[slot]
        }
        return try newStringID(text, field: field, day: day, anonymize: anonymize, memo: &memo)
    }

    /// `stringID` for a text the previous row did not have in this field.
    @inline(never)
    private func newStringID(_ text: UnsafeRawBufferPointer, field: AccessLogBatch.Field, day: Int32, anonymize: Bool,
                             memo: inout FieldMemo) throws(SQLiteError) -> Int64 {
        let slot = field.rawValue
        if memo.day != day {
            memo.reset()
            memo.day = day
        }
        let isAnonymized = field == .client && anonymize
        let cache = isAnonymized ? anonymizedClients : strings
        let hash = StringIDCache.hash(text)
        let id: Int64
        if let entry = cache.lookup(text, hash: hash) {
            id = entry.id
            if entry.day < day {
                try markDay(id: id, day: day)
                cache.store(text, hash: hash, entry: .init(id: id, day: day))
            }
        } else {
            let loggable = AccessLogRecord.loggable(text)
            id = try storedStringID(isAnonymized ? ClientAnonymizer.anonymize(loggable) : loggable, day: day)
            cache.store(text, hash: hash, entry: .init(id: id, day: day))
        }
        memo.texts[slot] = text
        memo.ids[slot] = id
        return id
    }

    /// The `shapes` id of a row's seven ids, for a row of Unix day `day`: the previous row's
    /// when they are the same (most rows), else from the cache or the table (added when new,
    /// its day raised).
    @inline(__always)
    func shapeID(_ key: ShapeKey, day: Int32, memo: inout FieldMemo) throws(SQLiteError) -> Int64 {
        if memo.shapeID != 0, memo.day == day, memo.shape == key { return memo.shapeID }
        return try newShapeID(key, day: day, memo: &memo)
    }

    @inline(never)
    private func newShapeID(_ key: ShapeKey, day: Int32, memo: inout FieldMemo) throws(SQLiteError) -> Int64 {
        if memo.day != day {
            memo.reset()
            memo.day = day
        }
        let id: Int64
        if let entry = shapes[key], entry.day >= day {
            id = entry.id
        } else {
            let upsert = try statements().shape
            defer { upsert.reset() }
            for slot in 0..<ShapeKey.count { upsert.bind(key[slot], at: Int32(slot + 1)) }
            upsert.bind(Int(day), at: Int32(ShapeKey.count + 1))
            guard try upsert.step() else { throw SQLiteError(code: 1, message: "the shapes upsert returned no id") }
            id = upsert.int64(at: 0)
            if shapes.count >= Self.maxCachedShapes { shapes.removeAll(keepingCapacity: true) }
            shapes[key] = (id, day)
        }
        memo.shape = key
        memo.shapeID = id
        return id
    }

    private func statements() throws(SQLiteError) -> StringStatements {
        if let stringStatements { return stringStatements }
        guard let database else { throw SQLiteError(code: 21, message: "the access log is not open") }
        let made = try StringStatements(database)
        stringStatements = made
        return made
    }

    private func markDay(id: Int64, day: Int32) throws(SQLiteError) {
        let statement = try statements().markDay
        defer { statement.reset() }
        statement.bind(Int(day), at: 1)
        statement.bind(id, at: 2)
        try statement.step()
    }

    /// The id of `value` in `strings`, inserting it when new; its day raised to `day`.
    private func storedStringID(_ value: String, day: Int32) throws(SQLiteError) -> Int64 {
        let statements = try statements()
        let find = statements.find
        find.bind(value, at: 1)
        if try find.step() {
            let id = find.int64(at: 0)
            let storedDay = find.int(at: 1)
            find.reset()
            if storedDay < Int(day) { try markDay(id: id, day: day) }
            return id
        }
        find.reset()
        let insert = statements.insert
        defer { insert.reset() }
        insert.bind(value, at: 1)
        insert.bind(Int(day), at: 2)
        try insert.step()
        guard let database else { throw SQLiteError(code: 21, message: "the access log is not open") }
        return database.lastInsertRowID
    }

    /// Adds the raw rows with ids `first...last` to every rollup (rows another connection
    /// inserted; every row after a migration).
    func foldIntoRollups(in database: SQLiteDatabase, from first: Int64, through last: Int64) throws(SQLiteError) {
        guard first <= last else { return }
        for rollup in Rollup.all {
            let fold = try database.prepare(rollup.foldSQL)
            fold.bind(first, at: 1)
            fold.bind(last, at: 2)
            try fold.step()
        }
    }

    func setCoveredID(_ id: Int64, in database: SQLiteDatabase) throws(SQLiteError) {
        let update = try database.prepare("UPDATE log_rollup_state SET covered_id = ?1")
        update.bind(id, at: 1)
        try update.step()
    }

    func loadCoveredID(_ database: SQLiteDatabase) throws(SQLiteError) -> Int64 {
        let statement = try database.prepare("SELECT covered_id FROM log_rollup_state")
        return try statement.step() ? statement.int64(at: 0) : 0
    }

    /// Brings the rollups up to the newest row at open (a migrated file has none yet; rows
    /// another connection inserted after our last commit), in one transaction.
    func catchUpRollups(in database: SQLiteDatabase) throws(SQLiteError) -> Int64 {
        try database.immediateTransaction { () throws(SQLiteError) -> Int64 in
            let covered = try loadCoveredID(database)
            let newest = try SQLiteLogReader.maxID(in: database)
            guard newest > covered else { return covered }
            try foldIntoRollups(in: database, from: covered + 1, through: newest)
            try setCoveredID(newest, in: database)
            return newest
        }
    }

    /// Drops the connection and everything prepared on it.
    func closeDatabase() {
        insert = nil
        batchInsert = nil
        rollupUpserts = []
        stringStatements = nil
        database = nil
        forgetCachedIDs()
    }
}

import Glibc
