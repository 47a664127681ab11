// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

extension RootCauseRanker {
    /// What a ranking says, in a form a person acts on: the root cause, how the fault travelled, when each service
    /// left its band, the numbers behind it and the first thing to try. Deterministic, no LLM.
    public struct Explanation: Sendable, Equatable {
        /// One service's first deviation.
        public struct Step: Sendable, Equatable {
            public var time: Double
            public var service: String
            public var metric: String
            public var observed: Double
            public var expected: Double
        }

        /// The most likely root cause, nil when nothing deviated.
        public var rootCause: String?
        /// The root cause, then each deviating caller the fault reached, along calls (callee → caller).
        public var impactChain: [String]
        /// First deviations in time order.
        public var timeline: [Step]
        /// The first thing to try, and why.
        public var action: String
        public var reason: String
        /// The root cause's error and new log templates written from the onset on, the most lines first: what
        /// a person reads to see what broke.
        public var logs: [LogEvidence] = []

        /// One log template of the root cause and its lines since the onset.
        public struct LogEvidence: Sendable, Equatable {
            public var text: String
            public var lines: Int
            public var isError: Bool
            public var isNew: Bool
        }
    }

    /// How many log templates an explanation quotes.
    static let quotedTemplates = 3

    /// A service counts as affected when its worst metric moved this far (in spreads).
    public static let affected = 3.0

    /// Explains `result`, ranked over `data` (whose calls give the impact chain).
    public static func explain(_ result: Result, of data: IncidentData) -> Explanation {
        guard let root = result.candidates.first, Self.showsADeviation(result.candidates) else {
            return Explanation(
                rootCause: nil,
                impactChain: [],
                timeline: [],
                action: "Nothing to act on",
                reason: "no metric moved more than \(Int(Self.affected)) spreads from its level before the onset"
            )
        }
        let deviating = result.candidates.filter { $0.deviation > Self.affected && $0.metric != nil }
        let byService = Dictionary(deviating.map { ($0.service, $0) }, uniquingKeysWith: { first, _ in first })
        var callers: [String: [String]] = [:]
        for call in data.calls where call.caller != call.callee {
            callers[call.callee, default: []].append(call.caller)
        }
        // Up the call graph through callers that deviated too, the earliest (then the most deviating) first.
        var chain = [root.service]
        var seen: Set<String> = [root.service]
        while let head = chain.last,
            let next = (callers[head] ?? []).filter({ !seen.contains($0) && byService[$0] != nil })
                .min(by: { Self.precedes(byService[$0]!, byService[$1]!) })
        {
            chain.append(next)
            seen.insert(next)
        }
        // In time order; services that left their band in the same row keep their rank order.
        let timeline = deviating.enumerated().compactMap { rank, candidate -> (Int, Explanation.Step)? in
            guard let time = candidate.firstDeviation, let metric = candidate.metric,
                let observed = candidate.observed, let expected = candidate.expected
            else { return nil }
            let step = Explanation.Step(
                time: time,
                service: candidate.service,
                metric: metric,
                observed: observed,
                expected: expected
            )
            return (rank, step)
        }
        .sorted { ($0.1.time, $0.0) < ($1.1.time, $1.0) }
        .map(\.1)
        var (action, reason) = ("", "")
        if root.stoppedAfter != nil {
            (action, reason) = Self.stoppedAction(for: root.service, affected: chain.count - 1)
        } else if let metric = root.metric, root.slowedCallers.isEmpty {
            (action, reason) = Self.action(for: root, metric: metric, affected: chain.count - 1)
        } else {
            let witnesses = root.slowedCallers.joined(separator: ", ")
            action = "Check the network of \(root.service) (its node, network policies, sidecar)"
            reason =
                "calls to it from \(witnesses) slowed while no callee's own metrics moved: a delay on its network shows only in its callers"
        }
        let onsetRow = data.times.firstIndex { $0 >= result.onset } ?? data.times.count
        let logs = (data.logTemplates[root.service] ?? []).compactMap { template -> Explanation.LogEvidence? in
            let lines = template.lines(from: onsetRow)
            guard lines > 0 else { return nil }
            return .init(text: template.text, lines: lines, isError: template.isError, isNew: template.isNew)
        }
        return Explanation(
            rootCause: root.service,
            impactChain: chain,
            timeline: timeline,
            action: action,
            reason: reason,
            logs: Array(
                logs.sorted { $0.lines != $1.lines ? $0.lines > $1.lines : $0.text < $1.text }
                    .prefix(Self.quotedTemplates)
            )
        )
    }

    /// Earlier first deviation first, then the larger deviation.
    private static func precedes(_ a: Candidate, _ b: Candidate) -> Bool {
        let first = (a.firstDeviation ?? .infinity, -a.deviation, a.service)
        let second = (b.firstDeviation ?? .infinity, -b.deviation, b.service)
        return first < second
    }

    /// The first action for a root cause that stopped reporting at the onset, which `affected` services followed.
    static func stoppedAction(for service: String, affected: Int) -> (String, String) {
        let spread = affected > 0 ? ", and \(Format.count(affected, "other service")) followed" : ""
        return (
            "Check whether \(service) is still running (crashed, killed, evicted or cut off); restart it and read its last logs",
            "it stopped reporting as the incident began (it had reported all along before)\(spread)"
        )
    }

    /// The first action for a root cause, from what kind of metric moved.
    static func action(for root: Candidate, metric: String, affected: Int) -> (String, String) {
        let service = root.service
        let spreads = Format.number((root.spreads * 10).rounded() / 10)
        var moved = "its \(metric) moved \(spreads) spreads from its level before the onset"
        if let expected = root.expected, let observed = root.observed {
            moved =
                "its \(metric) went from \(Format.number(expected)) to \(Format.number(observed)) (\(spreads) spreads)"
        }
        let spread = affected > 0 ? " and \(Format.count(affected, "other service")) followed" : ""
        let name = metric.lowercased()
        if metric == IncidentData.SpanMetric.unanswered || metric == SpanMetrics.callErrorRatio {
            let how =
                metric == SpanMetrics.callErrorRatio
                ? "its callers' calls to it failed" : "calls to it failed without reaching it"
            return (
                "Check whether \(service) is up and reachable (its pods, network policies, sidecar)",
                "\(how): \(moved)\(spread)"
            )
        }
        if metric == IncidentData.SpanMetric.network {
            return (
                "Check the network of \(service) (its node, network policies, sidecar)",
                "what it sends arrives late: \(moved), while its own work did not slow\(spread)"
            )
        }
        switch MetricKind(metric) {
        case .resource where name.contains("mem"):
            return ("Restart \(service) and raise its memory limit, then look for a leak", moved + spread)
        case .resource where ["disk", "filesystem", "fs_", "blkio"].contains(where: { name.contains($0) }):
            return ("Find what fills or hammers the disk of \(service); free or move it", moved + spread)
        case .resource where ["socket", "thread", "open_fds"].contains(where: { name.contains($0) }):
            return ("Restart \(service) and look for leaked connections or threads", moved + spread)
        case .resource:
            return ("Scale \(service) up or out, or find what is eating its CPU", moved + spread)
        // `where` binds to the last pattern only: every event count and quality drop, and "other" metrics that
        // name errors or failures.
        case .events, .quality,
            .other where name.contains("error") || name.contains("fail"):
            return (
                "Roll back the latest deploy or config change of \(service) and read its error logs", moved + spread
            )
        case .traffic:
            return ("Find where the extra load on \(service) comes from; rate-limit or scale it", moved + spread)
        case .host:
            if case .cluster(let services) = root.discount {
                return (
                    "Find what moved \(metric) on the machines of \(services) services at once (a rollout, a backup, a "
                        + "batch job), then look at \(service)",
                    moved + ", as it did on \(Format.count(services - 1, "other service")) at the same time" + spread
                )
            }
            return ("Check the machine \(service) runs on and what else runs there", moved + spread)
        case .outbound:
            return ("Look at what \(service) calls: its calls to them slowed", moved + spread)
        case .other:
            return ("Scale \(service) out and check what it waits on", moved + spread)
        }
    }
}

extension RootCauseRanker.Candidate {
    /// What the metric's move counts for, when it counts less than the service's own ("counted at 0.06: the same
    /// host metric moved on 5 services at once"); nil when it counts fully.
    public var discountNote: String? {
        guard let discount = self.discount else { return nil }
        let counted = "counted at \(Format.number((self.weight * 100).rounded() / 100))"
        switch discount {
        case .traffic: return "\(counted) as traffic, which moves with load"
        case .clientLatency: return "\(counted) as client-side latency, which a callee's trouble moves"
        case .host: return "\(counted) as its machine's, shared with its neighbours"
        case .cluster(let services): return "\(counted): the same host metric moved on \(services) services at once"
        }
    }
}
