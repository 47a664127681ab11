// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

extension RootCauseRankerTests {
    /// In a CPU fault the culprit's CPU rises while its neighbours' falls further: the signed score ranks the
    /// rise first, where |z| would not tell them apart.
    @Test func aRiseOutranksALargerFall() {
        let data = IncidentData(
            times: Self.times,
            columns: [
                .init(service: "carts", metric: "cpu", values: Self.series(20, 60)),
                .init(service: "orders", metric: "cpu", values: Self.series(60, 10)),
            ]
        )
        let result = RootCauseRanker().rank(data, alertTime: Self.times[80])
        #expect(result.candidates.map(\.service) == ["carts", "orders"])
        #expect(result.candidates[1].score == 0)
    }

    /// Availability at a constant 100 % has no spread; the floor still lets its fall count, downwards.
    @Test func aConstantMetricStillCountsWhenItFalls() {
        let flat: [Double?] = (0..<120).map { $0 < 80 ? 100 : 92 }
        let data = IncidentData(
            times: Self.times,
            columns: [
                .init(service: "payments", metric: "availability_Average", values: flat),
                .init(service: "search", metric: "latency_p50", values: Self.series(100, 103, noise: 4)),
            ]
        )
        let result = RootCauseRanker().rank(data, alertTime: Self.times[80])
        #expect(result.candidates.first?.service == "payments")
        #expect(result.candidates.first?.metric == "availability_Average")
    }

    /// A one-row spike, however tall, counts only as far as the row after it confirms it; a fault that holds
    /// for two rows counts in full. A move in the last row counts when the alert came with it, as nothing can
    /// confirm it yet, but not when the incident has been quiet since the onset.
    @Test func aOneRowSpikeCountsLessThanAFaultThatHolds() {
        var spike = Self.series(10, 10)
        spike[90] = 200
        let data = IncidentData(
            times: Self.times,
            columns: [
                .init(service: "mail", metric: "lat_99", values: spike),
                .init(service: "carts", metric: "cpu", values: Self.series(10, 20, from: 100)),
            ]
        )
        let result = RootCauseRanker().rank(data, alertTime: Self.times[80])
        #expect(result.candidates.map(\.service) == ["carts", "mail"])
        #expect(result.candidates[1].score < 3)

        var last = Self.series(10, 10)
        last[119] = 200
        let atTheEnd = IncidentData(
            times: Self.times,
            columns: [.init(service: "mail", metric: "lat_99", values: last)]
        )
        #expect(RootCauseRanker().rank(atTheEnd, alertTime: Self.times[119]).candidates[0].score > 100)
        #expect(RootCauseRanker().rank(atTheEnd, alertTime: Self.times[80]).candidates[0].score < 3)
    }

    /// A move that holds is surer than a brief one: four rows 6 spreads up outrank two rows 8 spreads up, as the
    /// least of k values in a row counts √(k/2) times.
    @Test func aMoveThatHoldsOutranksABriefLargerOne() {
        func bump(_ size: Double, rows: Range<Int>) -> [Double?] {
            (0..<120).map { rows.contains($0) ? 10 + size : 10 }
        }
        let data = IncidentData(
            times: Self.times,
            columns: [
                .init(service: "held", metric: "cpu", values: bump(3, rows: 80..<84)),
                .init(service: "brief", metric: "cpu", values: bump(4, rows: 80..<82)),
            ]
        )
        let result = RootCauseRanker().rank(data, alertTime: Self.times[80])
        #expect(result.candidates.map(\.service) == ["held", "brief"])
        #expect(abs(result.candidates[0].score - 6 * 2.0.squareRoot()) < 1e-9)
        #expect(result.candidates[1].score == 8)
    }

    /// Each service's score when its CPU is the given series, alerted at row 80.
    static func cpuScores(_ cpu: [String: [Double?]]) -> [String: Double] {
        let data = IncidentData(
            times: Self.times,
            columns: cpu.keys.sorted().map { .init(service: $0, metric: "cpu", values: cpu[$0]!) }
        )
        return Dictionary(
            uniqueKeysWithValues: RootCauseRanker().rank(data, alertTime: Self.times[80]).candidates.map {
                ($0.service, $0.score)
            }
        )
    }

    /// The reference window may hold an earlier incident: the largest excursion that held several rows is
    /// forgiven, so the culprit scores as if its reference were clean, while a metric that spikes again and again
    /// must still go further to count.
    @Test func anEarlierIncidentInTheReferenceIsForgivenButRepeatedSpikesAreNot() {
        var earlier = Self.series(20, 60)
        for row in 30..<35 { earlier[row] = 60 }
        var spiky = Self.series(20, 60)
        for row in [10, 30, 50] { spiky[row] = 60 }
        let scores = Self.cpuScores(["clean": Self.series(20, 60), "earlier": earlier, "spiky": spiky])
        #expect(scores["earlier"]! > 0.9 * scores["clean"]!)
        #expect(scores["spiky"]! < 0.5 * scores["clean"]!)
    }

    /// A window cut while an earlier incident was still on shows its last two rows first: that excursion may have
    /// held long before the window began, so it is forgiven like one that held in the window. The same two rows
    /// in the middle of the reference are a spike.
    @Test func anExcursionOnTheWindowsFirstRowsMayHaveBegunBeforeIt() {
        var cut = Self.series(20, 60)
        cut[0] = 200
        cut[1] = 200
        var spiky = Self.series(20, 60)
        spiky[20] = 200
        spiky[21] = 200
        let scores = Self.cpuScores(["clean": Self.series(20, 60), "cut": cut, "spiky": spiky])
        #expect(scores["cut"]! > 0.9 * scores["clean"]!)
        #expect(scores["spiky"]! < 0.2 * scores["clean"]!)
    }
}
