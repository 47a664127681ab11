// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// How far Vigil may go on its own with a runbook, from only alerting to running high-risk fixes unattended.
public enum AutomationLevel: Int, Sendable, Hashable, Comparable, Codable, CaseIterable {
    /// Notify people; name no fix.
    case alert = 0
    /// Show the runbook that fits; a person runs it.
    case suggest = 1
    /// Run the runbook once a person approves it.
    case approve = 2
    /// Run low-risk runbooks unattended; high-risk ones wait for approval.
    case autoLowRisk = 3
    /// Run every runbook unattended.
    case autoHighRisk = 4

    /// The spelling configuration files use: `alert`, `suggest`, `approve`, `auto-low-risk`, `auto-high-risk`.
    public var name: String {
        switch self {
        case .alert: "alert"
        case .suggest: "suggest"
        case .approve: "approve"
        case .autoLowRisk: "auto-low-risk"
        case .autoHighRisk: "auto-high-risk"
        }
    }

    /// A level from its name or its number (`"2"`, `"approve"`); nil for anything else.
    public init?(name: String) {
        if let number = Int(name), let level = AutomationLevel(rawValue: number) {
            self = level
            return
        }
        guard let level = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = level
    }

    /// Whether a runbook of `risk` runs at this level without a person approving it.
    public func runsUnattended(_ risk: ActionRisk) -> Bool {
        switch self {
        case .alert, .suggest, .approve: false
        case .autoLowRisk: risk == .low
        case .autoHighRisk: true
        }
    }

    public static func < (lhs: AutomationLevel, rhs: AutomationLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// How much harm a runbook can do when it is wrong.
public enum ActionRisk: String, Sendable, Hashable, Codable, CaseIterable {
    /// Safe to repeat and easy to undo (restart a stateless pod, scale out, clear a cache).
    case low
    /// Hard to undo or wide in effect (roll back a release, fail over a database, drain a node).
    case high
}
