// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

@testable import VigilCore

/// Incidents and runbooks the remediation tests share.
enum RemediationFixtures {
    static let opened = Timestamp(seconds: 1_700_000_000)

    /// An open incident with root cause `root` (confidence `confidence`), a memory symptom on it, a latency
    /// symptom on `frontend`, and optionally the change that set it off.
    static func incident(
        root: String = "payment",
        confidence: Double = 0.8,
        trigger: ChangeEvent? = nil,
        status: Incident.Status = .open
    ) -> Incident {
        let member = { (service: String, subject: String, summary: String) in
            Incident.Member(
                fingerprint: "\(service)|\(subject)",
                kind: "metric_deviation",
                service: service,
                subject: subject,
                firstSeen: opened,
                lastSeen: opened.adding(seconds: 60),
                count: 3,
                score: 0.99,
                summary: summary,
                joinedBecause: nil
            )
        }
        return Incident(
            id: "inc-1",
            status: status,
            opened: opened,
            updated: opened.adding(seconds: 60),
            services: [root, "frontend"],
            symptomCount: 6,
            members: [
                member(root, "container_memory_working_set_bytes", "memory 2.1 GiB, expected 0.9 GiB"),
                member("frontend", "http_request_duration_p99", "p99 2.4 s, expected 0.3 s"),
            ],
            rootCauses: [
                Incident.Candidate(service: root, score: 4, confidence: confidence, reasons: []),
                Incident.Candidate(service: "frontend", score: 1, confidence: 1 - confidence, reasons: []),
            ],
            trigger: trigger,
            impactChain: [root, "frontend"],
            timeline: [],
            recommendation: nil
        )
    }

    static let deploy = ChangeEvent(
        service: "payment",
        kind: .deploy,
        version: "v2.4.1",
        time: opened.adding(seconds: -90)
    )

    /// Restarts the root cause: low risk, a check and no rollback.
    static func restart(level: AutomationLevel = .autoHighRisk, risk: ActionRisk = .low) -> Runbook {
        Runbook(
            name: "restart",
            match: .init(symptom: "memory"),
            level: level,
            risk: risk,
            steps: [
                .init(name: "restart", action: .command(["kubectl", "rollout", "restart", "deployment/{{service}}"]))
            ],
            verify: .http(method: "GET", url: "http://{{service}}.internal/healthz", body: nil),
            verifyAttempts: 2,
            verifyDelaySeconds: 20
        )
    }

    /// Rolls back the deploy that set the incident off: high risk, with a rollback of the rollback.
    static func rollback(level: AutomationLevel = .autoHighRisk) -> Runbook {
        Runbook(
            name: "roll-back-deploy",
            match: .init(triggers: [.deploy], minimumConfidence: 0.5),
            level: level,
            risk: .high,
            steps: [
                .init(name: "undo", action: .command(["kubectl", "rollout", "undo", "deployment/{{service}}"])),
                .init(
                    name: "annotate",
                    action: .http(
                        method: "POST",
                        url: "http://deploys.internal/annotations",
                        body: "{\"text\":\"rolled back {{version}} of {{service}} for {{incident}}\"}"
                    )
                ),
            ],
            verify: .command(["check-slo", "{{service}}"]),
            rollback: .command(["kubectl", "rollout", "undo", "deployment/{{service}}"])
        )
    }
}
