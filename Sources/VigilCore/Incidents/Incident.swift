// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// A group of related symptoms (anomalies, external alerts) with its likely root cause and the evidence behind it.
public struct Incident: Sendable, Equatable, Codable {
    /// Where an incident is in its life.
    public enum Status: String, Sendable, Equatable, Codable {
        /// Symptoms are still arriving or an alert still fires.
        case open
        /// Quiet for a while, nothing firing; it reopens if a symptom returns.
        case mitigated
        /// Quiet long enough to be over.
        case resolved
    }

    /// One distinct symptom (repeats of the same fingerprint counted, not listed).
    public struct Member: Sendable, Equatable, Codable {
        /// What identifies repeats: the alert fingerprint, or the anomaly's kind and subject.
        public var fingerprint: String
        /// `alert` or an anomaly kind (`metric_deviation`, `new_error_template`, …).
        public var kind: String
        public var service: String
        /// The series, template or alert name.
        public var subject: String
        public var firstSeen: Timestamp
        public var lastSeen: Timestamp
        /// How many times it was seen.
        public var count: Int
        /// The highest score seen, in [0, 1].
        public var score: Double
        /// The evidence sentence of its first occurrence.
        public var summary: String
        /// Why it belongs here ("checkout calls payment and both deviated within 40 s"); nil for the first member.
        public var joinedBecause: String?
    }

    /// A root-cause candidate.
    public struct Candidate: Sendable, Equatable, Codable {
        public var service: String
        /// The ranking score.
        public var score: Double
        /// Its share of the candidates' scores, in [0, 1].
        public var confidence: Double
        /// What the score rests on, one sentence each.
        public var reasons: [String]
    }

    /// One line of the timeline.
    public struct Moment: Sendable, Equatable, Codable {
        public var time: Timestamp
        public var service: String
        /// What happened: "first deviation: …" or "deploy v2".
        public var what: String
    }

    /// What to try first, and why.
    public struct Recommendation: Sendable, Equatable, Codable {
        public var action: String
        public var reason: String
    }

    /// Stable while the incident lives: derived from its earliest member.
    public var id: String
    public var status: Status
    /// The first symptom's time.
    public var opened: Timestamp
    /// The latest symptom's time.
    public var updated: Timestamp
    /// Affected services, by first deviation.
    public var services: [String]
    /// Every symptom occurrence, repeats included (the storm this incident compresses).
    public var symptomCount: Int
    public var members: [Member]
    /// Best first.
    public var rootCauses: [Candidate]
    /// The change that most likely set it off.
    public var trigger: ChangeEvent?
    /// From the root cause outwards along the call graph: who depends on whom among the affected services.
    public var impactChain: [String]
    public var timeline: [Moment]
    public var recommendation: Recommendation?

    /// One paragraph a person reads.
    public var narrative: String {
        guard let root = self.rootCauses.first else {
            return "Incident \(self.id): \(Format.count(self.members.count, "symptom"))."
        }
        var text = "Root cause \(root.service) (confidence \(Int((root.confidence * 100).rounded())) %)"
        if let trigger = self.trigger {
            text += ", triggered by the \(trigger.kind.rawValue) of \(trigger.service)"
            if let version = trigger.version { text += " (\(version))" }
            text += " at \(trigger.time.iso8601)"
        }
        text += ". \(Format.count(self.symptomCount, "symptom")) from \(Format.count(self.services.count, "service"))"
        if self.impactChain.count > 1 { text += ", impact chain " + self.impactChain.joined(separator: " → ") }
        text += "."
        if let recommendation = self.recommendation { text += " Try first: \(recommendation.action)" }
        return text
    }
}
