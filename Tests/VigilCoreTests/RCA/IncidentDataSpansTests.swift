// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

/// Span evidence: faults that metrics do not show (a failing code path, a slow network into one service) show in
/// the traces, and the ranker finds them there.
@Suite struct IncidentDataSpansTests {
    static let rows = 60
    static let onset = 40
    static let times = (0..<rows).map { 1_700_000_000 + Double($0) * 10 }

    /// CPU of three services that never moves: metrics alone cannot tell the culprit.
    static func flatMetrics() -> IncidentData {
        let columns = ["gateway", "order", "payment"].map { service in
            IncidentData.Column(
                service: service,
                metric: "cpu",
                values: (0..<rows).map { 30 + Double(($0 * 7) % 5) / 10 }
            )
        }
        return IncidentData(times: Self.times, columns: columns)
    }

    /// Twenty traces a row, gateway → order → payment, from `rows`. After the onset payment fails eight requests
    /// in twenty (and the failure travels up) when `failing`, and everything `delayed` sends takes 200 ms longer
    /// (a delay on its network: its requests to callees and its responses to callers).
    static func traces(
        failing: Bool = false,
        delayed: String? = nil,
        rows: [Int] = Array(0..<rows)
    ) -> [IncidentData.CaseSpan] {
        var spans: [IncidentData.CaseSpan] = []
        for row in rows {
            let broken = row >= Self.onset
            func delay(_ service: String) -> Double { broken && delayed == service ? 0.2 : 0 }
            for request in 0..<20 {
                let jitter = Double((row * 5 + request * 3) % 7) / 1000
                let fails = failing && broken && request < 8
                let gatewayStart = Self.times[row] + Double(request) / 4
                let orderStart = gatewayStart + 0.001 + delay("gateway")
                let paymentStart = orderStart + 0.003 + delay("order")
                let paymentEnd = paymentStart + 0.020 + jitter
                let orderEnd = paymentEnd + 0.001 + delay("payment") + 0.007
                let gatewayEnd = orderEnd + 0.001 + delay("order") + 0.002
                let trace = "t\(row)-\(request)"
                for (id, parent, service, start, end) in [
                    ("g", nil, "gateway", gatewayStart, gatewayEnd), ("o", "g", "order", orderStart, orderEnd),
                    ("p", "o", "payment", paymentStart, paymentEnd),
                ] {
                    spans.append(
                        .init(
                            traceID: trace,
                            spanID: id,
                            parentID: parent,
                            service: service,
                            start: start,
                            seconds: end - start,
                            isError: fails
                        )
                    )
                }
            }
        }
        return spans
    }

    /// A guessed row gives the same answer as a search, right or wrong guess, inside and outside the rows.
    @Test func rowsNearAGuessMatchASearch() {
        let data = IncidentData(times: [10, 20, 30, 45, 50], columns: [])
        for time in stride(from: 0.0, through: 70, by: 2.5) {
            for guess in 0..<7 {
                #expect(data.row(at: time, near: guess) == data.row(at: time), "\(time) near \(guess)")
            }
        }
    }

    /// A reader that hashes IDs straight from a file's bytes makes the same span as one given the IDs as text.
    @Test func spansFromHashedIDsEqualSpansFromText() {
        let text = IncidentData.CaseSpan(
            traceID: "a9dc",
            spanID: "c38f",
            parentID: "77",
            service: "cart",
            start: 1,
            seconds: 0.5,
            isError: nil
        )
        let hashed = IncidentData.CaseSpan(
            traceHash: SignatureHash.of("a9dc"),
            spanHash: SignatureHash.of("c38f"),
            parentHash: SignatureHash.of("77"),
            service: "cart",
            start: 1,
            seconds: 0.5,
            isError: nil
        )
        #expect(text == hashed)
        let moved = IncidentData.CaseSpan(
            traceID: "a9d",
            spanID: "cc38f",
            parentID: nil,
            service: "cart",
            start: 1,
            seconds: 0.5,
            isError: nil
        )
        #expect(moved.id != text.id)
    }

    @Test func aFailingCalleeRanksFirstFromItsSpans() {
        #expect(
            RootCauseRanker().rank(Self.flatMetrics(), alertTime: Self.times[Self.onset + 1]).candidates.first?.service
                != "payment"
        )
        var data = Self.flatMetrics()
        data.addSpans(Self.traces(failing: true))
        let result = RootCauseRanker().rank(data, alertTime: Self.times[Self.onset + 1])
        #expect(result.candidates.first?.service == "payment")
        #expect(result.candidates.first?.metric == IncidentData.SpanMetric.errors)
        // The failure passes up to order and gateway, but it started in payment: only there does it count.
        for service in ["order", "gateway"] {
            let errors = data.columns.first { $0.service == service && $0.metric == IncidentData.SpanMetric.errors }
            #expect(errors?.values.allSatisfy { $0 == 0 } == true, "\(service)")
        }
    }

    /// Twenty traces a row through order's client span to payment (`POST /pay`) and, for a tenth of them, to
    /// ledger (`POST /entry`). From the onset payment is gone for eight requests in twenty: order's client span
    /// fails with no child (after `timeout` seconds), its server span fails with it, and payment serves the rest.
    /// Without operation names the failures are order's own; with them, they are calls that never reached
    /// payment, and order's latency, however far it rose, is their symptom. Without `clientSpans`, order's server
    /// span calls payment directly, and the eight fail in order before it calls anyone (a code fault).
    static func lostCalls(
        named: Bool,
        timeout: Double = 0.02,
        clientSpans: Bool = true
    ) -> [IncidentData.CaseSpan] {
        var spans: [IncidentData.CaseSpan] = []
        for row in 0..<Self.rows {
            for request in 0..<20 {
                let lost = row >= Self.onset && request < 8
                let start = Self.times[row] + Double(request) / 4
                let trace = "t\(row)-\(request)"
                let callee =
                    clientSpans && request % 10 == 9 ? ("ledger", "POST /entry") : ("payment", "POST /pay")
                func span(_ id: String, _ parent: String?, _ service: String, _ operation: String, _ failed: Bool) {
                    spans.append(
                        .init(
                            traceID: trace,
                            spanID: id,
                            parentID: parent,
                            service: service,
                            start: start,
                            seconds: failed ? timeout : 0.02,
                            isError: failed,
                            operation: named ? operation : nil
                        )
                    )
                }
                span("o", nil, "order", "POST /order", lost)
                if clientSpans { span("c", "o", "order", callee.1, lost) }
                if !lost { span("p", clientSpans ? "c" : "o", callee.0, callee.1, false) }
            }
        }
        return spans
    }

    @Test func aCallThatNeverReachedItsCalleeCountsForTheCallee() {
        var anonymous = Self.flatMetrics()
        anonymous.addSpans(Self.lostCalls(named: false))
        let blamed = RootCauseRanker().rank(anonymous, alertTime: Self.times[Self.onset + 1])
        #expect(blamed.candidates.first?.service == "order")
        #expect(!anonymous.columns.contains { $0.metric == IncidentData.SpanMetric.unanswered })

        var data = Self.flatMetrics()
        data.addSpans(Self.lostCalls(named: true))
        let unanswered = data.columns.filter { $0.metric == IncidentData.SpanMetric.unanswered }
        #expect(unanswered.map(\.service) == ["payment"])
        #expect(unanswered.first?.values[Self.onset] == 8 && unanswered.first?.values[0] == 0)
        let orderErrors = data.columns.first { $0.service == "order" && $0.metric == IncidentData.SpanMetric.errors }
        #expect(orderErrors?.values.allSatisfy { $0 == 0 } == true)
        let result = RootCauseRanker().rank(data, alertTime: Self.times[Self.onset + 1])
        #expect(result.candidates.first?.service == "payment")
        #expect(result.candidates.first?.metric == IncidentData.SpanMetric.unanswered)
        let explanation = RootCauseRanker.explain(result, of: data)
        #expect(explanation.action.hasPrefix("Check whether payment is up and reachable"), "\(explanation.action)")

        // Without client spans, a request order served that failed before it called anyone is order's own failure
        // (a code fault), though its other requests reach payment.
        var codeFault = Self.flatMetrics()
        codeFault.addSpans(Self.lostCalls(named: true, clientSpans: false))
        #expect(!codeFault.columns.contains { $0.metric == IncidentData.SpanMetric.unanswered })
        let own = RootCauseRanker().rank(codeFault, alertTime: Self.times[Self.onset + 1])
        #expect(own.candidates.first?.service == "order")
        let ownErrors = codeFault.columns.first { $0.service == "order" && $0.metric == IncidentData.SpanMetric.errors }
        #expect(ownErrors?.values[Self.onset] == 8)

        var timedOut = Self.flatMetrics()
        timedOut.addSpans(Self.lostCalls(named: true, timeout: 2))
        let slow = RootCauseRanker().rank(timedOut, alertTime: Self.times[Self.onset + 1])
        #expect(slow.candidates.prefix(2).map(\.service) == ["payment", "order"])
        #expect(
            slow.candidates[1].metric == IncidentData.SpanMetric.latency && slow.candidates[1].yieldedTo == "payment"
        )
    }

    /// A delay on a service's network slows what it sends: its callers wait longer and its callees start later,
    /// while its own spans stay as fast. Its network time, not its neighbours', moves.
    @Test(arguments: ["payment", "order", "gateway"])
    func aDelayedServiceShowsInItsNetworkTime(delayed: String) {
        var data = Self.flatMetrics()
        data.addSpans(Self.traces(delayed: delayed))
        let result = RootCauseRanker().rank(data, alertTime: Self.times[Self.onset + 1])
        #expect(result.candidates.first?.service == delayed)
        #expect(result.candidates.first?.metric == IncidentData.SpanMetric.network)
        let blind = RootCauseRanker().rank(data)
        #expect(blind.candidates.first?.service == delayed)
        #expect(abs(blind.onset - Self.times[Self.onset]) <= 10)
    }

    @Test func parentLinksBecomeCallsAndUncoveredRowsStayMissing() throws {
        var data = Self.flatMetrics()
        data.addSpans(Self.traces(rows: Array(0..<10) + Array(35..<Self.rows)))
        #expect(data.calls.map { "\($0.caller)>\($0.callee)" }.sorted() == ["gateway>order", "order>payment"])
        let latency = try #require(
            data.columns.first { $0.service == "order" && $0.metric == IncidentData.SpanMetric.latency }
        )
        #expect(latency.values[5] != nil)
        #expect(latency.values[20] == nil, "no span started in row 20: unknown, not 0")
        // Order's own time excludes the payment call it waited for.
        let own = try #require(
            data.columns.first { $0.service == "order" && $0.metric == IncidentData.SpanMetric.selfTime }
        )
        #expect(abs((own.values[5] ?? 0) - 0.011) < 0.001)
        // Spans with no error flag give no error share.
        var unknown = Self.flatMetrics()
        unknown.addSpans(
            Self.traces().map { span in
                var copy = span
                copy.isError = nil
                return copy
            }
        )
        #expect(!unknown.columns.contains { $0.metric == IncidentData.SpanMetric.errors })
    }

    /// Spans arrive in any order (children before parents, traces interleaved): the evidence is the same.
    @Test func spanOrderDoesNotMatter() {
        let spans = Self.traces(failing: true, delayed: "order")
        var inOrder = Self.flatMetrics()
        inOrder.addSpans(spans)
        var generator = SplitMix64(seed: 7)
        var shuffled = Self.flatMetrics()
        shuffled.addSpans(spans.shuffled(using: &generator))
        #expect(inOrder.columns.map(\.metric) == shuffled.columns.map(\.metric))
        #expect(inOrder.columns.map(\.service) == shuffled.columns.map(\.service))
        #expect(inOrder.columns.map(\.values) == shuffled.columns.map(\.values))
        #expect(
            Set(inOrder.calls.map { "\($0.caller)>\($0.callee)" })
                == Set(shuffled.calls.map { "\($0.caller)>\($0.callee)" })
        )
    }

    @Test func spansOutsideTheWindowAndBrokenLinksAreHarmless() {
        var data = Self.flatMetrics()
        data.addSpans([
            .init(
                traceID: "x",
                spanID: "a",
                parentID: "missing",
                service: "order",
                start: Self.times[3],
                seconds: 0.02,
                isError: false
            ),
            .init(
                traceID: "x",
                spanID: "b",
                parentID: "b",
                service: "order",
                start: Self.times[3],
                seconds: 0.02,
                isError: nil
            ),
            .init(
                traceID: "y",
                spanID: "c",
                parentID: nil,
                service: "late",
                start: Self.times[Self.rows - 1] + 1_000,
                seconds: 1,
                isError: true
            ),
            .init(
                traceID: "z",
                spanID: "d",
                parentID: nil,
                service: "early",
                start: Self.times[0] - 1,
                seconds: 1,
                isError: true
            ),
        ])
        #expect(data.calls.isEmpty)
        #expect(!data.services.contains("late") && !data.services.contains("early"))
        let result = RootCauseRanker().rank(data)
        #expect(result.candidates.count == 3)
    }
}
