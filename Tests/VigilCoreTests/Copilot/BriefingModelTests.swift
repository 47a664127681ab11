// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing
import VigilCore

/// The copilot reads the correlator's incidents and the detectors' findings as the REST API shows them.
@Suite struct BriefingModelTests {
    static let start = Timestamp(nanoseconds: 1_763_900_000 * 1_000_000_000)

    @Test func anIncidentKeepsItsExplanation() throws {
        var correlator = IncidentCorrelator()
        correlator.addCall(caller: "checkout", callee: "auth-api")
        let deploy = ChangeEvent(service: "auth-api", kind: .deploy, version: "v2.4.1", time: Self.start)
        correlator.add(deploy)
        for (offset, service) in ["auth-api", "checkout"].enumerated() {
            correlator.add(
                Anomaly(
                    kind: .metricDeviation,
                    service: service,
                    subject: "errors{service=\"\(service)\"}",
                    time: Self.start.adding(seconds: 120 + Double(offset * 10)),
                    score: 0.9,
                    evidence: Evidence(observed: 2, expected: 1, summary: "\(service) errors doubled")
                )
            )
        }
        let incident = try #require(correlator.incidents().first)
        let facts = Briefing.IncidentFacts(incident)
        #expect(facts.id == incident.id && facts.status == "open")
        #expect(facts.opened == incident.opened.iso8601 && facts.narrative == incident.narrative)
        #expect(facts.services == ["auth-api", "checkout"] && facts.symptomCount == 2)
        #expect(facts.topCause == "auth-api" && facts.rootCause == "auth-api")
        #expect(facts.rootCauses.map(\.service) == incident.rootCauses.map(\.service))
        #expect(facts.rootCauses.first?.reasons == incident.rootCauses.first?.reasons)
        #expect(facts.trigger == Briefing.ChangeFacts(deploy))
        #expect(facts.trigger?.version == "v2.4.1" && facts.trigger?.kind == "deploy")
        #expect(facts.impactChain == ["auth-api", "checkout"])
        #expect(facts.recommendation?.action == "Roll back the deploy v2.4.1 of auth-api")
    }

    @Test func anAnomalyKeepsItsEvidence() {
        let anomaly = Anomaly(
            kind: .newErrorTemplate,
            service: "payment",
            subject: "t1",
            time: Self.start,
            score: 0.6,
            evidence: Evidence(observed: 3, expected: 0, summary: "new error template: card declined")
        )
        let facts = Briefing.AnomalyFacts(anomaly)
        #expect(facts.kind == "new_error_template" && facts.service == "payment" && facts.subject == "t1")
        #expect(facts.time == Self.start.iso8601 && facts.score == 0.6)
        #expect(facts.evidence == .init(observed: 3, expected: 0, summary: "new error template: card declined"))
    }

    @Test func theBriefingKeepsTheTemplatesWithMostErrors() {
        let templates = [(0, "a"), (3, "b"), (9, "c"), (1, "d")].map { errors, text in
            Briefing.TemplateFacts(service: "s", text: text, count: 10, errorCount: errors, lastSeen: "")
        }
        #expect(Briefing.TemplateFacts.mostErrors(templates).map(\.text) == ["c", "b", "d"])
        #expect(Briefing.TemplateFacts.mostErrors(templates, limit: 2).map(\.text) == ["c", "b"])
    }
}
