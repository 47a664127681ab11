// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// From metric scores to ranked services: symptoms yield to their causes along the call graph, and silent,
/// stopped and slowed callees are suspected for what their callers saw.
extension RootCauseRanker {
    /// Services that reported on at least ``stoppedCoverage`` of the rows before `onsetRow` (three or more) and
    /// on none of the ``stoppedRows`` rows after it (two, where the data ends sooner), while other services did: they stopped as the incident
    /// began (crashed, killed, evicted, cut off from their exporter), with the time of their last value. The
    /// onset's own row may hold a last value (given an alert, the onset is the row before it). Only metric
    /// columns count: logs and spans often cover part of a window. Every column holds a value per row.
    static func stoppedServices(
        _ columns: [IncidentData.Column],
        times: [Double],
        onsetRow: Int
    ) -> [String: Double] {
        let rows = times.count
        guard onsetRow >= 3, onsetRow + 2 < rows else { return [:] }
        let after = (onsetRow + 1)...min(onsetRow + Self.stoppedRows, rows - 1)
        var reportedBefore: [String: [Bool]] = [:]
        var reportedAfter: Set<String> = []
        var reportingRows = [Set<String>](repeating: [], count: after.count)
        for column in columns where !IncidentData.evidenceMetrics.contains(column.metric) {
            var before = reportedBefore[column.service] ?? [Bool](repeating: false, count: onsetRow + 1)
            for row in 0...onsetRow where column.values[row] != nil { before[row] = true }
            reportedBefore[column.service] = before
            for row in after where column.values[row] != nil {
                reportedAfter.insert(column.service)
                reportingRows[row - after.lowerBound].insert(column.service)
            }
        }
        var stopped: [String: Double] = [:]
        for (service, before) in reportedBefore where !reportedAfter.contains(service) {
            let covered = before.prefix(onsetRow).reduce(0) { $0 + ($1 ? 1 : 0) }
            guard Double(covered) >= Self.stoppedCoverage * Double(onsetRow),
                reportingRows.allSatisfy({ !$0.isEmpty }),
                let last = before.lastIndex(of: true)
            else { continue }
            stopped[service] = times[last]
        }
        return stopped
    }

    /// A service stopped when it reported on this share of the rows before the onset …
    static let stoppedCoverage = 0.8

    /// … and on none of this many rows after it (a scrape or two may fail on any day).
    static let stoppedRows = 3

    /// A service's most deviating metric, weighted by its kind: what the service scores as a candidate.
    struct Strongest {
        var score: Double
        var metric: String
        var first: Double?
        var observed: Double
        var expected: Double
        var discount: Discount?
        var weight: Double
    }

    /// What every service's metrics said from the onset on, gathered once for the rules of the call graph.
    struct Evidence {
        /// Each service's most deviating metric.
        var best: [String: Strongest] = [:]
        /// The most deviating metric that is not traffic: what a caller may be a symptom of.
        var fault: [String: Double] = [:]
        /// The most deviating event count (error lines, failed spans).
        var events: [String: Double] = [:]
        /// How far the calls that failed without reaching a service moved (from spans).
        var unanswered: [String: Double] = [:]
        /// The most deviating client-side latency: how much slower a service's calls to others became.
        var outbound: [String: Double] = [:]
        /// The most deviating resource (CPU, memory): a saturated service explains its own slowness.
        var resource: [String: (score: Double, metric: String)] = [:]
        /// The services that stopped reporting at the onset, with the time of their last value.
        var stopped: [String: Double] = [:]
        /// Columns share a few metric names, each classified once.
        var kinds: [String: MetricKind] = [:]

        /// What `metric` measures.
        func kind(of metric: String) -> MetricKind { self.kinds[metric] ?? MetricKind(metric) }
    }

    /// The calls between different services, as the rules read them.
    struct Calls {
        var callees: [String: [String]] = [:]
        var callers: [String: Set<String>] = [:]
        /// Every service in a call: with a graph known, the others stand outside it.
        var connected: Set<String> = []

        init(_ calls: [(caller: String, callee: String)]) {
            for call in calls where call.caller != call.callee {
                self.callees[call.caller, default: []].append(call.callee)
                self.callers[call.callee, default: []].insert(call.caller)
                self.connected.insert(call.caller)
                self.connected.insert(call.callee)
            }
        }
    }

    /// The services of `data`, ranked from `onsetRow` on (to the last row when `judgedToEnd`, else over the
    /// incident span), most likely root cause first.
    func candidates(
        of data: IncidentData,
        columns: [IncidentData.Column],
        families: [String],
        onsetRow: Int,
        judgedToEnd: Bool,
        aloneUntil: Int
    ) -> [Candidate] {
        let evidence = self.evidence(
            of: data,
            columns: columns,
            families: families,
            onsetRow: onsetRow,
            judgedToEnd: judgedToEnd,
            aloneUntil: aloneUntil
        )
        let calls = Calls(data.calls)
        var candidates = self.yieldingToCallees(data, evidence, calls)
        // A service whose metrics exist but hold no value at all has gone silent (crashed, or lost its exporter):
        // it cannot be shown normal.
        let reporting = Set(data.columns.filter { $0.values.contains { $0 != nil } }.map(\.service))
        let silent = Set(data.columns.map(\.service)).subtracting(reporting)
        let witnesses = self.suspectingSlowedCallees(&candidates, data, evidence, calls, silent: silent)
        self.yieldingViewsToSiblings(&candidates, evidence, calls)
        self.suspectingSilentCallees(&candidates, evidence, calls, silent: silent, witnesses: witnesses)
        self.liftingCauses(&candidates, stopped: evidence.stopped)
        candidates.sort { $0.score != $1.score ? $0.score > $1.score : $0.service < $1.service }
        return candidates
    }

    /// Every metric scored against the rows before the onset, over the given alert's span after it (a found
    /// onset may come early, so it is judged to the end), and gathered per service.
    func evidence(
        of data: IncidentData,
        columns: [IncidentData.Column],
        families: [String],
        onsetRow: Int,
        judgedToEnd: Bool,
        aloneUntil: Int
    ) -> Evidence {
        let rows = data.times.count
        var endRow = rows
        if !judgedToEnd {
            let spanEnd = data.times[onsetRow] + self.configuration.incidentSpan
            endRow = max(
                min(rows, onsetRow + self.configuration.minimumIncidentRows),
                data.times.firstIndex { $0 > spanEnd } ?? rows
            )
        }
        var evidence = Evidence()
        for column in columns where evidence.kinds[column.metric] == nil {
            evidence.kinds[column.metric] = MetricKind(column.metric)
        }
        let kinds = evidence.kinds
        let unsettled = self.unsettledRows(columns, families: families, before: onsetRow)
        let scores = self.concurrentMap(columns.indices) { index in
            self.score(
                columns[index],
                kind: kinds[columns[index].metric]!,
                rows: onsetRow..<endRow,
                times: data.times,
                unsettled: unsettled,
                aloneUntil: aloneUntil
            )
        }
        // A host metric that moved clearly on several services at once moved for the cluster (a rollout, a
        // backup, the fault injector itself), not for one machine: it counts that many times less on each.
        var hostMoves: [String: Set<String>] = [:]
        for (column, found) in zip(columns, scores)
        where kinds[column.metric]! == .host && (found?.score ?? 0) >= self.configuration.clearDeviation {
            hostMoves[column.metric, default: []].insert(column.service)
        }
        for (column, found) in zip(columns, scores) {
            guard let (deviation, first, observed, median) = found else { continue }
            var score = deviation
            let kind = kinds[column.metric]!
            var discount: Discount?
            var weight = 1.0
            switch kind {
            case .host:
                let moves = hostMoves[column.metric]?.count ?? 0
                discount = moves > 1 ? .cluster(services: moves) : .host
                weight = self.configuration.trafficWeight / Double(max(1, moves))
            case .traffic, .outbound:
                discount = kind == .traffic ? .traffic : .clientLatency
                weight = self.configuration.trafficWeight
            default:
                evidence.fault[column.service] = max(evidence.fault[column.service] ?? 0, score)
                if kind == .resource, score > evidence.resource[column.service]?.score ?? 0 {
                    evidence.resource[column.service] = (score, column.metric)
                }
            }
            score *= weight
            if kind == .events { evidence.events[column.service] = max(evidence.events[column.service] ?? 0, score) }
            if column.metric == IncidentData.SpanMetric.unanswered { evidence.unanswered[column.service] = score }
            if kind == .outbound {
                evidence.outbound[column.service] = max(evidence.outbound[column.service] ?? 0, deviation)
            }
            let earlier = evidence.best[column.service]
            if let earlier, earlier.score >= score { continue }
            evidence.best[column.service] = Strongest(
                score: score,
                metric: column.metric,
                first: first ?? earlier?.first,
                observed: observed,
                expected: median,
                discount: discount,
                weight: weight
            )
        }
        // A service that reported through the reference and stopped at the onset changed as much as a service
        // can: every caller's symptom may be its absence.
        evidence.stopped = Self.stoppedServices(columns, times: data.times, onsetRow: onsetRow)
        for service in evidence.stopped.keys { evidence.fault[service] = .infinity }
        return evidence
    }

    /// Every service as a candidate, yielding to a callee that deviates about as much (it is more likely a
    /// symptom), and an entry taking on what an end-user SLI watching it saw.
    func yieldingToCallees(_ data: IncidentData, _ evidence: Evidence, _ calls: Calls) -> [Candidate] {
        let best = evidence.best
        let fault = evidence.fault
        // A service outside a known graph watches the whole system (an end-user SLI): what it sees, the system's
        // entry services (those no service with metrics calls) saw first, so an entry takes the SLI's deviation on
        // as its own when it is larger, and yields it to a callee that deviates like any symptom. A fault in the
        // entry itself (a bad page, an exception) may show nowhere else.
        var watcher: String?
        if !calls.connected.isEmpty {
            for (service, found) in best where !calls.connected.contains(service) && (fault[service] ?? 0) > 0 {
                if watcher.map({ found.score > best[$0]!.score }) ?? true { watcher = service }
            }
        }
        // Called by a service with metrics: not where users come in (a load generator or the users' browsers have
        // none).
        let called = Set(data.calls.filter { $0.caller != $0.callee && best[$0.caller] != nil }.map(\.callee))
        var candidates: [Candidate] = []
        for service in data.services {
            var own = best[service]
            var metricName = own?.metric
            if let watcher, let watched = best[watcher], let mine = own, calls.connected.contains(service),
                !called.contains(service), watched.score > mine.score
            {
                own = watched
                metricName = "\(watcher).\(watched.metric)"
            }
            let deviation = max(0, own?.score ?? 0)
            var score = deviation
            var yielded: String?
            var slowOnItsOwn: SlowOnItsOwn?
            if deviation > 3 {
                let reachable = Self.reachable(from: service, calls.callees)
                let ownKind = own.map { evidence.kind(of: $0.metric) }
                let propagates = ownKind != .resource
                // Only a callee that itself fails or slows counts: traffic to it rises because of its caller.
                let explains = { (callee: String) in
                    let moved = fault[callee] ?? 0
                    return moved >= self.configuration.symptomRatio * deviation
                        || (propagates && moved >= self.configuration.clearDeviation)
                        || (ownKind == .events && (evidence.events[callee] ?? 0) >= self.configuration.clearEvents)
                        || (propagates && (evidence.unanswered[callee] ?? 0) >= self.configuration.clearEvents)
                }
                let largest = { (a: String, b: String) in (fault[a] ?? 0) < (fault[b] ?? 0) }
                // A service whose own CPU or memory moved explains its own slowness, unless a callee moved
                // clearly more (by the inverse of the symptom ratio).
                let ownResource = (evidence.resource[service]?.score ?? 0) / self.configuration.symptomRatio
                if let culprit = reachable.filter({ (fault[$0] ?? 0) > ownResource && explains($0) }).max(by: largest) {
                    score *= self.configuration.symptomPenalty
                    yielded = culprit
                } else if let own = evidence.resource[service],
                    let spared = reachable.filter(explains).max(by: largest)
                {
                    slowOnItsOwn = SlowOnItsOwn(
                        callee: spared,
                        calleeSpreads: fault[spared] ?? 0,
                        metric: own.metric,
                        spreads: own.score
                    )
                }
            }
            if evidence.stopped[service] != nil { score = max(score, self.configuration.clearDeviation) }
            if !calls.connected.isEmpty && !calls.connected.contains(service) {
                score *= self.configuration.unconnectedWeight
            }
            candidates.append(
                Candidate(
                    service: service,
                    score: score,
                    metric: metricName,
                    deviation: deviation,
                    firstDeviation: own?.first,
                    yieldedTo: yielded,
                    slowOnItsOwn: slowOnItsOwn,
                    observed: own?.observed,
                    expected: own?.expected,
                    discount: own?.discount,
                    weight: own?.weight ?? 1
                )
            )
            candidates[candidates.count - 1].stoppedAfter = evidence.stopped[service]
        }
        return candidates
    }

    /// A delay on a service's network shows only in its callers' client latency: its own metrics (which time its
    /// work, not the wire) stay calm. A caller whose calls slowed with no callee's own metrics to explain it
    /// witnesses a slow callee, and a callee is as suspect as it explains the witnesses: the share of its callers
    /// that witness it times the share of all witnesses that call it. Returns the witnesses.
    func suspectingSlowedCallees(
        _ candidates: inout [Candidate],
        _ data: IncidentData,
        _ evidence: Evidence,
        _ calls: Calls,
        silent: Set<String>
    ) -> Set<String> {
        let outbound = evidence.outbound
        var witnesses: Set<String> = []
        for (service, deviation) in outbound where deviation > Self.clearOutbound {
            let explained = (calls.callees[service] ?? []).contains {
                let callee = evidence.fault[$0] ?? 0
                return callee >= self.configuration.symptomRatio * deviation
                    || callee >= self.configuration.clearDeviation
            }
            if !explained { witnesses.insert(service) }
        }
        guard !witnesses.isEmpty else { return witnesses }
        var position: [String: Int] = [:]
        for (index, candidate) in candidates.enumerated() { position[candidate.service] = index }
        /// Each callee's callers with metrics: those that could have seen it slow.
        var observersOf: [String: Set<String>] = [:]
        for call in data.calls where call.caller != call.callee && evidence.best[call.caller] != nil {
            observersOf[call.callee, default: []].insert(call.caller)
        }
        for (callee, observers) in observersOf
        where evidence.best[callee] != nil || silent.contains(callee) || evidence.stopped[callee] != nil {
            let seen = observers.filter(witnesses.contains)
            guard !seen.isEmpty, let index = position[callee] else { continue }
            let slowdown = seen.reduce(0) { $0 + outbound[$1]! } / Double(seen.count)
            let suspicion =
                Double(seen.count) / Double(observers.count) * Double(seen.count) / Double(witnesses.count)
                * slowdown
            if suspicion > candidates[index].score {
                candidates[index].score = suspicion + 0.01 * candidates[index].score
                candidates[index].slowedCallers = seen.sorted()
            }
        }
        // A witness is a symptom of its most suspect callee, as of one whose own metrics moved: measured against
        // its slowdown, which the suspect explains (its score may be an SLI's it took on).
        for witness in witnesses {
            guard let index = position[witness], candidates[index].yieldedTo == nil else { continue }
            let suspects = (calls.callees[witness] ?? []).compactMap { position[$0] }
                .filter { candidates[$0].slowedCallers.contains(witness) }
            guard let top = suspects.max(by: { candidates[$0].score < candidates[$1].score }),
                candidates[top].score >= self.configuration.symptomRatio * outbound[witness]!
            else { continue }
            candidates[index].score *= self.configuration.symptomPenalty
            candidates[index].yieldedTo = candidates[top].service
        }
        return witnesses
    }

    /// A leaf whose latency or errors moved, beside a sibling with callees of its own that moved at least
    /// `symptomRatio` as much the same way (and does not reach it), is that sibling seen from the caller's side (a
    /// load balancer, a gateway or a URL in front of it): it yields to the sibling, as a symptom to its cause. An
    /// entry that took an SLI's deviation on (its metric is not its own) is no such view.
    func yieldingViewsToSiblings(_ candidates: inout [Candidate], _ evidence: Evidence, _ calls: Calls) {
        let callees = calls.callees
        /// Whether the service's worst metric is latency, errors or a quality (what a caller sees, not its own CPU).
        func seenByCallers(_ service: String) -> Bool {
            guard let metric = evidence.best[service]?.metric else { return false }
            let kind = evidence.kind(of: metric)
            return kind == .quality || kind == .other
        }
        for (index, leaf) in candidates.enumerated()
        where leaf.yieldedTo == nil && leaf.deviation > 3 && callees[leaf.service] == nil
            && leaf.metric == evidence.best[leaf.service]?.metric
            && seenByCallers(leaf.service)
        {
            let called = (calls.callers[leaf.service] ?? []).flatMap { callees[$0] ?? [] }
            let siblings = Set(called).subtracting([leaf.service])
            let moved = { (service: String) in evidence.fault[service] ?? 0 }
            let mirrored = siblings.filter { sibling in
                callees[sibling] != nil && seenByCallers(sibling)
                    && moved(sibling) >= self.configuration.symptomRatio * leaf.deviation
                    && !Self.reachable(from: sibling, callees).contains(leaf.service)
            }
            if let sibling = mirrored.max(by: { (moved($0), $1) < (moved($1), $0) }) {
                candidates[index].score *= self.configuration.symptomPenalty
                candidates[index].yieldedTo = sibling
                candidates[index].yieldedAsView = true
            }
        }
    }

    /// A silent callee is a suspect for a symptom that no callee with data explains (slowed calls are the
    /// witnesses' story): it ranks just below its caller.
    func suspectingSilentCallees(
        _ candidates: inout [Candidate],
        _ evidence: Evidence,
        _ calls: Calls,
        silent: Set<String>,
        witnesses: Set<String>
    ) {
        guard !silent.isEmpty else { return }
        var position: [String: Int] = [:]
        for (index, candidate) in candidates.enumerated() { position[candidate.service] = index }
        for candidate in candidates
        where candidate.yieldedTo == nil && candidate.deviation > Self.affected
            && !witnesses.contains(candidate.service)
        {
            guard let metric = candidate.metric?.split(separator: ".").last.map(String.init),
                evidence.kind(of: metric) != .resource
            else { continue }
            for callee in calls.callees[candidate.service] ?? [] where silent.contains(callee) {
                guard let index = position[callee] else { continue }
                let score = candidate.score * Self.silentShare
                if score > candidates[index].score {
                    candidates[index].score = score
                    candidates[index].silentCalleeOf = candidate.service
                }
            }
        }
    }

    /// The callee a service yielded to ranks just above it (along chains too). One that stopped takes the whole
    /// symptom it explains: its absence is the symptom's story.
    func liftingCauses(_ candidates: inout [Candidate], stopped: [String: Double]) {
        var index: [String: Int] = [:]
        for (position, candidate) in candidates.enumerated() { index[candidate.service] = position }
        for candidate in candidates {
            guard let callee = candidate.yieldedTo, stopped[callee] != nil, let position = index[callee] else {
                continue
            }
            candidates[position].score = max(
                candidates[position].score,
                candidate.score / self.configuration.symptomPenalty
            )
        }
        for _ in 0..<3 {
            for candidate in candidates {
                guard let callee = candidate.yieldedTo, let position = index[callee] else { continue }
                candidates[position].score = max(candidates[position].score, candidate.score * 1.01)
            }
        }
    }

    /// Services reachable from `start` along calls, `start` excluded.
    static func reachable(from start: String, _ callees: [String: [String]]) -> [String] {
        var seen: Set<String> = [start]
        var queue = callees[start] ?? []
        var result: [String] = []
        while let next = queue.popLast() {
            guard seen.insert(next).inserted else { continue }
            result.append(next)
            queue += callees[next] ?? []
        }
        return result.sorted()
    }

    /// A client-side latency that rose this far (in spreads) witnesses a slow callee. Client latencies are
    /// percentiles of a few calls a minute and swing widely, so a delay moves them only a few of their spreads;
    /// a witness lifts its suspect only as far as it slowed, so a faint one leads only when nothing moved more.
    static let clearOutbound = 2.0

    /// How much of a symptomatic caller's score a silent callee takes: it ranks just below the caller.
    static let silentShare = 0.9
}
