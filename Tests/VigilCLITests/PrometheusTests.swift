// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import VigilServer

/// The real Prometheus (Debian's package, installed by scripts/test) scrapes the real node_exporter and
/// remote-writes to `vigil serve`; what arrives must be node_exporter's series with Prometheus's values.
@Suite(
    .serialized,
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus")
            || ProcessInfo.processInfo.environment["CI"] != nil,
        "needs /usr/bin/prometheus (scripts/test installs it; in CI a missing binary fails the test)"
    )
)
struct PrometheusTests {
    @Test func prometheusRemoteWritesNodeExporterSeries() throws {
        let vigil = try ServerProcess(arguments: ["--no-host"])
        try vigil.start()
        defer { vigil.stop() }
        let stack = try Self.startPrometheus(
            name: "vigil-prom",
            settings: """
                remote_write:
                  - url: http://127.0.0.1:\(vigil.port)/api/v1/write
                    queue_config: {batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 1s}
                """
        )
        defer { stack.stop() }
        let exporterPort = stack.exporterPort
        let prometheusPort = stack.prometheusPort
        // node_exporter's series arrive through remote_write.
        let deadline = Date().addingTimeInterval(60)
        var load: [[String: Any]] = []
        while load.isEmpty && Date() < deadline {
            load = try vigil.json("/api/v1/series?name=node_load1") as? [[String: Any]] ?? []
            if load.isEmpty { Thread.sleep(forTimeInterval: 0.5) }
        }
        let series = try #require(load.first?["series"] as? String, "no node_load1 after 60 s")
        #expect(series.contains("job=\"node\"") && series.contains("instance=\"127.0.0.1:\(exporterPort)\""))
        let stats = try vigil.stats("samples")
        #expect(stats.accepted > 100, "node_exporter exposes hundreds of series")
        #expect(stats.rejected == 0)
        let names = (try vigil.json("/api/v1/series") as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(names.filter { $0.hasPrefix("node_") }.count > 50)

        // `up` as Prometheus itself reports it equals what Vigil stored.
        var up: [[String: Any]] = []
        while up.isEmpty && Date() < deadline {
            up = try vigil.json("/api/v1/series?name=up") as? [[String: Any]] ?? []
            if up.isEmpty { Thread.sleep(forTimeInterval: 0.5) }
        }
        #expect((up.first?["lastValue"] as? NSNumber)?.doubleValue == 1, "\(up)")
        let query = try SimpleHTTPClient(port: prometheusPort).request("GET", "/api/v1/query?query=up")
        #expect(query.text.contains("\"value\":[") && query.text.contains("\"1\"]"))
    }

    /// Pull mode: Vigil polls the real Prometheus with query_range; what arrives equals Prometheus's own answer.
    @Test func vigilPullsQueriesFromPrometheus() throws {
        let stack = try Self.startPrometheus(name: "vigil-pull", settings: "")
        defer { stack.stop() }
        let prometheusPort = stack.prometheusPort
        let vigil = try ServerProcess(arguments: [
            "--no-host", "--prometheus-url", "http://127.0.0.1:\(prometheusPort)", "--prometheus-query", "up",
            "--prometheus-query", "memory_free = node_memory_MemFree_bytes", "--prometheus-interval", "1",
        ])
        try vigil.start()
        defer { vigil.stop() }
        let deadline = Date().addingTimeInterval(60)
        var up: [[String: Any]] = []
        var memory: [[String: Any]] = []
        while (up.isEmpty || memory.isEmpty) && Date() < deadline {
            up = try vigil.json("/api/v1/series?name=up") as? [[String: Any]] ?? []
            memory = try vigil.json("/api/v1/series?name=node_memory_MemFree_bytes") as? [[String: Any]] ?? []
            if up.isEmpty || memory.isEmpty { Thread.sleep(forTimeInterval: 0.5) }
        }
        #expect((up.first?["lastValue"] as? NSNumber)?.doubleValue == 1, "\(up)")
        #expect((up.first?["series"] as? String)?.contains("job=\"node\"") == true)
        let free = try #require(
            (memory.first?["lastValue"] as? NSNumber)?.doubleValue,
            "no memory series: \(vigil.log())"
        )
        #expect(free > 1e6, "MemFree is bytes")
        #expect(try vigil.stats("samples").rejected == 0)
    }

    /// node_exporter and Prometheus (scraping it every second, plus `settings`) on free loopback ports.
    struct Stack {
        let exporterPort: Int
        let prometheusPort: Int
        let processes: [Process]

        func stop() { for process in self.processes { process.terminate() } }
    }

    static func startPrometheus(name: String, settings: String) throws -> Stack {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let exporterPort = try ServerProcess.freePort()
        let prometheusPort = try ServerProcess.freePort()
        let config = """
            global: {scrape_interval: 1s, evaluation_interval: 1s}
            scrape_configs:
              - job_name: node
                static_configs: [{targets: ['127.0.0.1:\(exporterPort)']}]

            """ + settings
        try Data(config.utf8).write(to: folder.appendingPathComponent("prometheus.yml"))
        let exporter = try Self.launch(
            "/usr/bin/prometheus-node-exporter",
            ["--web.listen-address=127.0.0.1:\(exporterPort)"],
            log: folder.appendingPathComponent("exporter.log")
        )
        let prometheus = try Self.launch(
            "/usr/bin/prometheus",
            [
                "--config.file=\(folder.path)/prometheus.yml", "--storage.tsdb.path=\(folder.path)/data",
                "--web.listen-address=127.0.0.1:\(prometheusPort)",
            ],
            log: folder.appendingPathComponent("prometheus.log")
        )
        return Stack(exporterPort: exporterPort, prometheusPort: prometheusPort, processes: [prometheus, exporter])
    }

    static func launch(_ path: String, _ arguments: [String], log: URL) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }
}
