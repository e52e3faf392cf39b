// StartupPages (memory): which mappings of /proc/self/smaps may be dropped
// (file-backed, read-only, private, no copied-on-write page), and that dropping them in a
// running process gives their resident pages back without changing a byte.
@testable import CompanionCore
import Glibc
import Testing

@Suite struct StartupPagesTests {
    static func mapping(_ range: String, _ perms: String, _ path: String, rss: Int, anonymous: Int?) -> String {
        var text = "\(range) \(perms) 00000000 fe:00 1234                       \(path)\n"
        text += "Size:               1024 kB\nRss:             \(rss) kB\nPss:             \(rss) kB\n"
        if let anonymous { text += "Anonymous:          \(anonymous) kB\n" }
        text += "AnonHugePages:         0 kB\nTHPeligible:    0\nVmFlags: rd ex mr mw me\n"
        return text
    }

    @Test func onlyCleanReadOnlyPrivateFileMappingsAreDroppable() {
        let text = [
            Self.mapping("1000-5000", "r--p", "/usr/bin/companion", rss: 16, anonymous: 0),
            Self.mapping("5000-9000", "r-xp", "/usr/bin/companion", rss: 12, anonymous: 0),
            // RELRO: relocated, then made read-only; its pages are copies.
            Self.mapping("9000-a000", "r--p", "/usr/bin/companion", rss: 4, anonymous: 4),
            Self.mapping("a000-b000", "rw-p", "/usr/bin/companion", rss: 4, anonymous: 0),
            Self.mapping("b000-c000", "r--s", "/var/log/access.sqlite-shm", rss: 4, anonymous: 0),
            Self.mapping("c000-d000", "rw-p", "", rss: 4, anonymous: 4),
            Self.mapping("d000-e000", "r-xp", "[vdso]", rss: 4, anonymous: 0),
            // No Anonymous line: not known to be clean.
            Self.mapping("e000-f000", "r-xp", "/usr/lib/libc.so.6", rss: 4, anonymous: nil),
            Self.mapping("7f0000001000-7f0000003000", "r-xp", "/usr/lib/libsqlite3.so (deleted)", rss: 8, anonymous: 0),
        ].joined()
        let ranges = StartupPages.droppable(smaps: Array(text.utf8))
        #expect(ranges == [
            StartupPages.Range(start: 0x1000, end: 0x5000, residentKiB: 16),
            StartupPages.Range(start: 0x5000, end: 0x9000, residentKiB: 12),
            StartupPages.Range(start: 0x7f00_0000_1000, end: 0x7f00_0000_3000, residentKiB: 8),
        ])
    }

    @Test func malformedHeadersAndFieldsAreSkipped() {
        let text = [
            "zz00-1000 r-xp 00000000 fe:00 1 /bin/a\nRss: 4 kB\nAnonymous: 0 kB\n",  // not hex
            "2000-1000 r-xp 00000000 fe:00 1 /bin/a\nRss: 4 kB\nAnonymous: 0 kB\n",  // end before start
            "3000-4000 r-x 00000000 fe:00 1 /bin/a\nRss: 4 kB\nAnonymous: 0 kB\n",   // perms not 4 long
            "4000-5000 r-xp 00000000 fe:00 1 /bin/a\nRss: many kB\nAnonymous: x kB\n",  // no numbers
            "5000-6000 r-xp 00000000 fe:00 1 /bin/b\nAnonymous: 0 kB\nRss: 8 kB",    // no final newline
        ].joined()
        #expect(StartupPages.droppable(smaps: Array(text.utf8)) == [StartupPages.Range(start: 0x5000, end: 0x6000, residentKiB: 8)])
        #expect(StartupPages.droppable(smaps: []) == [])
    }

    /// Only the part of a droppable mapping inside a read-only segment is dropped.
    @Test func segmentsDropOnlyTheirOverlapWithDroppableMappings() {
        let ranges = [
            StartupPages.Range(start: 0x1000, end: 0x5000, residentKiB: 16),
            StartupPages.Range(start: 0x8000, end: 0x9000, residentKiB: 4),
        ]
        let overlaps = StartupPages.overlaps(of: 0x3000..<0x8800, with: ranges)
        #expect(overlaps.map(\.index) == [0, 1])
        #expect(overlaps.map(\.part) == [0x3000..<0x5000, 0x8000..<0x8800])
        #expect(StartupPages.overlaps(of: 0x5000..<0x8000, with: ranges).isEmpty)
        #expect(StartupPages.overlaps(of: 0x0..<0x1000, with: ranges).isEmpty)
    }

    /// This process's own smaps: the parse finds its code, `release` drops pages of mappings
    /// holding at least half of the resident KiB, and the code keeps running from them.
    /// Whether the pages really left is checked in a process where nothing else runs
    /// (StartupPagesServeTests, on the idle server): here the suite's other tests run on
    /// every core and fault code back in at their own pace. Under TSan on two cores they
    /// brought 22,756 of 45,044 KiB back before smaps could be read again, so a "fewer
    /// resident after" check in this process raced them (it failed one CI run).
    @Test func releaseDropsTheCodeOfThisProcessWhichKeepsRunning() throws {
        guard case .success(let text) = ConfigFile.read("/proc/self/smaps") else { throw StartupPagesTestError.noProc }
        let before = StartupPages.droppable(smaps: text).reduce(0) { $0 + $1.residentKiB }
        #expect(before > 1024, "this test binary's code should be resident: \(before) KiB")
        let released = StartupPages.release()
        #expect(released >= before / 2, "released \(released) of \(before) KiB")
        // The code and read-only data still read as they did.
        #expect(String(decoding: Array("still here".utf8), as: UTF8.self) == "still here")
        #expect(StartupPages.hex(Array("ff".utf8)[...]) == 255)
    }
}

enum StartupPagesTestError: Error { case noProc }
