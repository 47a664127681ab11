// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Glibc
import Testing
import VigilCore
import VigilIngest
import VigilServer
import VigilTestSupport

/// `vigil serve` turns a deploy and the alert storm after it into one incident, serves it over the API and tells
/// a webhook (a small Python HTTP server standing in for Slack or a relay).
@Suite(.serialized) struct IncidentTests {
    @Test func alertStormBecomesOneIncidentWithItsTriggerAndAWebhook() throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }

        let vigil = try ServerProcess(arguments: ["--no-host", "--incident-webhook", receiver.url])
        try vigil.start()
        defer { vigil.stop() }
        let client = vigil.client()

        let deploy = #"{"service": "auth-api", "kind": "deploy", "version": "v2.4.1", "time": "2026-11-23T14:29:45Z"}"#
        let json = [("Content-Type", "application/json")]
        #expect(try client.request("POST", "/api/v1/changes", headers: json, body: Array(deploy.utf8)).status == 202)
        // The storm: auth-api's errors first, then its dependents, all in namespace shop.
        var alerts: [String] = []
        for (index, service) in ["auth-api", "user-service", "checkout", "auth-api"].enumerated() {
            let name = "\(service)-errors"
            // The last is a repeat of the first (Alertmanager resends firing alerts).
            let second = index == 3 ? 45 : 45 + index * 4
            alerts.append(
                """
                {"status": "firing", "fingerprint": "\(name)", "startsAt": "2026-11-23T14:31:\(second)Z",
                 "labels": {"alertname": "\(name)", "service": "\(service)", "namespace": "shop"},
                 "annotations": {"summary": "\(service) error ratio above 5 %"}}
                """
            )
        }
        let payload = #"{"version": "4", "status": "firing", "alerts": ["# + alerts.joined(separator: ",") + "]}"
        let answer = try client.request("POST", "/api/v1/alerts/alertmanager", headers: json, body: Array(payload.utf8))
        #expect(answer.status == 200, "\(answer.status) \(answer.text)")

        var incidents: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            incidents = try vigil.json("/api/v1/incidents") as? [[String: Any]] ?? []
            if incidents.first?["symptomCount"] as? Int == 4 { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        try #require(incidents.count == 1, "\(incidents)")
        #expect(incidents[0]["rootCause"] as? String == "auth-api")
        #expect(incidents[0]["services"] as? [String] == ["auth-api", "user-service", "checkout"])
        let id = try #require(incidents[0]["id"] as? String)

        let incident = try #require(try vigil.json("/api/v1/incidents/\(id)") as? [String: Any])
        let members = try #require(incident["members"] as? [[String: Any]])
        #expect(members.count == 3)
        #expect(members.contains { ($0["joinedBecause"] as? String)?.contains("namespace shop") == true })
        let trigger = try #require(incident["trigger"] as? [String: Any])
        #expect(trigger["service"] as? String == "auth-api" && trigger["version"] as? String == "v2.4.1")
        let recommendation = try #require(incident["recommendation"] as? [String: Any])
        #expect(recommendation["action"] as? String == "Roll back the deploy v2.4.1 of auth-api")
        #expect((incident["timeline"] as? [[String: Any]])?.first?["what"] as? String == "deploy v2.4.1")
        #expect(try client.request("GET", "/api/v1/incidents/nope").status == 404)
        #expect(try client.request("GET", "/api/v1/incidents?status=burning").status == 400)

        // The webhook hears about it (notifications go out every 2 s).
        let heard = receiver.wait(seconds: 15) { ($0["incident"] as? [String: Any])?["id"] as? String == id }
        let opened = try #require(heard)
        #expect(opened["event"] as? String == "opened" || opened["event"] as? String == "changed")
        #expect((opened["text"] as? String)?.contains("Root cause auth-api") == true, "\(opened["text"] ?? "")")

        // A restart rebuilds the incident from the store; what was announced is kept there too, so it is not
        // announced again. A real change still is.
        let about = { (body: [String: Any]) in (body["incident"] as? [String: Any])?["id"] as? String == id }
        Thread.sleep(forTimeInterval: 4.5)  // two rounds of notifications: anything pending has gone out
        let before = receiver.notifications.filter(about).count
        #expect(vigil.stop() == 0)
        try vigil.start()
        #expect((try vigil.json("/api/v1/incidents") as? [[String: Any]])?.first?["id"] as? String == id)
        Thread.sleep(forTimeInterval: 5)
        #expect(receiver.notifications.filter(about).count == before, "\(receiver.notifications)")
        let payment = """
            {"version": "4", "status": "firing", "alerts": [{"status": "firing", "fingerprint": "payment-errors",
             "startsAt": "2026-11-23T14:32:05Z", "labels": {"alertname": "payment-errors", "service": "payment",
             "namespace": "shop"}}]}
            """
        #expect(
            try vigil.client().request("POST", "/api/v1/alerts/alertmanager", headers: json, body: Array(payment.utf8))
                .status == 200
        )
        let changed = receiver.wait(seconds: 15) {
            about($0) && $0["event"] as? String == "changed"
                && (($0["incident"] as? [String: Any])?["services"] as? [String])?.contains("payment") == true
        }
        #expect(changed != nil, "\(receiver.notifications)")
    }

    @Test func configuredDependenciesJoinSymptomsAcrossServices() throws {
        let vigil = try Self.server(
            dependencies: #"{"services": ["checkout", "payment"], "calls": [["checkout", "payment"]]}"#
        )
        defer { vigil.stop() }
        // No shared label: only the configured call can join them. payment fails first, checkout after.
        let alerts = [("payment", "00"), ("checkout", "20")].map { service, second in
            """
            {"status": "firing", "fingerprint": "\(service)-errors", "startsAt": "2026-11-23T09:15:\(second)Z",
             "labels": {"alertname": "\(service)-errors", "service": "\(service)"}}
            """
        }
        let incidents = try Self.incidents(afterSending: alerts, to: vigil)
        try #require(incidents.count == 1, "\(incidents)")
        #expect(incidents[0]["rootCause"] as? String == "payment")
        let id = try #require(incidents[0]["id"] as? String)
        let incident = try #require(try vigil.json("/api/v1/incidents/\(id)") as? [String: Any])
        let reasons = (incident["members"] as? [[String: Any]] ?? []).compactMap { $0["joinedBecause"] as? String }
        #expect(reasons.contains { $0.contains("checkout calls payment") }, "\(reasons)")
    }

    /// The calls a `--dependencies` file declares are part of the service graph the API and the web UI show, with
    /// no span needed.
    @Test func declaredCallsShowInTheTopology() throws {
        let vigil = try Self.server(dependencies: #"{"calls": [["checkout", "payment"], ["front-end", "checkout"]]}"#)
        defer { vigil.stop() }
        let topology = try #require(try vigil.json("/api/v1/topology") as? [String: Any])
        #expect(topology["services"] as? [String] == ["checkout", "front-end", "payment"], "\(topology)")
        let edges = topology["edges"] as? [[String: Any]] ?? []
        #expect(edges.map { "\($0["caller"]!) → \($0["callee"]!)" } == ["checkout → payment", "front-end → checkout"])
        #expect(edges.allSatisfy { $0["sources"] as? [String] == ["configuration"] }, "\(edges)")
    }

    /// The stored series re-rank an incident's candidates: by its alerts payment (the callee) is the root cause,
    /// but checkout's latency is what moved, and payment's CPU did not.
    @Test func storedSeriesReRankTheCandidates() throws {
        let vigil = try Self.server(dependencies: #"{"calls": [["checkout", "payment"]]}"#)
        defer { vigil.stop() }
        // 64 points 15 s apart up to a minute ago; the last 8 are the incident.
        let end = Int64(Date().timeIntervalSince1970) / 15 * 15 - 60
        func gauge(_ service: String, _ name: String, _ value: (Int) -> Double) -> OTLPGauge {
            OTLPGauge(service: service, name: name, points: (0..<64).map { (end - Int64(63 - $0) * 15, value($0)) })
        }
        try vigil.send([
            gauge("checkout", "latency_p90") { 100 + Double($0 % 5) + ($0 >= 56 ? 400 : 0) },
            gauge("payment", "cpu") { 10 + Double($0 % 3) / 2 },
        ])
        let formatter = ISO8601DateFormatter()
        let alerts = [("payment", 6), ("checkout", 5)].map { service, pointsBeforeTheEnd in
            let start = formatter.string(
                from: Date(timeIntervalSince1970: Double(end - Int64(pointsBeforeTheEnd) * 15))
            )
            return """
                {"status": "firing", "fingerprint": "\(service)-slow", "startsAt": "\(start)",
                 "labels": {"alertname": "\(service)-slow", "service": "\(service)"}}
                """
        }
        let incidents = try Self.incidents(afterSending: alerts, to: vigil)
        try #require(incidents.count == 1, "\(incidents)")
        #expect(incidents[0]["rootCause"] as? String == "checkout", "\(incidents)")
        let id = try #require(incidents[0]["id"] as? String)
        let incident = try #require(try vigil.json("/api/v1/incidents/\(id)") as? [String: Any])
        let candidates = incident["rootCauses"] as? [[String: Any]] ?? []
        let reasons = candidates.first?["reasons"] as? [String] ?? []
        #expect(reasons.contains { $0.contains("its latency_p90 moved") }, "\(candidates)")
    }

    /// Logged errors re-rank the candidates too: payment's log turns to errors while its callee, the database,
    /// alerted first and logs as ever. Each stream's error lines per minute are stored as a series, and the
    /// ranker reads them.
    @Test func loggedErrorsReRankTheCandidates() throws {
        let vigil = try Self.server(dependencies: #"{"calls": [["payment", "database"]]}"#)
        defer { vigil.stop() }
        // Twenty minutes of lines, six a minute, up to two minutes ago; payment's last four minutes are errors.
        let end = Int64(Date().timeIntervalSince1970) / 60 * 60 - 120
        func lines(_ service: String) -> [LogEntry] {
            (0..<120).map { index in
                let time = end - Int64(119 - index) * 10
                let failing = service == "payment" && index >= 96
                let text =
                    failing
                    ? "2026-11-23 10:00:00 ERROR charge \(index) failed: card processor refused"
                    : "2026-11-23 10:00:00 INFO \(service) handled request \(index) in \(index % 7 + 3) ms"
                return LogEntry(time: Timestamp(nanoseconds: time * 1_000_000_000), line: Array(text.utf8))
            }
        }
        let body = LokiPush.encodeProtobuf([
            ("{service_name=\"payment\"}", lines("payment")), ("{service_name=\"database\"}", lines("database")),
        ])
        let sent = try vigil.client().request(
            "POST",
            "/loki/api/v1/push",
            headers: [("Content-Type", "application/x-protobuf")],
            body: body
        )
        #expect(sent.status == 204)
        try vigil.waitUntilDrained()
        let formatter = ISO8601DateFormatter()
        let alerts = [("database", 250), ("payment", 230)].map { service, secondsBeforeTheEnd in
            let start = formatter.string(from: Date(timeIntervalSince1970: Double(end - Int64(secondsBeforeTheEnd))))
            return """
                {"status": "firing", "fingerprint": "\(service)-down", "startsAt": "\(start)",
                 "labels": {"alertname": "\(service)-down", "service": "\(service)"}}
                """
        }
        try Self.post(alerts, to: vigil)
        var incidents: [[String: Any]] = []
        var candidates: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            incidents = try vigil.json("/api/v1/incidents") as? [[String: Any]] ?? []
            if let id = incidents.first?["id"] as? String,
                let incident = try vigil.json("/api/v1/incidents/\(id)") as? [String: Any]
            {
                candidates = incident["rootCauses"] as? [[String: Any]] ?? []
                let reasons = candidates.first?["reasons"] as? [String] ?? []
                if reasons.contains(where: { $0.contains("log_error_lines") }) { break }
            }
            Thread.sleep(forTimeInterval: 0.5)
        }
        try #require(incidents.count == 1, "\(incidents)")
        #expect(candidates.first?["service"] as? String == "payment", "\(candidates)")
        let reasons = candidates.first?["reasons"] as? [String] ?? []
        #expect(reasons.contains { $0.contains("log_error_lines moved") }, "\(candidates)")
    }

    /// A started `vigil serve --no-host` whose `--dependencies` file holds `dependencies` (JSON).
    /// PagerDuty's Events API v2, played by a receiver: an incident that opens triggers an alert with the
    /// routing key and what a responder needs; once the incident resolves (its alerts resolved, and the data's
    /// clock 30 minutes on), the alert is resolved by the same dedup key.
    @Test func incidentsTriggerAndResolvePagerDutyAlerts() throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        let folder = try Scratch.folder("vigil-pd")
        let config = folder.appendingPathComponent("vigil.yaml")
        let key = "R0UT1NGKEY0123456789abcdefABCDEF"
        try Data("pagerduty: {routing_key: \(key), url: \"\(receiver.url)\"}\n".utf8).write(to: config)
        let vigil = try ServerProcess(arguments: ["--no-host", "--config", config.path])
        try vigil.start()
        defer { vigil.stop() }
        let formatter = ISO8601DateFormatter()
        let start = Date().addingTimeInterval(-3_600)
        func alert(_ service: String, _ offset: Double, resolved: Bool = false) -> String {
            """
            {"status": "\(resolved ? "resolved" : "firing")", "fingerprint": "\(service)-errors",
             "startsAt": "\(formatter.string(from: start.addingTimeInterval(offset)))",
             "endsAt": "\(resolved ? formatter.string(from: start.addingTimeInterval(120)) : "0001-01-01T00:00:00Z")",
             "labels": {"alertname": "\(service)-errors", "service": "\(service)", "namespace": "shop"}}
            """
        }
        let services = ["auth-api", "user-service", "checkout"]
        try Self.post(services.enumerated().map { alert($0.element, Double($0.offset) * 4) }, to: vigil)
        let triggered = try #require(
            receiver.wait { $0["event_action"] as? String == "trigger" },
            "\(receiver.notifications) \(vigil.log().suffix(2_000))"
        )
        #expect(triggered["routing_key"] as? String == key)
        let dedupKey = try #require(triggered["dedup_key"] as? String)
        #expect(dedupKey.hasPrefix("vigil-"))
        let payload = try #require(triggered["payload"] as? [String: Any])
        #expect(payload["source"] as? String == "vigil" && payload["severity"] as? String == "critical")
        #expect((payload["summary"] as? String)?.contains("3 services, 3 symptoms") == true, "\(payload)")
        #expect(services.contains(payload["component"] as? String ?? ""), "\(payload)")
        let details = try #require(payload["custom_details"] as? [String: Any])
        #expect(Set(details["services"] as? [String] ?? []) == Set(services))
        #expect(details["incident"] as? String == String(dedupKey.dropFirst(6)))

        // The alerts resolve, and a change half an hour later moves the data's clock past the quiet time.
        try Self.post(services.enumerated().map { alert($0.element, Double($0.offset) * 4, resolved: true) }, to: vigil)
        let later =
            #"{"service": "billing", "kind": "config", "time": "\#(formatter.string(from: start.addingTimeInterval(1_800)))"}"#
        #expect(
            try vigil.client().request(
                "POST",
                "/api/v1/changes",
                headers: [("Content-Type", "application/json")],
                body: Array(later.utf8)
            ).status == 202
        )
        let resolved = receiver.wait(seconds: 30) { $0["event_action"] as? String == "resolve" }
        #expect(resolved?["dedup_key"] as? String == dedupKey, "\(receiver.notifications)")
        #expect(resolved?["routing_key"] as? String == key)
        #expect(receiver.notifications.filter { $0["event_action"] as? String == "trigger" }.count == 1)

        // A key that is not one, and a URL that is not http(s), are refused at start.
        for (setting, reason) in [
            ("{routing_key: \"not a key\"}", "pagerduty.routing_key must be a PagerDuty integration key"),
            ("{routing_key: \(key), url: ftp://pd}", "pagerduty.url must be an http(s) URL"),
            ("{url: https://events.pagerduty.com/v2/enqueue}", "pagerduty needs routing_key"),
        ] {
            try Data("pagerduty: \(setting)\n".utf8).write(to: config)
            let refused = try Vigil.run(["serve", "--no-host", "--config", config.path])
            #expect(refused.status != 0 && refused.stderr.contains(reason), "\(setting): \(refused.stderr)")
        }
    }

    static func server(dependencies: String) throws -> ServerProcess {
        let folder = try Scratch.folder("vigil-deps")
        let topology = folder.appendingPathComponent("topology.json")
        try Data(dependencies.utf8).write(to: topology)
        let vigil = try ServerProcess(arguments: ["--no-host", "--dependencies", topology.path])
        try vigil.start()
        return vigil
    }

    /// Posts Alertmanager alerts (JSON objects).
    static func post(_ alerts: [String], to vigil: ServerProcess) throws {
        let payload = #"{"version": "4", "status": "firing", "alerts": ["# + alerts.joined(separator: ",") + "]}"
        let answer = try vigil.client().request(
            "POST",
            "/api/v1/alerts/alertmanager",
            headers: [("Content-Type", "application/json")],
            body: Array(payload.utf8)
        )
        #expect(answer.status == 200)
    }

    /// Posts Alertmanager alerts (JSON objects) and waits until one incident holds them all.
    static func incidents(afterSending alerts: [String], to vigil: ServerProcess) throws -> [[String: Any]] {
        try Self.post(alerts, to: vigil)
        var incidents: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            incidents = try vigil.json("/api/v1/incidents") as? [[String: Any]] ?? []
            if incidents.first?["symptomCount"] as? Int == alerts.count { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return incidents
    }

    /// A deploy reported after the incident opened (a slow CI webhook) still becomes its trigger.
    @Test func aLateChangeEventBecomesTheTrigger() throws {
        let vigil = try Self.server(dependencies: #"{"calls": [["checkout", "payment"]]}"#)
        defer { vigil.stop() }
        let alerts = [("payment", "00"), ("checkout", "20")].map { service, second in
            """
            {"status": "firing", "fingerprint": "\(service)-errors", "startsAt": "2026-11-23T09:15:\(second)Z",
             "labels": {"alertname": "\(service)-errors", "service": "\(service)"}}
            """
        }
        let incidents = try Self.incidents(afterSending: alerts, to: vigil)
        let id = try #require(incidents.first?["id"] as? String)
        let before = try #require(try vigil.json("/api/v1/incidents/\(id)") as? [String: Any])
        #expect(before["trigger"] == nil)
        let deploy = #"{"service": "payment", "kind": "deploy", "version": "v9", "time": "2026-11-23T09:14:30Z"}"#
        let json = [("Content-Type", "application/json")]
        #expect(
            try vigil.client().request("POST", "/api/v1/changes", headers: json, body: Array(deploy.utf8)).status == 202
        )
        var trigger: [String: Any]?
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, trigger == nil {
            trigger = (try vigil.json("/api/v1/incidents/\(id)") as? [String: Any])?["trigger"] as? [String: Any]
            Thread.sleep(forTimeInterval: 0.2)
        }
        #expect(trigger?["version"] as? String == "v9")
    }

    /// `incidents.rules` in the configuration file: Alertmanager's Watchdog is ignored, an info alert waits as
    /// context until a critical one opens the incident, and the stats say how the alerts were grouped.
    @Test func incidentRulesIgnoreAndKeepAlertsAsContext() throws {
        let folder = try Scratch.folder("vigil-rules")
        let config = folder.appendingPathComponent("vigil.yaml")
        try Data(
            """
            incidents:
              rules:
                - match: {alertname: Watchdog}
                  ignore: true
                - match: {severity: info}
                  context_only: true
            """.utf8
        ).write(to: config)
        let vigil = try ServerProcess(arguments: ["--no-host", "--config", config.path])
        try vigil.start()
        defer { vigil.stop() }
        let formatter = ISO8601DateFormatter()
        let start = Date().addingTimeInterval(-600)
        func alert(_ name: String, _ service: String, severity: String, _ offset: Double) -> String {
            """
            {"status": "firing", "fingerprint": "\(name)", "startsAt": "\(formatter.string(from: start.addingTimeInterval(offset)))",
             "labels": {"alertname": "\(name)", "service": "\(service)", "namespace": "shop", "severity": "\(severity)"}}
            """
        }
        func grouping(until done: ([String: Any]) -> Bool) throws -> [String: Any] {
            var grouping: [String: Any] = [:]
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                grouping = (try vigil.json("/api/v1/stats") as? [String: Any])?["incidents"] as? [String: Any] ?? [:]
                if done(grouping) { break }
                Thread.sleep(forTimeInterval: 0.2)
            }
            return grouping
        }
        try Self.post(
            [
                alert("Watchdog", "prometheus", severity: "none", 0),
                alert("CacheMissesHigh", "cart", severity: "info", 5),
            ],
            to: vigil
        )
        var seen = try grouping { $0["symptoms"] as? Int == 1 && $0["ignored"] as? Int == 1 }
        #expect(seen["summary"] as? String == "1 alert or finding → 0 incidents (1 stood alone; 1 ignored by rules)")
        #expect((try vigil.json("/api/v1/incidents") as? [[String: Any]])?.isEmpty == true)

        try Self.post([alert("OrdersErrors", "orders", severity: "critical", 20)], to: vigil)
        seen = try grouping { $0["incidents"] as? Int == 1 }
        #expect(seen["summary"] as? String == "2 alerts and findings → 1 incident (1 ignored by rules)", "\(seen)")
        #expect(seen["open"] as? Int == 1)
        let incidents = try vigil.json("/api/v1/incidents") as? [[String: Any]] ?? []
        #expect(incidents.first?["services"] as? [String] == ["cart", "orders"], "\(incidents)")
        // The same counts for Prometheus, to alert on Vigil's own grouping.
        let metrics = try vigil.client().request("GET", "/metrics").text
        for line in [
            "vigil_incidents 1", "vigil_incidents_open 1", "vigil_incident_symptoms 2",
            "vigil_incident_symptoms_grouped 2", "vigil_incident_symptoms_ignored_total 1",
        ] {
            #expect(metrics.split(separator: "\n").contains { $0 == line || $0.hasPrefix(line + ".") }, "\(line)")
        }

        try Data("incidents: {rules: [{match: {severity: info}}]}\n".utf8).write(to: config)
        let refused = try Vigil.run(["serve", "--no-host", "--config", config.path], input: "")
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("incidents.rules[0] must do exactly one thing"), "\(refused.stderr)")
    }

    @Test func aBadDependencyFileStopsStartWithItsReason() throws {
        let folder = try Scratch.folder("vigil-deps")
        let file = folder.appendingPathComponent("deps.json")
        try Data(#"{"calls": [["checkout"]]}"#.utf8).write(to: file)
        let result = try Vigil.run(["serve", "--no-host", "--dependencies", file.path], input: "")
        #expect(result.status != 0)
        #expect(result.stderr.contains("calls[0] must be [caller, callee]"), "\(result.stderr)")
    }
}
