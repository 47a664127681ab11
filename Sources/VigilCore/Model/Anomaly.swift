// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// A finding of a detector, with the evidence a person can check.
public struct Anomaly: Sendable, Hashable, Codable {
    /// What was found.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// A metric left its band of normal values.
        case metricDeviation = "metric_deviation"
        /// A log template's rate rose far above its normal rate.
        case templateRateSpike = "template_rate_spike"
        /// A log template's rate fell far below its normal rate.
        case templateRateDrop = "template_rate_drop"
        /// An error-level template never seen before in this stream.
        case newErrorTemplate = "new_error_template"
        /// A stream that used to send steadily went quiet.
        case silence
        /// A series climbing steadily towards its limit (memory, disk): the evidence says when it gets there.
        case trendExhaustion = "trend_exhaustion"
        /// A log template followed, in one session (a request, a process), by one that never followed it, or a
        /// session that ended where none did (see ``LogSequenceDetector``).
        case sequenceAnomaly = "sequence_anomaly"
    }

    /// A stable ID: the kind, subject and start time hashed.
    public var id: String
    /// What was found.
    public var kind: Kind
    /// The service the finding is about.
    public var service: String
    /// What it is about: a series (`node_load1{host="a"}`), a template ID, or a stream.
    public var subject: String
    /// When the anomalous behaviour started.
    public var time: Timestamp
    /// How sure the detector is, in [0, 1].
    public var score: Double
    /// The numbers behind it.
    public var evidence: Evidence

    /// Creates a finding; its ID derives from kind, subject and time.
    public init(kind: Kind, service: String, subject: String, time: Timestamp, score: Double, evidence: Evidence) {
        self.kind = kind
        self.service = service
        self.subject = subject
        self.time = time
        self.score = score
        self.evidence = evidence
        self.id = Template.id(for: "\(kind.rawValue)|\(service)|\(subject)|\(time.nanoseconds)")
    }
}

/// What a finding rests on: observed against expected, and a sentence that says it.
public struct Evidence: Sendable, Hashable, Codable {
    /// The value observed (a metric value, lines per minute; for a level shift, the average that moved).
    public var observed: Double?
    /// The value expected at that time (for a level shift, the level it left).
    public var expected: Double?
    /// The lower edge of the normal band.
    public var lower: Double?
    /// The upper edge of the normal band.
    public var upper: Double?
    /// One sentence a person reads: what moved, by how much, since when.
    public var summary: String

    /// Creates evidence.
    public init(
        observed: Double? = nil,
        expected: Double? = nil,
        lower: Double? = nil,
        upper: Double? = nil,
        summary: String
    ) {
        self.observed = observed
        self.expected = expected
        self.lower = lower
        self.upper = upper
        self.summary = summary
    }
}
