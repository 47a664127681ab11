// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Synchronization
import Testing
import VigilCore
import VigilRemediation
import VigilStorage
import VigilTestSupport

/// Records every action it is given and answers from a script (success unless told otherwise).
final class ScriptedExecutor: ActionExecutor {
    private let state = Mutex<(performed: [Runbook.Action], failing: Set<String>)>(([], []))

    init(failing: Set<String> = []) { self.state.withLock { $0.failing = failing } }

    func perform(_ action: Runbook.Action) async -> ActionResult {
        let fails = self.state.withLock { state in
            state.performed.append(action)
            return state.failing.contains(action.summary)
        }
        return ActionResult(succeeded: !fails, detail: fails ? "exit 1" : "exit 0")
    }

    var performed: [String] { self.state.withLock { $0.performed.map(\.summary) } }
}

@Suite struct RemediatorTests {
    static let start = Timestamp(seconds: 1_700_000_000)

    /// A deploy of auth-api, then its errors, then its caller's: one incident rooted at auth-api.
    static func incidents(at offset: Double = 0) -> [Incident] {
        var correlator = IncidentCorrelator()
        correlator.addCall(caller: "checkout", callee: "auth-api")
        let at = { (seconds: Double) in start.adding(seconds: offset + seconds) }
        correlator.add(ChangeEvent(service: "auth-api", kind: .deploy, version: "v7", time: at(0)))
        for index in 0..<5 {
            for (service, lag) in [("auth-api", 60.0), ("checkout", 80.0)] {
                correlator.add(
                    Anomaly(
                        kind: .metricDeviation,
                        service: service,
                        subject: "http_errors_ratio{service=\"\(service)\"}",
                        time: at(lag + Double(index) * 10),
                        score: 0.95,
                        evidence: Evidence(observed: 0.3, expected: 0.01, summary: "errors 30 %, expected 1 %")
                    )
                )
            }
        }
        return correlator.incidents()
    }

    static func runbook(level: AutomationLevel, risk: ActionRisk = .high) -> Runbook {
        Runbook(
            name: "roll-back",
            match: .init(triggers: [.deploy]),
            level: level,
            risk: risk,
            steps: [.init(name: "undo", action: .command(["kubectl", "rollout", "undo", "deployment/{{service}}"]))],
            verify: .command(["check", "{{service}}"]),
            verifyDelaySeconds: 0,
            rollback: .command(["kubectl", "rollout", "undo", "deployment/{{service}}", "--to-revision=0"])
        )
    }

    func store() throws -> SQLiteStore {
        try SQLiteStore(
            path: Scratch.path("vigil", suffix: "sqlite")
                .path
        )
    }

    /// A remediator on `store` at level approve, driven until it planned the run for ``incidents(at:)``, which
    /// waits for approval (and is in the store).
    func runWaitingForApproval(in store: SQLiteStore) async throws -> (Remediator, RemediationRun) {
        let remediator = try Remediator(
            runbooks: [Self.runbook(level: .approve)],
            policy: RemediationPolicy(maximumLevel: .autoHighRisk),
            executor: ScriptedExecutor(),
            store: store,
            now: Self.start
        )
        await self.drive(remediator, incidents: Self.incidents()) { await !remediator.runs().isEmpty }
        let run = try #require(await remediator.runs().first)
        #expect(run.state == .awaitingApproval)
        return (remediator, run)
    }

    /// Runs the remediator's loop until `done` holds, for at most 10 min. Alone a run takes milliseconds, but in the
    /// full suite the blocking integration tests hold the cooperative pool's threads (two on a 2-core machine):
    /// runs here took 90–150 s there, and one passed 2 min and failed.
    func drive(_ remediator: Remediator, incidents: [Incident], until done: @escaping @Sendable () async -> Bool) async
    {
        let loop = Task {
            await remediator.run(
                incidents: { incidents },
                now: { RemediatorTests.start.adding(seconds: 300) },
                every: .milliseconds(10),
                onError: { Issue.record("\($0)") }
            )
        }
        let deadline = ContinuousClock.now + .seconds(600)
        while await !done(), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        loop.cancel()
        await loop.value
    }

    @Test func theIncidentHasTheRootCauseTheRunbooksAreFilledFor() throws {
        let incident = try #require(Self.incidents().first)
        #expect(incident.rootCauses.first?.service == "auth-api" && incident.trigger?.version == "v7")
    }

    @Test func anUnattendedRunActsChecksAndIsAudited() async throws {
        let store = try self.store()
        let executor = ScriptedExecutor()
        let remediator = try Remediator(
            runbooks: [Self.runbook(level: .autoHighRisk)],
            policy: RemediationPolicy(maximumLevel: .autoHighRisk),
            executor: executor,
            store: store,
            now: Self.start
        )
        await self.drive(remediator, incidents: Self.incidents()) { await remediator.runs().first?.isFinished == true }
        let run = try #require(await remediator.runs().first)
        #expect(run.state == .succeeded)
        #expect(executor.performed == ["kubectl rollout undo deployment/auth-api", "check auth-api"])
        let audit = try store.audit(run: run.id, limit: 100).reversed().map(\.state)
        #expect(Array(audit) == ["running", "running", "running", "verifying", "succeeded"])
        // The same incident, seen again and again, is never remediated twice.
        #expect(await remediator.runs().count == 1)
    }

    @Test func aRunWaitsForApprovalAndNothingRunsBeforeIt() async throws {
        let store = try self.store()
        let executor = ScriptedExecutor(failing: ["check auth-api"])
        let remediator = try Remediator(
            runbooks: [Self.runbook(level: .autoLowRisk, risk: .high)],
            policy: RemediationPolicy(maximumLevel: .autoHighRisk),
            executor: executor,
            store: store,
            now: Self.start
        )
        await self.drive(remediator, incidents: Self.incidents()) { await !remediator.runs().isEmpty }
        let waiting = try #require(await remediator.runs().first)
        #expect(waiting.state == .awaitingApproval && executor.performed.isEmpty)
        await #expect(throws: RemediationError.anonymous) {
            try await remediator.approve(waiting.id, by: " ", now: Self.start)
        }
        await #expect(throws: RemediationError.unknownRun("run-x")) {
            try await remediator.approve("run-x", by: "alice", now: Self.start)
        }
        _ = try await remediator.approve(waiting.id, by: "alice", now: Self.start.adding(seconds: 400))
        await self.drive(remediator, incidents: Self.incidents()) {
            await remediator.run(waiting.id)?.isFinished == true
        }
        let finished = try #require(await remediator.run(waiting.id))
        // The check fails three times, so the rollback runs.
        #expect(finished.state == .rolledBack && finished.approvedBy == "alice")
        #expect(
            executor.performed == [
                "kubectl rollout undo deployment/auth-api", "check auth-api", "check auth-api", "check auth-api",
                "kubectl rollout undo deployment/auth-api --to-revision=0",
            ]
        )
        await #expect(throws: RemediationError.notAwaitingApproval(waiting.id, .rolledBack)) {
            try await remediator.reject(waiting.id, by: "bob", reason: "", now: Self.start)
        }
        #expect(try store.audit(run: waiting.id, limit: 100).contains { $0.actor == "alice" && $0.what == "approved" })
    }

    @Test func aRestartKeepsTheGuardrailsAndTheRunsWaitingForApproval() async throws {
        let store = try self.store()
        let (_, waiting) = try await self.runWaitingForApproval(in: store)
        // Another run was in the middle of its step when the process stopped.
        var busy = RemediationRun(id: "run-busy", plan: waiting.plan, at: Self.start)
        _ = busy.start(at: Self.start)
        _ = busy.handle(.approved(by: "bob"), at: Self.start.adding(seconds: 10))
        #expect(busy.state == .running)
        try store.saveRuns([busy])
        try store.appendAudit(
            busy.entries.map {
                AuditRecord(
                    time: $0.time,
                    run: busy.id,
                    incident: busy.plan.incident,
                    runbook: busy.plan.runbook,
                    service: busy.plan.service,
                    state: $0.state.rawValue,
                    actor: $0.actor,
                    what: $0.what
                )
            }
        )

        // The next process takes the waiting run back, records the busy one as failed (nobody knows what its step
        // left), and plans no second run.
        let executor = ScriptedExecutor()
        let second = try Remediator(
            runbooks: [Self.runbook(level: .autoHighRisk)],
            policy: RemediationPolicy(maximumLevel: .autoHighRisk),
            executor: executor,
            store: store,
            now: Self.start.adding(seconds: 500)
        )
        #expect(await second.runs().map(\.id) == [waiting.id])
        #expect(try store.audit(run: waiting.id, limit: 1).first?.state == "awaiting_approval")
        let last = try #require(try store.audit(run: busy.id, limit: 1).first)
        #expect(
            last.state == "failed"
                && last.what.contains("the server running it stopped, or lost the lead, while the run was running")
        )
        await second.consider(Self.incidents(), now: Self.start.adding(seconds: 600))
        #expect(await second.runs().count == 1)

        // It is approved after the restart and runs.
        _ = try await second.approve(waiting.id, by: "alice", now: Self.start.adding(seconds: 700))
        await self.drive(second, incidents: []) { await second.run(waiting.id)?.isFinished == true }
        #expect(await second.run(waiting.id)?.state == .succeeded)
        #expect(executor.performed.count == 2, "\(executor.performed)")

        // A new incident 20 minutes later on the same service: the cool-down (30 min) holds it to a suggestion.
        await second.consider(Self.incidents(at: 1_200), now: Self.start.adding(seconds: 1_300))
        let suggested = try #require(await second.runs().first)
        #expect(suggested.state == .suggested && suggested.plan.reasons.contains { $0.hasPrefix("cool-down") })
        #expect(executor.performed.count == 2)
    }

    /// Two remediators on one store, as two workers that lead in turn: the second takes the waiting run over and it
    /// is approved there; the first, catching up when it leads again, drops its stale copy, so nobody can approve
    /// the run a second time.
    @Test func aRunDecidedByTheNextLeaderIsDroppedOnCatchingUp() async throws {
        let store = try self.store()
        let (first, waiting) = try await self.runWaitingForApproval(in: store)
        let id = waiting.id
        let second = try Remediator(
            runbooks: [Self.runbook(level: .approve)],
            policy: RemediationPolicy(maximumLevel: .autoHighRisk),
            executor: ScriptedExecutor(),
            store: store,
            now: Self.start.adding(seconds: 100)
        )
        _ = try await second.approve(id, by: "alice", now: Self.start.adding(seconds: 200))
        await self.drive(second, incidents: []) { await second.run(id)?.isFinished == true }
        #expect(await second.run(id)?.state == .succeeded)

        #expect(await first.run(id)?.state == .awaitingApproval)
        try await first.catchUp(now: Self.start.adding(seconds: 300))
        #expect(await first.run(id) == nil)
        await #expect(throws: RemediationError.unknownRun(id)) {
            try await first.approve(id, by: "bob", now: Self.start.adding(seconds: 400))
        }
    }

    @Test func aDryRunPerformsNothing() async throws {
        let executor = ScriptedExecutor()
        let remediator = try Remediator(
            runbooks: [Self.runbook(level: .autoHighRisk)],
            policy: RemediationPolicy(maximumLevel: .autoHighRisk, isDryRun: true),
            executor: executor,
            store: nil,
            now: Self.start
        )
        await self.drive(remediator, incidents: Self.incidents()) { await remediator.runs().first?.isFinished == true }
        #expect(await remediator.runs().first?.state == .simulated)
        #expect(executor.performed.isEmpty)
    }
}
