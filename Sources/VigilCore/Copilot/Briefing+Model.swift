// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

extension Briefing.IncidentFacts {
    /// The facts of an incident the correlator holds.
    public init(_ incident: Incident) {
        self.init(
            id: incident.id,
            status: incident.status.rawValue,
            opened: incident.opened.iso8601,
            narrative: incident.narrative,
            services: incident.services,
            symptomCount: incident.symptomCount,
            rootCauses: incident.rootCauses.map {
                .init(service: $0.service, confidence: $0.confidence, reasons: $0.reasons)
            },
            trigger: incident.trigger.map(Briefing.ChangeFacts.init),
            impactChain: incident.impactChain,
            recommendation: incident.recommendation.map { .init(action: $0.action, reason: $0.reason) }
        )
    }
}

extension Briefing.AnomalyFacts {
    /// The facts of a detector's finding.
    public init(_ anomaly: Anomaly) {
        self.init(
            kind: anomaly.kind.rawValue,
            service: anomaly.service,
            subject: anomaly.subject,
            time: anomaly.time.iso8601,
            score: anomaly.score,
            evidence: .init(
                observed: anomaly.evidence.observed,
                expected: anomaly.evidence.expected,
                summary: anomaly.evidence.summary
            )
        )
    }
}

extension Briefing.ChangeFacts {
    /// The facts of a change event.
    public init(_ change: ChangeEvent) {
        self.init(
            service: change.service,
            kind: change.kind.rawValue,
            time: change.time.iso8601,
            version: change.version,
            description: change.description
        )
    }
}
