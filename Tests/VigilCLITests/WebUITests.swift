// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import VigilCore
import VigilIngest
import VigilServer
import VigilTestSupport

private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
private let browserPython = repositoryRoot.appendingPathComponent(".build/browser-venv/bin/python")
private let hasBrowser =
    FileManager.default.isExecutableFile(atPath: browserPython.path)
    && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")

/// The web UI `vigil serve` ships at `/`: its assets with their security headers, and, in real headless
/// Chromium driven by Selenium (scripts/ui-check), the pages a person on call clicks through.
@Suite(.serialized) struct WebUITests {
    /// Markup smuggled into an alert summary and a log line: it must show as text and never run.
    static let injection = #"<img src=x onerror="window.__vigilInjected=1">"#

    @Test func assetsAreServedWithTheirTypesValidatorsAndPolicy() throws {
        let vigil = try ServerProcess(arguments: ["--no-host"])
        try vigil.start()
        defer { vigil.stop() }
        let client = vigil.client()
        let page = try client.request("GET", "/")
        #expect(page.status == 200)
        #expect(page.header("Content-Type") == "text/html; charset=utf-8")
        #expect(page.header("Content-Security-Policy")?.contains("script-src 'self'") == true)
        #expect(page.header("X-Content-Type-Options") == "nosniff")
        // Every script and style sheet the page names is served, with its own type.
        for (path, type) in [("/ui/app.js", "text/javascript"), ("/ui/style.css", "text/css")] {
            #expect(page.text.contains("\"\(path)\""), "the page does not load \(path)")
            let asset = try client.request("GET", path)
            #expect(asset.status == 200)
            #expect(asset.header("Content-Type")?.hasPrefix(type) == true)
            let tag = try #require(asset.header("ETag"))
            #expect(try client.request("GET", path, headers: [("If-None-Match", tag)]).status == 304)
            #expect(try client.request("GET", path, headers: [("If-None-Match", "\"stale\"")]).status == 200)
            let head = try client.request("HEAD", path)
            #expect(head.status == 200 && head.body.isEmpty && head.header("ETag") == tag)
        }
        #expect(try client.request("GET", "/ui").header("Location") == "/")
        #expect(try client.request("GET", "/ui/missing.js").status == 404)
    }

    @Test(
        .enabled(
            if: hasBrowser || ProcessInfo.processInfo.environment["CI"] != nil,
            "needs chromium, chromium-driver and .build/browser-venv (scripts/test installs them; in CI a missing browser fails)"
        )
    )
    func aPersonOnCallSeesTheIncidentItsEvidenceAndTheSeriesAndApprovesTheFix() throws {
        // A runbook that rolls back the deploy behind an incident: high risk, so it waits for a person's approval.
        let fixture = try RollbackRunbook(token: "ui-approval-token-0123456789")
        let (folder, marker, config, token) = (fixture.folder, fixture.marker, fixture.config, fixture.token)
        let vigil = try ServerProcess(arguments: ["--no-host", "--config", config.path])
        try vigil.start()
        defer { vigil.stop() }
        let client = vigil.client()
        let json = [("Content-Type", "application/json")]

        // A deploy, then the alert storm after it.
        let deploy = #"{"service": "auth-api", "kind": "deploy", "version": "v2.4.1", "time": "2026-11-23T14:29:45Z"}"#
        #expect(try client.request("POST", "/api/v1/changes", headers: json, body: Array(deploy.utf8)).status == 202)
        let alerts = ["auth-api", "user-service", "checkout"].enumerated().map { index, service in
            """
            {"status": "firing", "fingerprint": "\(service)-errors", "startsAt": "2026-11-23T14:31:\(45 + 4 * index)Z",
             "labels": {"alertname": "\(service)-errors", "service": "\(service)", "namespace": "shop"},
             "annotations": {"summary": "\(service) error ratio above 5 % \(Self.injection.replacing("\"", with: "\\\""))"}}
            """
        }
        let storm = #"{"version": "4", "status": "firing", "alerts": ["# + alerts.joined(separator: ",") + "]}"
        #expect(
            try client.request("POST", "/api/v1/alerts/alertmanager", headers: json, body: Array(storm.utf8)).status
                == 200
        )

        // Calls for the service map: the storm's chain, where auth-api fails, and a quiet pair beside it.
        let spanStart = (Int64(Date().timeIntervalSince1970) - 120) * 1_000_000_000
        var spans: [TraceSpan] = []
        for trace in 0..<20 {
            let start = Timestamp(nanoseconds: spanStart + Int64(trace) * 1_000_000_000)
            let end = Timestamp(nanoseconds: start.nanoseconds + 40_000_000)
            let id = TraceSpan.TraceID(high: 7, low: UInt64(trace))
            let base = UInt64(trace * 10)
            for (offset, service, parent) in [
                (1, "checkout", 0), (2, "user-service", 1), (3, "auth-api", 2), (4, "search", 0), (5, "catalogue", 4),
            ] {
                spans.append(
                    TraceSpan(
                        traceID: id,
                        spanID: base + UInt64(offset),
                        parentSpanID: parent == 0 ? 0 : base + UInt64(parent),
                        service: service,
                        name: "GET /\(service)",
                        kind: .server,
                        start: start,
                        end: end,
                        isError: service == "auth-api" && trace % 2 == 0
                    )
                )
            }
        }
        #expect(
            try client.request(
                "POST",
                "/v1/traces",
                headers: [("Content-Type", "application/x-protobuf")],
                body: OTLP.encodeTraces(spans)
            ).status == 200
        )

        // A log line carrying markup, and a gauge that jumps after 240 calm points (15 s apart, up to a minute ago).
        let now = Int64(Date().timeIntervalSince1970) / 15 * 15 - 60
        let line = "ERROR login failed for user \(Self.injection) from 10.1.2.3"
        let logs = LokiPush.encodeProtobuf([
            (
                "{service_name=\"auth-api\"}",
                [LogEntry(time: Timestamp(nanoseconds: (now - 30) * 1_000_000_000), line: Array(line.utf8))]
            )
        ])
        #expect(
            try client.request(
                "POST",
                "/loki/api/v1/push",
                headers: [("Content-Type", "application/x-protobuf")],
                body: logs
            ).status == 204
        )
        let points = (0..<240).map { index in
            let value = index == 239 ? 900 : 100 + Double(index % 7)
            return #"{"timeUnixNano": "\#((now - Int64(239 - index) * 15) * 1_000_000_000)", "asDouble": \#(value)}"#
        }
        let gauge = """
            {"resourceMetrics": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "inventory"}}]},
             "scopeMetrics": [{"metrics": [{"name": "queue_depth", "gauge": {"dataPoints": [\(points.joined(separator: ","))]}}]}]}]}
            """
        #expect(try client.request("POST", "/v1/metrics", headers: json, body: Array(gauge.utf8)).status == 200)
        try vigil.waitUntilDrained()
        // Calls become edges once their spans have been quiet for 15 ticks.
        let deadline = Date().addingTimeInterval(40)
        while Date() < deadline {
            let topology = try vigil.json("/api/v1/topology?from=\(Int(Date().timeIntervalSince1970) - 900)")
            let edges = (topology as? [String: Any])?["edges"] as? [[String: Any]] ?? []
            let anomalies = try vigil.json("/api/v1/anomalies?service=inventory") as? [[String: Any]] ?? []
            let incidents = try vigil.json("/api/v1/incidents") as? [[String: Any]] ?? []
            let templates = try vigil.json("/api/v1/templates?service=auth-api") as? [[String: Any]] ?? []
            let runs = try vigil.json("/api/v1/remediations") as? [[String: Any]] ?? []
            if !anomalies.isEmpty && !templates.isEmpty && !runs.isEmpty && edges.count == 3
                && incidents.contains(where: { $0["rootCause"] as? String == "auth-api" })
            {
                break
            }
            Thread.sleep(forTimeInterval: 0.2)
        }

        let shots = Scratch.path("vigil-ui")
        let tour = Process()
        tour.executableURL = browserPython
        tour.arguments = [
            repositoryRoot.appendingPathComponent("scripts/ui-check").path, "http://127.0.0.1:\(vigil.port)",
            "--incident", "auth-api", "--ask", "why is checkout failing?", "--screenshots", shots.path,
            "--approve", "alice:\(token)",
        ]
        let output = Pipe()
        let errors = Pipe()
        tour.standardOutput = output
        tour.standardError = errors
        try tour.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let complaint = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        tour.waitUntilExit()
        try #require(tour.terminationStatus == 0, "ui-check failed: \(complaint)")
        let seen = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])

        #expect(seen["title"] as? String == "Vigil")
        #expect((seen["status"] as? String)?.hasPrefix("ready") == true, "\(seen["status"] ?? "")")
        // The list: the storm is one incident, its root cause a link; the gauge's jump is another.
        let incidents = seen["incidents"] as? [[String]] ?? []
        let stormRow = try #require(incidents.first { $0.count == 7 && $0[2] == "auth-api" }, "\(incidents)")
        #expect(stormRow[0] == "open" && stormRow[1] == "2026-11-23 14:31:45" && stormRow[5] == "3")
        #expect((seen["openCount"] as? [String])?.first == String(incidents.count))
        // Each Alertmanager alert of the storm links to the incident it joined.
        let stormIndex = try #require(incidents.firstIndex(of: stormRow))
        let stormID = try #require((seen["incidentIds"] as? [String])?[stormIndex])
        let alertRows = seen["alerts"] as? [[String]] ?? []
        #expect(alertRows.count == 3 && alertRows.allSatisfy { $0[0] == "firing" && $0[6] == stormID }, "\(alertRows)")
        #expect(Set(alertRows.map { $0[3] }) == ["auth-api", "user-service", "checkout"])
        // The line that says how the storm was grouped is the server's own count.
        let grouping = try #require((try vigil.json("/api/v1/stats") as? [String: Any])?["incidents"] as? [String: Any])
        #expect(grouping["incidents"] as? Int == incidents.count)
        #expect((seen["grouping"] as? [String])?.first == grouping["summary"] as? String, "\(grouping)")

        // One click: the explanation a person acts on.
        let incident = try #require(seen["incident"] as? [String: Any])
        #expect((incident["hash"] as? String)?.hasPrefix("#/incidents/") == true)
        #expect((incident["narrative"] as? String)?.hasPrefix("Root cause auth-api") == true)
        #expect((incident["trigger"] as? [String])?.first?.contains("deploy v2.4.1 of auth-api") == true)
        #expect(
            (incident["recommendation"] as? [String])?.first?.contains("Roll back the deploy v2.4.1 of auth-api")
                == true
        )
        #expect((incident["impactChain"] as? [String])?.first == "auth-api")
        let candidates = incident["candidates"] as? [[String]] ?? []
        #expect(candidates.map { $0[1] } == ["auth-api", "user-service", "checkout"], "\(candidates)")
        let timeline = incident["timeline"] as? [[String]] ?? []
        #expect(timeline.first == ["2026-11-23 14:29:45", "auth-api", "deploy v2.4.1"], "\(timeline)")
        let members = incident["members"] as? [[String]] ?? []
        #expect(members.count == 3)
        #expect(members.allSatisfy { $0[6].contains(Self.injection) }, "markup must show as text: \(members)")
        #expect(members.contains { $0[7].contains("namespace shop") })
        #expect(incident["askAbout"] as? String == "#/ask?q=why%20is%20checkout%20failing%3F")

        // The other pages.
        let templates = seen["templates"] as? [[String]] ?? []
        #expect(templates.contains { $0[0] == "auth-api" && $0[7].contains("<img src=x") }, "\(templates)")
        #expect((seen["changes"] as? [[String]])?.first?[3] == "v2.4.1")
        let anomalies = seen["anomalies"] as? [[String]] ?? []
        #expect(anomalies.contains { $0[1] == "inventory" && $0[5] == "900" }, "\(anomalies)")
        // The anomaly's series, drawn around it with the point marked (2 h before it: 240 points at most).
        #expect((seen["chartPoints"] as? Int ?? 0) >= 200, "\(seen["chartPoints"] ?? "none")")
        #expect(seen["chartMarkers"] as? Int == 1)
        // The service map: callers left of callees, the incident's services outlined, auth-api's calls red.
        let serviceMap = try #require(seen["serviceMap"] as? [String: Any], "no service map")
        let nodes = (serviceMap["nodes"] as? [[Any]] ?? []).map { "\($0[0]) \($0[1]) \($0[2])" }.sorted()
        #expect(
            nodes == [
                "auth-api 2 1", "catalogue 1 0", "checkout 0 1", "search 0 0", "user-service 1 1",
            ],
            "\(serviceMap)"
        )
        let links = (serviceMap["links"] as? [[String]] ?? []).map { $0.joined(separator: " ") }.sorted()
        #expect(
            links == ["checkout user-service link", "search catalogue link", "user-service auth-api link failing"],
            "\(serviceMap)"
        )
        #expect(serviceMap["drawn"] as? Bool == true)
        #expect((seen["health"] as? [String])?.contains { $0.hasPrefix("ALERTS\n3 processed") } == true)
        #expect((seen["unknownPage"] as? [String])?.first?.hasPrefix("There is no page") == true)
        // The Ask page: the question answered by the rules from the same facts, and the facts listed.
        let asked = try #require(seen["ask"] as? [String: [String]])
        let answer = asked["answer"]?.first ?? ""
        #expect(answer.hasPrefix("checkout is affected, but most likely as a symptom"), "\(asked)")
        #expect(answer.contains("points at auth-api") && answer.contains("Roll back the deploy v2.4.1 of auth-api"))
        #expect(asked["answeredBy"]?.first == "Answered by Vigil's rules from the facts below.")
        #expect(asked["evidence"]?.first?.hasPrefix("incident [") == true)

        // The fix: shown on the incident, waiting for approval, refused with a wrong token, run once approved.
        #expect((incident["runs"] as? [String])?.first?.contains("awaiting approval roll-back on auth-api") == true)
        let waiting = try #require((seen["remediations"] as? [[String: Any]])?.first, "\(seen)")
        #expect(waiting["state"] as? String == "awaiting_approval" && waiting["form"] as? Bool == true)
        #expect((waiting["title"] as? String)?.contains("roll-back on auth-api") == true)
        #expect((waiting["reasons"] as? [String])?.contains { $0.contains("high risk") } == true, "\(waiting)")
        #expect((waiting["steps"] as? [String])?.first == "undo: touch \(folder.path)/auth-api-v2.4.1.rolled-back")
        #expect((seen["refused"] as? [String])?.first?.contains("answered 401") == true, "\(seen["refused"] ?? "")")
        #expect((seen["decided"] as? [String])?.first == "Approved roll-back on auth-api.")
        let done = try #require((seen["remediationsAfter"] as? [[String: Any]])?.first)
        #expect(done["state"] as? String == "succeeded" && done["form"] as? Bool == false, "\(done)")
        let entries = done["entries"] as? [[String]] ?? []
        #expect(entries.contains { $0.count == 4 && $0[2] == "alice" && $0[3] == "approved" }, "\(entries)")
        #expect(FileManager.default.fileExists(atPath: marker.path))

        // Nothing smuggled in ran, and the page raised no error.
        #expect(seen["injected"] is NSNull)
        #expect(seen["images"] as? Int == 0)
        // (The one the browser logs is the deliberate wrong-token approval, refused with 401.)
        let consoleErrors = seen["consoleErrors"] as? [String] ?? ["none recorded"]
        #expect(
            consoleErrors.count == 1 && consoleErrors[0].contains("/approve - Failed to load resource")
                && consoleErrors[0].contains("status of 401"),
            "\(consoleErrors)"
        )
    }
}
