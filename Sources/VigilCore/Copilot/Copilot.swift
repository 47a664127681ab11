// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Answers plain-English questions from on call ("why is checkout failing?", "what changed?") from a
/// ``Briefing``: deterministically by itself, or by building the prompt for a language model.
///
/// The deterministic answer needs no model and cites the facts it used; the prompt holds the same facts, most
/// relevant first, every text masked by ``PIIMasker`` and the whole bounded, so nothing personal or secret leaves
/// and a small local model's context is never overrun.
public enum Copilot {
    /// What a question asks for.
    public enum Intent: String, Sendable, Codable, Equatable, CaseIterable {
        /// What is wrong right now.
        case status
        /// Why something broke: the root cause.
        case cause
        /// What changed (deploys, config).
        case changes
        /// Which errors are logged.
        case errors
        /// What to do first.
        case action
        /// Which metrics or streams behave oddly.
        case anomalies
    }

    /// A question as understood: its intent and the service it names, if any.
    public struct Question: Sendable, Equatable {
        public var text: String
        public var intent: Intent
        public var service: String?
    }

    /// An answer and the facts it rests on.
    public struct Answer: Sendable, Equatable, Codable {
        public var text: String
        /// One line per fact cited.
        public var evidence: [String]
    }

    /// One chat message of a prompt.
    public struct Message: Sendable, Equatable, Codable {
        /// system or user.
        public var role: String
        public var content: String

        public init(role: String, content: String) {
            self.role = role
            self.content = content
        }
    }

    /// Reads the intent and the service a question names (the longest of `services` that appears in it as a
    /// whole word, case ignored).
    public static func understand(_ text: String, services: [String]) -> Question {
        let words = Self.words(of: text)
        let lowered = words.joined(separator: " ")
        var service: String?
        for name in services.sorted(by: { $0.count > $1.count }) {
            let wanted = Self.words(of: name).joined(separator: " ")
            guard !wanted.isEmpty else { continue }
            if (" " + lowered + " ").contains(" " + wanted + " ") {
                service = name
                break
            }
        }
        func has(_ stems: [String]) -> Bool { words.contains { word in stems.contains { word.hasPrefix($0) } } }
        let intent: Intent
        if has(["fix", "mitigat", "remedia", "rollback", "recommend", "should", "todo"])
            || lowered.contains("roll back") || lowered.contains("next step")
        {
            intent = .action
        } else if has(["chang", "deploy", "release", "rollout", "config", "upgrad"]) {
            intent = .changes
        } else if has(["why", "cause", "root", "culprit", "blame", "responsib"])
            || (service != nil && has(["wrong", "slow", "down", "fail", "broke", "latenc", "timeout", "outage"]))
        {
            intent = .cause
        } else if has(["error", "exception", "log", "crash", "panic", "stack", "traceback"]) {
            intent = .errors
        } else if has(["anomal", "metric", "spike", "cpu", "memory", "latenc", "unusual", "odd", "strange", "deviat"])
            || service != nil
        {
            intent = .anomalies
        } else {
            intent = .status
        }
        return Question(text: text, intent: intent, service: service)
    }

    /// The deterministic answer: what the facts say about the question, with the facts cited.
    public static func answer(_ question: Question, from briefing: Briefing) -> Answer {
        switch question.intent {
        case .status: Self.status(briefing)
        case .cause: Self.cause(of: question.service, briefing)
        case .changes: Self.changes(of: question.service, briefing)
        case .errors: Self.errors(of: question.service, briefing)
        case .action: Self.action(for: question.service, briefing)
        case .anomalies: Self.anomalies(of: question.service, briefing)
        }
    }

    /// The messages for a chat model: instructions, then the facts (masked, most relevant first, at most `budget`
    /// characters) and the question (masked too).
    public static func prompt(
        for question: Question,
        from briefing: Briefing,
        masker: PIIMasker = PIIMasker(),
        budget: Int = 6000
    ) -> [Message] {
        let instructions = """
            You are Vigil, an assistant for engineers on call. Answer the question using only the facts given. \
            Name the root-cause service, what triggered it and the first action to try when the facts hold them, \
            and cite incident ids in square brackets. If the facts do not answer the question, say so plainly. \
            Answer in at most five sentences of plain text.
            """
        let relevant = Self.answer(question, from: briefing).evidence
        var lines: [String] = []
        var used = 0
        var left = 0
        var seen = Set<String>()
        for line in relevant + Self.facts(briefing, service: question.service) where seen.insert(line).inserted {
            let masked = masker.mask(line)
            if used + masked.count + 3 > budget {
                left += 1
                continue
            }
            lines.append("- " + masked)
            used += masked.count + 3
        }
        if left > 0 { lines.append("(\(left) more facts left out for length)") }
        if lines.isEmpty {
            lines.append("- Vigil has recorded nothing yet: no incidents, anomalies, changes or errors.")
        }
        let user =
            "Facts Vigil collected at \(briefing.collected):\n" + lines.joined(separator: "\n") + "\n\nQuestion: "
            + masker.mask(question.text)
        return [Message(role: "system", content: instructions), Message(role: "user", content: user)]
    }

    /// Whether a model's answer rests on the facts: when there are any, it must name at least one of their
    /// services or incident ids (an answer about nothing Vigil saw is a guess, and the rules answer instead).
    public static func isGrounded(_ text: String, in briefing: Briefing) -> Bool {
        let names = briefing.services + briefing.incidents.map(\.id)
        guard !names.isEmpty else { return true }
        let words = " " + Self.words(of: text).joined(separator: " ") + " "
        return names.contains { name in
            let wanted = Self.words(of: name).joined(separator: " ")
            return !wanted.isEmpty && words.contains(" " + wanted + " ")
        }
    }

    // MARK: - Deterministic answers

    private static func status(_ briefing: Briefing) -> Answer {
        let open = briefing.incidents.filter { $0.status != "resolved" }
        guard !open.isEmpty else {
            var text = "No open incidents."
            var evidence: [String] = []
            if let last = briefing.incidents.first {
                text += " The latest, [\(last.id)], is resolved: \(last.narrative)"
                evidence.append(Self.line(last))
            }
            if let top = briefing.anomalies.max(by: { $0.score < $1.score }) {
                text +=
                    " \(briefing.anomalies.count) recent anomal\(briefing.anomalies.count == 1 ? "y" : "ies"); "
                    + "the strongest: \(top.evidence.summary)"
                evidence.append(Self.line(top))
            }
            return Answer(text: text, evidence: evidence)
        }
        var parts = ["\(open.count) open incident\(open.count == 1 ? "" : "s"):"]
        for incident in open.prefix(3) { parts.append("- [\(incident.id)] \(incident.narrative)") }
        if open.count > 3 { parts.append("\(open.count - 3) more are listed by `GET /api/v1/incidents`.") }
        return Answer(text: parts.joined(separator: "\n"), evidence: open.prefix(3).map(Self.line))
    }

    private static func cause(of service: String?, _ briefing: Briefing) -> Answer {
        let involved = briefing.incidents.filter { incident in
            service.map { incident.services.contains($0) || incident.topCause == $0 } ?? true
        }
        let chosen = involved.first { $0.status != "resolved" } ?? involved.first
        guard let incident = chosen, let cause = incident.topCause else {
            let name = service ?? "any service"
            let found = briefing.anomalies.filter { service == nil || $0.service == service }
            let hurting = found.filter(Self.hurts)
            let spare = found.filter { !Self.hurts($0) }
            let own = hurting.prefix(3)
            if let service, let called = Self.incidentAmongCallees(of: service, briefing) {
                return Self.waiting(service, on: called, own: Array(own))
            }
            if own.isEmpty && !spare.isEmpty {
                return Answer(
                    text: "No incident involves \(name), and its only anomalies are \(Self.spareCapacity): nothing in "
                        + "its data explains a problem there.",
                    evidence: spare.prefix(3).map(Self.line)
                )
            }
            guard !own.isEmpty else {
                return Answer(
                    text:
                        "No incident involves \(name), and Vigil has no anomaly for it: nothing in its data explains a problem there.",
                    evidence: []
                )
            }
            let more = spare.isEmpty ? "" : " \(spare.count) more show \(Self.spareCapacity)."
            return Answer(
                text: "No incident involves \(name) yet. Its latest anomalies: "
                    + own.map(\.evidence.summary).joined(separator: "; ") + "." + more,
                evidence: own.map(Self.line)
            )
        }
        var text: String
        let confidence =
            (incident.rootCauses.first?.confidence ?? incident.confidence).map { " (confidence \(Format.percent($0)))" }
            ?? ""
        let reasons = incident.rootCauses.first?.reasons ?? []
        if let service, service != cause {
            text =
                "\(service) is affected, but most likely as a symptom: incident [\(incident.id)] points at \(cause)\(confidence)"
        } else {
            text = "The most likely root cause is \(cause)\(confidence), in incident [\(incident.id)]"
        }
        text += reasons.isEmpty ? "." : ": " + reasons.joined(separator: "; ") + "."
        if let chain = incident.impactChain, chain.count > 1 {
            text += " Impact chain: " + chain.joined(separator: " → ") + "."
        }
        if let trigger = incident.trigger { text += " Triggered by " + Self.describe(trigger) + "." }
        if let recommendation = incident.recommendation { text += " Try first: \(recommendation.action)." }
        var evidence = [Self.line(incident)]
        evidence += briefing.changes.filter { $0.service == cause }.prefix(2).map(Self.line)
        evidence += briefing.anomalies.filter { $0.service == cause }.prefix(3).map(Self.line)
        return Answer(text: text, evidence: evidence)
    }

    /// Whether a finding may be trouble: a CPU or memory that fell, or a success rate that rose, is spare capacity.
    static func hurts(_ anomaly: Briefing.AnomalyFacts) -> Bool {
        guard anomaly.kind == "metric_deviation", let observed = anomaly.evidence.observed,
            let expected = anomaly.evidence.expected
        else { return true }
        return !MetricKind.isSpareCapacity(subject: anomaly.subject, observed: observed, expected: expected)
    }

    /// What spare capacity is, as answers say it.
    static let spareCapacity = "spare capacity (a CPU or memory that fell, a success rate that rose)"

    /// An unresolved incident that a service outside every incident may be waiting on: the nearest service it
    /// calls (directly or further down, at most `calleeHops` calls away) that is an incident's root cause, or
    /// else one of its services; and the calls that lead there.
    static func incidentAmongCallees(
        of service: String,
        _ briefing: Briefing
    ) -> (incident: Briefing.IncidentFacts, path: [String])? {
        let active = briefing.incidents.filter { $0.status != "resolved" && $0.topCause != nil }
        guard !active.isEmpty, !briefing.calls.isEmpty else { return nil }
        var callees: [String: [String]] = [:]
        for call in briefing.calls where call.caller != call.callee {
            callees[call.caller, default: []].append(call.callee)
        }
        // Breadth first, so the nearest incident is found; by root cause before membership at each distance.
        var paths: [String: [String]] = [service: [service]]
        var frontier = [service]
        for _ in 0..<Self.calleeHops {
            var next: [String] = []
            for caller in frontier {
                for callee in (callees[caller] ?? []).sorted() where paths[callee] == nil {
                    paths[callee] = paths[caller]! + [callee]
                    next.append(callee)
                }
            }
            for reached in next {
                if let incident = active.first(where: { $0.topCause == reached }) {
                    return (incident, paths[reached]!)
                }
            }
            for reached in next {
                if let incident = active.first(where: { $0.services.contains(reached) }) {
                    return (incident, paths[reached]!)
                }
            }
            frontier = next
        }
        return nil
    }

    /// How far down its calls a service's trouble is looked for.
    static let calleeHops = 4

    /// The answer for a service outside every incident that calls into one.
    private static func waiting(
        _ service: String,
        on called: (incident: Briefing.IncidentFacts, path: [String]),
        own: [Briefing.AnomalyFacts]
    ) -> Answer {
        let incident = called.incident
        let reached = called.path.last!
        let cause = incident.topCause!
        let through = called.path.dropFirst().dropLast()
        let via = through.isEmpty ? "" : " (through \(through.joined(separator: " → ")))"
        let confidence =
            (incident.rootCauses.first?.confidence ?? incident.confidence).map { " (confidence \(Format.percent($0)))" }
            ?? ""
        var text = "No incident involves \(service) itself, but it calls \(reached)\(via), "
        if reached == cause {
            text += "the most likely root cause of incident [\(incident.id)]\(confidence)"
        } else {
            text += "which incident [\(incident.id)] holds; it points at \(cause)\(confidence)"
        }
        let reasons = incident.rootCauses.first?.reasons ?? []
        text += reasons.isEmpty ? "." : ": " + reasons.joined(separator: "; ") + "."
        text += " Its trouble may come from there, through its calls."
        if let recommendation = incident.recommendation { text += " Try first: \(recommendation.action)." }
        if !own.isEmpty {
            text += " Its own latest anomalies: " + own.map(\.evidence.summary).joined(separator: "; ") + "."
        }
        let path = "calls: " + called.path.joined(separator: " → ") + " (the service graph)"
        return Answer(text: text, evidence: [Self.line(incident), path] + own.map(Self.line))
    }

    private static func changes(of service: String?, _ briefing: Briefing) -> Answer {
        let found = briefing.changes.filter { service == nil || $0.service == service }
        let scope = service.map { " for \($0)" } ?? ""
        guard !found.isEmpty else { return Answer(text: "No change events are recorded\(scope).", evidence: []) }
        let shown = Array(found.prefix(5))
        var text = "\(found.count) change\(found.count == 1 ? "" : "s") recorded\(scope); the latest: "
        text +=
            shown.map { change in
                var item = Self.describe(change)
                if let incident = briefing.incidents.first(where: {
                    $0.trigger == change
                }) {
                    item += " (it triggered incident [\(incident.id)])"
                }
                return item
            }.joined(separator: "; ") + "."
        return Answer(text: text, evidence: shown.map(Self.line))
    }

    private static func errors(of service: String?, _ briefing: Briefing) -> Answer {
        let templates = briefing.errorTemplates.filter { service == nil || $0.service == service }
        let fresh = briefing.anomalies.filter {
            $0.kind == "new_error_template" && (service == nil || $0.service == service)
        }
        let scope = service.map { " in \($0)'s logs" } ?? ""
        guard !templates.isEmpty || !fresh.isEmpty else {
            return Answer(text: "No errors are logged\(scope).", evidence: [])
        }
        var parts: [String] = []
        if !fresh.isEmpty {
            parts.append(
                "New error templates\(scope): " + fresh.prefix(3).map(\.evidence.summary).joined(separator: "; ") + "."
            )
        }
        if !templates.isEmpty {
            parts.append(
                "Most errors\(scope): "
                    + templates.prefix(3).map { "\($0.errorCount) × \"\($0.text)\" (\($0.service))" }.joined(
                        separator: "; "
                    ) + "."
            )
        }
        return Answer(
            text: parts.joined(separator: " "),
            evidence: fresh.prefix(3).map(Self.line) + templates.prefix(3).map(Self.line)
        )
    }

    private static func action(for service: String?, _ briefing: Briefing) -> Answer {
        let open = briefing.incidents.filter { incident in
            incident.status != "resolved" && incident.recommendation != nil
                && (service.map { incident.services.contains($0) || incident.topCause == $0 } ?? true)
        }
        guard !open.isEmpty else {
            return Answer(
                text: "No open incident\(service.map { " involving \($0)" } ?? "") calls for an action.",
                evidence: []
            )
        }
        let text = open.prefix(3).map { incident in
            "[\(incident.id)] \(incident.recommendation!.action): \(incident.recommendation!.reason)."
        }.joined(separator: " ")
        return Answer(text: text, evidence: open.prefix(3).map(Self.line))
    }

    private static func anomalies(of service: String?, _ briefing: Briefing) -> Answer {
        let found = briefing.anomalies.filter { service == nil || $0.service == service }
        let scope = service.map { " for \($0)" } ?? ""
        guard !found.isEmpty else { return Answer(text: "No recent anomalies\(scope).", evidence: []) }
        let shown = found.prefix(5)
        return Answer(
            text: "\(found.count) recent anomal\(found.count == 1 ? "y" : "ies")\(scope): "
                + shown.map(\.evidence.summary).joined(separator: "; ") + ".",
            evidence: shown.map(Self.line)
        )
    }

    // MARK: - Facts as lines

    /// Every fact as one line, those about `service` first.
    private static func facts(_ briefing: Briefing, service: String?) -> [String] {
        func first<T>(_ items: [T], _ about: (T) -> Bool) -> [T] { items.filter(about) + items.filter { !about($0) } }
        let incidents = first(briefing.incidents) { incident in service.map { incident.services.contains($0) } ?? false
        }
        let anomalies = first(briefing.anomalies) { $0.service == service }
        let changes = first(briefing.changes) { $0.service == service }
        let templates = first(briefing.errorTemplates) { $0.service == service }
        return incidents.map(Self.line) + changes.map(Self.line) + anomalies.map(Self.line) + templates.map(Self.line)
    }

    static func line(_ incident: Briefing.IncidentFacts) -> String {
        "incident [\(incident.id)], \(incident.status), opened \(incident.opened): \(incident.narrative)"
    }

    static func line(_ anomaly: Briefing.AnomalyFacts) -> String {
        "anomaly at \(anomaly.time) in \(anomaly.service) (\(anomaly.kind.replacing("_", with: " ")), score \(Self.rounded(anomaly.score))): \(anomaly.evidence.summary)"
    }

    static func line(_ change: Briefing.ChangeFacts) -> String { "change: " + Self.describe(change) }

    static func line(_ template: Briefing.TemplateFacts) -> String {
        "log template of \(template.service) with \(template.errorCount) error lines of \(template.count), last at \(template.lastSeen): \(template.text)"
    }

    static func describe(_ change: Briefing.ChangeFacts) -> String {
        var text = "\(change.kind)\(change.version.map { " \($0)" } ?? "") of \(change.service) at \(change.time)"
        if let description = change.description, !description.isEmpty { text += " (\(description))" }
        return text
    }

    static func rounded(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// Lower-cased words: letters, digits, `-`, `_` and `.` inside a word.
    static func words(of text: String) -> [String] {
        var words: [String] = []
        var current: [UInt8] = []
        for byte in text.utf8 {
            let lower = byte >= 65 && byte <= 90 ? byte + 32 : byte
            let inWord =
                (lower >= 97 && lower <= 122) || (lower >= 48 && lower <= 57) || lower == 45 || lower == 95
                || lower == 46
                || lower >= 0x80
            if inWord {
                current.append(lower)
            } else if !current.isEmpty {
                words.append(Self.trimmed(current))
                current.removeAll(keepingCapacity: true)
            }
        }
        if !current.isEmpty { words.append(Self.trimmed(current)) }
        return words.filter { !$0.isEmpty }
    }

    /// A word without the dots and dashes that end a sentence or start a flag.
    private static func trimmed(_ bytes: [UInt8]) -> String {
        var slice = bytes[...]
        while let last = slice.last, last == 46 || last == 45 { slice = slice.dropLast() }
        while let first = slice.first, first == 46 || first == 45 { slice = slice.dropFirst() }
        return String(decoding: slice, as: UTF8.self)
    }
}
