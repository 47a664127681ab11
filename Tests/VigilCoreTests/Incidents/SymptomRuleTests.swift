// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

/// 14:30:00 on some day, in seconds.
private let base: Int64 = 1_700_000_000 - 1_700_000_000 % 3600 + 1800

private func at(_ seconds: Int64) -> Timestamp { Timestamp(nanoseconds: (base + seconds) * 1_000_000_000) }

private func alert(
    _ fingerprint: String,
    _ name: String,
    service: String,
    severity: String = "critical",
    status: Alert.Status = .firing,
    at seconds: Int64,
    ended: Int64? = nil
) -> Alert {
    Alert(
        fingerprint: fingerprint,
        name: name,
        service: service,
        status: status,
        labels: [.init("severity", severity), .init("namespace", "shop")],
        summary: "\(name) on \(service)",
        startsAt: at(seconds),
        endsAt: ended.map(at)
    )
}

private func finding(_ service: String, _ subject: String, _ seconds: Int64) -> Anomaly {
    Anomaly(
        kind: .metricDeviation,
        service: service,
        subject: subject,
        time: at(seconds),
        score: 0.9,
        evidence: Evidence(observed: 2, expected: 1, lower: 0.5, upper: 1.5, summary: "\(subject) was 2")
    )
}

private func correlator(_ rules: [SymptomRule], minimumAlerts: Int = 1) -> IncidentCorrelator {
    var configuration = IncidentCorrelator.Configuration()
    configuration.symptomRules = rules
    configuration.minimumAlerts = minimumAlerts
    return IncidentCorrelator(configuration: configuration)
}

@Suite struct SymptomRuleTests {
    @Test func matchingReadsEveryField() {
        let rule = SymptomRule(match: ["kind": "alert", "severity": "info*"], action: .ignore)
        let fields = ["kind": "alert", "severity": "informational", "service": "db"]
        #expect(rule.matches { fields[$0] })
        #expect(!rule.matches { ["kind": "alert", "severity": "critical"][$0] })
        #expect(!rule.matches { ["kind": "alert"][$0] }, "a missing field is empty, which info* does not match")
        #expect(SymptomRule(match: ["team": "*"], action: .ignore).matches { _ in nil }, "* matches the empty value")
        #expect(SymptomRule(match: [:], action: .ignore).matches { _ in nil })
        let rules = [
            SymptomRule(match: ["service": "db"], action: .contextOnly),
            SymptomRule(match: ["kind": "alert"], action: .ignore),
        ]
        #expect(SymptomRule.action(for: { ["kind": "alert", "service": "db"][$0] }, in: rules) == .contextOnly)
        #expect(SymptomRule.action(for: { ["kind": "alert", "service": "web"][$0] }, in: rules) == .ignore)
        #expect(SymptomRule.action(for: { ["kind": "silence", "service": "web"][$0] }, in: rules) == nil)
    }

    /// Alertmanager's Watchdog fires forever by design; ignored, it never opens an incident and is counted.
    @Test func anIgnoredAlertOpensNothing() {
        var plain = correlator([])
        plain.add(alert("w", "Watchdog", service: "prometheus", severity: "none", at: 0))
        #expect(plain.incidents().count == 1, "without the rule the Watchdog is an incident")

        var ruled = correlator([SymptomRule(match: ["alertname": "Watchdog"], action: .ignore)])
        ruled.add(alert("w", "Watchdog", service: "prometheus", severity: "none", at: 0))
        ruled.add(alert("w", "Watchdog", service: "prometheus", severity: "none", status: .resolved, at: 0, ended: 60))
        #expect(ruled.incidents().isEmpty)
        #expect(ruled.ignored == 1, "a resolution is not counted as an ignored firing")
        #expect(
            ruled.grouping(of: ruled.incidents()).text == "0 alerts and findings → 0 incidents (1 ignored by rules)"
        )
    }

    /// Info alerts join the incident a critical alert opens, never open one alone, and do not hold one open.
    @Test func aContextOnlyAlertJoinsButNeverOpens() {
        let rules = [SymptomRule(match: ["severity": "info"], action: .contextOnly)]
        var alone = correlator(rules)
        alone.add(alert("i1", "CacheMissesHigh", service: "cart", severity: "info", at: 0))
        alone.add(alert("i2", "QueueLong", service: "orders", severity: "info", at: 10))
        #expect(alone.incidents().isEmpty, "two info alerts in one namespace are still not an incident")

        var storm = correlator(rules)
        storm.add(alert("i1", "CacheMissesHigh", service: "cart", severity: "info", at: 0))
        storm.add(alert("c1", "ErrorsHigh", service: "orders", at: 30))
        let incidents = storm.incidents()
        #expect(incidents.count == 1)
        #expect(incidents.first?.services == ["cart", "orders"], "the info alert joined as context")
        #expect(incidents.first?.status == .open)

        // The critical alert resolves; the info alert keeps firing but does not hold the incident open.
        storm.add(alert("c1", "ErrorsHigh", service: "orders", status: .resolved, at: 30, ended: 60))
        storm.add(finding("unrelated", "cpu", 2_000))
        #expect(storm.incidents().first { $0.services.contains("orders") }?.status == .resolved)
        var held = correlator([])
        held.add(alert("i1", "CacheMissesHigh", service: "cart", severity: "info", at: 0))
        held.add(alert("c1", "ErrorsHigh", service: "orders", at: 30))
        held.add(alert("c1", "ErrorsHigh", service: "orders", status: .resolved, at: 30, ended: 60))
        held.add(finding("unrelated", "cpu", 2_000))
        #expect(held.incidents().first { $0.services.contains("orders") }?.status == .open, "without the rule it does")
    }

    /// A synthetic prober's findings, kept as context, do not open an incident however many there are.
    @Test func contextOnlyFindingsDoNotCorroborateEachOther() {
        func feed(_ correlator: inout IncidentCorrelator) {
            for (index, subject) in ["latency", "errors", "cpu", "latency"].enumerated() {
                correlator.add(finding("synthetic-probe", subject, Int64(index) * 40))
            }
        }
        var plain = correlator([])
        feed(&plain)
        #expect(plain.incidents().count == 1)
        var ruled = correlator([SymptomRule(match: ["service": "synthetic-*"], action: .contextOnly)])
        feed(&ruled)
        #expect(ruled.incidents().isEmpty, "neither three symptoms nor one that held open an incident")
        #expect(ruled.grouping(of: []).text == "4 alerts and findings → 0 incidents (4 stood alone)")
    }

    /// Keep's "open an incident only when N alerts match": with a minimum of two, a lone alert waits for company.
    @Test func aMinimumOfAlertsGatesExternalAlerts() {
        var gated = correlator([], minimumAlerts: 2)
        gated.add(alert("a", "ErrorsHigh", service: "orders", at: 0))
        gated.add(alert("a", "ErrorsHigh", service: "orders", at: 30))
        #expect(gated.incidents().isEmpty, "one alert firing twice is still one alert")
        gated.add(alert("b", "LatencyHigh", service: "cart", at: 40))
        let incidents = gated.incidents()
        #expect(incidents.map(\.services) == [["orders", "cart"]])
        #expect(
            gated.grouping(of: incidents)
                == .init(symptoms: 3, grouped: 3, incidents: 1, open: 1, ignored: 0)
        )
        #expect(gated.grouping(of: incidents).text == "3 alerts and findings → 1 incident")
    }
}
