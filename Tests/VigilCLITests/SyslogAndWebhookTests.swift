// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import VigilIngest
import VigilServer
import VigilTestSupport

/// util-linux `logger` sends syslog over UDP and TCP in both RFC formats; GitHub-style signed webhooks and
/// `kubectl get events -w -o json` output become change events.
@Suite(.serialized) struct SyslogAndWebhookTests {
    @Test func loggerSendsOverUDPAndTCP() throws {
        let udp = try ServerProcess.freePort()
        let tcp = try ServerProcess.freePort()
        let vigil = try ServerProcess(arguments: [
            "--no-host", "--syslog-udp", "127.0.0.1:\(udp)", "--syslog-tcp", "127.0.0.1:\(tcp)",
        ])
        try vigil.start()
        defer { vigil.stop() }
        Thread.sleep(forTimeInterval: 0.5)  // the listeners bind just after the HTTP port opens
        let sends: [[String]] = [
            ["--udp", "--port", "\(udp)", "--rfc5424", "-t", "billing-udp", "-p", "user.err"],
            ["--tcp", "--port", "\(tcp)", "--rfc5424", "--octet-count", "-t", "billing-tcp", "-p", "user.err"],
            ["--tcp", "--port", "\(tcp)", "--rfc3164", "-t", "legacy", "-p", "daemon.warning"],
        ]
        for arguments in sends {
            for index in 0..<5 {
                let logger = Process()
                logger.executableURL = URL(fileURLWithPath: "/usr/bin/logger")
                logger.arguments =
                    ["--server", "127.0.0.1"] + arguments + ["invoice \(1000 + index) could not be charged"]
                try logger.run()
                logger.waitUntilExit()
                #expect(logger.terminationStatus == 0)
            }
        }
        let deadline = Date().addingTimeInterval(30)
        while try vigil.stats().processed < 15 && Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        #expect(try vigil.stats().processed == 15)
        for (service, severity) in [("billing-udp", "error"), ("billing-tcp", "error"), ("legacy", "warning")] {
            var templates: [[String: Any]] = []
            while templates.isEmpty && Date() < deadline {
                templates = try vigil.json("/api/v1/templates?service=\(service)") as? [[String: Any]] ?? []
                if templates.isEmpty { Thread.sleep(forTimeInterval: 0.3) }
            }
            let invoice = templates.first { ($0["text"] as? String)?.contains("could not be charged") == true }
            #expect((invoice?["count"] as? NSNumber)?.intValue == 5, "\(service): \(templates)")
            #expect(invoice?["severity"] as? String == severity, "\(service)")
        }
    }

    @Test func signedGitHubDeploymentsAndKubernetesEventsBecomeChanges() throws {
        // The secret comes from a configuration file (the environment would leak into parallel tests).
        let config = Scratch.path("vigil", suffix: "yaml")
        try Data("webhook_secret: s3cret\n".utf8).write(to: config)
        let vigil = try ServerProcess(arguments: ["--no-host", "--k8s-events", "-", "--config", config.path])
        let pipe = Pipe()
        vigil.standardInput = pipe
        try vigil.start()
        defer { vigil.stop() }
        let body = Array(
            #"{"deployment_status":{"state":"failure","created_at":"2026-11-23T14:31:45Z"},"deployment":{"sha":"0123456789abcdef","environment":"prod"},"repository":{"name":"checkout"}}"#
                .utf8
        )
        let signature =
            "sha256=" + SHA256.hmac(key: Array("s3cret".utf8), body).map { String(format: "%02x", $0) }.joined()
        let client = vigil.client()
        let unsigned = try client.request(
            "POST",
            "/api/v1/changes/github",
            headers: [("X-GitHub-Event", "deployment_status")],
            body: body
        )
        #expect(unsigned.status == 401)
        let forged = try client.request(
            "POST",
            "/api/v1/changes/github",
            headers: [
                ("X-GitHub-Event", "deployment_status"),
                ("X-Hub-Signature-256", "sha256=" + String(repeating: "0", count: 64)),
            ],
            body: body
        )
        #expect(forged.status == 401)
        let signed = try client.request(
            "POST",
            "/api/v1/changes/github",
            headers: [
                ("X-GitHub-Event", "deployment_status"), ("X-Hub-Signature-256", signature),
                ("Content-Type", "application/json"),
            ],
            body: body
        )
        #expect(signed.status == 202, "\(signed.text)")
        #expect(signed.text == #"{"accepted":1}"#)

        // kubectl get events -w -o json: pretty-printed objects, one after another.
        let events = """
            {
                "apiVersion": "v1",
                "kind": "Event",
                "reason": "ScalingReplicaSet",
                "message": "Scaled up replica set payment-6c9d7f5b8d to 3",
                "involvedObject": {"kind": "Deployment", "name": "payment", "namespace": "shop"},
                "lastTimestamp": "2026-11-23T14:30:00Z"
            }
            {
                "apiVersion": "v1",
                "kind": "Event",
                "reason": "BackOff",
                "message": "Back-off restarting failed container",
                "involvedObject": {"kind": "Pod", "name": "payment-6c9d7f5b8d-qx2lp", "namespace": "shop"},
                "lastTimestamp": "2026-11-23T14:32:00Z"
            }

            """
        pipe.fileHandleForWriting.write(Data(events.utf8))
        let deadline = Date().addingTimeInterval(20)
        var changes: [[String: Any]] = []
        while changes.count < 3 && Date() < deadline {
            changes = try vigil.json("/api/v1/changes?from=2026-11-23T00:00:00Z") as? [[String: Any]] ?? []
            if changes.count < 3 { Thread.sleep(forTimeInterval: 0.3) }
        }
        let summary = changes.map { "\($0["service"] as? String ?? "") \($0["kind"] as? String ?? "")" }.sorted()
        #expect(summary == ["checkout deploy", "payment deploy", "payment restart"])
    }
}
