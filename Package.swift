// swift-tools-version:6.0
// companion: a static-site host. One library (CompanionCore) holds the server;
// CompanionCLI holds the subcommands so tests can call them; `companion` is a
// one-line executable. C libraries come from the system through thin module maps.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "companion",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "companion", targets: ["companion"]),
        .library(name: "CompanionCore", targets: ["CompanionCore"]),
        .library(name: "CompanionCLI", targets: ["CompanionCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLinux", providers: [.apt(["libcrypt-dev"])]),
        .systemLibrary(name: "CSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CPostgres", providers: [.apt(["libpq-dev"])]),  // dlopen, see its shim.h
        // Brotli and zstd variants of compressible files, made once per file version (issue 13).
        .systemLibrary(name: "CBrotli", pkgConfig: "libbrotlienc", providers: [.apt(["libbrotli-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .target(
            name: "CompanionCore",
            dependencies: ["CSQLite", "CZlib", "CLinux", "CSSL", "CPostgres", "CBrotli", "CZstd"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CompanionCLI",
            dependencies: [
                "CompanionCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "companion", dependencies: ["CompanionCLI"], swiftSettings: swiftSettings,
            // Release builds link the Swift runtime and Foundation in, as `--static-swift-stdlib`
            // does: the dynamic libraries' symbol tables and relocations cost every server about
            // 3 MiB of resident memory (issue 13); the .deb is built the same way. Only
            // ArgumentParser imports FoundationEssentials, and it was compiled against the
            // shared runtime, so the two libraries the static one needs are named here.
            linkerSettings: [
                .unsafeFlags(["-static-stdlib", "-use-ld=lld"], .when(platforms: [.linux], configuration: .release)),
                .linkedLibrary("_FoundationCShims", .when(platforms: [.linux], configuration: .release)),
                .linkedLibrary("_FoundationCollections", .when(platforms: [.linux], configuration: .release)),
            ]
        ),
        .testTarget(name: "CompanionCoreTests", dependencies: ["CompanionCore"], swiftSettings: swiftSettings),
        .testTarget(name: "CompanionCLITests", dependencies: ["CompanionCLI", "CompanionCore"], swiftSettings: swiftSettings),
    ]
)
