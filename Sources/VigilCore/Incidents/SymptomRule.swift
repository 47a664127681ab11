// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// A rule over what becomes part of an incident, kept as code beside the rest of the configuration: which alerts
/// and findings it covers (field globs) and what happens to them. Alertmanager's always-firing `Watchdog` is
/// ignored; `severity: info` alerts and a synthetic host's findings join an incident others open but never open
/// one themselves.
///
/// In a list, the first rule that matches a symptom decides for it; a symptom no rule matches opens and joins
/// incidents as usual.
public struct SymptomRule: Sendable, Equatable, Codable {
    /// What a rule does to the symptoms it matches.
    public enum Action: String, Sendable, Codable, CaseIterable {
        /// Never taken: no incident, no member, no count.
        case ignore
        /// Joins an incident that other symptoms open, as context, but never opens one; a context-only alert
        /// that keeps firing does not hold its incident open either.
        case contextOnly = "context_only"
    }

    /// Field → glob its value must match (`*` matches any run of characters, everything else itself). The fields
    /// are `kind` (`alert`, or a finding's ``Anomaly/Kind``: `metric_deviation`, `new_error_template`,
    /// `template_rate_spike`, `template_rate_drop`, `silence`, `trend_exhaustion`, `sequence_anomaly`),
    /// `service` and `subject` (an alert's name, a finding's series, template or stream), and for an alert
    /// `alertname` and each of its labels. A missing field has the empty value: `*` matches it, `info` does not.
    /// An empty map matches every symptom.
    public var match: [String: String]
    /// What happens to the symptoms it matches.
    public var action: Action

    /// Creates a rule.
    public init(match: [String: String], action: Action) {
        self.match = match
        self.action = action
    }

    /// Whether the rule covers a symptom whose fields `field` looks up.
    public func matches(_ field: (String) -> String?) -> Bool {
        self.match.allSatisfy { name, pattern in
            WildcardPattern(pattern.replacing("*", with: TemplateMiner.wildcard)).captures(in: field(name) ?? "") != nil
        }
    }

    /// What the first rule matching a symptom decides (nil when none does).
    public static func action(for field: (String) -> String?, in rules: [SymptomRule]) -> Action? {
        rules.first { $0.matches(field) }?.action
    }
}
