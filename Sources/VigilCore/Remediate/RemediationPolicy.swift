// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// The server-wide ceiling on automation and the decision of which runbook fits an incident and how far it may go.
/// Pure: the history of runs and the time come in, a ``RemediationPlan`` comes out.
public struct RemediationPolicy: Sendable, Equatable {
    /// A run that started earlier, for the rate limit and the cool-down.
    public struct PastRun: Sendable, Equatable {
        public var runbook: String
        public var service: String
        public var started: Timestamp
        /// Whether it could have changed anything (it ran or waited for approval), as opposed to a suggestion.
        public var didAct: Bool

        /// Creates a past run.
        public init(runbook: String, service: String, started: Timestamp, didAct: Bool = true) {
            self.runbook = runbook
            self.service = service
            self.started = started
            self.didAct = didAct
        }
    }

    /// No runbook runs above this level, whatever it allows itself. The default only suggests.
    public var maximumLevel: AutomationLevel
    /// Runs go through every step without doing anything: each action is reported, not performed.
    public var isDryRun: Bool

    /// Creates a policy.
    public init(maximumLevel: AutomationLevel = .suggest, isDryRun: Bool = false) {
        self.maximumLevel = maximumLevel
        self.isDryRun = isDryRun
    }

    /// The plan for `incident`: the first runbook, in the given order, that fits its root cause and whose actions
    /// can be filled from it, at the level the runbook, this policy, its risk and its guardrails allow. Nil when the
    /// incident is not open, has no root cause, or no runbook fits.
    public func plan(
        for incident: Incident,
        runbooks: [Runbook],
        history: [PastRun],
        now: Timestamp
    ) -> RemediationPlan? {
        guard incident.status == .open, let root = incident.rootCauses.first else { return nil }
        var values = ["service": root.service, "incident": incident.id]
        if let trigger = incident.trigger {
            values["trigger"] = trigger.kind.rawValue
            values["trigger_service"] = trigger.service
            if let version = trigger.version { values["version"] = version }
        }
        for runbook in runbooks {
            guard let why = Self.fit(runbook.match, incident: incident, root: root) else { continue }
            guard let steps = Self.filled(runbook.steps, with: values) else { continue }
            let verify = runbook.verify.map { $0.filled(with: values) }
            let rollback = runbook.rollback.map { $0.filled(with: values) }
            // An action that needs a value this incident lacks cannot run, so neither can the runbook.
            if verify == .some(nil) || rollback == .some(nil) { continue }

            var reasons = [why]
            let level = min(runbook.level, self.maximumLevel)
            if runbook.level > self.maximumLevel {
                reasons.append(
                    "the runbook allows \(runbook.level.name), the server \(self.maximumLevel.name): it runs at \(level.name)"
                )
            }
            var mode = RemediationPlan.Mode(level: level, risk: runbook.risk)
            if level >= .autoLowRisk && mode == .awaitApproval {
                reasons.append("it is \(runbook.risk.rawValue) risk, so at \(level.name) a person approves it first")
            }
            if mode == .awaitApproval || mode == .runUnattended {
                if let limit = self.guardrail(runbook, service: root.service, history: history, now: now) {
                    reasons.append(limit)
                    mode = .suggest
                }
            }
            return RemediationPlan(
                runbook: runbook.name,
                incident: incident.id,
                service: root.service,
                risk: runbook.risk,
                level: level,
                mode: mode,
                steps: steps,
                verify: verify ?? nil,
                verifyAttempts: runbook.verifyAttempts,
                verifyDelaySeconds: runbook.verifyDelaySeconds,
                rollback: rollback ?? nil,
                isDryRun: self.isDryRun,
                reasons: reasons
            )
        }
        return nil
    }

    /// Why `match` fits the incident, or nil when it does not.
    static func fit(_ match: Runbook.Match, incident: Incident, root: Incident.Candidate) -> String? {
        var why: [String] = []
        if !match.services.isEmpty {
            let fits = match.services.contains { pattern in
                pattern.hasSuffix("*") ? root.service.hasPrefix(pattern.dropLast()) : root.service == pattern
            }
            guard fits else { return nil }
            why.append("the root cause is \(root.service)")
        }
        if !match.triggers.isEmpty {
            guard let trigger = incident.trigger, trigger.service == root.service, match.triggers.contains(trigger.kind)
            else { return nil }
            why.append("a \(trigger.kind.rawValue) of \(trigger.service) set it off")
        }
        if let symptom = match.symptom {
            let needle = symptom.lowercased()
            guard
                let member = incident.members.first(where: {
                    $0.kind.lowercased().contains(needle) || $0.subject.lowercased().contains(needle)
                        || $0.summary.lowercased().contains(needle)
                })
            else { return nil }
            why.append("symptom \(member.subject) on \(member.service) matches \"\(symptom)\"")
        }
        guard root.confidence >= match.minimumConfidence else { return nil }
        if match.minimumConfidence > 0 {
            why.append(
                "confidence \(Int((root.confidence * 100).rounded())) % ≥ \(Int((match.minimumConfidence * 100).rounded())) %"
            )
        }
        return why.isEmpty ? "it fits every incident" : "it fits: " + why.joined(separator: "; ")
    }

    /// The steps with their variables filled, or nil when one cannot be.
    static func filled(_ steps: [Runbook.Step], with values: [String: String]) -> [Runbook.Step]? {
        var filled: [Runbook.Step] = []
        for step in steps {
            guard let action = step.action.filled(with: values) else { return nil }
            filled.append(Runbook.Step(name: step.name, action: action))
        }
        return filled
    }

    /// Which guardrail stops `runbook` from acting on `service` now, if one does.
    func guardrail(_ runbook: Runbook, service: String, history: [PastRun], now: Timestamp) -> String? {
        let acted = history.filter { $0.runbook == runbook.name && $0.didAct && $0.started <= now }
        let lastHour = acted.filter { $0.started > now.adding(seconds: -3_600) }.count
        if lastHour >= runbook.maximumRunsPerHour {
            return
                "rate limit: \(runbook.name) acted \(Format.count(lastHour, "time")) in the last hour (at most \(runbook.maximumRunsPerHour)), so it is only suggested"
        }
        if let last = acted.filter({ $0.service == service }).map(\.started).max(),
            last > now.adding(seconds: -runbook.cooldownSeconds)
        {
            return
                "cool-down: \(runbook.name) acted on \(service) at \(last.iso8601), less than \(Int(runbook.cooldownSeconds)) s ago, so it is only suggested"
        }
        return nil
    }
}

/// What Vigil will do about one incident with one runbook: the filled-in actions, the level and why.
public struct RemediationPlan: Sendable, Equatable, Codable {
    /// How the plan is carried out.
    public enum Mode: String, Sendable, Equatable, Codable {
        /// People are told; no fix is named.
        case notify
        /// The runbook is shown; a person runs it.
        case suggest
        /// Vigil runs it once a person approves.
        case awaitApproval = "await_approval"
        /// Vigil runs it now.
        case runUnattended = "run_unattended"

        /// The mode a level gives a runbook of `risk`.
        public init(level: AutomationLevel, risk: ActionRisk) {
            switch level {
            case .alert: self = .notify
            case .suggest: self = .suggest
            case .approve: self = .awaitApproval
            case .autoLowRisk, .autoHighRisk: self = level.runsUnattended(risk) ? .runUnattended : .awaitApproval
            }
        }
    }

    public var runbook: String
    public var incident: String
    /// The root cause the actions were filled for.
    public var service: String
    public var risk: ActionRisk
    /// The level it runs at: the lower of the runbook's and the server's.
    public var level: AutomationLevel
    public var mode: Mode
    public var steps: [Runbook.Step]
    public var verify: Runbook.Action?
    public var verifyAttempts: Int
    public var verifyDelaySeconds: Double
    public var rollback: Runbook.Action?
    public var isDryRun: Bool
    /// Why this runbook and why this level, one sentence each.
    public var reasons: [String]
}
