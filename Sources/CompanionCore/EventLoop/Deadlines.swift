// Deadlines: one min-heap of timers per loop (header, idle, write and shutdown
// timeouts). Entries are lazy: a connection keeps its current deadline itself
// and has at most one heap entry; when an entry fires early (the connection's
// deadline moved later since it was pushed) the loop pushes it again. So a
// request costs no heap operation, and a timeout period costs O(log n).

struct DeadlineHeap {
    struct Entry {
        var at: Int64       // monotonic milliseconds
        var token: UInt64   // connection token (fd | generation)
    }

    private(set) var entries: [Entry] = []

    var earliest: Int64? { entries.first?.at }

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
            var parent = 0
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
        return first
    }
}
