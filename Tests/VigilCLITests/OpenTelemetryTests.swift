// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
private let otelPython = repositoryRoot.appendingPathComponent(".build/otel-venv/bin/python")

/// The real OpenTelemetry Python SDK (PyPI, installed into .build/otel-venv by scripts/test) sends traces, logs
/// and metrics over OTLP/HTTP protobuf and JSON; the spans must draw the expected service graph, the logs must
/// become templates and the metrics series.
@Suite(
    .serialized,
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: otelPython.path)
            || ProcessInfo.processInfo.environment["CI"] != nil,
        "needs .build/otel-venv (scripts/test creates it; in CI a missing venv fails the test)"
    )
)
struct OpenTelemetryTests {
    @Test func sdkTracesLogsAndMetricsArriveOverProtobufAndJSON() throws {
        let vigil = try ServerProcess(arguments: ["--no-host"])
        try vigil.start()
        defer { vigil.stop() }
        for (encoding, tag) in [("protobuf", ""), ("json", "-json")] {
            let sender = Process()
            sender.executableURL = otelPython
            sender.arguments = [
                repositoryRoot.appendingPathComponent("scripts/otel-send").path, "--endpoint",
                "http://127.0.0.1:\(vigil.port)", "--encoding", encoding, "--traces", "20", "--tag=\(tag)",
            ]
            try sender.run()
            // The SDK retries for minutes when the server is gone: give up after two.
            let senderDeadline = Date().addingTimeInterval(120)
            while sender.isRunning && Date() < senderDeadline { Thread.sleep(forTimeInterval: 0.1) }
            if sender.isRunning { sender.terminate() }
            sender.waitUntilExit()
            #expect(sender.terminationStatus == 0, "otel-send --encoding \(encoding) failed")
        }
        // 6 spans per trace, 20 traces, two runs; 20 log records per service.
        #expect(try vigil.stats("spans") == (240, 240, 0))
        #expect(try vigil.stats("logs").accepted == 120)

        // Edges appear once the spans have been quiet for 15 ticks.
        let deadline = Date().addingTimeInterval(60)
        var edges: [[String: Any]] = []
        // A slow sender may pause past the quiet period: a minute is then reported early and again, complete.
        func complete() -> Bool { edges.count == 6 && edges.allSatisfy { ($0["calls"] as? NSNumber)?.intValue == 20 } }
        while !complete() && Date() < deadline {
            let topology = try vigil.json("/api/v1/topology?from=\(Int(Date().timeIntervalSince1970) - 3600)")
            edges = (topology as? [String: Any])?["edges"] as? [[String: Any]] ?? []
            if !complete() { Thread.sleep(forTimeInterval: 0.5) }
        }
        let found = Dictionary(
            uniqueKeysWithValues: edges.map {
                ("\($0["caller"] as? String ?? "")→\($0["callee"] as? String ?? "")", $0)
            }
        )
        for tag in ["", "-json"] {
            for edge in ["frontend\(tag)→checkout\(tag)", "checkout\(tag)→payment\(tag)", "payment\(tag)→postgresql"] {
                #expect((found[edge]?["calls"] as? NSNumber)?.intValue == 20, "\(edge) in \(found.keys.sorted())")
            }
            #expect((found["checkout\(tag)→payment\(tag)"]?["errors"] as? NSNumber)?.intValue == 4)
            #expect((found["frontend\(tag)→checkout\(tag)"]?["errors"] as? NSNumber)?.intValue == 0)
        }
        #expect(found.count == 6, "\(found.keys.sorted())")

        // The payment service's log records: the error template counted apart from the info one.
        let templates = try vigil.json("/api/v1/templates?service=payment-json") as? [[String: Any]] ?? []
        let declined = templates.first { ($0["text"] as? String)?.contains("declined by issuer") == true }
        #expect((declined?["count"] as? NSNumber)?.intValue == 4)
        #expect(declined?["severity"] as? String == "error")

        // Metrics: gauge, counter (a monotonic cumulative sum, named `…_total`) and histogram series with the
        // resource's labels; span series per service.
        let series = (try vigil.json("/api/v1/series?service=checkout") as? [[String: Any]] ?? [])
            .compactMap { $0["series"] as? String }
        for name in ["queue_depth{", "requests_total{", "request_duration_count{", "request_duration_sum{"] {
            #expect(series.contains { $0.hasPrefix(name) && $0.contains("namespace=\"shop\"") }, "\(name) in \(series)")
        }
        var spanSeries: [[String: Any]] = []
        var payment: [String: Any]?
        let seriesDeadline = Date().addingTimeInterval(30)
        while (payment?["lastValue"] as? NSNumber)?.doubleValue != 0.2 && Date() < seriesDeadline {
            spanSeries = try vigil.json("/api/v1/series?name=span_error_ratio") as? [[String: Any]] ?? []
            payment = spanSeries.first { ($0["series"] as? String) == "span_error_ratio{service=\"payment\"}" }
            if (payment?["lastValue"] as? NSNumber)?.doubleValue != 0.2 { Thread.sleep(forTimeInterval: 0.5) }
        }
        #expect((payment?["lastValue"] as? NSNumber)?.doubleValue == 0.2)
        // payment's client spans to its database (db.system) are the database's calls, as payment saw them.
        let calls = (try vigil.json("/api/v1/series?name=span_calls_per_second") as? [[String: Any]] ?? [])
            .compactMap { $0["series"] as? String }
        #expect(calls.contains(#"span_calls_per_second{caller="payment",service="postgresql"}"#), "\(calls)")
    }
}
