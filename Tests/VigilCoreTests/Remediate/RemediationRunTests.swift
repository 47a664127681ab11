// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing
import VigilCore

@Suite struct RemediationRunTests {
    let now = RemediationFixtures.opened.adding(seconds: 120)

    func plan(
        _ runbook: Runbook = RemediationFixtures.rollback(),
        level: AutomationLevel = .autoHighRisk,
        isDryRun: Bool = false
    ) throws -> RemediationPlan {
        try #require(
            RemediationPolicy(maximumLevel: level, isDryRun: isDryRun).plan(
                for: RemediationFixtures.incident(trigger: RemediationFixtures.deploy),
                runbooks: [runbook],
                history: [],
                now: now
            )
        )
    }

    @Test func anUnattendedRunGoesThroughItsStepsAndItsCheck() throws {
        var run = RemediationRun(id: "r1", plan: try plan(), at: now)
        let plan = run.plan
        #expect(run.start(at: now) == .execute(plan.steps[0].action, isDryRun: false))
        #expect(
            run.handle(.finished(succeeded: true, detail: "ok"), at: now)
                == .execute(plan.steps[1].action, isDryRun: false)
        )
        #expect(
            run.handle(.finished(succeeded: true, detail: "201"), at: now) == .verify(plan.verify!, afterSeconds: 30)
        )
        #expect(run.state == .verifying)
        #expect(run.handle(.finished(succeeded: true, detail: "SLO met"), at: now) == .none)
        #expect(run.state == .succeeded && run.isFinished)
        #expect(run.entries.map(\.state) == [.running, .running, .running, .running, .running, .verifying, .succeeded])
    }

    @Test func aFailedCheckIsRetriedThenRolledBack() throws {
        var run = RemediationRun(id: "r1", plan: try plan(), at: now)
        _ = run.start(at: now)
        _ = run.handle(.finished(succeeded: true, detail: ""), at: now)
        _ = run.handle(.finished(succeeded: true, detail: ""), at: now)
        for left in (1..<3).reversed() {
            #expect(
                run.handle(.finished(succeeded: false, detail: "SLO missed"), at: now)
                    == .verify(run.plan.verify!, afterSeconds: 30)
            )
            #expect(run.verifyAttemptsLeft == left)
        }
        #expect(run.handle(.finished(succeeded: false, detail: "SLO missed"), at: now) == .rollBack(run.plan.rollback!))
        #expect(run.state == .rollingBack)
        #expect(run.handle(.finished(succeeded: true, detail: "undone"), at: now) == .none)
        #expect(run.state == .rolledBack)
    }

    @Test func aFailedStepWithoutARollbackLeavesItToPeople() throws {
        var run = RemediationRun(id: "r1", plan: try plan(RemediationFixtures.restart()), at: now)
        _ = run.start(at: now)
        #expect(run.handle(.finished(succeeded: false, detail: "exit 1"), at: now) == .none)
        #expect(run.state == .failed && run.entries.last!.what.contains("a person must look"))
        // A failed rollback is a failure too.
        var rollingBack = RemediationRun(id: "r2", plan: try plan(), at: now)
        _ = rollingBack.start(at: now)
        #expect(
            rollingBack.handle(.finished(succeeded: false, detail: "exit 1"), at: now)
                == .rollBack(rollingBack.plan.rollback!)
        )
        _ = rollingBack.handle(.finished(succeeded: false, detail: "exit 2"), at: now)
        #expect(rollingBack.state == .failed)
    }

    @Test func approvalStartsARunAndRejectionEndsIt() throws {
        var run = RemediationRun(id: "r1", plan: try plan(level: .approve), at: now)
        #expect(run.start(at: now) == .none && run.state == .awaitingApproval)
        #expect(run.handle(.finished(succeeded: true, detail: "forged"), at: now) == .none)
        #expect(run.state == .awaitingApproval)
        #expect(run.handle(.approved(by: "alice"), at: now) == .execute(run.plan.steps[0].action, isDryRun: false))
        #expect(run.approvedBy == "alice" && run.entries.contains { $0.actor == "alice" && $0.what == "approved" })
        // A second approval changes nothing.
        #expect(run.handle(.approved(by: "bob"), at: now) == .none && run.approvedBy == "alice")

        var rejected = RemediationRun(id: "r2", plan: try plan(level: .approve), at: now)
        _ = rejected.start(at: now)
        #expect(rejected.handle(.rejected(by: "carol", reason: "peak traffic"), at: now) == .none)
        #expect(rejected.state == .rejected && rejected.entries.last!.what == "rejected: peak traffic")
        #expect(rejected.handle(.approved(by: "dave"), at: now) == .none && rejected.state == .rejected)
    }

    @Test func aDryRunReportsEveryStepAndNeverChecksOrRollsBack() throws {
        var run = RemediationRun(id: "r1", plan: try plan(isDryRun: true), at: now)
        #expect(run.start(at: now) == .execute(run.plan.steps[0].action, isDryRun: true))
        #expect(
            run.handle(.finished(succeeded: true, detail: "dry"), at: now)
                == .execute(run.plan.steps[1].action, isDryRun: true)
        )
        #expect(run.handle(.finished(succeeded: true, detail: "dry"), at: now) == .none)
        #expect(run.state == .simulated)
        #expect(run.entries.contains { $0.what.hasPrefix("dry run, would run step undo") })
    }

    @Test func suggestionsAndAlertsNeverAct() throws {
        for level in [AutomationLevel.alert, .suggest] {
            var run = RemediationRun(id: "r", plan: try plan(level: level), at: now)
            #expect(run.start(at: now) == .none && run.isFinished)
            #expect(run.handle(.approved(by: "alice"), at: now) == .none)
            #expect(run.state == (level == .alert ? .notified : .suggested))
        }
    }

    /// Every server level, runbook level and risk, and every sequence of up to four results and rejections: a run
    /// performs a step only when its level lets that risk run unattended, or after an approval.
    @Test func nothingRunsAboveItsLevelWithoutApproval() throws {
        let results: [RemediationRun.Event] = [
            .finished(succeeded: true, detail: ""), .finished(succeeded: false, detail: ""),
            .rejected(by: "x", reason: ""),
        ]
        var sequences: [[RemediationRun.Event]] = [[]]
        var longest: [[RemediationRun.Event]] = [[]]
        for _ in 0..<4 {
            longest = longest.flatMap { sequence in results.map { sequence + [$0] } }
            sequences += longest
        }
        var checked = 0
        for server in AutomationLevel.allCases {
            for level in AutomationLevel.allCases {
                for risk in ActionRisk.allCases {
                    let plan = try plan(RemediationFixtures.restart(level: level, risk: risk), level: server)
                    let allowed = min(server, level).runsUnattended(risk)
                    for sequence in sequences {
                        var run = RemediationRun(id: "r", plan: plan, at: now)
                        var instructions = [run.start(at: now)]
                        for event in sequence { instructions.append(run.handle(event, at: now)) }
                        let acted = instructions.contains {
                            if case .execute = $0 { return true }
                            if case .rollBack = $0 { return true }
                            return false
                        }
                        #expect(acted == false || allowed, "\(server.name)/\(level.name)/\(risk): acted")
                        checked += 1
                    }
                }
            }
        }
        #expect(sequences.count == 121 && checked == 50 * 121)
    }
}
