// PathResolver on a real temp tree with real symlinks, once with openat2 and once
// forcing the realpath fallback (the ENOSYS path).
import Glibc
import Testing
@testable import CompanionCore

@Suite struct PathResolverTests {
    enum Expect: Sendable, CustomStringConvertible {
        case file(String)
        case directory
        case notFound
        case forbidden

        var description: String {
            switch self {
            case .file(let text): return "file(\(text))"
            case .directory: return "directory"
            case .notFound: return "notFound"
            case .forbidden: return "forbidden"
            }
        }
    }

    static let cases: [(String, Expect)] = [
        ("/file.txt", .file("hello")),
        ("/", .directory),
        ("/sub", .directory),
        ("/sub/", .directory),
        ("/sub/inner.txt", .file("inner")),
        ("/missing.txt", .notFound),
        ("/file.txt/", .notFound),  // ENOTDIR
        ("/file.txt/x", .notFound),
        // Hidden: refused without touching the disk, even though they exist.
        ("/.env", .notFound),
        ("/.git/config", .notFound),
        ("/sub/.hidden", .notFound),
        // In-root symlinks are followed.
        ("/rel-link", .file("hello")),
        ("/abs-link", .file("hello")),  // EXDEV → realpath fallback
        ("/sub-link/inner.txt", .file("inner")),
        ("/abs-dir-link/inner.txt", .file("inner")),
        ("/abs-dir-link", .directory),
        ("/sub/up-link", .file("hello")),
        ("/sub-link/up-link", .file("hello")),
        ("/env-link", .file("SECRET=1")),  // owner-made link; the request path is not hidden
        // Escapes are 404.
        ("/passwd-link", .notFound),
        ("/escape-dir", .notFound),
        ("/escape-dir/secret.txt", .notFound),
        ("/dotdot-link", .notFound),
        ("/evil-sibling", .notFound),
        ("/dangling", .notFound),
        ("/loop", .notFound),
        ("/fifo", .notFound),
        // Not normalised input (e.g. from a plugin config) still cannot leave the root.
        ("/../outside/secret.txt", .notFound),
        ("/sub/../../outside/secret.txt", .notFound),
        ("/sub/../file.txt", .notFound),  // a ".." segment counts as hidden: refused up front
        ("/file.txt\u{0}.png", .notFound),
    ]

    static let modes: [Bool] = [true, false]

    @Test(arguments: cases, modes)
    func resolves(_ testCase: (String, Expect), openat2: Bool) throws {
        let fixture = ResolverFixture()
        let resolver = try PathResolver(root: fixture.root, allowOpenat2: openat2)
        let (path, expected) = testCase
        let result = resolver.open(path)
        switch (result, expected) {
        case (.success(let file), .file(let text)):
            #expect(file.isRegularFile && !file.isDirectory, "\(path)")
            #expect(ResolverFixture.contents(of: file.fd) == text, "\(path)")
            #expect(file.size == text.utf8.count)
        case (.success(let file), .directory):
            #expect(file.isDirectory && !file.isRegularFile, "\(path)")
            #expect(file.size == 0)
        case (.failure(.notFound), .notFound), (.failure(.forbidden), .forbidden):
            break
        default:
            Issue.record("\(path): got \(result), expected \(expected)")
        }
    }

    @Test func fstatFactsMatchTheFile() throws {
        let fixture = ResolverFixture()
        var times = [timespec(tv_sec: 1_700_000_000, tv_nsec: 123_456_789),
                     timespec(tv_sec: 1_700_000_000, tv_nsec: 123_456_789)]
        #expect(utimensat(AT_FDCWD, fixture.root + "/file.txt", &times, 0) == 0)
        let resolver = try PathResolver(root: fixture.root)
        let file = try resolver.open("/file.txt").get()
        #expect(file.mtimeSeconds == 1_700_000_000)
        #expect(file.mtimeNanoseconds == 123_456_789)
        var info = stat()
        #expect(stat(fixture.root + "/file.txt", &info) == 0)
        #expect(file.inode == UInt64(info.st_ino))
        #expect(file.size == 5)
        #expect(fcntl(file.fd, F_GETFD) & FD_CLOEXEC != 0)
    }

    @Test func closesItsDescriptorOnce() throws {
        let fixture = ResolverFixture()
        let resolver = try PathResolver(root: fixture.root)
        var fd: Int32 = -1
        do {
            let file = try resolver.open("/file.txt").get()
            fd = file.fd
            #expect(fcntl(fd, F_GETFD) >= 0)
        }
        #expect(fcntl(fd, F_GETFD) == -1)
    }

    @Test(arguments: modes)
    func unreadableFileIsForbidden(openat2: Bool) throws {
        guard getuid() != 0 else { return }  // root reads everything; nothing to check
        let fixture = ResolverFixture()
        fixture.write(fixture.root + "/locked.txt", "no")
        #expect(chmod(fixture.root + "/locked.txt", 0) == 0)
        let resolver = try PathResolver(root: fixture.root, allowOpenat2: openat2)
        guard case .failure(.forbidden) = resolver.open("/locked.txt") else {
            Issue.record("expected forbidden")
            return
        }
    }

    @Test func rootReachedThroughASymlinkKeepsItsRealPath() throws {
        let fixture = ResolverFixture()
        fixture.link(fixture.root, at: fixture.base + "/root-alias")
        // An absolute link written against the alias still lands inside the real root.
        fixture.link(fixture.base + "/root-alias/file.txt", at: fixture.root + "/alias-link")
        let resolver = try PathResolver(root: fixture.base + "/root-alias")
        #expect(resolver.rootRealPath == Array(fixture.root.utf8))
        let file = try resolver.open("/alias-link").get()
        #expect(file.withDescriptor(ResolverFixture.contents(of:)) == "hello")
        #expect(throws: (any Error).self) { try resolver.open("/escape-dir").get() }
    }

    @Test func rootMustBeAnExistingDirectory() {
        let fixture = ResolverFixture()
        #expect(throws: PathResolverError.rootNotDirectory) {
            try PathResolver(root: fixture.root + "/file.txt")
        }
        #expect(throws: PathResolverError.rootUnavailable(errno: ENOENT)) {
            try PathResolver(root: fixture.root + "/nope")
        }
        let message = PathResolverError.rootUnavailable(errno: ENOENT).description
        #expect(!message.contains("/"))
    }

    @Test func containmentRuleIsPrefixPlusSlash() {
        let root = Array("/srv/site".utf8)
        func offset(_ path: String) -> Int? {
            path.withCString { PathResolver.remainderOffset(of: $0, inside: root) }
        }
        #expect(offset("/srv/site") == 9)
        #expect(offset("/srv/site/a") == 10)
        #expect(offset("/srv/site-evil/a") == nil)
        #expect(offset("/srv/sit") == nil)
        #expect(offset("/srv") == nil)
        #expect(offset("/etc/passwd") == nil)
        #expect("/etc".withCString { PathResolver.remainderOffset(of: $0, inside: Array("/".utf8)) } == 1)
    }
}

extension PathResolverTests {
    @Test func probesOpenat2() throws {
        let fixture = ResolverFixture()
        let resolver = try PathResolver(root: fixture.root)
        // Linux ≥ 5.6 has openat2; this machine's kernel does. The fallback is tested above.
        #expect(resolver.usesOpenat2)
        #expect(try !PathResolver(root: fixture.root, allowOpenat2: false).usesOpenat2)
    }
}
