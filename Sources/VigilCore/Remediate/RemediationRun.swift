// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// One runbook applied to one incident, as a state machine: it is told what happened (approved, an action
/// finished) and answers with the one thing to do next. It never performs anything itself, and it emits an action
/// to perform only when the plan's mode runs unattended or a person approved it.
public struct RemediationRun: Sendable, Equatable, Codable {
    /// Where a run is.
    public enum State: String, Sendable, Equatable, Codable {
        /// People were told (level alert); nothing more happens.
        case notified
        /// The runbook was shown to people (level suggest, or a guardrail held it back); nothing more happens.
        case suggested
        /// Waiting for a person to approve or reject it.
        case awaitingApproval = "awaiting_approval"
        /// A step is running.
        case running
        /// Checking that the fix worked.
        case verifying
        /// Undoing the steps after a failure.
        case rollingBack = "rolling_back"
        /// The steps ran and the check passed (or there is no check).
        case succeeded
        /// A step, the check or the rollback failed and nothing undid it: a person must look.
        case failed
        /// A step or the check failed and the rollback undid it.
        case rolledBack = "rolled_back"
        /// A person said no.
        case rejected
        /// A dry run went through every step without performing any.
        case simulated

        /// Whether nothing more will happen.
        public var isFinal: Bool {
            switch self {
            case .awaitingApproval, .running, .verifying, .rollingBack: false
            default: true
            }
        }
    }

    /// The one thing the caller should do next.
    public enum Instruction: Sendable, Equatable {
        /// Nothing (waiting for a person, or finished).
        case none
        /// Perform a step. In a dry run, report it without performing it, and answer success.
        case execute(Runbook.Action, isDryRun: Bool)
        /// Wait, then run the check.
        case verify(Runbook.Action, afterSeconds: Double)
        /// Undo the steps.
        case rollBack(Runbook.Action)
    }

    /// What happened.
    public enum Event: Sendable, Equatable {
        /// A person approved it.
        case approved(by: String)
        /// A person rejected it.
        case rejected(by: String, reason: String)
        /// The last instruction's action finished.
        case finished(succeeded: Bool, detail: String)
    }

    /// One line of the run's audit trail.
    public struct Entry: Sendable, Equatable, Codable {
        public var time: Timestamp
        /// The state after it.
        public var state: State
        /// Who: `vigil` or the person who approved or rejected.
        public var actor: String
        public var what: String
    }

    public let id: String
    public let plan: RemediationPlan
    public private(set) var state: State
    /// The step running or next to run.
    public private(set) var step = 0
    public private(set) var verifyAttemptsLeft: Int
    /// Who approved it, if someone did.
    public private(set) var approvedBy: String?
    /// Everything that happened, oldest first.
    public private(set) var entries: [Entry] = []
    /// When it was created.
    public let created: Timestamp

    /// A run of `plan`, not started yet (``start(at:)`` starts it).
    public init(id: String, plan: RemediationPlan, at now: Timestamp) {
        self.id = id
        self.plan = plan
        self.state = .awaitingApproval
        self.verifyAttemptsLeft = plan.verifyAttempts
        self.created = now
    }

    /// Starts the run as its plan's mode says: tells, suggests, waits for approval, or performs the first step.
    public mutating func start(at now: Timestamp) -> Instruction {
        let why = self.plan.reasons.joined(separator: "; ")
        switch self.plan.mode {
        case .notify:
            self.record(.notified, "runbook \(self.plan.runbook) fits (\(why)); level alert: people are told", at: now)
            return .none
        case .suggest:
            let steps = self.plan.steps.map { "\($0.name): \($0.action.summary)" }.joined(separator: "; ")
            self.record(.suggested, "suggested \(self.plan.runbook) (\(why)): \(steps)", at: now)
            return .none
        case .awaitApproval:
            self.record(.awaitingApproval, "waiting for approval of \(self.plan.runbook) (\(why))", at: now)
            return .none
        case .runUnattended:
            self.record(
                .running,
                "running \(self.plan.runbook) unattended at \(self.plan.level.name) (\(why))",
                at: now
            )
            return self.executeCurrentStep(at: now)
        }
    }

    /// Takes what happened and answers with what to do next. An event the state does not expect (an approval of a
    /// finished run, a result nobody waited for) changes nothing and is recorded as ignored.
    public mutating func handle(_ event: Event, at now: Timestamp) -> Instruction {
        switch (self.state, event) {
        case (.awaitingApproval, .approved(let person)):
            self.approvedBy = person
            self.record(.running, "approved", actor: person, at: now)
            return self.executeCurrentStep(at: now)
        case (.awaitingApproval, .rejected(let person, let reason)):
            self.record(.rejected, reason.isEmpty ? "rejected" : "rejected: \(reason)", actor: person, at: now)
            return .none
        case (.running, .finished(let succeeded, let detail)):
            let step = self.plan.steps[self.step]
            guard succeeded else {
                return self.fail("step \(step.name) failed: \(detail)", at: now)
            }
            self.record(.running, "step \(step.name) done: \(detail)", at: now)
            self.step += 1
            if self.step < self.plan.steps.count { return self.executeCurrentStep(at: now) }
            if self.plan.isDryRun {
                self.record(.simulated, "dry run complete: nothing was changed", at: now)
                return .none
            }
            guard let verify = self.plan.verify else {
                self.record(.succeeded, "all steps done (no check configured)", at: now)
                return .none
            }
            self.record(.verifying, "checking: \(verify.summary)", at: now)
            return .verify(verify, afterSeconds: self.plan.verifyDelaySeconds)
        case (.verifying, .finished(let succeeded, let detail)):
            if succeeded {
                self.record(.succeeded, "check passed: \(detail)", at: now)
                return .none
            }
            self.verifyAttemptsLeft -= 1
            if self.verifyAttemptsLeft > 0, let verify = self.plan.verify {
                self.record(
                    .verifying,
                    "check failed (\(Format.count(self.verifyAttemptsLeft, "attempt")) left): \(detail)",
                    at: now
                )
                return .verify(verify, afterSeconds: self.plan.verifyDelaySeconds)
            }
            return self.fail("check failed: \(detail)", at: now)
        case (.rollingBack, .finished(let succeeded, let detail)):
            if succeeded {
                self.record(.rolledBack, "rollback done: \(detail)", at: now)
            } else {
                self.record(.failed, "rollback failed, a person must look: \(detail)", at: now)
            }
            return .none
        case (_, .approved(let person)):
            self.record(self.state, "approval ignored: the run is \(self.state.rawValue)", actor: person, at: now)
            return .none
        case (_, .rejected(let person, _)):
            self.record(self.state, "rejection ignored: the run is \(self.state.rawValue)", actor: person, at: now)
            return .none
        case (_, .finished):
            self.record(self.state, "a result nobody waited for was ignored", at: now)
            return .none
        }
    }

    /// Whether nothing more will happen.
    public var isFinished: Bool { self.state.isFinal }

    /// Performs the current step (reported, not performed, in a dry run).
    private mutating func executeCurrentStep(at now: Timestamp) -> Instruction {
        let step = self.plan.steps[self.step]
        let prefix = self.plan.isDryRun ? "dry run, would run" : "running"
        self.record(.running, "\(prefix) step \(step.name): \(step.action.summary)", at: now)
        return .execute(step.action, isDryRun: self.plan.isDryRun)
    }

    /// After a failed step or check: the rollback if there is one (never in a dry run), else failed.
    private mutating func fail(_ what: String, at now: Timestamp) -> Instruction {
        if let rollback = self.plan.rollback, !self.plan.isDryRun {
            self.record(.rollingBack, "\(what); rolling back: \(rollback.summary)", at: now)
            return .rollBack(rollback)
        }
        self.record(.failed, "\(what); no rollback configured, a person must look", at: now)
        return .none
    }

    private mutating func record(_ state: State, _ what: String, actor: String = "vigil", at now: Timestamp) {
        self.state = state
        self.entries.append(Entry(time: now, state: state, actor: actor, what: what))
    }
}
