// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

/// 14:30:00 on some day, in seconds.
private let base: Int64 = 1_700_000_000 - 1_700_000_000 % 3600 + 1800

private func at(_ seconds: Int64) -> Timestamp { Timestamp(nanoseconds: (base + seconds) * 1_000_000_000) }

private func anomaly(_ service: String, _ subject: String, _ seconds: Int64, score: Double = 0.9) -> Anomaly {
    Anomaly(
        kind: .metricDeviation,
        service: service,
        subject: subject,
        time: at(seconds),
        score: score,
        evidence: Evidence(observed: 2, expected: 1, lower: 0.5, upper: 1.5, summary: "\(subject) was 2, above 0.5…1.5")
    )
}

@Suite struct IncidentCorrelatorTests {
    /// auth-api is called by user-service, which checkout calls, which payment calls.
    private func chain() -> IncidentCorrelator {
        var correlator = IncidentCorrelator()
        correlator.addCall(caller: "user-service", callee: "auth-api")
        correlator.addCall(caller: "checkout", callee: "user-service")
        correlator.addCall(caller: "payment", callee: "checkout")
        correlator.addCall(caller: "search", callee: "catalogue")
        return correlator
    }

    /// The storm of the issue: a deploy of auth-api, then its error ratio, then its dependents, each repeating.
    private func storm() -> (changes: [ChangeEvent], anomalies: [Anomaly]) {
        let changes = [ChangeEvent(service: "auth-api", kind: .deploy, version: "v2.4.1", time: at(105))]
        var anomalies: [Anomaly] = []
        for (offset, service) in ["auth-api", "user-service", "checkout", "payment"].enumerated() {
            for repeatIndex in 0..<40 {
                anomalies.append(
                    anomaly(
                        service,
                        "http_errors_ratio{service=\"\(service)\"}",
                        225 + Int64(offset * 20 + repeatIndex * 10)
                    )
                )
                anomalies.append(
                    anomaly(
                        service,
                        "latency_p95_seconds{service=\"\(service)\"}",
                        230 + Int64(offset * 20 + repeatIndex * 10)
                    )
                )
            }
        }
        return (changes, anomalies)
    }

    /// A service's CPU that falls is spare capacity: minutes before a fault it must not open the incident the
    /// fault starts, nor join it. A CPU that rises, or a success rate that falls, still counts.
    @Test func spareCapacityIsNoSymptom() {
        var correlator = self.chain()
        func moved(
            _ service: String,
            _ subject: String,
            _ seconds: Int64,
            from expected: Double,
            to observed: Double
        )
            -> Anomaly
        {
            Anomaly(
                kind: .metricDeviation,
                service: service,
                subject: subject,
                time: at(seconds),
                score: 1,
                evidence: Evidence(observed: observed, expected: expected, summary: "\(subject) was \(observed)")
            )
        }
        correlator.add(moved("checkout", "cpu{service=\"checkout\"}", 0, from: 13, to: 7))
        correlator.add(moved("checkout", "cpu{service=\"checkout\"}", 20, from: 13, to: 7))
        correlator.add(moved("payment", "success_rate{service=\"payment\"}", 30, from: 0.9, to: 1))
        correlator.add(moved("auth-api", "cpu{service=\"auth-api\"}", 120, from: 10, to: 90))
        correlator.add(moved("user-service", "success_rate{service=\"user-service\"}", 125, from: 1, to: 0.5))
        let incidents = correlator.incidents()
        #expect(incidents.count == 1)
        #expect(incidents.first?.opened == at(120))
        #expect(Set(incidents.first?.members.map(\.service) ?? []) == ["auth-api", "user-service"])
    }

    /// An end-user SLI (a service in no call of a known graph) watches the whole system: while an incident is
    /// firing, what it sees is that incident, even minutes after it opened; with none firing it stands alone, and
    /// it never links two incidents into one.
    @Test func aWatcherOfTheWholeSystemJoinsTheIncidentThatIsFiring() throws {
        var correlator = self.chain()
        for minute in 0..<10 {
            correlator.add(anomaly("auth-api", "errors{service=\"auth-api\"}", Int64(60 * minute)))
            correlator.add(anomaly("user-service", "latency{service=\"user-service\"}", Int64(60 * minute + 5)))
        }
        func seen(_ seconds: Int64) {
            for metric in ["latency_p50", "latency_p90", "error_ratio"] {
                correlator.add(anomaly("frontend-sli", "\(metric){service=\"frontend-sli\"}", seconds))
            }
        }
        seen(480)
        // A second fault starts after the watcher saw the first: it is its own incident.
        for offset in [Int64(500), 530, 560] {
            correlator.add(anomaly("search", "latency{service=\"search\"}", offset))
            correlator.add(anomaly("catalogue", "cpu{service=\"catalogue\"}", offset + 2))
        }
        // Long after everything went quiet, the watcher alone.
        seen(5_000)
        let incidents = correlator.incidents().sorted { $0.opened < $1.opened }
        try #require(incidents.count == 3, "\(incidents.map { ($0.opened, $0.services) })")
        #expect(Set(incidents[0].services) == ["auth-api", "user-service", "frontend-sli"])
        let joined = incidents[0].members.first { $0.service == "frontend-sli" }?.joinedBecause ?? ""
        #expect(joined.contains("it watches the whole system"), "\(joined)")
        #expect(Set(incidents[1].services) == ["search", "catalogue"])
        #expect(incidents[2].services == ["frontend-sli"])
    }

    @Test func stormBecomesOneExplainedIncident() throws {
        var correlator = self.chain()
        let (changes, anomalies) = self.storm()
        for change in changes { correlator.add(change) }
        for item in anomalies { correlator.add(item) }
        let incidents = correlator.incidents()
        try #require(incidents.count == 1, "\(incidents.map(\.services))")
        let incident = incidents[0]
        #expect(incident.symptomCount == anomalies.count)
        #expect(incident.members.count == 8, "repeats collapse into members")
        #expect(incident.rootCauses.first?.service == "auth-api")
        #expect((incident.rootCauses.first?.confidence ?? 0) > 0.4)
        #expect(incident.trigger?.version == "v2.4.1")
        #expect(incident.impactChain == ["auth-api", "user-service", "checkout", "payment"])
        #expect(incident.services == ["auth-api", "user-service", "checkout", "payment"])
        #expect(incident.recommendation?.action == "Roll back the deploy v2.4.1 of auth-api")
        #expect(
            incident.recommendation?.reason.hasSuffix(
                "just before it degraded, and user-service, checkout, payment, which depend on it, followed"
            ) == true,
            "\(incident.recommendation?.reason ?? "")"
        )
        #expect(incident.timeline.first?.what == "deploy v2.4.1")
        let joined = try #require(incident.members.first { $0.service == "user-service" }?.joinedBecause)
        #expect(joined.contains("user-service calls auth-api") && joined.contains("within 20 s"), "\(joined)")
        #expect(incident.status == .open)
        #expect(incident.narrative.contains("Root cause auth-api"))
    }

    /// Without a known call path, the first action's reason claims no dependency, only what followed in time.
    @Test func aReasonClaimsNoDependencyTheTopologyDoesNotShow() throws {
        var correlator = IncidentCorrelator()
        correlator.add(ChangeEvent(service: "checkout", kind: .deploy, version: "v2.4.1", time: at(0)))
        for offset in stride(from: Int64(120), to: 240, by: 30) {
            correlator.add(anomaly("checkout", "http_latency_ms{service=\"checkout\"}", offset))
            correlator.add(anomaly("payment", "cpu_usage{service=\"payment\"}", offset + 5))
        }
        let incident = try #require(correlator.incidents().first)
        #expect(incident.rootCauses.first?.service == "checkout")
        #expect(incident.impactChain == ["checkout"])
        let reason = try #require(incident.recommendation?.reason)
        #expect(reason.hasSuffix("just before it degraded, and 1 other service followed"), "\(reason)")
        #expect(!reason.contains("depend"), "\(reason)")
    }

    @Test func inputOrderDoesNotMatter() {
        let (changes, anomalies) = self.storm()
        var inOrder = self.chain()
        for change in changes { inOrder.add(change) }
        for item in anomalies { inOrder.add(item) }
        var random = SplitMix64(seed: 9)
        var shuffled = anomalies
        for index in shuffled.indices.reversed() {
            shuffled.swapAt(index, Int(random.next() % UInt64(index + 1)))
        }
        var mixed = self.chain()
        for item in shuffled.prefix(100) { mixed.add(item) }
        for change in changes { mixed.add(change) }
        for item in shuffled.dropFirst(100) { mixed.add(item) }
        #expect(inOrder.incidents() == mixed.incidents())
    }

    @Test func unrelatedServicesDoNotMerge() {
        var correlator = self.chain()
        for (offset, subject) in ["errors", "latency", "cpu"].enumerated() {
            correlator.add(anomaly("payment", subject, Int64(offset)))
            correlator.add(anomaly("search", subject, 10 + Int64(offset)))
        }
        let incidents = correlator.incidents()
        #expect(incidents.count == 2)
        #expect(Set(incidents.map { $0.services }) == [["payment"], ["search"]])
    }

    /// Two incidents the graph does not connect become one when their root cause is the same and they opened
    /// within the join window; a different root cause, or one unknown, or one far apart in time, keeps them apart.
    @Test func incidentsWithTheSameRootCauseBecomeOne() throws {
        var correlator = self.chain()
        for (offset, subject) in ["errors", "latency", "cpu"].enumerated() {
            correlator.add(anomaly("payment", subject, Int64(offset)))
            correlator.add(anomaly("search", subject, 40 + Int64(offset)))
            correlator.add(anomaly("search", subject, 4_000 + Int64(offset)))
        }
        #expect(correlator.incidents().count == 3)
        var asked: [String] = []
        let merged = correlator.incidents { incident in
            asked.append(incident.id)
            return "auth-api"
        }
        #expect(merged.count == 2)
        let joint = try #require(merged.first { $0.services.contains("payment") })
        #expect(Set(joint.services) == ["payment", "search"])
        #expect(joint.symptomCount == 6)
        let reason = try #require(joint.members.first { $0.service == "search" }?.joinedBecause)
        #expect(reason == "it points at auth-api as the root cause too, 40 s after this incident opened")
        // The incident an hour later has no neighbour that near: its root cause was never asked.
        #expect(asked.count == 2)
        #expect(correlator.incidents { $0.services.first }.count == 3)
        #expect(correlator.incidents { _ in nil }.count == 3)
    }

    /// Services with a caller in common (a fault surfacing at once in siblings) join when their symptoms start
    /// within 30 s, and not when they start minutes apart.
    @Test func siblingsJoinOnlyWhenTheyDeviateTogether() {
        var correlator = IncidentCorrelator()
        correlator.addCall(caller: "front-end", callee: "carts")
        correlator.addCall(caller: "front-end", callee: "user")
        var together = correlator
        for (offset, subject) in ["latency", "cpu"].enumerated() {
            together.add(anomaly("carts", subject, Int64(offset)))
            together.add(anomaly("user", subject, 20 + Int64(offset)))
        }
        let joined = together.incidents()
        #expect(joined.map(\.services) == [["carts", "user"]])
        #expect(
            joined.first?.members.contains { $0.joinedBecause?.contains("front-end calls both carts and user") == true }
                == true
        )
        var apart = correlator
        for (offset, subject) in ["latency", "cpu", "errors"].enumerated() {
            apart.add(anomaly("carts", subject, Int64(offset)))
            apart.add(anomaly("user", subject, 120 + Int64(offset)))
        }
        #expect(apart.incidents().count == 2)
    }

    @Test func symptomsFarApartInTimeDoNotMerge() {
        var correlator = self.chain()
        correlator.add(anomaly("checkout", "errors", 0))
        correlator.add(anomaly("user-service", "errors", 10))
        correlator.add(anomaly("payment", "latency", 3600))
        correlator.add(anomaly("checkout", "latency", 3610))
        #expect(correlator.incidents().count == 2)
    }

    /// A blip (a symptom seen once) on a caller ties only to what follows within a minute: it does not open, 97 s
    /// early, an incident its callee starts. A symptom seen again still ties for the whole join window, and so
    /// does a callee's blip that its caller follows (faults travel up the calls).
    @Test func anEarlierBlipDoesNotOpenALaterIncident() {
        var correlator = self.chain()
        correlator.add(anomaly("checkout", "cpu", 0))
        correlator.add(anomaly("user-service", "cpu", 97))
        correlator.add(anomaly("user-service", "latency", 98))
        correlator.add(anomaly("auth-api", "latency", 99))
        let incidents = correlator.incidents()
        #expect(incidents.map(\.services) == [["user-service", "auth-api"]])
        #expect(incidents.first?.opened == at(97))
        var repeated = correlator
        repeated.add(anomaly("checkout", "cpu", 30))
        #expect(repeated.incidents().map(\.services) == [["checkout", "user-service", "auth-api"]])
        var upward = self.chain()
        upward.add(anomaly("auth-api", "latency", 0))
        upward.add(anomaly("user-service", "latency", 97))
        #expect(upward.incidents().map(\.services) == [["auth-api", "user-service"]])
    }

    /// One detector blip on one series is not an incident; two services, three symptoms of one service, or an
    /// external alert are.
    @Test func anIncidentNeedsCorroboration() {
        var lone = self.chain()
        lone.add(anomaly("search", "latency", 0, score: 1))
        lone.add(anomaly("search", "latency", 30, score: 1))  // the same symptom again, too soon to have held
        #expect(lone.incidents().isEmpty)
        lone.add(anomaly("search", "cpu", 40))
        #expect(lone.incidents().isEmpty)
        lone.add(anomaly("search", "errors", 50))
        #expect(lone.incidents().map(\.services) == [["search"]])

        // One symptom seen again a minute later held: a step, not a blip.
        var held = self.chain()
        held.add(anomaly("search", "cpu", 0, score: 1))
        #expect(held.incidents().isEmpty)
        held.add(anomaly("search", "cpu", 60, score: 0.5))
        #expect(held.incidents().map(\.services) == [["search"]])

        // A symptom that held in a service nothing connects joins the incident open at the time, and says why;
        // held symptoms with no incident around them make one together.
        var storm = self.chain()
        storm.add(anomaly("checkout", "latency", 0))
        storm.add(anomaly("payment", "latency", 20))
        storm.add(anomaly("search", "cpu", 40))
        storm.add(anomaly("search", "cpu", 100))
        let joined = storm.incidents()
        #expect(joined.map(\.services.count) == [3])
        #expect(joined.first?.members.last?.joinedBecause?.contains("held for 60 s") == true)
        // … but one that starts minutes after the incident opened is a problem of its own (faults 8 minutes apart
        // must not become one incident because the first is still going).
        var later = self.chain()
        later.add(anomaly("checkout", "latency", 0))
        later.add(anomaly("payment", "latency", 20))
        later.add(anomaly("checkout", "latency", 200))
        later.add(anomaly("search", "cpu", 240))
        later.add(anomaly("search", "cpu", 300))
        #expect(
            later.incidents().map(\.services).sorted { $0.count < $1.count } == [["search"], ["checkout", "payment"]]
        )
        var quiet = self.chain()
        quiet.add(anomaly("search", "cpu", 0))
        quiet.add(anomaly("search", "cpu", 60))
        quiet.add(anomaly("mail", "queue", 45))
        quiet.add(anomaly("mail", "queue", 110))
        quiet.add(anomaly("ledger", "cpu", 2_000))  // a blip long after: nobody is paged for it
        #expect(quiet.incidents().map(\.services) == [["search", "mail"]])

        var pair = self.chain()
        pair.add(anomaly("checkout", "latency", 0))
        pair.add(anomaly("payment", "latency", 20))
        #expect(pair.incidents().map(\.services.count) == [2])

        var alerted = IncidentCorrelator()
        alerted.add(
            Alert(
                fingerprint: "disk-full",
                name: "DiskFull",
                service: "db",
                status: .firing,
                labels: [],
                summary: "disk 95 % full",
                startsAt: at(0)
            )
        )
        #expect(alerted.incidents().count == 1)
    }

    /// Without a change event, the service the others depend on and that deviated first is the root cause; a
    /// caller that deviated after its callee is a symptom.
    @Test func onsetOrderAlongTheChainPicksTheCallee() {
        var correlator = self.chain()
        correlator.add(anomaly("payment", "latency", 30))
        correlator.add(anomaly("checkout", "latency", 15))
        correlator.add(anomaly("user-service", "latency", 0))
        let incident = correlator.incidents()[0]
        #expect(incident.rootCauses.map(\.service) == ["user-service", "checkout", "payment"])
        #expect(incident.trigger == nil)
        #expect(incident.recommendation?.action == "Scale user-service out")
    }

    @Test func aDeployAttributesTheIncidentToItsService() {
        var correlator = IncidentCorrelator()
        correlator.addCall(caller: "frontend", callee: "cart")
        correlator.addCall(caller: "frontend", callee: "catalogue")
        correlator.add(ChangeEvent(service: "catalogue", kind: .deploy, version: "v7", time: at(-120)))
        correlator.add(anomaly("frontend", "errors", 0))
        correlator.add(anomaly("cart", "errors", 0))
        correlator.add(anomaly("catalogue", "errors", 0))
        let incidents = correlator.incidents()
        #expect(incidents.count == 1)
        #expect(incidents[0].rootCauses.first?.service == "catalogue")
        #expect(incidents[0].rootCauses.first?.reasons.contains { $0.contains("deploy v7 120 s before") } == true)
        #expect(incidents[0].trigger?.service == "catalogue")
    }

    @Test func lifecycleGoesOpenMitigatedResolvedAndFlapsReopenTheSameIncident() throws {
        var correlator = self.chain()
        correlator.add(anomaly("checkout", "errors", 0))
        correlator.add(anomaly("user-service", "errors", 5))
        let id = try #require(correlator.incidents().first?.id)
        #expect(correlator.incidents().first?.status == .open)
        correlator.add(anomaly("search", "cpu", 400))
        #expect(correlator.incidents().first { $0.id == id }?.status == .mitigated)
        // The same symptom returns within the flap window: the same incident reopens.
        correlator.add(anomaly("checkout", "errors", 700))
        #expect(correlator.incidents().first { $0.id == id }?.status == .open)
        #expect(correlator.incidents().filter { $0.services.contains("checkout") }.count == 1)
        correlator.add(anomaly("search", "cpu", 2000))
        #expect(correlator.incidents().first { $0.id == id }?.status == .resolved)
    }

    @Test func aFiringAlertKeepsItsIncidentOpenUntilResolved() {
        var correlator = IncidentCorrelator()
        let labels = [SeriesKey.Label("namespace", "shop")]
        correlator.add(
            Alert(
                fingerprint: "f1",
                name: "HighErrorRate",
                service: "cart",
                status: .firing,
                labels: labels,
                startsAt: at(0)
            )
        )
        correlator.add(
            Alert(
                fingerprint: "f2",
                name: "HighLatency",
                service: "orders",
                status: .firing,
                labels: labels,
                startsAt: at(20)
            )
        )
        correlator.add(anomaly("unrelated", "cpu", 3000))
        var incident = correlator.incidents().first { $0.services.contains("cart") }
        #expect(incident?.services == ["cart", "orders"], "alerts in one namespace group")
        #expect(incident?.status == .open)
        for fingerprint in ["f1", "f2"] {
            correlator.add(
                Alert(
                    fingerprint: fingerprint,
                    name: "x",
                    service: "cart",
                    status: .resolved,
                    labels: labels,
                    startsAt: at(0),
                    endsAt: at(100)
                )
            )
        }
        incident = correlator.incidents().first { $0.services.contains("cart") }
        #expect(incident?.status == .resolved)
    }
}
