// Deadlines: one min-heap of timers per loop (header, idle, write and shutdown
// timeouts). Entries are lazy: a connection keeps its current deadline itself
// and has at most one heap entry; when an entry fires early (the connection's
// deadline moved later since it was pushed) the loop pushes it again. So a
// request costs no heap operation, and a timeout period costs O(log n).
// Entries of closed connections would stay until their time (10 s of header timeout:
// 200,000 entries, 3 MiB, after a storm of 20,000 `Connection: close` requests a second),
// so the loop sweeps them out when the heap outgrows its live connections (`compact`).

struct DeadlineHeap {
    struct Entry {
        var at: Int64       // monotonic milliseconds
        var token: UInt64   // connection token (fd | generation)
    }

    private(set) var entries: [Entry] = []

    var earliest: Int64? { entries.first?.at }
    var count: Int { entries.count }
    /// Entries the storage has room for (for tests: memory is given back).
    var capacity: Int { entries.capacity }

    mutating func push(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if entries[parent].at <= entries[child].at { break }
            entries.swapAt(parent, child)
            child = parent
        }
    }

    /// Removes and returns the earliest entry whose time is at or before `now`.
    mutating func popExpired(now: Int64) -> Entry? {
        guard let first = entries.first, first.at <= now else { return nil }
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            siftDown(0)
        }
        return first
    }

    /// Keeps only the entries `isCurrent` accepts and restores the heap order in O(n)
    /// (Floyd's construction). Storage mostly empty afterwards is reallocated smaller, so
    /// the memory of a connection storm is given back.
    mutating func compact(keeping isCurrent: (Entry) -> Bool) {
        entries.removeAll { !isCurrent($0) }
        if entries.capacity > 4 * max(entries.count, 256) {
            var smaller: [Entry] = []
            smaller.reserveCapacity(2 * max(entries.count, 256))
            smaller.append(contentsOf: entries)
            entries = smaller
        }
        var index = entries.count / 2 - 1
        while index >= 0 {
            siftDown(index)
            index -= 1
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = parent * 2 + 1
            let right = left + 1
            var smallest = parent
            if left < entries.count && entries[left].at < entries[smallest].at { smallest = left }
            if right < entries.count && entries[right].at < entries[smallest].at { smallest = right }
            if smallest == parent { break }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
