// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

private func at(_ seconds: Int64) -> Timestamp { Timestamp(nanoseconds: (1_700_000_000 + seconds) * 1_000_000_000) }

private func anomaly(_ service: String, _ subject: String, _ seconds: Int64) -> Anomaly {
    Anomaly(
        kind: .metricDeviation,
        service: service,
        subject: subject,
        time: at(seconds),
        score: 0.9,
        evidence: Evidence(observed: 2, expected: 1, lower: 0.5, upper: 1.5, summary: "\(subject) was 2")
    )
}

@Suite struct IncidentMetricEvidenceTests {
    /// catalogue alerted first and front-end, which calls it, followed: by symptoms catalogue is the root cause.
    private func incident(deployOf deployed: String? = nil) -> Incident {
        var correlator = IncidentCorrelator()
        correlator.addCall(caller: "front-end", callee: "catalogue")
        correlator.addCall(caller: "catalogue", callee: "catalogue-db")
        if let deployed { correlator.add(ChangeEvent(service: deployed, kind: .deploy, version: "v2", time: at(90))) }
        correlator.add(anomaly("catalogue", "lat_90", 100))
        correlator.add(anomaly("catalogue", "lat_99", 101))
        correlator.add(anomaly("front-end", "lat_90", 170))
        return correlator.incidents()[0]
    }

    private let calls = [(caller: "front-end", callee: "catalogue"), (caller: "catalogue", callee: "catalogue-db")]

    /// What the stored series say: front-end's CPU moved most (its hog slowed its calls), catalogue less and as a
    /// likely symptom of its database, which moved a little; a bystander did not move at all.
    private func ranking() -> RootCauseRanker.Result {
        RootCauseRanker.Result(
            onset: 1_700_000_100,
            onsetBasis: .rowBeforeAlert,
            candidates: [
                .init(
                    service: "front-end",
                    score: 40,
                    metric: "cpu",
                    deviation: 40,
                    firstDeviation: 1_700_000_100,
                    yieldedTo: nil
                ),
                .init(
                    service: "catalogue",
                    score: 6,
                    metric: "lat_90",
                    deviation: 12,
                    firstDeviation: 1_700_000_100,
                    yieldedTo: "catalogue-db"
                ),
                .init(
                    service: "catalogue-db",
                    score: 2,
                    metric: "mem",
                    deviation: 2,
                    firstDeviation: nil,
                    yieldedTo: nil
                ),
                .init(service: "mailer", score: 0, metric: nil, deviation: 0, firstDeviation: nil, yieldedTo: nil),
            ]
        )
    }

    @Test func theSeriesOutrankTheOrderOfAlerts() {
        let incident = self.incident()
        #expect(incident.rootCauses.first?.service == "catalogue")
        let ranked = incident.withMetricEvidence(self.ranking(), calls: self.calls)
        #expect(ranked.rootCauses.map(\.service) == ["front-end", "catalogue"])
        #expect(
            ranked.rootCauses[0].reasons.contains("its cpu moved 40.0 robust spreads from its level before the onset")
        )
        #expect(ranked.rootCauses[1].reasons.contains { $0.contains("catalogue-db, which it calls") })
        #expect(abs(ranked.rootCauses.reduce(0) { $0 + $1.confidence } - 1) < 1e-9)
        #expect(ranked.recommendation?.action == "Scale front-end up or out, or find what is eating its CPU")
        #expect(ranked.recommendation?.reason.contains("its cpu moved 40 spreads") == true)
        // The chain starts at the new root: nothing affected calls front-end.
        #expect(incident.impactChain == ["catalogue", "front-end"])
        #expect(ranked.impactChain == ["front-end"])
        // Everything else is the incident as it was.
        #expect(ranked.members == incident.members && ranked.id == incident.id && ranked.timeline == incident.timeline)
    }

    /// A leaf that yielded as a view of a sibling is named as that sibling seen from its callers' side, not as a
    /// symptom of a callee.
    @Test func aViewOfASiblingIsNamedAsSuch() {
        var ranking = self.ranking()
        ranking.candidates[1].yieldedTo = "search"
        ranking.candidates[1].yieldedAsView = true
        let ranked = self.incident().withMetricEvidence(ranking, calls: self.calls)
        let reasons = ranked.rootCauses.first { $0.service == "catalogue" }?.reasons ?? []
        #expect(reasons.contains { $0.contains("likely search seen from its callers' side") }, "\(reasons)")
        #expect(!reasons.contains { $0.contains("which it calls") }, "\(reasons)")
    }

    /// A service no symptom named joins the candidates only when its own series clearly moved.
    @Test func aQuietServiceJoinsOnlyWhenItsSeriesMoved() {
        var ranking = self.ranking()
        ranking.candidates[2].deviation = 8
        ranking.candidates[2].score = 8
        let ranked = self.incident().withMetricEvidence(ranking, calls: self.calls)
        #expect(ranked.rootCauses.map(\.service) == ["front-end", "catalogue", "catalogue-db"])
    }

    /// A service whose series stopped as the incident began is named with the time of its last value, and the
    /// first action is to check that it runs.
    @Test func aServiceThatStoppedReportingIsNamedAndChecked() {
        var ranking = self.ranking()
        ranking.candidates[2].stoppedAfter = 1_700_000_040
        ranking.candidates[2].score = 90
        let ranked = self.incident().withMetricEvidence(ranking, calls: self.calls)
        #expect(ranked.rootCauses.first?.service == "catalogue-db")
        #expect(
            ranked.rootCauses.first?.reasons.contains(
                "it stopped reporting as the incident began (its last value at 2023-11-14T22:14:00Z): "
                    + "crashed, killed, evicted or cut off"
            ) == true,
            "\(ranked.rootCauses.first?.reasons ?? [])"
        )
        #expect(ranked.recommendation?.action.hasPrefix("Check whether catalogue-db is still running") == true)
    }

    /// A root cause deeper than any symptom (the database under catalogue) traces the impact chain again from
    /// itself, up through the affected callers to the users.
    @Test func theImpactChainStartsAtTheNewRootCause() {
        var ranking = self.ranking()
        ranking.candidates[2].deviation = 90
        ranking.candidates[2].score = 90
        let ranked = self.incident().withMetricEvidence(ranking, calls: self.calls)
        #expect(ranked.rootCauses.first?.service == "catalogue-db")
        #expect(ranked.impactChain == ["catalogue-db", "catalogue", "front-end"])
        #expect(ranked.narrative.contains("impact chain catalogue-db → catalogue → front-end"), "\(ranked.narrative)")
    }

    /// A move that counts less than the service's own says so, and gives the move as measured.
    @Test func aDiscountedMoveSaysWhatItCountedFor() {
        var ranking = self.ranking()
        ranking.candidates[0].metric = "NodeNetworkReceiveBytes"
        ranking.candidates[0].discount = .cluster(services: 4)
        ranking.candidates[0].weight = 0.075
        let ranked = self.incident().withMetricEvidence(ranking, calls: self.calls)
        #expect(
            ranked.rootCauses[0].reasons.contains(
                "its NodeNetworkReceiveBytes moved 533 robust spreads from its level before the onset "
                    + "(counted at 0.08: the same host metric moved on 4 services at once)"
            ),
            "\(ranked.rootCauses[0].reasons)"
        )
        #expect(ranked.recommendation?.action.hasPrefix("Find what moved NodeNetworkReceiveBytes") == true)
    }

    /// A deploy of the service that alerted first keeps it first, whatever the series say.
    @Test func aTriggeringChangeStaysFirst() {
        let incident = self.incident(deployOf: "catalogue")
        #expect(incident.trigger?.service == "catalogue")
        #expect(incident.withMetricEvidence(self.ranking(), calls: self.calls).rootCauses.first?.service == "catalogue")
    }

    /// Series sampled at their own times land on one grid whose step is their median gap.
    @Test func seriesAreAlignedOnTheirMedianStep() {
        let data = IncidentData(
            aligning: [
                .init(service: "a", metric: "cpu", points: (0..<10).map { (at(Int64($0) * 15), Double($0)) }),
                .init(service: "b", metric: "mem", points: [(at(31), 7), (at(62), 8), (at(140), 9)]),
            ],
            services: ["a", "b", "c"],
            calls: [("a", "b")]
        )
        #expect(data.times.count == 10)
        #expect(data.times[1] - data.times[0] == 15)
        #expect(data.columns[0].values.compactMap { $0 } == (0..<10).map(Double.init))
        #expect(data.columns[1].values == [nil, nil, 7, nil, 8, nil, nil, nil, nil, 9])
        #expect(data.services == ["a", "b", "c"])
        let capped = IncidentData(
            aligning: [.init(service: "a", metric: "cpu", points: (0..<10).map { (at(Int64($0) * 15), Double($0)) })],
            maximumRows: 4
        )
        #expect(capped.columns[0].values == [6, 7, 8, 9])
        #expect(IncidentData(aligning: []).times.isEmpty)
    }
}
