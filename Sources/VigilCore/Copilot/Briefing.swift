// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Everything an answer may rest on: the incidents, anomalies, changes and error templates Vigil knows about at
/// one moment, as plain values (the REST API's shapes, so a client decodes them directly).
///
/// Both answerers read only this: ``Copilot/answer(_:from:)`` (deterministic) and the prompt for a language
/// model (``Copilot/prompt(for:from:masker:budget:)``), so what the model is told is exactly what the
/// deterministic answer could cite.
public struct Briefing: Sendable, Codable, Equatable {
    /// An incident with its explanation.
    public struct IncidentFacts: Sendable, Codable, Equatable {
        /// A root-cause candidate.
        public struct Candidate: Sendable, Codable, Equatable {
            public var service: String
            /// Its share of the candidates' scores, in [0, 1].
            public var confidence: Double
            public var reasons: [String]

            public init(service: String, confidence: Double, reasons: [String]) {
                self.service = service
                self.confidence = confidence
                self.reasons = reasons
            }
        }
        /// The first action to try.
        public struct Recommendation: Sendable, Codable, Equatable {
            public var action: String
            public var reason: String

            public init(action: String, reason: String) {
                self.action = action
                self.reason = reason
            }
        }

        public var id: String
        /// open, mitigated or resolved.
        public var status: String
        /// RFC 3339.
        public var opened: String
        public var narrative: String
        /// Affected services, by first deviation.
        public var services: [String]
        public var symptomCount: Int
        /// Best first (empty when the list endpoint was read, which carries only the top one).
        public var rootCauses: [Candidate]
        /// The change event that triggered it.
        public var trigger: ChangeFacts?
        public var impactChain: [String]?
        public var recommendation: Recommendation?
        /// The list endpoint's top root cause and its confidence.
        public var rootCause: String?
        public var confidence: Double?

        public init(
            id: String,
            status: String,
            opened: String,
            narrative: String,
            services: [String],
            symptomCount: Int,
            rootCauses: [Candidate] = [],
            trigger: ChangeFacts? = nil,
            impactChain: [String]? = nil,
            recommendation: Recommendation? = nil
        ) {
            self.id = id
            self.status = status
            self.opened = opened
            self.narrative = narrative
            self.services = services
            self.symptomCount = symptomCount
            self.rootCauses = rootCauses
            self.trigger = trigger
            self.impactChain = impactChain
            self.recommendation = recommendation
            self.rootCause = rootCauses.first?.service
            self.confidence = rootCauses.first?.confidence
        }

        /// The most likely root cause, from the full ranking or the list's summary.
        public var topCause: String? { self.rootCauses.first?.service ?? self.rootCause }

        private enum CodingKeys: String, CodingKey {
            case id, status, opened, narrative, services, symptomCount, rootCauses, trigger, impactChain
            case recommendation, rootCause, confidence
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.id = try container.decode(String.self, forKey: .id)
            self.status = try container.decode(String.self, forKey: .status)
            self.opened = try container.decode(String.self, forKey: .opened)
            self.narrative = try container.decodeIfPresent(String.self, forKey: .narrative) ?? ""
            self.services = try container.decodeIfPresent([String].self, forKey: .services) ?? []
            self.symptomCount = try container.decodeIfPresent(Int.self, forKey: .symptomCount) ?? 0
            self.rootCauses = try container.decodeIfPresent([Candidate].self, forKey: .rootCauses) ?? []
            self.trigger = try container.decodeIfPresent(ChangeFacts.self, forKey: .trigger)
            self.impactChain = try container.decodeIfPresent([String].self, forKey: .impactChain)
            self.recommendation = try container.decodeIfPresent(Recommendation.self, forKey: .recommendation)
            self.rootCause = try container.decodeIfPresent(String.self, forKey: .rootCause)
            self.confidence = try container.decodeIfPresent(Double.self, forKey: .confidence)
        }
    }

    /// A finding of a detector.
    public struct AnomalyFacts: Sendable, Codable, Equatable {
        /// The evidence a person can check.
        public struct Evidence: Sendable, Codable, Equatable {
            public var observed: Double?
            public var expected: Double?
            public var summary: String

            public init(observed: Double? = nil, expected: Double? = nil, summary: String) {
                self.observed = observed
                self.expected = expected
                self.summary = summary
            }
        }

        /// metric_deviation, new_error_template, silence, …
        public var kind: String
        public var service: String
        public var subject: String
        public var time: String
        public var score: Double
        public var evidence: Evidence

        public init(kind: String, service: String, subject: String, time: String, score: Double, evidence: Evidence) {
            self.kind = kind
            self.service = service
            self.subject = subject
            self.time = time
            self.score = score
            self.evidence = evidence
        }
    }

    /// A deploy, config change, flag flip, scale or restart.
    public struct ChangeFacts: Sendable, Codable, Equatable {
        public var service: String
        public var kind: String
        public var time: String
        public var version: String?
        public var description: String?

        public init(service: String, kind: String, time: String, version: String? = nil, description: String? = nil) {
            self.service = service
            self.kind = kind
            self.time = time
            self.version = version
            self.description = description
        }
    }

    /// A log template that carries errors.
    public struct TemplateFacts: Sendable, Codable, Equatable {
        public var service: String
        public var text: String
        public var count: Int
        public var errorCount: Int
        public var lastSeen: String

        public init(service: String, text: String, count: Int, errorCount: Int, lastSeen: String) {
            self.service = service
            self.text = text
            self.count = count
            self.errorCount = errorCount
            self.lastSeen = lastSeen
        }

        /// The templates worth a briefing: those with errors, most errors first, at most `limit`.
        public static func mostErrors(_ templates: [Self], limit: Int = 20) -> [Self] {
            Array(templates.filter { $0.errorCount > 0 }.sorted { $0.errorCount > $1.errorCount }.prefix(limit))
        }
    }

    /// A call of the service graph, from spans or the configuration.
    public struct CallFacts: Sendable, Codable, Equatable {
        public var caller: String
        public var callee: String

        public init(caller: String, callee: String) {
            self.caller = caller
            self.callee = callee
        }
    }

    /// When the facts were read (RFC 3339).
    public var collected: String
    /// Newest first; open ones carry their full explanation.
    public var incidents: [IncidentFacts]
    /// Newest first.
    public var anomalies: [AnomalyFacts]
    /// Newest first.
    public var changes: [ChangeFacts]
    /// Most errors first.
    public var errorTemplates: [TemplateFacts]
    /// The service graph: what a service waits on.
    public var calls: [CallFacts]

    /// Creates a briefing.
    public init(
        collected: String,
        incidents: [IncidentFacts] = [],
        anomalies: [AnomalyFacts] = [],
        changes: [ChangeFacts] = [],
        errorTemplates: [TemplateFacts] = [],
        calls: [CallFacts] = []
    ) {
        self.collected = collected
        self.incidents = incidents
        self.anomalies = anomalies
        self.changes = changes
        self.errorTemplates = errorTemplates
        self.calls = calls
    }

    /// Every service the facts name, sorted.
    public var services: [String] {
        var names = Set<String>()
        for incident in self.incidents {
            names.formUnion(incident.services)
            if let cause = incident.topCause { names.insert(cause) }
        }
        for anomaly in self.anomalies { names.insert(anomaly.service) }
        for change in self.changes { names.insert(change.service) }
        for template in self.errorTemplates { names.insert(template.service) }
        for call in self.calls { names.formUnion([call.caller, call.callee]) }
        names.remove("")
        return names.sorted()
    }
}
