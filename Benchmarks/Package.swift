// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "vigil-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "vigil", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "TemplateMinerBenchmarks",
            dependencies: [
                .product(name: "VigilCore", package: "vigil"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/TemplateMinerBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "DetectorBenchmarks",
            dependencies: [
                .product(name: "VigilCore", package: "vigil"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/DetectorBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "IngestPipelineBenchmarks",
            dependencies: [
                .product(name: "VigilCore", package: "vigil"),
                .product(name: "VigilIngest", package: "vigil"),
                .product(name: "VigilStorage", package: "vigil"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/IngestPipelineBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
