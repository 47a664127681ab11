// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// A fix people wrote down: which incidents it fits, the steps that apply it, the check that it worked, the step
/// that undoes it, and the guardrails around running it.
public struct Runbook: Sendable, Equatable, Codable {
    /// One thing to do. Text may hold `{{variable}}`s (``Runbook/variables``), filled from the incident.
    public enum Action: Sendable, Equatable, Codable {
        /// A program and its arguments, run directly (never through a shell), so a filled-in value stays one
        /// argument whatever it holds. Exit status 0 is success.
        case command([String])
        /// An HTTP request; a 2xx answer is success.
        case http(method: String, url: String, body: String?)

        /// The action with every `{{variable}}` replaced; nil when one has no value for this incident.
        public func filled(with values: [String: String]) -> Action? {
            switch self {
            case .command(let arguments):
                var filled: [String] = []
                for argument in arguments {
                    guard let text = Runbook.fill(argument, with: values) else { return nil }
                    filled.append(text)
                }
                return .command(filled)
            case .http(let method, let url, let body):
                // A value from the network cannot change the request's shape: in the URL it is percent-encoded
                // (a service named `a/../admin` stays one path segment), in a JSON body it is escaped as a string.
                guard let url = Runbook.fill(url, with: values, escaping: { TextEscaping.percentEncoded($0) }) else {
                    return nil
                }
                var filledBody: String?
                if let body {
                    let trimmed = body.drop { $0 == " " || $0 == "\n" || $0 == "\t" }
                    let isJSON = (trimmed.hasPrefix("{") && !trimmed.hasPrefix("{{")) || trimmed.hasPrefix("[")
                    let filled =
                        isJSON
                        ? Runbook.fill(body, with: values, escaping: TextEscaping.jsonEscaped)
                        : Runbook.fill(body, with: values)
                    guard let text = filled else { return nil }
                    filledBody = text
                }
                return .http(method: method, url: url, body: filledBody)
            }
        }

        /// One line for people and the audit log: the command line or the request.
        public var summary: String {
            switch self {
            case .command(let arguments): arguments.joined(separator: " ")
            case .http(let method, let url, _): "\(method) \(url)"
            }
        }

        /// Every text the action holds, for checking its variables.
        var texts: [String] {
            switch self {
            case .command(let arguments): arguments
            case .http(let method, let url, let body): [method, url] + (body.map { [$0] } ?? [])
            }
        }
    }

    /// A named step.
    public struct Step: Sendable, Equatable, Codable {
        public var name: String
        public var action: Action

        /// Creates a step.
        public init(name: String, action: Action) {
            self.name = name
            self.action = action
        }
    }

    /// Which incidents a runbook fits. Every condition given must hold.
    public struct Match: Sendable, Equatable, Codable {
        /// Root-cause services it fits: exact names, or a prefix ending in `*`; empty fits any.
        public var services: [String]
        /// Kinds of triggering change it fits; empty fits any incident, with or without a trigger.
        public var triggers: [ChangeEvent.Kind]
        /// Text one of the incident's symptoms must contain (in its kind, subject or summary); nil fits any.
        public var symptom: String?
        /// The root cause's confidence must be at least this.
        public var minimumConfidence: Double

        /// Creates a match.
        public init(
            services: [String] = [],
            triggers: [ChangeEvent.Kind] = [],
            symptom: String? = nil,
            minimumConfidence: Double = 0
        ) {
            self.services = services
            self.triggers = triggers
            self.symptom = symptom
            self.minimumConfidence = minimumConfidence
        }
    }

    /// Unique among the runbooks; names runs and the audit log.
    public var name: String
    public var description: String
    public var match: Match
    /// The furthest this runbook may go on its own; the server's own ceiling can lower it further.
    public var level: AutomationLevel
    public var risk: ActionRisk
    /// Run in order; the first that fails stops the run.
    public var steps: [Step]
    /// Run after the steps: success means the fix worked. Tried up to `verifyAttempts` times, `verifyDelaySeconds`
    /// apart.
    public var verify: Action?
    public var verifyAttempts: Int
    public var verifyDelaySeconds: Double
    /// Undoes the steps, run when a step or the verification fails.
    public var rollback: Action?
    /// Guardrail: runs of this runbook that may start in any hour, across incidents.
    public var maximumRunsPerHour: Int
    /// Guardrail: after a run on a service, the same runbook waits this long before running on it again.
    public var cooldownSeconds: Double

    /// The variables an action may use.
    public static let variables: Set<String> = ["service", "incident", "version", "trigger", "trigger_service"]

    /// Creates a runbook.
    public init(
        name: String,
        description: String = "",
        match: Match = Match(),
        level: AutomationLevel = .suggest,
        risk: ActionRisk = .high,
        steps: [Step],
        verify: Action? = nil,
        verifyAttempts: Int = 3,
        verifyDelaySeconds: Double = 30,
        rollback: Action? = nil,
        maximumRunsPerHour: Int = 3,
        cooldownSeconds: Double = 1_800
    ) {
        self.name = name
        self.description = description
        self.match = match
        self.level = level
        self.risk = risk
        self.steps = steps
        self.verify = verify
        self.verifyAttempts = verifyAttempts
        self.verifyDelaySeconds = verifyDelaySeconds
        self.rollback = rollback
        self.maximumRunsPerHour = maximumRunsPerHour
        self.cooldownSeconds = cooldownSeconds
    }

    /// What is wrong with this runbook, one sentence each; empty when it can be used.
    public var problems: [String] {
        var problems: [String] = []
        if self.name.isEmpty { problems.append("a runbook needs a name") }
        let label = self.name.isEmpty ? "runbook" : "runbook \(self.name)"
        let allowed = self.name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == 0x2D
                || byte == 0x5F || byte == 0x2E
        }
        if !allowed { problems.append("\(label): a name holds only letters, digits, '-', '_' and '.'") }
        if self.steps.isEmpty { problems.append("\(label) has no steps") }
        if self.verifyAttempts < 1 { problems.append("\(label): verify_attempts must be at least 1") }
        if !(self.verifyDelaySeconds >= 0) { problems.append("\(label): verify_delay must not be negative") }
        if self.maximumRunsPerHour < 1 { problems.append("\(label): max_runs_per_hour must be at least 1") }
        if !(self.cooldownSeconds >= 0) { problems.append("\(label): cooldown must not be negative") }
        if !(0...1).contains(self.match.minimumConfidence) {
            problems.append("\(label): min_confidence must be between 0 and 1")
        }
        var actions = self.steps.map { ("step \($0.name)", $0.action) }
        if let verify = self.verify { actions.append(("verify", verify)) }
        if let rollback = self.rollback { actions.append(("rollback", rollback)) }
        for (place, action) in actions {
            switch action {
            case .command(let arguments):
                if arguments.first?.isEmpty ?? true { problems.append("\(label), \(place): the command is empty") }
            case .http(let method, let url, _):
                if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(method) {
                    problems.append("\(label), \(place): unknown HTTP method \(method)")
                }
                if !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                    problems.append("\(label), \(place): the URL must start with http:// or https://")
                }
            }
            for text in action.texts {
                for name in Self.variableNames(in: text) where !Self.variables.contains(name) {
                    problems.append(
                        "\(label), \(place): unknown variable {{\(name)}} (known: \(Self.variables.sorted().joined(separator: ", ")))"
                    )
                }
            }
        }
        return problems
    }

    /// The `{{name}}`s in `text`.
    static func variableNames(in text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.firstRange(of: "{{") {
            guard let close = rest[open.upperBound...].firstRange(of: "}}") else { break }
            names.append(String(rest[open.upperBound..<close.lowerBound]).trimmingSpaces)
            rest = rest[close.upperBound...]
        }
        return names
    }

    /// `text` with each `{{name}}` replaced by its value; nil when a name has none.
    static func fill(
        _ text: String,
        with values: [String: String],
        escaping escape: (String) -> String = { $0 }
    ) -> String? {
        guard text.contains("{{") else { return text }
        var result = ""
        var rest = Substring(text)
        while let open = rest.firstRange(of: "{{"), let close = rest[open.upperBound...].firstRange(of: "}}") {
            result += rest[..<open.lowerBound]
            guard let value = values[String(rest[open.upperBound..<close.lowerBound]).trimmingSpaces] else {
                return nil
            }
            result += escape(value)
            rest = rest[close.upperBound...]
        }
        return result + rest
    }
}

extension String {
    /// Without leading and trailing spaces.
    fileprivate var trimmingSpaces: String {
        String(self.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
