// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import VigilServer
import VigilTestSupport

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

    /// Pull mode starts warm: the first poll reads the history Prometheus already holds (`backfill_seconds`), and
    /// a restart that reads it again keeps the series whole.
    @Test func vigilReadsHistoryWhenItStartsPulling() throws {
        let stack = try Self.startPrometheus(name: "vigil-backfill", settings: "")
        defer { stack.stop() }
        let prometheus = SimpleHTTPClient(port: stack.prometheusPort)
        // Half a minute of `up` at one scrape a second.
        let deadline = Date().addingTimeInterval(90)
        var scraped = 0
        while scraped < 30 && Date() < deadline {
            let answer = try? prometheus.request("GET", "/api/v1/query?query=count_over_time(up%5B5m%5D)")
            let object = answer.flatMap { try? JSONSerialization.jsonObject(with: Data($0.text.utf8)) }
            let result = ((object as? [String: Any])?["data"] as? [String: Any])?["result"] as? [[String: Any]]
            if let value = (result?.first?["value"] as? [Any])?.last as? String { scraped = Int(value) ?? 0 }
            if scraped < 30 { Thread.sleep(forTimeInterval: 1) }
        }
        try #require(scraped >= 30, "Prometheus scraped \(scraped) times in 90 s")
        let started = Date().timeIntervalSince1970
        let config = Scratch.path("vigil", suffix: "yaml")
        try Data(
            """
            prometheus_pull:
              url: http://127.0.0.1:\(stack.prometheusPort)
              queries: [up]
              interval_seconds: 2
              step_seconds: 1
              backfill_seconds: 300

            """.utf8
        ).write(to: config)
        let vigil = try ServerProcess(arguments: ["--no-host", "--config", config.path])
        try vigil.start()
        defer { vigil.stop() }
        /// The stored points of `up`, oldest first.
        func history(_ vigil: ServerProcess) throws -> [Double] {
            let listed = try vigil.json("/api/v1/series?name=up") as? [[String: Any]] ?? []
            guard let key = listed.first?["series"] as? String,
                let encoded = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics)
            else { return [] }
            let answer = try vigil.json("/api/v1/series?series=\(encoded)") as? [String: Any]
            let points = answer?["points"] as? [[NSNumber]] ?? []
            return points.compactMap { $0.first?.doubleValue }.sorted()
        }
        var times: [Double] = []
        while (times.first ?? .infinity) > started - 20 && Date() < deadline.addingTimeInterval(30) {
            times = try history(vigil)
            Thread.sleep(forTimeInterval: 0.5)
        }
        let oldest = try #require(times.first, "no `up` stored: \(vigil.log())")
        #expect(oldest <= started - 20, "the oldest point is \(started - oldest) s before the start")
        #expect(vigil.log().contains("first reading 300 s of history"))

        // A restart reads the same history again: stored again, judged once, nothing refused.
        vigil.stop()
        let again = try ServerProcess(
            dataDirectory: vigil.dataDirectory,
            arguments: ["--no-host", "--config", config.path]
        )
        try again.start()
        defer { again.stop() }
        Thread.sleep(forTimeInterval: 3)
        let after = try history(again)
        #expect((after.first ?? .infinity) <= oldest, "\(after.prefix(3)) against \(oldest)")
        #expect(after.count >= times.count)
        #expect(try again.stats("samples").rejected == 0)
    }

    /// node_exporter and Prometheus (scraping it every second, plus `settings`) on free loopback ports.
    struct Stack {
        let exporterPort: Int
        let prometheusPort: Int
        let processes: [Process]

        func stop() { for process in self.processes { process.terminate() } }
    }

    static func startPrometheus(name: String, settings: String) throws -> Stack {
        let folder = try Scratch.folder("\(name)")
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
