// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

extension Incident {
    /// How much the metric evidence weighs against the order in which symptoms fired.
    static let metricEvidenceWeight = 0.7

    /// The incident with its root-cause candidates re-ranked by the metrics themselves: `ranking` is
    /// ``RootCauseRanker``'s verdict over the stored series of the incident's services and their neighbours,
    /// with the incident's opening as the alert time.
    ///
    /// Symptoms say who alerted first; the series say who moved most against their own past, which also covers a
    /// culprit whose detector never fired. A candidate's score blends both (the metric evidence weighs 0.7), a
    /// service whose own change event triggered the incident stays first (change events are first-class), and
    /// every candidate gains the metric reason behind its place. When the root cause changes, the impact chain is
    /// traced again from it along `calls`.
    public func withMetricEvidence(
        _ ranking: RootCauseRanker.Result,
        calls: [(caller: String, callee: String)]
    ) -> Incident {
        let metricTop = ranking.candidates.map(\.score).max() ?? 0
        guard metricTop > 0 else { return self }
        let symptomTop = self.rootCauses.map(\.score).max() ?? 0
        var byService: [String: Candidate] = [:]
        for candidate in self.rootCauses {
            var blended = candidate
            blended.score = (1 - Self.metricEvidenceWeight) * (symptomTop > 0 ? candidate.score / symptomTop : 0)
            byService[candidate.service] = blended
        }
        for metric in ranking.candidates where metric.score > 0 {
            let share = metric.score / metricTop
            // A service no symptom named joins only when its own series clearly moved.
            guard
                byService[metric.service] != nil || metric.deviation > 3 || metric.silentCalleeOf != nil
                    || metric.stoppedAfter != nil || !metric.slowedCallers.isEmpty
            else {
                continue
            }
            var candidate =
                byService[metric.service] ?? Candidate(service: metric.service, score: 0, confidence: 0, reasons: [])
            candidate.score += Self.metricEvidenceWeight * share
            if let name = metric.metric {
                let note = metric.discountNote.map { " (\($0))" } ?? ""
                candidate.reasons.append(
                    "its \(name) moved \(Self.rounded(metric.spreads)) robust spreads from its level before the onset"
                        + note
                )
            }
            if !metric.slowedCallers.isEmpty {
                let callers = metric.slowedCallers.joined(separator: ", ")
                candidate.reasons.append("calls to it from \(callers) slowed, and no callee's own metrics explain it")
            }
            if let caller = metric.silentCalleeOf {
                candidate.reasons.append(
                    "its metrics hold no value, and \(caller), which calls it, has a symptom no callee with data explains"
                )
            }
            if let last = metric.stoppedAfter {
                candidate.reasons.append(
                    "it stopped reporting as the incident began (its last value at \(Timestamp(seconds: last).iso8601)): "
                        + "crashed, killed, evicted or cut off"
                )
            }
            if let sibling = metric.yieldedTo, metric.yieldedAsView {
                candidate.reasons.append(
                    "\(sibling), called beside it by the same service, moved the same way: likely \(sibling) seen from "
                        + "its callers' side (a load balancer or URL in front of it)"
                )
            } else if let callee = metric.yieldedTo {
                candidate.reasons.append("\(callee), which it calls, moved about as much: likely a symptom of it")
            }
            byService[metric.service] = candidate
        }
        var candidates = Array(byService.values)
        let triggered = self.trigger.map(\.service)
        candidates.sort {
            let first = ($0.service == triggered ? 1 : 0, $0.score)
            let second = ($1.service == triggered ? 1 : 0, $1.score)
            return first != second ? first > second : $0.service < $1.service
        }
        let total = candidates.reduce(0) { $0 + max($1.score, 0.01) }
        for index in candidates.indices {
            candidates[index].score = max(candidates[index].score, 0.01)
            candidates[index].confidence = candidates[index].score / total
        }
        var incident = self
        incident.rootCauses = candidates
        if let root = candidates.first?.service {
            // A new root cause: the impact chain starts there.
            if root != self.rootCauses.first?.service {
                var callees: [String: Set<String>] = [:]
                for call in calls where call.caller != call.callee {
                    callees[call.caller, default: []].insert(call.callee)
                }
                incident.impactChain = IncidentCorrelator.impactChain(
                    from: root,
                    affected: Set(self.services),
                    calls: callees
                )
            }
            // The first action: a change event of the root cause decides it; else what its series did, as
            // `vigil rca` would say; else what its symptoms were.
            let moved = ranking.candidates.first { $0.service == root }
            if self.trigger?.service != root, moved?.stoppedAfter != nil {
                let (action, reason) = RootCauseRanker.stoppedAction(
                    for: root,
                    affected: self.services.filter { $0 != root }.count
                )
                incident.recommendation = Recommendation(action: action, reason: reason)
            } else if self.trigger?.service != root, let moved, let metric = moved.metric,
                moved.deviation > RootCauseRanker.affected
            {
                let (action, reason) = RootCauseRanker.action(
                    for: moved,
                    metric: metric,
                    affected: self.services.filter { $0 != root }.count
                )
                incident.recommendation = Recommendation(action: action, reason: reason)
            } else if root != self.rootCauses.first?.service {
                incident.recommendation = IncidentCorrelator.recommendation(
                    root: root,
                    trigger: self.trigger,
                    members: self.members,
                    impactChain: incident.impactChain
                )
            }
        }
        return incident
    }

    private static func rounded(_ value: Double) -> String {
        let tenths = (value * 10).rounded() / 10
        return tenths >= 100 ? String(Int(tenths)) : String(tenths)
    }
}
