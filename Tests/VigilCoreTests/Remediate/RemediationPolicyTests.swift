// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing
import VigilCore

@Suite struct RemediationPolicyTests {
    let now = RemediationFixtures.opened.adding(seconds: 120)

    @Test func theFirstFittingRunbookIsFilledForTheRootCause() throws {
        let policy = RemediationPolicy(maximumLevel: .autoHighRisk)
        let incident = RemediationFixtures.incident(trigger: RemediationFixtures.deploy)
        let plan = try #require(
            policy.plan(
                for: incident,
                runbooks: [RemediationFixtures.rollback(), RemediationFixtures.restart()],
                history: [],
                now: now
            )
        )
        #expect(plan.runbook == "roll-back-deploy" && plan.service == "payment" && plan.mode == .runUnattended)
        #expect(plan.steps[0].action == .command(["kubectl", "rollout", "undo", "deployment/payment"]))
        #expect(
            plan.steps[1].action
                == .http(
                    method: "POST",
                    url: "http://deploys.internal/annotations",
                    body: "{\"text\":\"rolled back v2.4.1 of payment for inc-1\"}"
                )
        )
        #expect(plan.reasons[0].contains("a deploy of payment set it off"))
    }

    @Test func aRunbookThatDoesNotFitIsPassedOver() throws {
        let policy = RemediationPolicy(maximumLevel: .autoHighRisk)
        // No deploy: the rollback runbook does not fit, the restart does (memory symptom).
        let plan = try #require(
            policy.plan(
                for: RemediationFixtures.incident(),
                runbooks: [RemediationFixtures.rollback(), RemediationFixtures.restart()],
                history: [],
                now: now
            )
        )
        #expect(plan.runbook == "restart")
        // Too little confidence, a service it is not for, or a closed incident: nothing fits.
        let unsure = RemediationFixtures.incident(confidence: 0.3, trigger: RemediationFixtures.deploy)
        #expect(policy.plan(for: unsure, runbooks: [RemediationFixtures.rollback()], history: [], now: now) == nil)
        var other = RemediationFixtures.restart()
        other.match.services = ["cart*"]
        #expect(policy.plan(for: RemediationFixtures.incident(), runbooks: [other], history: [], now: now) == nil)
        other.match.services = ["pay*"]
        #expect(policy.plan(for: RemediationFixtures.incident(), runbooks: [other], history: [], now: now) != nil)
        let resolved = RemediationFixtures.incident(status: .resolved)
        #expect(policy.plan(for: resolved, runbooks: [RemediationFixtures.restart()], history: [], now: now) == nil)
    }

    @Test func aRunbookNeedingAVersionTheIncidentLacksIsPassedOver() {
        var runbook = RemediationFixtures.restart()
        runbook.steps[0].action = .command(["deploy", "{{service}}", "--to", "{{version}}"])
        let plan = RemediationPolicy(maximumLevel: .autoHighRisk).plan(
            for: RemediationFixtures.incident(),
            runbooks: [runbook],
            history: [],
            now: now
        )
        #expect(plan == nil)
    }

    @Test func theLevelIsTheLowerOfTheRunbooksAndTheServersAndRiskAsksForApproval() throws {
        let incident = RemediationFixtures.incident()
        let expected: [(AutomationLevel, AutomationLevel, ActionRisk, RemediationPlan.Mode)] = [
            (.autoHighRisk, .alert, .low, .notify),
            (.autoHighRisk, .suggest, .low, .suggest),
            (.autoHighRisk, .approve, .low, .awaitApproval),
            (.autoHighRisk, .autoLowRisk, .low, .runUnattended),
            (.autoHighRisk, .autoLowRisk, .high, .awaitApproval),
            (.autoHighRisk, .autoHighRisk, .high, .runUnattended),
            (.approve, .autoHighRisk, .low, .awaitApproval),
            (.suggest, .autoHighRisk, .high, .suggest),
        ]
        for (runbookLevel, serverLevel, risk, mode) in expected {
            let plan = try #require(
                RemediationPolicy(maximumLevel: serverLevel).plan(
                    for: incident,
                    runbooks: [RemediationFixtures.restart(level: runbookLevel, risk: risk)],
                    history: [],
                    now: now
                )
            )
            #expect(plan.mode == mode, "runbook \(runbookLevel.name), server \(serverLevel.name), \(risk)")
            #expect(plan.level == min(runbookLevel, serverLevel))
        }
    }

    @Test func theDefaultPolicyOnlySuggests() throws {
        let plan = try #require(
            RemediationPolicy().plan(
                for: RemediationFixtures.incident(),
                runbooks: [RemediationFixtures.restart()],
                history: [],
                now: now
            )
        )
        #expect(plan.mode == .suggest && plan.reasons.contains { $0.contains("the server suggest") })
    }

    @Test func theRateLimitAndTheCoolDownHoldARunbookBackToASuggestion() throws {
        let policy = RemediationPolicy(maximumLevel: .autoHighRisk)
        let runbook = RemediationFixtures.restart()  // 3 per hour, 30 min cool-down
        let recent = { (service: String, secondsAgo: Double) in
            RemediationPolicy.PastRun(runbook: "restart", service: service, started: now.adding(seconds: -secondsAgo))
        }
        let cases: [([RemediationPolicy.PastRun], RemediationPlan.Mode, String?)] = [
            ([], .runUnattended, nil),
            ([recent("cart", 100), recent("cart", 200), recent("search", 300)], .suggest, "rate limit"),
            ([recent("cart", 100), recent("cart", 200), recent("search", 4_000)], .runUnattended, nil),
            ([recent("payment", 600)], .suggest, "cool-down"),
            ([recent("payment", 2_000)], .runUnattended, nil),
            // A suggestion never acted, so it counts for neither.
            ([.init(runbook: "restart", service: "payment", started: now, didAct: false)], .runUnattended, nil),
        ]
        for (history, mode, reason) in cases {
            let plan = try #require(
                policy.plan(for: RemediationFixtures.incident(), runbooks: [runbook], history: history, now: now)
            )
            #expect(plan.mode == mode)
            if let reason { #expect(plan.reasons.contains { $0.hasPrefix(reason) }) }
        }
    }
}
