// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import VigilCore
import VigilIngest
import VigilServer

/// One OTLP gauge: its service (`service.name`), metric name and points (Unix seconds, value).
struct OTLPGauge {
    var service: String
    var name: String
    var points: [(seconds: Int64, value: Double)]

    /// The gauge as one `resourceMetrics` entry of OTLP/JSON.
    var json: String {
        let points = self.points.map {
            #"{"timeUnixNano": "\#($0.seconds * 1_000_000_000)", "asDouble": \#($0.value)}"#
        }
        return """
            {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "\(self.service)"}}]},
             "scopeMetrics": [{"metrics": [{"name": "\(self.name)", "gauge": {"dataPoints": [\(points.joined(separator: ","))]}}]}]}
            """
    }
}

extension ServerProcess {
    /// POSTs gauges to `/v1/metrics` as OTLP/JSON (expecting 200) and waits until the pipeline has them.
    func send(_ gauges: [OTLPGauge]) throws {
        let body = #"{"resourceMetrics": ["# + gauges.map(\.json).joined(separator: ",") + "]}"
        let sent = try self.client().request(
            "POST",
            "/v1/metrics",
            headers: [("Content-Type", "application/json")],
            body: Array(body.utf8)
        )
        #expect(sent.status == 200, "\(sent.text.prefix(300))")
        try self.waitUntilDrained()
    }
}

extension ServerProcess {
    /// Pushes one service's log lines through the Loki push API (protobuf), a millisecond apart from `start`
    /// (Unix nanoseconds), and waits until the server has taken them.
    func push(lines: [String], service: String, start: Int64) throws {
        let entries = lines.enumerated().map { index, line in
            LogEntry(time: Timestamp(nanoseconds: start + Int64(index) * 1_000_000), line: Array(line.utf8))
        }
        try self.push(entries: entries, service: service)
    }

    /// Pushes one service's log entries, each at its own time, and waits until the server has taken them.
    func push(entries: [LogEntry], service: String) throws {
        let sent = try self.client().request(
            "POST",
            "/loki/api/v1/push",
            headers: [("Content-Type", "application/x-protobuf")],
            body: LokiPush.encodeProtobuf([("{service_name=\"\(service)\"}", entries)])
        )
        #expect(sent.status == 204, "\(sent.text.prefix(300))")
        try self.waitUntilDrained()
    }
}
