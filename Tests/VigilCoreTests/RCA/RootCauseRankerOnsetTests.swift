// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

extension RootCauseRankerTests {
    /// An alert four minutes late: the clear change in the five minutes before it is the onset, so the fault's
    /// first rows do not join the reference (where they would make the culprit look as if it always swung).
    @Test func aLateAlertStillFindsTheOnset() {
        let data = IncidentData(
            times: Self.times,
            columns: [
                .init(service: "carts", metric: "cpu", values: Self.series(20, 90)),
                .init(service: "orders", metric: "lat_90", values: Self.series(100, 300, noise: 20)),
                .init(service: "mail", metric: "lat_90", values: Self.series(50, 50, noise: 5)),
            ],
            calls: [("orders", "carts")]
        )
        let late = RootCauseRanker().rank(data, alertTime: Self.times[84])
        #expect(late.onset == Self.times[80])
        #expect(late.onsetBasis == .changeBeforeAlert)
        #expect(late.candidates.map(\.service) == ["carts", "orders", "mail"])
        #expect(late.candidates[0].score > 50)
        // On time, the row before the alert stays the onset; with nothing changing in the lead-up, the incident
        // may have begun anywhere in it, so its five rows are judged rather than taken as normal.
        let onTime = RootCauseRanker().rank(data, alertTime: Self.times[80])
        #expect(onTime.onset == Self.times[79] && onTime.onsetBasis == .rowBeforeAlert)
        let quiet = RootCauseRanker().rank(data, alertTime: Self.times[110])
        #expect(quiet.onset == Self.times[105] && quiet.onsetBasis == .leadBeforeAlert)
    }

    /// A fault of three rows, over when an alert comes four minutes later, changes no level for the search to
    /// find: the lead's rows are judged rather than taken as normal, so the fault ranks first and not the noise.
    @Test func aShortFaultOverBeforeALateAlertIsJudged() {
        var carts = Self.series(20, 20)
        for row in 100..<103 { carts[row] = 90 }
        let data = IncidentData(
            times: Self.times,
            columns: [
                .init(service: "carts", metric: "cpu", values: carts),
                .init(service: "mail", metric: "lat_90", values: Self.series(50, 50, noise: 5)),
            ]
        )
        let late = RootCauseRanker().rank(data, alertTime: Self.times[104])
        #expect(late.onset == Self.times[99])
        #expect(late.candidates.map(\.service) == ["carts", "mail"])
        #expect(late.candidates[0].score > 50)
        // A reference of a few rows says nothing: at most half the rows before the alert are given up.
        #expect(RootCauseRanker().rank(data, alertTime: Self.times[6]).onset == Self.times[2])
    }

    /// A burst of four rows that came back casts no vote; four metrics stepping two spreads later do, but move
    /// nothing clearly. The onset goes back to the burst, where it began, and names the quiet change it left.
    @Test func anOnsetFromWhichNothingMovedGivesWayToTheLatestThatDid() {
        var carts = Self.series(20, 20, noise: 2)
        for row in 70..<74 { carts[row] = 90 }
        var columns: [IncidentData.Column] = [.init(service: "carts", metric: "cpu", values: carts)]
        for service in ["mail", "search", "site", "users"] {
            columns.append(.init(service: service, metric: "lat_90", values: Self.series(50, 53, from: 95, noise: 2)))
        }
        let data = IncidentData(times: Self.times, columns: columns)
        let blind = RootCauseRanker().rank(data)
        #expect(blind.onset == Self.times[70])
        #expect(blind.quietOnset.map { abs($0 - Self.times[95]) <= 60 } == true)
        #expect(blind.onsetBasis == .changeInData)
        #expect(blind.candidates.first?.service == "carts")
        #expect(RootCauseRanker.explain(blind, of: data).rootCause == "carts")
        // The same for an alert long after the burst: nothing moved in its lead, so the burst explains it.
        let late = RootCauseRanker().rank(data, alertTime: Self.times[100])
        #expect(late.onset == Self.times[70] && late.onsetBasis == .leadBeforeAlert)
        #expect(late.quietOnset == Self.times[95])
        #expect(late.candidates.first?.service == "carts")
        // Something that moves from the first onset keeps it.
        let onTime = RootCauseRanker().rank(data, alertTime: Self.times[71])
        #expect(onTime.quietOnset == nil && onTime.candidates.first?.service == "carts")
    }

    /// The search back from a quiet onset ranks a few rows one by one, then strides: a case of 1,200 one-second
    /// rows is not ranked 600 times, and it still finds the latest row that shows a move.
    @Test func theSearchBackFromAQuietOnsetIsBounded() {
        func ranking(moving: Bool) -> [RootCauseRanker.Candidate] {
            [
                .init(
                    service: "carts",
                    score: moving ? 9 : 1,
                    metric: "cpu",
                    deviation: moving ? 9 : 1,
                    firstDeviation: nil,
                    yieldedTo: nil
                )
            ]
        }
        for latest in [597, 350, 300] {
            var probes = 0
            let found = RootCauseRanker.latestRow(from: 600, to: 300) { row in
                probes += 1
                return ranking(moving: row <= latest)
            }
            #expect(found?.row == latest)
            #expect(probes <= 20, "\(probes) rankings for a move at row \(latest)")
        }
        var probes = 0
        #expect(
            RootCauseRanker.latestRow(from: 600, to: 300) { _ in
                probes += 1
                return ranking(moving: false)
            } == nil
        )
        #expect(probes <= 2 * RootCauseRanker.quietProbes)
    }

    /// Blind, the onset is where several metrics change together, not where the biggest total change is: ten
    /// services each drift to a new level at their own row (a daily swing), then a fault moves db's CPU, latency
    /// and errors at once, eight rows before the end.
    @Test func theOnsetIsWhereManyMetricsChangeTogether() {
        var columns: [IncidentData.Column] = (0..<10).map { index in
            .init(service: "web-\(index)", metric: "cpu", values: Self.series(10, 30, from: 30 + 5 * index))
        }
        for metric in ["cpu", "latency_p90", "errors"] {
            columns.append(.init(service: "db", metric: metric, values: Self.series(10, 40, from: 112)))
        }
        let result = RootCauseRanker().rank(IncidentData(times: Self.times, columns: columns))
        #expect(result.onsetDetected)
        #expect(result.onset == Self.times[112])
        #expect(result.candidates.first?.service == "db")
    }

    /// A move on the window's last two rows is where something may begin, not a level seen to hold: four services
    /// jumping there do not outvote the three metrics of db that changed at row 90; from three rows on they do.
    @Test func aChangeOnTheLastTwoRowsDoesNotOutvoteOneThatHeld() {
        func onset(lateFrom late: Int) -> Double {
            var columns: [IncidentData.Column] = ["cpu", "latency_p90", "errors"].map {
                .init(service: "db", metric: $0, values: Self.series(10, 40, from: 90))
            }
            columns += (0..<4).map {
                .init(service: "web-\($0)", metric: "cpu", values: Self.series(10, 40, from: late))
            }
            return RootCauseRanker().rank(IncidentData(times: Self.times, columns: columns)).onset
        }
        #expect(onset(lateFrom: 118) == Self.times[90])
        #expect(onset(lateFrom: 117) == Self.times[117])
    }

    /// An earlier incident that moved most services at once for a third of the reference is no reference for
    /// normal: its rows are left out, so the culprit's CPU, which that incident had raised too, still counts
    /// against its normal level, above a bystander's small rise.
    @Test func anEarlierIncidentMovingMostServicesIsLeftOutOfTheReference() {
        var columns: [IncidentData.Column] = (0..<8).map { index in
            let values = Self.series(10, 10).enumerated().map { row, value in (10..<35).contains(row) ? 60 : value }
            return .init(service: "web-\(index)", metric: "cpu", values: values)
        }
        columns[3].values = columns[3].values.enumerated().map { row, value in row >= 80 ? 40 : value }
        columns.append(.init(service: "mail", metric: "cpu", values: Self.series(10, 14)))
        columns.append(.init(service: "auth", metric: "cpu", values: Self.series(10, 10)))
        let data = IncidentData(times: Self.times, columns: columns)
        let unsettled = RootCauseRanker().unsettledRows(
            data.columns,
            families: data.columns.map(RootCauseRanker.family),
            before: 79
        )
        #expect(unsettled.indices.filter { unsettled[$0] } == Array(10..<35))
        #expect(RootCauseRanker().rank(data, alertTime: Self.times[80]).candidates.first?.service == "web-3")
    }

    /// A found onset names the other rows where several metrics changed together, apart from it and each other, with
    /// whom each points at; a lone change is not one, and a given alert time names none.
    @Test func otherChangesInTheWindowAreNamed() {
        var columns: [IncidentData.Column] = ["cpu", "latency_p90", "errors"].map {
            .init(service: "db", metric: $0, values: Self.series(10, 40, from: 90))
        }
        columns += ["cpu", "memory"].map { .init(service: "cache", metric: $0, values: Self.series(10, 40, from: 40)) }
        columns.append(.init(service: "mail", metric: "cpu", values: Self.series(10, 40, from: 60)))
        let result = RootCauseRanker().rank(IncidentData(times: Self.times, columns: columns))
        #expect(result.onset == Self.times[90])
        #expect(result.otherChanges.map(\.time) == [Self.times[40]])
        #expect(result.otherChanges.map(\.metrics) == [2])
        // Whom it points at, as its time given as the alert time would say: cache, which changed there.
        let alertThere = RootCauseRanker().rank(
            IncidentData(times: Self.times, columns: columns),
            alertTime: Self.times[40]
        )
        #expect(alertThere.candidates.first?.service == "cache")
        #expect(result.otherChanges.first?.rootCause == "cache")
        #expect(result.otherChanges.first?.confidence == alertThere.candidates.first?.confidence)
        let given = RootCauseRanker().rank(IncidentData(times: Self.times, columns: columns), alertTime: Self.times[90])
        #expect(given.otherChanges.isEmpty)
    }

    /// A found onset is a guess among the window's changes. Where it names no candidate that stands out (db and
    /// web moved alike at row 90) and another change names one that does (cache, alone at row 40), that root
    /// cause takes third place, saying which change it stands for; where the onset names a clear culprit, or
    /// an alert time is given, nothing moves.
    @Test func aClearRootCauseOfAnotherChangeRanksThirdWhenTheOnsetNamesNone() {
        func ranking(webMoves: Bool, alertTime: Double? = nil) -> RootCauseRanker.Result {
            var columns: [IncidentData.Column] = ["cpu", "latency_p90", "errors"].flatMap { metric in
                [
                    IncidentData.Column(service: "db", metric: metric, values: Self.series(10, 40, from: 90)),
                    IncidentData.Column(
                        service: "web",
                        metric: metric,
                        values: Self.series(10, webMoves ? 40 : 10, from: 90)
                    ),
                ]
            }
            columns += ["cpu", "memory"].map {
                .init(service: "cache", metric: $0, values: Self.series(10, 40, from: 40))
            }
            columns.append(.init(service: "queue", metric: "cpu", values: Self.series(10, 14, from: 90)))
            columns.append(.init(service: "auth", metric: "cpu", values: Self.series(10, 13, from: 90)))
            return RootCauseRanker().rank(IncidentData(times: Self.times, columns: columns), alertTime: alertTime)
        }
        let split = ranking(webMoves: true)
        #expect(split.onset == Self.times[90])
        #expect(split.otherChanges.first?.rootCause == "cache")
        #expect((split.otherChanges.first?.confidence ?? 0) >= RootCauseRanker.standsOut)
        #expect(split.candidates[0].confidence < RootCauseRanker.standsOut)
        #expect(Set(split.candidates.prefix(2).map(\.service)) == ["db", "web"])
        #expect(split.candidates[2].service == "cache")
        #expect(split.candidates[2].otherChange?.time == Self.times[40])
        #expect(split.candidates.filter { $0.otherChange != nil }.count == 1)
        // Without the hedge cache would rank last: it did not move at row 90.
        #expect(split.candidates[3...].map(\.service) == ["queue", "auth"])

        let clear = ranking(webMoves: false)
        #expect(clear.candidates[0].service == "db")
        #expect(clear.candidates[0].confidence >= RootCauseRanker.standsOut)
        #expect(!clear.candidates.prefix(3).contains { $0.service == "cache" })
        #expect(clear.candidates.allSatisfy { $0.otherChange == nil })

        let given = ranking(webMoves: true, alertTime: Self.times[90])
        #expect(given.candidates.last?.service == "cache")
        #expect(given.candidates.allSatisfy { $0.otherChange == nil })
    }

    /// Percentiles of one measurement move together and are one witness: three latency percentiles of search
    /// changing at row 40 outvote neither the CPU and the errors of checkout changing at row 90.
    @Test func percentilesOfOneMetricVoteOnce() {
        var columns: [IncidentData.Column] = ["latency_p50", "latency_p90", "latency_p99"].map { metric in
            .init(service: "search", metric: metric, values: Self.series(10, 30, from: 40))
        }
        columns.append(.init(service: "checkout", metric: "cpu", values: Self.series(10, 40, from: 90)))
        columns.append(.init(service: "checkout", metric: "errors", values: Self.series(1, 20, from: 90)))
        let result = RootCauseRanker().rank(IncidentData(times: Self.times, columns: columns))
        #expect(result.onset == Self.times[90])
        #expect(result.candidates.first?.service == "checkout")
    }

    /// A slow drift of a spread in many metrics is significant, but it is not an incident: only large changes
    /// vote, and three metrics of db jumping near the end outvote twelve drifting ones.
    @Test func aSmallDriftDoesNotVoteForTheOnset() {
        let times = (0..<400).map { 1_700_000_000 + Double($0) * 300 }
        func series(_ normal: Double, _ faulty: Double, from onset: Int) -> [Double?] {
            (0..<400).map { row in (row < onset ? normal : faulty) + Double((row * 7) % 5 - 2) / 2 }
        }
        var columns: [IncidentData.Column] = (0..<12).map { index in
            .init(service: "web-\(index)", metric: "latency_p50", values: series(10, 11.2, from: 200 + index % 3))
        }
        for metric in ["cpu", "latency_p90", "errors"] {
            columns.append(.init(service: "db", metric: metric, values: series(10, 40, from: 390)))
        }
        let result = RootCauseRanker().rank(IncidentData(times: times, columns: columns))
        #expect(result.onset == times[390])
        #expect(result.candidates.first?.service == "db")
    }
}
