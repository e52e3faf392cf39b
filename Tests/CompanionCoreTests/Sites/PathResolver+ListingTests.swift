// PathResolver.listDirectory on the fixture tree: only servable entries are listed.
import Glibc
import Testing
@testable import CompanionCore

@Suite struct PathResolverListingTests {
    func names(_ entries: [DirectoryEntry]) -> [String] {
        entries.map { String(decoding: $0.name, as: UTF8.self) }.sorted()
    }

    @Test(arguments: [true, false])
    func rootListingSkipsWhatWouldNotBeServed(openat2: Bool) throws {
        let fixture = ResolverFixture()
        // A name that is not UTF-8 cannot be requested (normaliser: 400), so it is not listed.
        fixture.write(fixture.root + "/caf\u{E9}", "x")  // valid UTF-8 "ÿ": listed
        let invalid: [UInt8] = Array((fixture.root + "/raw-").utf8) + [0xFF, 0]
        let fd = invalid.withUnsafeBufferPointer {
            $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644) }
        }
        #expect(fd >= 0)
        close(fd)
        let resolver = try PathResolver(root: fixture.root, allowOpenat2: openat2)
        let root = try resolver.open("/").get()
        let entries = resolver.listDirectory(root, relativePath: "/")
        #expect(names(entries) == [
            "abs-dir-link", "abs-link", "caf\u{E9}", "env-link", "file.txt", "rel-link", "sub", "sub-link",
        ])
        let byName = Dictionary(uniqueKeysWithValues: entries.map { (String(decoding: $0.name, as: UTF8.self), $0) })
        #expect(byName["sub"]?.isDirectory == true)
        #expect(byName["sub"]?.size == 0)
        #expect(byName["sub-link"]?.isDirectory == true)  // symlinks followed for the type
        #expect(byName["abs-dir-link"]?.isDirectory == true)
        #expect(byName["file.txt"]?.isDirectory == false)
        #expect(byName["file.txt"]?.size == 5)
        #expect(byName["rel-link"]?.size == 5)  // size of the target, not of the link
        #expect(byName["abs-link"]?.size == 5)
        #expect((byName["file.txt"]?.mtimeSeconds ?? 0) > 1_600_000_000)
    }

    @Test func subdirectoryListingChecksLinksRelativeToThatDirectory() throws {
        let fixture = ResolverFixture()
        fixture.link("../../outside/secret.txt", at: fixture.root + "/sub/escape")
        fixture.link("../.env", at: fixture.root + "/sub/env")
        fixture.write(fixture.root + "/sub/.profile", "x")
        let resolver = try PathResolver(root: fixture.root)
        let sub = try resolver.open("/sub/").get()
        #expect(names(resolver.listDirectory(sub, relativePath: "/sub/")) == ["env", "inner.txt", "up-link"])
        // Through a symlinked directory, "../file.txt" still resolves inside the root.
        let viaLink = try resolver.open("/sub-link/").get()
        #expect(names(resolver.listDirectory(viaLink, relativePath: "/sub-link")) == ["env", "inner.txt", "up-link"])
    }

    @Test func listingLeavesTheCallersDescriptorAlone() throws {
        let fixture = ResolverFixture()
        let resolver = try PathResolver(root: fixture.root)
        let sub = try resolver.open("/sub").get()
        let first = resolver.listDirectory(sub, relativePath: "/sub")
        let second = resolver.listDirectory(sub, relativePath: "/sub")
        #expect(first.count == 2)
        #expect(names(first) == names(second))
        #expect(fcntl(sub.fd, F_GETFD) >= 0)
    }
}
