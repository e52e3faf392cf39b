// swift-tools-version:6.0
// A custom `companion` with two extra plugin types, built against the parent
// package's CompanionCore and CompanionCLI libraries:
//   serverTiming   adds `Server-Timing: app;dur=<milliseconds>` to every response
//   blockUserAgent answers 403 when the User-Agent contains one of the given words
// Build and test: `swift build && swift test` in this folder.
import PackageDescription

let package = Package(
    name: "CustomPlugin",
    platforms: [.macOS(.v15)],
    dependencies: [
        // The companion repository this example lives in.
        .package(name: "companion", path: "../.."),
    ],
    targets: [
        // The plugins, in a library so the tests can use them.
        .target(
            name: "ExamplePlugins",
            dependencies: [.product(name: "CompanionCore", package: "companion")]
        ),
        // The custom binary: the companion command line plus the plugins above.
        .executableTarget(
            name: "my-companion",
            dependencies: [
                "ExamplePlugins",
                .product(name: "CompanionCLI", package: "companion"),
                .product(name: "CompanionCore", package: "companion"),
            ]
        ),
        .testTarget(
            name: "ExamplePluginsTests",
            dependencies: ["ExamplePlugins", .product(name: "CompanionCore", package: "companion")]
        ),
    ]
)
