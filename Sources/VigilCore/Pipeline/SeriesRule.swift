// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// A per-series override of metric detection, kept as code beside the rest of the configuration: which series it
/// covers (label globs) and what changes for them. A synthetic host is muted; a long-poll latency that is
/// "always slow" gets a higher alert threshold; a queue that spikes and drains gets a minimum duration.
///
/// In a list, the first rule that matches a series decides for it; a series no rule matches keeps the defaults.
public struct SeriesRule: Sendable, Equatable, Codable {
    /// Label name → glob that the label's value must match (`*` matches any run of characters, everything else
    /// itself). `__name__` is the metric name. A missing label has the empty value, as in PromQL: `*` matches it,
    /// `api-*` does not. An empty map matches every series.
    public var match: [String: String]
    /// No findings at all from the series: no deviation, no trend toward exhaustion, no silence.
    public var mute = false
    /// The score in (0, 1] at which the series alerts, instead of the server's default.
    public var alertThreshold: Double?
    /// A deviation counts only once the series has stayed beyond the band it left for this many seconds; one
    /// that comes back sooner was a blip and is never reported.
    public var minimumSeconds: Double?

    /// Creates a rule.
    public init(
        match: [String: String],
        mute: Bool = false,
        alertThreshold: Double? = nil,
        minimumSeconds: Double? = nil
    ) {
        self.match = match
        self.mute = mute
        self.alertThreshold = alertThreshold
        self.minimumSeconds = minimumSeconds
    }

    /// Whether the rule covers `series`.
    public func matches(_ series: SeriesKey) -> Bool {
        self.match.allSatisfy { name, pattern in
            let value = name == "__name__" ? series.name : series.label(name) ?? ""
            return WildcardPattern(pattern.replacing("*", with: TemplateMiner.wildcard)).captures(in: value) != nil
        }
    }

    /// What the first rule matching `series` decides (the defaults when none does).
    public static func decision(for series: SeriesKey, in rules: [SeriesRule]) -> SeriesRule? {
        rules.first { $0.matches(series) }
    }
}
