// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

/// The explanation of a ranking: root cause, impact chain along calls, timeline, numbers and a first action.
@Suite struct RootCauseRankerExplanationTests {
    static let times = (0..<60).map { 1_700_000_000 + Double($0) * 60 }

    /// `normal` until `from`, then `faulty`, with a small wiggle.
    static func series(_ normal: Double, _ faulty: Double, from: Int) -> [Double?] {
        (0..<60).map { row in (row < from ? normal : faulty) + Double((row * 7) % 5) / 10 }
    }

    /// db's CPU saturates at row 40; api (which calls db) slows from row 41, front (which calls api) from row 42;
    /// batch, which nobody calls and which calls nobody, stays calm.
    static func chain() -> IncidentData {
        IncidentData(
            times: Self.times,
            columns: [
                .init(service: "db", metric: "cpu", values: Self.series(20, 95, from: 40)),
                .init(service: "api", metric: "lat_90", values: Self.series(30, 60, from: 41)),
                .init(service: "front", metric: "lat_90", values: Self.series(50, 90, from: 42)),
                .init(service: "batch", metric: "cpu", values: Self.series(10, 10, from: 40)),
            ],
            calls: [("front", "api"), ("api", "db"), ("batch", "db")]
        )
    }

    @Test func explainsAChain() throws {
        let data = Self.chain()
        let result = RootCauseRanker().rank(data, alertTime: Self.times[41])
        let explanation = RootCauseRanker.explain(result, of: data)
        #expect(explanation.rootCause == "db")
        #expect(explanation.impactChain == ["db", "api", "front"], "batch calls db but did not deviate")
        #expect(explanation.timeline.map(\.service) == ["db", "api", "front"])
        #expect(explanation.timeline.map(\.time) == [Self.times[40], Self.times[41], Self.times[42]])
        let first = try #require(explanation.timeline.first)
        #expect(first.metric == "cpu" && first.observed >= 95 && first.expected >= 20 && first.expected < 21)
        #expect(explanation.action.contains("Scale db"))
        #expect(explanation.reason.contains("its cpu went from 20"))
        #expect(explanation.reason.contains("2 other services followed"))
    }

    @Test func actionsFollowWhatMoved() {
        func action(_ metric: String, _ normal: Double, _ faulty: Double) -> String {
            let data = IncidentData(
                times: Self.times,
                columns: [.init(service: "svc", metric: metric, values: Self.series(normal, faulty, from: 40))]
            )
            return RootCauseRanker.explain(RootCauseRanker().rank(data, alertTime: Self.times[41]), of: data).action
        }
        #expect(action("mem", 100, 900).contains("memory limit"))
        #expect(action("availability_Average", 100, 60).contains("Roll back"))
        #expect(action(IncidentData.LogMetric.errorLines, 0, 40).contains("error logs"))
        #expect(action(IncidentData.SpanMetric.network, 1, 200).contains("network of svc"))
        #expect(action("lat_90", 30, 300).contains("Scale svc out"))
        #expect(action("container_fs_writes_bytes_total", 1e5, 9e7).contains("disk of svc"))
        #expect(action("container_sockets", 40, 4000).contains("leaked connections"))
        #expect(action(SpanMetrics.callErrorRatio, 0, 40).contains("Check whether svc is up and reachable"))
    }

    /// A delay on db's network: its own latency stays calm, the client latency of api and of front (both call
    /// it) rises. db is named by its slowed callers, and the first thing to check is its network.
    @Test func aSuspectOfSlowedCallsIsExplainedByItsCallers() {
        let data = IncidentData(
            times: Self.times,
            columns: [
                .init(service: "db", metric: "server_latency_p90", values: Self.series(5, 5, from: 40)),
                .init(service: "api", metric: "client_latency_p90", values: Self.series(10, 60, from: 40)),
                .init(service: "front", metric: "client_latency_p90", values: Self.series(10, 60, from: 40)),
            ],
            calls: [("front", "api"), ("api", "db"), ("front", "db")]
        )
        let explanation = RootCauseRanker.explain(RootCauseRanker().rank(data, alertTime: Self.times[41]), of: data)
        #expect(explanation.rootCause == "db")
        #expect(explanation.action.contains("network of db"))
        #expect(explanation.reason.contains("calls to it from api, front slowed"))
    }

    @Test func nothingMovedNothingToDo() {
        let data = IncidentData(
            times: Self.times,
            columns: [.init(service: "svc", metric: "cpu", values: Self.series(10, 10, from: 40))]
        )
        let explanation = RootCauseRanker.explain(RootCauseRanker().rank(data, alertTime: Self.times[41]), of: data)
        #expect(explanation.rootCause == nil)
        #expect(explanation.impactChain.isEmpty && explanation.timeline.isEmpty)
        #expect(explanation.action == "Nothing to act on")
    }
}
