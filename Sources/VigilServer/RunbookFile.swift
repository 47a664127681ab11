// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

public import VigilCore

/// Reads runbooks from YAML (`runbooks.example.yaml` shows every key). Unknown keys, a shell line where a list of
/// arguments belongs, unknown variables and duplicate names are errors that name the runbook and the key.
public enum RunbookFile {
    /// A runbook file is not usable; the message names where and what.
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    static let runbookKeys: Set<String> = [
        "name", "description", "match", "level", "risk", "steps", "verify", "rollback", "max_runs_per_hour", "cooldown",
    ]

    /// The runbooks in `text`: a mapping with a `runbooks` list, or the list alone. `source` names the file in
    /// errors.
    public static func runbooks(yaml text: String, source: String) throws(Failure) -> [Runbook] {
        let loaded: Any?
        do { loaded = try YAMLText.load(text) } catch { throw Failure(description: "\(source): \(error)") }
        let list: [Any]
        if let map = loaded as? [String: Any] {
            for key in map.keys.sorted() where key != "runbooks" {
                throw Failure(description: "\(source): unknown key \"\(key)\" (expected runbooks)")
            }
            guard let runbooks = map["runbooks"] as? [Any] else {
                throw Failure(description: "\(source): runbooks must be a list")
            }
            list = runbooks
        } else if let runbooks = loaded as? [Any] {
            list = runbooks
        } else if loaded == nil {
            return []
        } else {
            throw Failure(description: "\(source): expected a list of runbooks")
        }
        var runbooks: [Runbook] = []
        var names: Set<String> = []
        for (index, item) in list.enumerated() {
            let place = "\(source): runbooks[\(index)]"
            let runbook = try Self.runbook(item, place: place)
            if let problem = runbook.problems.first { throw Failure(description: "\(source): \(problem)") }
            guard names.insert(runbook.name).inserted else {
                throw Failure(description: "\(place): a second runbook named \(runbook.name)")
            }
            runbooks.append(runbook)
        }
        return runbooks
    }

    static func runbook(_ item: Any, place: String) throws(Failure) -> Runbook {
        guard let map = item as? [String: Any] else { throw Failure(description: "\(place) must be a mapping") }
        let name = try Self.value(map, "name", String.self, place: place) ?? ""
        let place = name.isEmpty ? place : "\(place) (\(name))"
        for key in map.keys.sorted() where !Self.runbookKeys.contains(key) {
            throw Failure(
                description:
                    "\(place): unknown key \"\(key)\"; known: \(Self.runbookKeys.sorted().joined(separator: ", "))"
            )
        }
        guard let stepList = map["steps"] as? [Any], !stepList.isEmpty else {
            throw Failure(description: "\(place): steps must be a non-empty list")
        }
        var steps: [Runbook.Step] = []
        for (index, item) in stepList.enumerated() {
            let stepPlace = "\(place).steps[\(index)]"
            guard let step = item as? [String: Any] else {
                throw Failure(description: "\(stepPlace) must be a mapping")
            }
            let stepName = try Self.value(step, "name", String.self, place: stepPlace) ?? "step\(index + 1)"
            steps.append(
                Runbook.Step(name: stepName, action: try Self.action(step, extraKeys: ["name"], place: stepPlace))
            )
        }
        var runbook = Runbook(name: name, steps: steps)
        runbook.description = try Self.value(map, "description", String.self, place: place) ?? ""
        if let text = try Self.scalar(map, "level", place: place) {
            guard let level = AutomationLevel(name: text) else {
                throw Failure(
                    description:
                        "\(place): level must be 0-4 or one of \(AutomationLevel.allCases.map(\.name).joined(separator: ", ")), not \(text)"
                )
            }
            runbook.level = level
        }
        if let text = try Self.value(map, "risk", String.self, place: place) {
            guard let risk = ActionRisk(rawValue: text) else {
                throw Failure(description: "\(place): risk must be low or high, not \(text)")
            }
            runbook.risk = risk
        }
        if let match = map["match"] {
            runbook.match = try Self.match(match, place: "\(place).match")
        }
        if let verify = map["verify"] {
            let verifyPlace = "\(place).verify"
            guard let check = verify as? [String: Any] else {
                throw Failure(description: "\(verifyPlace) must be a mapping (run or http, attempts, delay)")
            }
            runbook.verify = try Self.action(check, extraKeys: ["attempts", "delay"], place: verifyPlace)
            if let attempts = try Self.value(check, "attempts", Int.self, place: verifyPlace) {
                runbook.verifyAttempts = attempts
            }
            if let delay = try Self.duration(check, "delay", place: verifyPlace) { runbook.verifyDelaySeconds = delay }
        }
        if let rollback = map["rollback"] {
            guard let undo = rollback as? [String: Any] else {
                throw Failure(description: "\(place).rollback must be a mapping (run or http)")
            }
            runbook.rollback = try Self.action(undo, extraKeys: [], place: "\(place).rollback")
        }
        if let runs = try Self.value(map, "max_runs_per_hour", Int.self, place: place) {
            runbook.maximumRunsPerHour = runs
        }
        if let cooldown = try Self.duration(map, "cooldown", place: place) { runbook.cooldownSeconds = cooldown }
        return runbook
    }

    static func match(_ item: Any, place: String) throws(Failure) -> Runbook.Match {
        guard let map = item as? [String: Any] else { throw Failure(description: "\(place) must be a mapping") }
        for key in map.keys.sorted() where !["services", "triggers", "symptom", "min_confidence"].contains(key) {
            throw Failure(
                description: "\(place): unknown key \"\(key)\"; known: min_confidence, services, symptom, triggers"
            )
        }
        var match = Runbook.Match()
        if let services = map["services"] {
            guard let list = services as? [String] else {
                throw Failure(description: "\(place).services must be a list of service names")
            }
            match.services = list
        }
        if let triggers = map["triggers"] {
            guard let list = triggers as? [String] else {
                throw Failure(description: "\(place).triggers must be a list of change kinds")
            }
            match.triggers = try list.map { (text: String) throws(Failure) -> ChangeEvent.Kind in
                guard let kind = ChangeEvent.Kind(rawValue: text) else {
                    throw Failure(
                        description:
                            "\(place).triggers: unknown change kind \(text); known: \(ChangeEvent.Kind.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                return kind
            }
        }
        match.symptom = try Self.value(map, "symptom", String.self, place: place)
        if let raw = map["min_confidence"] {
            guard let confidence = (raw as? Double) ?? (raw as? Int).map(Double.init) else {
                throw Failure(description: "\(place).min_confidence must be a number between 0 and 1")
            }
            match.minimumConfidence = confidence
        }
        return match
    }

    /// `run: [program, arguments…]` or `http: {method, url, body}`.
    static func action(_ map: [String: Any], extraKeys: Set<String>, place: String) throws(Failure) -> Runbook.Action {
        for key in map.keys.sorted() where !extraKeys.union(["run", "http"]).contains(key) {
            throw Failure(description: "\(place): unknown key \"\(key)\"")
        }
        switch (map["run"], map["http"]) {
        case (let run?, nil):
            if run is String {
                throw Failure(
                    description:
                        "\(place).run must be a list [program, argument, …]: a shell line is never run (a filled-in value could split it)"
                )
            }
            guard let list = run as? [Any], !list.isEmpty else {
                throw Failure(description: "\(place).run must be a non-empty list [program, argument, …]")
            }
            var arguments: [String] = []
            for (index, argument) in list.enumerated() {
                switch argument {
                case let text as String: arguments.append(text)
                case let number as Int: arguments.append(String(number))
                case let number as Double: arguments.append(String(number))
                default:
                    throw Failure(
                        description:
                            "\(place).run[\(index)] must be text, not \(argument) (quote an argument that starts with {{)"
                    )
                }
            }
            return .command(arguments)
        case (nil, let http?):
            guard let request = http as? [String: Any] else {
                throw Failure(description: "\(place).http must be a mapping (method, url, body)")
            }
            for key in request.keys.sorted() where !["method", "url", "body"].contains(key) {
                throw Failure(description: "\(place).http: unknown key \"\(key)\"")
            }
            guard let url = request["url"] as? String else { throw Failure(description: "\(place).http needs a url") }
            let method = try Self.value(request, "method", String.self, place: "\(place).http")?.uppercased() ?? "POST"
            return .http(
                method: method,
                url: url,
                body: try Self.value(request, "body", String.self, place: "\(place).http")
            )
        case (nil, nil):
            throw Failure(description: "\(place) needs run (a command) or http (a request)")
        default:
            throw Failure(description: "\(place) has both run and http: give one")
        }
    }

    static func value<T>(_ map: [String: Any], _ key: String, _ type: T.Type, place: String) throws(Failure) -> T? {
        guard let raw = map[key] else { return nil }
        guard let typed = raw as? T else {
            let kind = T.self == String.self ? "text" : T.self == Int.self ? "a whole number" : "\(T.self)"
            throw Failure(description: "\(place).\(key) must be \(kind), not \(raw)")
        }
        return typed
    }

    /// A scalar written as text or a number.
    static func scalar(_ map: [String: Any], _ key: String, place: String) throws(Failure) -> String? {
        guard let raw = map[key] else { return nil }
        if let text = raw as? String { return text }
        if let number = raw as? Int { return String(number) }
        throw Failure(description: "\(place).\(key) must be a name or a number, not \(raw)")
    }

    /// A duration written `30s`, `15m`, `2h`, or as a number of seconds.
    static func duration(_ map: [String: Any], _ key: String, place: String) throws(Failure) -> Double? {
        guard let raw = map[key] else { return nil }
        if let number = raw as? Int, number >= 0 { return Double(number) }
        if let number = raw as? Double, number >= 0 { return number }
        if let text = raw as? String, let seconds = DurationText.seconds(in: text) { return seconds }
        throw Failure(description: "\(place).\(key) must be a duration such as 30s, 15m or 2h, not \(raw)")
    }
}
