// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// An alert from an external system (Alertmanager, Grafana): a symptom the correlator groups into incidents.
public struct Alert: Sendable, Hashable, Codable {
    /// Firing or resolved.
    public enum Status: String, Sendable, Hashable, Codable {
        /// Still happening.
        case firing
        /// Over.
        case resolved
    }

    /// The sender's identity of the alert (Alertmanager's fingerprint of its labels).
    public var fingerprint: String
    /// The alert name (`alertname` label).
    public var name: String
    /// The service it is about (from `service`, `job`, `app`, `namespace` labels; `unknown` when none says).
    public var service: String
    /// Firing or resolved.
    public var status: Status
    /// Every label, sorted by name.
    public var labels: [SeriesKey.Label]
    /// The summary or description annotation, if any.
    public var summary: String?
    /// When it started.
    public var startsAt: Timestamp
    /// When it ended, for resolved alerts.
    public var endsAt: Timestamp?

    /// Creates an alert.
    public init(
        fingerprint: String,
        name: String,
        service: String,
        status: Status,
        labels: [SeriesKey.Label],
        summary: String? = nil,
        startsAt: Timestamp,
        endsAt: Timestamp? = nil
    ) {
        self.fingerprint = fingerprint
        self.name = name
        self.service = service
        self.status = status
        self.labels = labels.sorted { $0.name < $1.name }
        self.summary = summary
        self.startsAt = startsAt
        self.endsAt = endsAt
    }
}
