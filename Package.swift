// swift-tools-version:6.2
import PackageDescription

/// Settings shared by every target: Swift 6 language mode plus the upcoming features STYLE.md asks for.
let swiftSettings: [SwiftSetting] = [
    // SE-0335: every existential is spelled `any`, so its cost is visible.
    .enableUpcomingFeature("ExistentialAny"),
    // SE-0444: a file sees only the modules it imports.
    .enableUpcomingFeature("MemberImportVisibility"),
    // SE-0409: imports are internal unless marked `public import`.
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "vigil",
    products: [
        .executable(name: "vigil", targets: ["VigilCLI"]),
        .library(name: "VigilCore", targets: ["VigilCore"]),
        .library(name: "VigilIngest", targets: ["VigilIngest"]),
        .library(name: "VigilStorage", targets: ["VigilStorage"]),
        .library(name: "VigilStoragePostgres", targets: ["VigilStoragePostgres"]),
        .library(name: "VigilRemediation", targets: ["VigilRemediation"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        // Already built for Hummingbird; named for the syslog listeners.
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        // HTTP/2 for the KEDA external scaler's gRPC (plaintext h2c; no TLS stack).
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // The PostgreSQL client for the scale-out store.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
        // Already built for postgres-nio; named for the store's TLS settings.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.25.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.0"),
        // Elementary functions (log, exp) for the pure core, which does not import Foundation.
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.0"),
    ],
    targets: [
        .target(name: "VigilCore", dependencies: [.product(name: "RealModule", package: "swift-numerics")]),
        // The system zlib (zlib1g-dev), for gzip request bodies.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "VigilIngest", dependencies: ["VigilCore", "CZlib"]),
        // The OpenAI-compatible chat client (FoundationNetworking's URLSession: HTTPS without another TLS stack).
        .target(name: "VigilLLM", dependencies: ["VigilCore"]),
        .target(
            name: "VigilStorage",
            dependencies: ["VigilCore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // The same Store on PostgreSQL, for several workers sharing one database.
        .target(
            name: "VigilStoragePostgres",
            dependencies: [
                "VigilCore", "VigilStorage",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Runs what the core's remediation policy decided: commands, HTTP calls, the audit log.
        .target(
            name: "VigilRemediation",
            dependencies: ["VigilCore", "VigilStorage"]
        ),
        .target(
            name: "VigilServer",
            dependencies: [
                "VigilCore", "VigilIngest", "VigilStorage", "VigilStoragePostgres", "VigilLLM", "VigilRemediation",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            // The web UI's files, compiled into the binary as byte arrays (`PackageResources`).
            resources: [
                .embedInCode("WebUI/index.html"), .embedInCode("WebUI/app.js"), .embedInCode("WebUI/style.css"),
            ]
        ),
        .executableTarget(
            name: "VigilCLI",
            dependencies: [
                "VigilCore", "VigilIngest", "VigilServer", "VigilLLM", "VigilRemediation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Fixtures the test targets share: the store contract, a throwaway PostgreSQL, loopback ports, a scratch
        // folder (not a product).
        .target(name: "VigilTestSupport", dependencies: ["VigilCore", "VigilStorage"]),
        .testTarget(
            name: "VigilCoreTests",
            dependencies: [
                "VigilCore",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "RealModule", package: "swift-numerics"),
            ]
        ),
        .testTarget(name: "VigilIngestTests", dependencies: ["VigilIngest"]),
        .testTarget(name: "VigilStorageTests", dependencies: ["VigilStorage", "VigilTestSupport"]),
        .testTarget(
            name: "VigilStoragePostgresTests",
            dependencies: ["VigilStoragePostgres", "VigilStorage", "VigilTestSupport"]
        ),
        .testTarget(name: "VigilLLMTests", dependencies: ["VigilLLM"]),
        .testTarget(
            name: "VigilRemediationTests",
            dependencies: ["VigilRemediation", "VigilStorage", "VigilTestSupport"]
        ),
        .testTarget(name: "VigilServerTests", dependencies: ["VigilServer", "VigilStorage"]),
        .testTarget(
            name: "VigilCLITests",
            dependencies: ["VigilCLI", "VigilServer", "VigilIngest", "VigilLLM", "VigilTestSupport"]
        ),
    ]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + swiftSettings
}
