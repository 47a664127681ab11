// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import VigilServer
import VigilTestSupport

/// The real Alertmanager (Debian's package, installed by scripts/test) sends its webhook to `vigil serve`:
/// a firing alert, then the same alert resolved.
@Suite(
    .serialized,
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus-alertmanager")
            || ProcessInfo.processInfo.environment["CI"] != nil,
        "needs /usr/bin/prometheus-alertmanager (scripts/test installs it; in CI a missing binary fails the test)"
    )
)
struct AlertmanagerTests {
    @Test func firingThenResolvedAlertsArrive() throws {
        let vigil = try ServerProcess(arguments: ["--no-host"])
        try vigil.start()
        defer { vigil.stop() }
        let folder = try Scratch.folder("vigil-am")
        let port = try ServerProcess.freePort()
        let config = """
            route: {receiver: vigil, group_by: [alertname], group_wait: 1s, group_interval: 1s, repeat_interval: 1h}
            receivers:
              - name: vigil
                webhook_configs:
                  - {url: 'http://127.0.0.1:\(vigil.port)/api/v1/alerts/alertmanager', send_resolved: true}
            """
        try Data(config.utf8).write(to: folder.appendingPathComponent("alertmanager.yml"))
        let alertmanager = try PrometheusTests.launch(
            "/usr/bin/prometheus-alertmanager",
            [
                "--config.file=\(folder.path)/alertmanager.yml", "--storage.path=\(folder.path)/data",
                "--web.listen-address=127.0.0.1:\(port)", "--cluster.listen-address=",
            ],
            log: folder.appendingPathComponent("alertmanager.log")
        )
        defer { alertmanager.terminate() }
        let client = SimpleHTTPClient(port: port)
        var ready = false
        for _ in 0..<100 where !ready {
            ready = (try? client.request("GET", "/-/ready"))?.status == 200
            if !ready { Thread.sleep(forTimeInterval: 0.1) }
        }
        #expect(ready)

        func post(endsAt: String?) throws {
            var alert = """
                {"labels": {"alertname": "CheckoutLatencyHigh", "service": "checkout", "severity": "critical"},
                 "annotations": {"summary": "p99 latency of checkout above 2 s"},
                 "startsAt": "2026-11-23T10:00:00Z"
                """
            if let endsAt { alert += ", \"endsAt\": \"\(endsAt)\"" }
            let response = try client.request(
                "POST",
                "/api/v2/alerts",
                headers: [("Content-Type", "application/json")],
                body: Array("[\(alert)}]".utf8)
            )
            #expect(response.status == 200, "\(response.text)")
        }
        func stored() throws -> [[String: Any]] {
            try vigil.json("/api/v1/alerts?service=checkout") as? [[String: Any]] ?? []
        }

        try post(endsAt: nil)
        var alerts: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(30)
        while alerts.first?["status"] as? String != "firing" && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.3)
            alerts = try stored()
        }
        #expect(alerts.count == 1)
        #expect(alerts.first?["status"] as? String == "firing")
        #expect(alerts.first?["name"] as? String == "CheckoutLatencyHigh")
        #expect(alerts.first?["summary"] as? String == "p99 latency of checkout above 2 s")
        #expect(alerts.first?["startsAt"] as? String == "2026-11-23T10:00:00Z")
        #expect((alerts.first?["fingerprint"] as? String)?.isEmpty == false)

        try post(endsAt: ISO8601DateFormatter().string(from: Date().addingTimeInterval(-1)))
        while alerts.first?["status"] as? String != "resolved" && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.3)
            alerts = try stored()
        }
        #expect(alerts.count == 1, "the resolved alert updates the firing one")
        #expect(alerts.first?["status"] as? String == "resolved")
        #expect(alerts.first?["endsAt"] != nil)
        #expect(try vigil.stats("alerts").accepted >= 2)
    }
}
