// swift-tools-version:6.2
import PackageDescription

/// Coverage-guided fuzzing (libFuzzer) of every decoder that reads bytes from the network or from log files.
/// Built by `scripts/fuzz`, which passes `-sanitize=fuzzer,address`; not part of the main build or of CI.
let package = Package(
    name: "vigil-fuzz",
    dependencies: [
        .package(name: "vigil", path: "../")
    ],
    targets: [
        // The entry point handing control to libFuzzer's driver.
        .target(name: "FuzzDriver"),
        .executableTarget(
            name: "VigilFuzz",
            dependencies: [
                .product(name: "VigilCore", package: "vigil"),
                .product(name: "VigilIngest", package: "vigil"),
                "FuzzDriver",
            ],
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
                .enableUpcomingFeature("InternalImportsByDefault"),
                // libFuzzer supplies `main`.
                .unsafeFlags(["-parse-as-library"]),
            ]
        ),
    ]
)
