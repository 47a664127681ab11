// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing
import VigilCore
import VigilIngest

@Suite struct AlertmanagerWebhookTests {
    /// The shape Alertmanager 0.25 sends (seen at a loopback receiver, ../shared/COMPONENTS.md).
    static let payload = """
        {"receiver":"vigil","status":"resolved","alerts":[
          {"status":"firing","labels":{"alertname":"HighErrorRate","job":"api","severity":"page"},
           "annotations":{"description":"5xx above 5 %"},"startsAt":"2026-11-23T10:00:00.123Z",
           "endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prom/graph","fingerprint":"8c3f0e1a2b4d6f70"},
          {"status":"resolved","labels":{"alertname":"DiskFull","instance":"db-1"},"annotations":{},
           "startsAt":"2026-11-23T09:00:00Z","endsAt":"2026-11-23T09:30:00Z","fingerprint":"0011223344556677"}],
         "groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am:9093","version":"4",
         "groupKey":"{}:{}","truncatedAlerts":0}
        """

    @Test func decodesFiringAndResolvedAlerts() throws {
        let alerts = try AlertmanagerWebhook.decode(Array(Self.payload.utf8))
        #expect(alerts.count == 2)
        #expect(alerts[0].name == "HighErrorRate" && alerts[0].service == "api" && alerts[0].status == .firing)
        #expect(alerts[0].endsAt == nil, "the zero time of a firing alert is no end")
        #expect(alerts[0].summary == "5xx above 5 %")
        #expect(alerts[0].startsAt.iso8601 == "2026-11-23T10:00:00.123Z")
        #expect(alerts[1].status == .resolved && alerts[1].service == "unknown")
        #expect(alerts[1].endsAt?.iso8601 == "2026-11-23T09:30:00Z")
        #expect(alerts[1].fingerprint == "0011223344556677")
    }

    @Test(arguments: [
        ("{\"version\":\"3\",\"alerts\":[]}", "version 3"),
        (
            "{\"alerts\":[{\"labels\":{},\"status\":\"open\",\"startsAt\":\"2026-11-23T10:00:00Z\"}]}",
            "firing or resolved"
        ),
        ("{\"alerts\":[{\"labels\":{},\"status\":\"firing\",\"startsAt\":\"soon\"}]}", "startsAt"),
        ("[]", "JSON object"),
    ])
    func refusesMalformedPayloads(body: String, reason: String) {
        #expect {
            try AlertmanagerWebhook.decode(Array(body.utf8))
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    /// 100,000 mutated webhooks (and generic change events) never crash the decoders.
    @Test func survivesMutatedBodies() {
        var mutation = Mutation(seed: 17)
        let webhook = Array(
            #"{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"HighLatency","service":"checkout"},"annotations":{"summary":"p99 > 1s"},"startsAt":"2026-11-23T14:31:45Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"abc"}]}"#
                .utf8
        )
        let change = Array(
            #"[{"service":"checkout","kind":"deploy","version":"v2","time":"2026-11-23T14:31:45Z"}]"#.utf8
        )
        let alerts = mutation.count(100_000, seeds: [webhook]) { _ = try AlertmanagerWebhook.decode($0) }
        let changes = mutation.count(100_000, seeds: [change]) {
            _ = try ChangeEvents.decode($0, now: Timestamp(nanoseconds: 0))
        }
        #expect(alerts > 0 && alerts < 100_000)
        #expect(changes > 0 && changes < 100_000)
    }
}
