// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Dispatch
import Testing

@testable import VigilCore

@Suite struct RootCauseRankerTests {
    static let times = (0..<120).map { 1_700_000_000 + Double($0) * 60 }

    static func series(_ normal: Double, _ faulty: Double, from onset: Int = 80, noise: Double = 0.5) -> [Double?] {
        (0..<120).map { row in (row < onset ? normal : faulty) + noise * Double((row * 7) % 5 - 2) / 2 }
    }

    /// Confidences are shares of the evidence: they add up to 1 and follow the scores. A fault far beyond
    /// everything else holds nearly all of it, and two services that moved alike split it.
    @Test func confidencesShareTheEvidence() {
        func ranked(secondFaulty: Double) -> [RootCauseRanker.Candidate] {
            let data = IncidentData(
                times: Self.times,
                columns: [
                    .init(service: "carts", metric: "cpu", values: Self.series(20, 60)),
                    .init(service: "orders", metric: "cpu", values: Self.series(20, secondFaulty)),
                    .init(service: "users", metric: "cpu", values: Self.series(20, 20)),
                ]
            )
            return RootCauseRanker().rank(data, alertTime: Self.times[80]).candidates
        }
        let clear = ranked(secondFaulty: 22)
        #expect(clear.map(\.service) == ["carts", "orders", "users"])
        #expect(abs(clear.reduce(0) { $0 + $1.confidence } - 1) < 1e-9)
        #expect(clear[0].confidence > 0.9)
        #expect(zip(clear, clear.dropFirst()).allSatisfy { $0.confidence >= $1.confidence })
        let split = ranked(secondFaulty: 60)
        #expect(abs(split[0].confidence - split[1].confidence) < 0.1)
        #expect(split[0].confidence < 0.6)
    }

    /// Where nothing moved, nothing points anywhere: every confidence is 0, not an even split.
    @Test func nothingMovedMeansNoConfidence() {
        let data = IncidentData(
            times: Self.times,
            columns: [
                .init(service: "carts", metric: "cpu", values: Array(repeating: 20, count: 120)),
                .init(service: "orders", metric: "cpu", values: Array(repeating: 30, count: 120)),
            ]
        )
        let result = RootCauseRanker().rank(data, alertTime: Self.times[80])
        #expect(result.candidates.count == 2)
        #expect(result.candidates.allSatisfy { $0.score == 0 && $0.confidence == 0 })
    }

    /// Metrics scored on several threads, in any order, rank exactly as one after another: each job only fills
    /// its own result, and the results are combined in the columns' order.
    @Test func workSpreadOverThreadsRanksTheSame() {
        let columns: [IncidentData.Column] = (0..<60).map { index in
            let service = "service\(index % 12)"
            let onset = 60 + (index * 7) % 30
            return .init(
                service: service,
                metric: ["cpu", "lat_90", "requests_Sum", "success_rate", "mem"][index % 5],
                values: Self.series(Double(10 + index), Double(10 + index * (index % 3)), from: onset, noise: 2)
            )
        }
        let data = IncidentData(
            times: Self.times,
            columns: columns,
            calls: (0..<11).map { ("service\($0)", "service\($0 + 1)") }
        )
        /// Runs the jobs backwards, on every core.
        let scattered: RootCauseRanker.ForEach = { count, body in
            DispatchQueue.concurrentPerform(iterations: count) { body(count - 1 - $0) }
        }
        for alert in [nil, Self.times[75]] {
            let serial = RootCauseRanker().rank(data, alertTime: alert)
            let spread = RootCauseRanker(forEach: scattered).rank(data, alertTime: alert)
            #expect(spread.onset == serial.onset)
            #expect(spread.candidates == serial.candidates)
            #expect(serial.candidates.contains { $0.score > 3 })
        }
    }

    /// Rows stand for intervals: the row before the alert time may already hold the fault, so it is not part of
    /// the reference.
    @Test func theRowBeforeTheAlertTimeBelongsToTheIncident() {
        let data = IncidentData(
            times: Self.times,
            columns: [
                .init(service: "search", metric: "latency_p99", values: Self.series(1, 9, from: 117, noise: 0.1)),
                .init(service: "pay", metric: "latency_p99", values: Self.series(1, 2, from: 118, noise: 0.1)),
            ]
        )
        let result = RootCauseRanker().rank(data, alertTime: Self.times[118])
        #expect(result.onset == Self.times[117])
        #expect(result.candidates.first?.service == "search")
    }

    @Test func splitsColumnNamesAtTheLastDot() {
        #expect(
            IncidentData.split(columnName: "servi-searc.us-west-2.elb.amazonaws.com_remote.latency_p90") == (
                "servi-searc.us-west-2.elb.amazonaws.com_remote", "latency_p90"
            )
        )
        #expect(
            IncidentData.split(columnName: "petInfo_AWS::DynamoDB::Table.requests_Sum").service
                == "petInfo_AWS::DynamoDB::Table"
        )
    }

    @Test func tooLittleDataStillRanksEveryService() {
        let data = IncidentData(
            times: [1, 2],
            columns: [.init(service: "a", metric: "cpu", values: [1, 2])],
            services: ["b"]
        )
        #expect(Set(RootCauseRanker().rank(data).candidates.map(\.service)) == ["a", "b"])
    }
}
