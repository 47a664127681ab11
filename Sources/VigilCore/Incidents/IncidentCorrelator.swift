// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Turns a storm of symptoms (Vigil's own anomalies and external alerts) and change events into a few incidents,
/// each with ranked root-cause candidates, a trigger, an impact chain, a timeline and a first action.
///
/// The grouping is a function of the set of inputs, not of their order: symptoms are sorted, repeats of one
/// fingerprint collapse into one member (a gap longer than `flapWindow` starts a new one), and two members join
/// when they overlap within `joinWindow` and are related: the same service, a direct call between their services
/// (from traces or configuration), or the same `namespace` label on two alerts; services with a caller or a
/// callee in common join too when their symptoms started within `siblingWindow`. Joins are transitive, so an
/// incident that keeps growing absorbs new symptoms instead of opening new incidents, and every member records
/// why it joined. Given a root-cause verdict per incident (``incidents(rootCause:)``), incidents close in time that
/// share their root cause become one. Time is data time: the latest time seen, so replaying the same data gives
/// the same incidents.
public struct IncidentCorrelator: Sendable {
    /// Windows, in seconds.
    public struct Configuration: Sendable, Equatable {
        /// Two related symptoms join when they are at most this far apart …
        public var joinWindow = 300.0
        /// … or this far, when the earlier one has been seen only once and the later one is not its own
        /// service's or a caller's.
        public var blipWindow = 60.0
        /// Two symptoms of siblings (services with a caller or a callee in common) join when they started at most
        /// this far apart: a fault often surfaces at once in services that share a caller and no direct call.
        public var siblingWindow = 30.0
        /// A symptom that held, with nothing in the graph tying it to an incident, joins one that opened at most
        /// this far from its start: one fault moves services the graph does not connect at about the same time,
        /// while a move minutes later is more likely a problem of its own.
        public var unexplainedJoinWindow = 60.0
        /// A fingerprint seen again within this after its last occurrence continues the same member (flaps do not
        /// open new incidents).
        public var flapWindow = 900.0
        /// Quiet for this long with nothing firing: mitigated.
        public var mitigateAfter = 300.0
        /// Quiet for this long with nothing firing: resolved.
        public var resolveAfter = 900.0
        /// Change events up to this long before a service's first deviation can be its trigger.
        public var changeLookback = 1800.0
        /// … and up to this long after it (clocks disagree).
        public var changeLookahead = 60.0
        /// Symptoms kept; the oldest go first.
        public var maximumSymptoms = 50_000
        /// Vigil's own findings open an incident when they touch this many services …
        public var minimumServices = 2
        /// … or are this many different symptoms (fingerprints) of one service, or one symptom that held: seen
        /// again at least this long after it first fired (a series still beyond the band it left a minute after
        /// its alert reports again).
        public var minimumSymptoms = 3
        public var sustainedSeconds = 60.0
        /// External alerts open an incident when this many different ones (fingerprints) are in it: 1, an alert
        /// is someone's decision that it matters.
        public var minimumAlerts = 1
        /// What happens to the alerts and findings each rule matches (the first matching rule decides).
        public var symptomRules: [SymptomRule] = []
        /// Creates the defaults.
        public init() {}
    }

    struct Symptom: Sendable, Equatable {
        var fingerprint: String
        var kind: String
        var service: String
        var subject: String
        var time: Timestamp
        var score: Double
        var summary: String
        var namespace: String?
        /// False for a symptom a ``SymptomRule`` keeps as context only.
        var opens = true
    }

    /// How many alerts and findings the correlator grouped into how many incidents: what an on-call engineer
    /// reads to trust (or tune) the grouping.
    public struct Grouping: Sendable, Equatable, Codable {
        /// Alert firings and findings kept (the newest ``Configuration/maximumSymptoms``).
        public var symptoms: Int
        /// Those that are members of an incident.
        public var grouped: Int
        /// The incidents they make …
        public var incidents: Int
        /// … of which open.
        public var open: Int
        /// Alert firings and findings a rule ignored (never kept).
        public var ignored: Int

        /// One line: "1,847 alerts and findings → 3 incidents (12 stood alone; 4 ignored by rules)".
        public var text: String {
            var line =
                "\(Format.count(self.symptoms)) "
                + (self.symptoms == 1 ? "alert or finding" : "alerts and findings")
                + " → \(Format.count(self.incidents)) " + (self.incidents == 1 ? "incident" : "incidents")
            var notes: [String] = []
            if self.symptoms > self.grouped {
                notes.append("\(Format.count(self.symptoms - self.grouped)) stood alone")
            }
            if self.ignored > 0 { notes.append("\(Format.count(self.ignored)) ignored by rules") }
            if !notes.isEmpty { line += " (" + notes.joined(separator: "; ") + ")" }
            return line
        }
    }

    public let configuration: Configuration
    private var symptoms: [Symptom] = []
    private var changes: [ChangeEvent] = []
    /// caller → callees.
    private var calls: [String: Set<String>] = [:]
    /// The latest state of each external alert.
    private var alertStates: [String: (time: Timestamp, firing: Bool)] = [:]
    /// The latest data time seen.
    public private(set) var now = Timestamp(nanoseconds: 0)
    /// Alert firings and findings a ``SymptomRule`` ignored.
    public private(set) var ignored = 0

    /// Creates an empty correlator.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Takes one of Vigil's findings. Spare capacity is no symptom: a metric that moved the way that does not
    /// hurt (a service's CPU or memory that falls, a success rate that rises) neither opens nor joins an incident.
    public mutating func add(_ anomaly: Anomaly) {
        if anomaly.kind == .metricDeviation, let observed = anomaly.evidence.observed,
            let expected = anomaly.evidence.expected,
            MetricKind.isSpareCapacity(subject: anomaly.subject, observed: observed, expected: expected)
        {
            return
        }
        let action = SymptomRule.action(
            for: { field in
                switch field {
                case "kind": anomaly.kind.rawValue
                case "service": anomaly.service
                case "subject": anomaly.subject
                default: nil
                }
            },
            in: self.configuration.symptomRules
        )
        if action == .ignore {
            self.ignored += 1
            return
        }
        let fingerprint = anomaly.kind.rawValue + "|" + anomaly.service + "|" + anomaly.subject
        self.append(
            Symptom(
                fingerprint: fingerprint,
                kind: anomaly.kind.rawValue,
                service: anomaly.service,
                subject: anomaly.subject,
                time: anomaly.time,
                score: anomaly.score,
                summary: anomaly.evidence.summary,
                namespace: nil,
                opens: action == nil
            )
        )
    }

    /// Takes an external alert: firing ones are symptoms; a resolved one ends its fingerprint's firing.
    public mutating func add(_ alert: Alert) {
        let action = SymptomRule.action(
            for: { field in
                switch field {
                case "kind": "alert"
                case "service": alert.service
                case "subject", "alertname": alert.name
                default: alert.labels.first { $0.name == field }?.value
                }
            },
            in: self.configuration.symptomRules
        )
        if action == .ignore {
            if alert.status == .firing { self.ignored += 1 }
            return
        }
        let time = alert.status == .resolved ? (alert.endsAt ?? alert.startsAt) : alert.startsAt
        let firing = alert.status == .firing
        if let known = self.alertStates[alert.fingerprint],
            known.time > time || (known.time == time && !known.firing)
        {
            // An older or equal-time state never overrides a newer one (resolved wins ties): order-independent.
        } else {
            self.alertStates[alert.fingerprint] = (time, firing)
        }
        self.now = max(self.now, time)
        guard firing else { return }
        self.append(
            Symptom(
                fingerprint: "alert|" + alert.fingerprint,
                kind: "alert",
                service: alert.service,
                subject: alert.name,
                time: alert.startsAt,
                score: 1,
                summary: alert.summary ?? "\(alert.name) firing",
                namespace: alert.labels.first { $0.name == "namespace" }?.value,
                opens: action == nil
            )
        )
    }

    /// Takes a change event (deploy, config, flag, scale, restart).
    public mutating func add(_ change: ChangeEvent) {
        self.changes.append(change)
        self.now = max(self.now, change.time)
        if self.changes.count > 10_000 {
            self.changes.sort { $0.time < $1.time }
            self.changes.removeFirst(self.changes.count - 10_000)
        }
    }

    /// Records that `caller` calls `callee` (from spans or a dependency list).
    public mutating func addCall(caller: String, callee: String) {
        guard caller != callee else { return }
        self.calls[caller, default: []].insert(callee)
    }

    private mutating func append(_ symptom: Symptom) {
        self.symptoms.append(symptom)
        self.now = max(self.now, symptom.time)
        if self.symptoms.count > self.configuration.maximumSymptoms {
            self.symptoms.sort { Self.order($0, $1) }
            self.symptoms.removeFirst(self.symptoms.count - self.configuration.maximumSymptoms)
        }
    }

    static func order(_ a: Symptom, _ b: Symptom) -> Bool {
        if a.time != b.time { return a.time < b.time }
        if a.fingerprint != b.fingerprint { return a.fingerprint < b.fingerprint }
        return a.score < b.score
    }

    /// Whether `a` calls `b` directly.
    func calls(_ a: String, _ b: String) -> Bool { self.calls[a]?.contains(b) ?? false }

    /// The services that call or are called by any of `services`, `services` included.
    public func neighbourhood(of services: [String]) -> Set<String> {
        let given = Set(services)
        var result = given
        for (caller, callees) in self.calls {
            if given.contains(caller) { result.formUnion(callees) }
            if !callees.isDisjoint(with: given) { result.insert(caller) }
        }
        return result
    }

    /// The known calls between members of `services`, in a stable order.
    public func calls(among services: Set<String>) -> [(caller: String, callee: String)] {
        self.calls.keys.sorted().flatMap { caller in
            services.contains(caller)
                ? self.calls[caller]!.filter(services.contains).sorted().map { (caller: caller, callee: $0) } : []
        }
    }

    // MARK: - Grouping

    /// A member in the making: one fingerprint's occurrences without a gap longer than `flapWindow`.
    private struct Node {
        var member: Incident.Member
        var count: Int
        var namespace: String?
        /// Whether it may open an incident (no rule keeps it as context only).
        var opens: Bool
    }

    /// Whether a group of members corroborate each other, and so are an incident: external alerts are (someone
    /// decided they matter; `minimumAlerts` of them); Vigil's own findings need symptoms in `minimumServices`
    /// services or `minimumSymptoms` different symptoms of one (or one that ``held(_:)``), so a lone blip on one
    /// series, which any detector watching thousands of series makes now and then, pages nobody. Members a rule
    /// keeps as context only do not count.
    private func related(_ nodes: [Node]) -> Bool {
        let members = nodes.filter(\.opens).map(\.member)
        return members.count { $0.kind == "alert" } >= self.configuration.minimumAlerts
            || Set(members.map(\.service)).count >= self.configuration.minimumServices
            || members.count >= self.configuration.minimumSymptoms
    }

    /// Whether a symptom that may open an incident held: seen again `sustainedSeconds` or more after it first
    /// fired.
    private func held(_ nodes: [Node]) -> Bool {
        nodes.contains {
            $0.opens && $0.member.count >= 2
                && $0.member.lastSeen.seconds - $0.member.firstSeen.seconds >= self.configuration.sustainedSeconds
        }
    }

    /// How many alerts and findings went into `incidents` (this correlator's, as ``incidents()`` returned them).
    public func grouping(of incidents: [Incident]) -> Grouping {
        Grouping(
            symptoms: self.symptoms.count,
            grouped: incidents.reduce(0) { sum, incident in sum + incident.members.reduce(0) { $0 + $1.count } },
            incidents: incidents.count,
            open: incidents.count { $0.status == .open },
            ignored: self.ignored
        )
    }

    /// The incidents, newest first.
    public func incidents() -> [Incident] {
        self.groups().map { self.incident($0) }
            .sorted { $0.opened > $1.opened || ($0.opened == $1.opened && $0.id < $1.id) }
    }

    /// The incidents, newest first, where incidents that opened within the join window of each other and that
    /// `rootCause` names the same root cause for are one: one fault may move parts of the call graph that
    /// nothing in it connects (a memory fault that slows a service's database and, a minute later, the service
    /// itself), and an on-call engineer wants one incident per cause. `rootCause` (the root cause of an
    /// incident, nil when unknown) is asked only of incidents with another one that near.
    public func incidents(rootCause: (Incident) -> String?) -> [Incident] {
        let window = self.configuration.joinWindow
        var groups = self.groups().sorted { $0[0].member.firstSeen < $1[0].member.firstSeen }
        var built = groups.map { self.incident($0) }
        var causes: [String??] = Array(repeating: nil, count: groups.count)
        func cause(_ index: Int) -> String? {
            if let known = causes[index] { return known }
            let found = rootCause(built[index])
            causes[index] = .some(found)
            return found
        }
        var later = 1
        while later < groups.count {
            let opened = built[later].opened.seconds
            let earlier = (0..<later).first { index in
                opened <= built[index].updated.seconds + window && cause(index) != nil && cause(index) == cause(later)
            }
            guard let earlier, let root = cause(earlier) else {
                later += 1
                continue
            }
            var absorbed = groups.remove(at: later).sorted { $0.member.firstSeen < $1.member.firstSeen }
            built.remove(at: later)
            causes.remove(at: later)
            let gap = Int((opened - built[earlier].opened.seconds).rounded())
            absorbed[0].member.joinedBecause =
                "it points at \(root) as the root cause too, \(gap) s after this incident opened"
            groups[earlier] += absorbed
            built[earlier] = self.incident(groups[earlier])
            causes[earlier] = nil
        }
        return built.sorted { $0.opened > $1.opened || ($0.opened == $1.opened && $0.id < $1.id) }
    }

    /// The groups of nodes that are incidents.
    private func groups() -> [[Node]] {
        let config = self.configuration
        // Members: a fingerprint's occurrences, split at gaps longer than the flap window.
        var nodes: [Node] = []
        var open: [String: Int] = [:]
        for symptom in self.symptoms.sorted(by: Self.order) {
            if let index = open[symptom.fingerprint],
                symptom.time.seconds - nodes[index].member.lastSeen.seconds <= config.flapWindow
            {
                nodes[index].member.lastSeen = symptom.time
                nodes[index].member.count += 1
                nodes[index].member.score = max(nodes[index].member.score, symptom.score)
                continue
            }
            open[symptom.fingerprint] = nodes.count
            nodes.append(
                Node(
                    member: Incident.Member(
                        fingerprint: symptom.fingerprint,
                        kind: symptom.kind,
                        service: symptom.service,
                        subject: symptom.subject,
                        firstSeen: symptom.time,
                        lastSeen: symptom.time,
                        count: 1,
                        score: symptom.score,
                        summary: symptom.summary,
                        joinedBecause: nil
                    ),
                    count: 1,
                    namespace: symptom.namespace,
                    opens: symptom.opens
                )
            )
        }
        // Joins: each member links to the earliest related member overlapping it within the join window.
        var parent = Array(nodes.indices)
        func root(_ index: Int) -> Int {
            var index = index
            while parent[index] != index {
                parent[index] = parent[parent[index]]
                index = parent[index]
            }
            return index
        }
        for later in nodes.indices {
            let b = nodes[later].member
            for earlier in 0..<later {
                let a = nodes[earlier].member
                // A symptom seen once (a blip so far) ties to what follows it closely, or to its own service and
                // its callers (faults travel up the calls): a blip on a caller must not open, minutes early, an
                // incident its callee starts.
                let followsUp = a.service == b.service || self.calls(b.service, a.service)
                let window = a.count > 1 || followsUp ? config.joinWindow : config.blipWindow
                guard a.lastSeen.seconds + window >= b.firstSeen.seconds else { continue }
                let together = abs(b.firstSeen.seconds - a.firstSeen.seconds) <= config.siblingWindow
                guard
                    let reason = self.relation(nodes[earlier], nodes[later])
                        ?? (together ? self.siblings(a.service, b.service) : nil)
                else { continue }
                if nodes[later].member.joinedBecause == nil {
                    let gap = Int((b.firstSeen.seconds - a.firstSeen.seconds).rounded())
                    nodes[later].member.joinedBecause = "\(reason) and both deviated within \(gap) s"
                }
                let (x, y) = (root(earlier), root(later))
                if x != y { parent[max(x, y)] = min(x, y) }
            }
        }
        var groups: [Int: [Int]] = [:]
        for index in nodes.indices { groups[root(index), default: []].append(index) }
        // Groups that corroborate themselves are incidents. A group that is only a symptom that held (nothing
        // in the graph ties it to the others) joins an incident that opened about when it started, or else
        // stands alone: one fault moves services the graph does not connect, and that must not split its incident.
        var incidents: [[Node]] = []
        var held: [[Node]] = []
        var watching: [[Node]] = []
        // Services that no call names while the graph is known watch the whole system (an end-user SLI, a prober).
        var connected: Set<String> = []
        for (caller, callees) in self.calls {
            connected.insert(caller)
            connected.formUnion(callees)
        }
        for key in groups.keys.sorted() {
            let group = groups[key]!.map { nodes[$0] }
            let corroborated = self.related(group)
            guard corroborated || self.held(group) else { continue }
            if !connected.isEmpty && group.allSatisfy({ !connected.contains($0.member.service) }) {
                watching.append(group)
            } else if corroborated {
                incidents.append(group)
            } else {
                held.append(group)
            }
        }
        for var group in held.sorted(by: { $0[0].member.firstSeen < $1[0].member.firstSeen }) {
            let start = group[0].member.firstSeen.seconds
            let open = incidents.firstIndex { incident in
                let first = incident.map(\.member.firstSeen.seconds).min()!
                return abs(start - first) <= config.unexplainedJoinWindow
            }
            guard let open else {
                incidents.append(group)
                continue
            }
            let gap = Int((start - incidents[open][0].member.firstSeen.seconds).rounded())
            let held = Int((group[0].member.lastSeen.seconds - start).rounded())
            let when = gap >= 0 ? "\(gap) s after this incident opened" : "\(-gap) s before this incident opened"
            group[0].member.joinedBecause = "it held for \(held) s, \(when), and nothing else explains it"
            incidents[open] = (incidents[open] + group).sorted { $0.member.firstSeen < $1.member.firstSeen }
        }
        // What a watcher of the whole system sees while an incident is firing is that incident, seen by the users:
        // it joins the one last active within the join window of its start (it links no two incidents), and
        // stands alone only when none is.
        for var group in watching.sorted(by: { $0[0].member.firstSeen < $1[0].member.firstSeen }) {
            let start = group[0].member.firstSeen.seconds
            // Each incident's first and last activity; the one active at the start and last active wins.
            let spans = incidents.map { incident in
                (
                    first: incident.map(\.member.firstSeen.seconds).min()!,
                    last: incident.map(\.member.lastSeen.seconds).max()!
                )
            }
            guard
                let open = spans.indices.filter({
                    spans[$0].first <= start && spans[$0].last + config.joinWindow >= start
                })
                .max(by: { spans[$0].last < spans[$1].last })
            else {
                incidents.append(group)
                continue
            }
            let service = group[0].member.service
            group[0].member.joinedBecause =
                "\(service) is in no call of the service graph: it watches the whole system, and this incident was firing"
            incidents[open] = (incidents[open] + group).sorted { $0.member.firstSeen < $1.member.firstSeen }
        }
        return incidents
    }

    /// Why two members belong together, or nil when they do not.
    private func relation(_ a: Node, _ b: Node) -> String? {
        let (x, y) = (a.member.service, b.member.service)
        if x == y { return "both are \(x)" }
        if self.calls(x, y) { return "\(x) calls \(y)" }
        if self.calls(y, x) { return "\(y) calls \(x)" }
        if let namespace = a.namespace, namespace == b.namespace { return "both are in namespace \(namespace)" }
        return nil
    }

    /// Why two services are siblings (a caller or a callee in common), or nil when they are not.
    private func siblings(_ x: String, _ y: String) -> String? {
        guard x != y else { return nil }
        for caller in self.calls.keys.sorted() where self.calls(caller, x) && self.calls(caller, y) {
            return "\(caller) calls both \(x) and \(y)"
        }
        if let shared = self.calls[x]?.intersection(self.calls[y] ?? []).min() {
            return "\(x) and \(y) both call \(shared)"
        }
        return nil
    }

    // MARK: - One incident

    private func incident(_ nodes: [Node]) -> Incident {
        let config = self.configuration
        var members = nodes.map(\.member).sorted {
            $0.firstSeen < $1.firstSeen || ($0.firstSeen == $1.firstSeen && $0.fingerprint < $1.fingerprint)
        }
        // The first member has no reason to give; a later one may have linked to it only through another.
        members[0].joinedBecause = nil
        let opened = members[0].firstSeen
        let updated = members.map(\.lastSeen).max()!
        var onset: [String: Timestamp] = [:]
        var severity: [String: Double] = [:]
        for member in members {
            onset[member.service] = min(onset[member.service] ?? member.lastSeen, member.firstSeen)
            severity[member.service] = max(severity[member.service] ?? 0, member.score)
        }
        let services = onset.keys.sorted { (onset[$0]!, $0) < (onset[$1]!, $1) }
        let affected = Set(services)

        // Changes of affected services near their onsets.
        func change(of service: String) -> ChangeEvent? {
            let start = onset[service]!.seconds
            return self.changes.filter {
                $0.service == service && $0.time.seconds >= start - config.changeLookback
                    && $0.time.seconds <= start + config.changeLookahead
            }
            .max { ($0.time, $0.kind.rawValue) < ($1.time, $1.kind.rawValue) }
        }

        // Who (transitively) calls whom among the affected services.
        func reach(from service: String, forward: Bool) -> Set<String> {
            var seen: Set<String> = [service]
            var queue = [service]
            while let next = queue.popLast() {
                let neighbours =
                    forward ? (self.calls[next] ?? []) : Set(self.calls.keys.filter { self.calls($0, next) })
                for neighbour in neighbours where affected.contains(neighbour) && !seen.contains(neighbour) {
                    seen.insert(neighbour)
                    queue.append(neighbour)
                }
            }
            seen.remove(service)
            return seen
        }

        var candidates: [Incident.Candidate] = []
        for service in services {
            var reasons: [String] = []
            let delay = onset[service]!.seconds - opened.seconds
            let early = 1 / (1 + delay / 60)
            reasons.append(
                delay < 1 ? "first to deviate" : "deviated \(Int(delay.rounded())) s after the first symptom"
            )
            let dependents = reach(from: service, forward: false)
            let share = services.count > 1 ? Double(dependents.count) / Double(services.count - 1) : 0
            if !dependents.isEmpty {
                reasons.append(
                    "\(Format.count(dependents.count, "affected service")) \(dependents.count == 1 ? "depends" : "depend") on it: "
                        + dependents.sorted().joined(separator: ", ")
                )
            }
            // A service that calls an affected service which deviated no later is more likely its victim.
            let upstreamOf = reach(from: service, forward: true).filter {
                onset[$0]!.seconds <= onset[service]!.seconds + 30
            }
            if !upstreamOf.isEmpty {
                reasons.append("it calls \(upstreamOf.sorted().joined(separator: ", ")), which deviated as early")
            }
            var changeScore = 0.0
            if let event = change(of: service) {
                let before = onset[service]!.seconds - event.time.seconds
                changeScore = 1 / (1 + max(0, before) / 300)
                reasons.append(
                    "\(event.kind.rawValue)\(event.version.map { " " + $0 } ?? "") \(Int(abs(before).rounded())) s \(before >= 0 ? "before" : "after") it deviated"
                )
            }
            let score =
                0.3 * early + 0.3 * share - (upstreamOf.isEmpty ? 0 : 0.3) + 0.3 * changeScore
                + 0.1 * (severity[service] ?? 0)
            candidates.append(
                Incident.Candidate(service: service, score: max(score, 0.01), confidence: 0, reasons: reasons)
            )
        }
        candidates.sort { $0.score > $1.score || ($0.score == $1.score && $0.service < $1.service) }
        let total = candidates.reduce(0) { $0 + $1.score }
        for index in candidates.indices { candidates[index].confidence = candidates[index].score / total }

        let root = candidates[0].service
        let trigger = change(of: root) ?? services.compactMap(change(of:)).min { $0.time < $1.time }

        let chain = Self.impactChain(from: root, affected: affected, calls: self.calls)

        var timeline = services.map { service -> Incident.Moment in
            let first = members.first { $0.service == service }!
            return Incident.Moment(time: onset[service]!, service: service, what: "first deviation: \(first.summary)")
        }
        for event in self.changes where affected.contains(event.service) {
            if event.time.seconds >= opened.seconds - config.changeLookback && event.time <= updated {
                timeline.append(
                    Incident.Moment(
                        time: event.time,
                        service: event.service,
                        what: "\(event.kind.rawValue)\(event.version.map { " " + $0 } ?? "")"
                            + (event.description.map { ": " + $0 } ?? "")
                    )
                )
            }
        }
        timeline.sort { ($0.time, $0.service, $0.what) < ($1.time, $1.service, $1.what) }

        let firing = nodes.contains { node in
            node.opens && node.member.kind == "alert"
                && (self.alertStates[String(node.member.fingerprint.dropFirst(6))]?.firing ?? false)
        }
        let quiet = self.now.seconds - updated.seconds
        let status: Incident.Status =
            firing || quiet <= config.mitigateAfter ? .open : quiet <= config.resolveAfter ? .mitigated : .resolved

        return Incident(
            id: Template.id(for: "incident|\(members[0].fingerprint)|\(opened.nanoseconds)"),
            status: status,
            opened: opened,
            updated: updated,
            services: services,
            symptomCount: members.reduce(0) { $0 + $1.count },
            members: members,
            rootCauses: candidates,
            trigger: trigger,
            impactChain: chain,
            timeline: timeline,
            recommendation: Self.recommendation(root: root, trigger: trigger, members: members, impactChain: chain)
        )
    }

    /// How the fault travelled towards the users: the longest path up from `root` through the callers in
    /// `affected` (breadth first, callers in name order), root first; just the root when no affected service calls
    /// it. `calls` maps each caller to its callees.
    public static func impactChain(
        from root: String,
        affected: Set<String>,
        calls: [String: Set<String>]
    ) -> [String] {
        var previous: [String: String] = [:]
        var frontier = [root]
        var visited: Set<String> = [root]
        var deepest = root
        let callers = calls.keys.sorted()
        while !frontier.isEmpty {
            var next: [String] = []
            for service in frontier {
                for caller in callers where calls[caller]!.contains(service) && affected.contains(caller) {
                    guard visited.insert(caller).inserted else { continue }
                    previous[caller] = service
                    next.append(caller)
                    deepest = caller
                }
            }
            frontier = next
        }
        var chain = [deepest]
        while let step = previous[chain.last!] { chain.append(step) }
        return chain.reversed()
    }

    /// The first thing to try, from the trigger's kind or, without one, from the root cause's symptoms. The
    /// reason says the other services depend on the root only where `impactChain` (root first) shows it.
    static func recommendation(
        root: String,
        trigger: ChangeEvent?,
        members: [Incident.Member],
        impactChain: [String]
    ) -> Incident.Recommendation {
        let dependents = impactChain.dropFirst().filter { $0 != root }
        let others = Set(members.map(\.service)).subtracting([root]).count
        let followed =
            !dependents.isEmpty
            ? " and \(dependents.joined(separator: ", ")), which \(dependents.count == 1 ? "depends" : "depend") on it, followed"
            : others > 0 ? " and \(Format.count(others, "other service")) followed" : ""
        if let trigger, trigger.service == root {
            let version = trigger.version.map { " " + $0 } ?? ""
            switch trigger.kind {
            case .deploy:
                return .init(
                    action: "Roll back the deploy\(version) of \(root)",
                    reason: "\(root) was deployed at \(trigger.time.iso8601), just before it degraded"
                        + (followed.isEmpty ? "" : ",\(followed)")
                )
            case .config:
                return .init(
                    action: "Revert the configuration change of \(root)",
                    reason: "it changed at \(trigger.time.iso8601), just before \(root) degraded"
                )
            case .flag:
                return .init(
                    action: "Turn the feature flag change on \(root) back",
                    reason: "it flipped at \(trigger.time.iso8601), just before \(root) degraded"
                )
            case .scale:
                return .init(
                    action: "Check the scaling of \(root) and scale it back out",
                    reason: "it was rescaled at \(trigger.time.iso8601), just before it degraded"
                )
            case .restart:
                return .init(
                    action: "Raise the memory limit of \(root) or roll back its last deploy",
                    reason: "it was restarted (\(trigger.description ?? "killed")) at \(trigger.time.iso8601)"
                )
            }
        }
        let subjects = members.filter { $0.service == root }.map(\.subject).joined(separator: " ")
        if subjects.contains("latency") || subjects.contains("cpu") || subjects.contains("load") {
            return .init(action: "Scale \(root) out", reason: "its latency or load rose first\(followed)")
        }
        return .init(
            action: "Restart \(root) and look at its error logs",
            reason: "it deviated first\(followed); no change event explains it"
        )
    }
}
