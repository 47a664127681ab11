// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing
import VigilCore

@Suite struct ServiceGraphTests {
    static let base: Int64 = 1_700_000_040  // a minute boundary

    static func span(
        _ trace: UInt64,
        _ id: UInt64,
        parent: UInt64 = 0,
        _ service: String,
        _ kind: TraceSpan.Kind,
        at second: Int64,
        milliseconds: Int64 = 20,
        error: Bool = false,
        peer: String? = nil
    ) -> TraceSpan {
        let start = Timestamp(nanoseconds: (base + second) * 1_000_000_000)
        return TraceSpan(
            traceID: .init(high: 1, low: trace),
            spanID: id,
            parentSpanID: parent,
            service: service,
            name: "op",
            kind: kind,
            start: start,
            end: Timestamp(nanoseconds: start.nanoseconds + milliseconds * 1_000_000),
            isError: error,
            peer: peer
        )
    }

    /// frontend → checkout (client span in frontend, server span in checkout) → payment, in either arrival order.
    @Test(arguments: [false, true]) func joinsParentsAndChildrenAcrossServices(reversed: Bool) {
        var spans: [TraceSpan] = []
        for trace in 1...10 as ClosedRange<UInt64> {
            spans += [
                Self.span(trace, 1, "frontend", .server, at: 1, milliseconds: 90),
                Self.span(trace, 2, parent: 1, "frontend", .client, at: 1, milliseconds: 80),
                Self.span(trace, 3, parent: 2, "checkout", .server, at: 1, milliseconds: 70, error: trace == 3),
                Self.span(trace, 4, parent: 3, "checkout", .client, at: 1, milliseconds: 40),
                Self.span(trace, 5, parent: 4, "payment", .server, at: 1, milliseconds: 30),
            ]
        }
        if reversed { spans.reverse() }
        var graph = ServiceGraph()
        var closed: [ServiceGraph.EdgeMinute] = []
        graph.add(spans, closed: &closed)
        #expect(closed.isEmpty)  // the minute is still open
        for _ in 0..<15 { graph.tick(closed: &closed) }
        #expect(closed.map { "\($0.caller)→\($0.callee)" } == ["checkout→payment", "frontend→checkout"])
        let checkout = closed.first { $0.callee == "checkout" }!
        #expect(checkout.calls == 10)
        #expect(checkout.errors == 1)
        #expect(abs(checkout.latency.quantile(0.5)! - 0.070) < 0.007)
        #expect(closed.allSatisfy { $0.minute == Timestamp(nanoseconds: Self.base * 1_000_000_000) })
    }

    @Test func clientSpansToUninstrumentedPeersBecomeEdgesOnceTheyExpire() {
        var graph = ServiceGraph()
        var closed: [ServiceGraph.EdgeMinute] = []
        graph.add([Self.span(1, 1, "cart", .client, at: 0, peer: "redis")], closed: &closed)
        // Two join windows later the client span has certainly not met a child.
        graph.add([Self.span(2, 1, "cart", .server, at: 12)], closed: &closed)
        graph.add([Self.span(3, 1, "cart", .server, at: 24)], closed: &closed)
        for _ in 0..<15 { graph.tick(closed: &closed) }
        #expect(closed.map { "\($0.caller)→\($0.callee)" } == ["cart→redis"])
    }

    /// A sender that pauses longer than the quiet period: the minute is reported, then reported again with the
    /// late calls included (the store replaces the row), so the total is right whatever the timing.
    @Test func lateSpansUpdateAReportedMinute() {
        var graph = ServiceGraph()
        var closed: [ServiceGraph.EdgeMinute] = []
        func call(_ trace: UInt64) -> [TraceSpan] {
            [Self.span(trace, 1, "a", .client, at: 5), Self.span(trace, 2, parent: 1, "b", .server, at: 5)]
        }
        graph.add(call(1) + call(2), closed: &closed)
        for _ in 0..<15 { graph.tick(closed: &closed) }
        #expect(closed.map(\.calls) == [2])
        graph.add(call(3), closed: &closed)
        #expect(closed.map(\.calls) == [2, 3])
        for _ in 0..<15 { graph.tick(closed: &closed) }
        #expect(closed.map(\.calls) == [2, 3], "an unchanged minute is not reported again")
        // Later than the late window: counted as late, not added.
        let old = TraceSpan(
            traceID: .init(high: 9, low: 9),
            spanID: 1,
            service: "a",
            name: "x",
            kind: .server,
            start: Timestamp(nanoseconds: (Self.base - 3600) * 1_000_000_000),
            end: Timestamp(nanoseconds: (Self.base - 3600) * 1_000_000_000)
        )
        var child = old
        child.spanID = 2
        child.parentSpanID = 1
        child.service = "b"
        graph.add([old, child], closed: &closed)
        #expect(graph.lateSpans == 1)
    }

    @Test func callsWithinOneServiceAreNotEdges() {
        var graph = ServiceGraph()
        var closed: [ServiceGraph.EdgeMinute] = []
        graph.add(
            [Self.span(1, 1, "api", .server, at: 0), Self.span(1, 2, parent: 1, "api", .internal, at: 0)],
            closed: &closed
        )
        for _ in 0..<15 { graph.tick(closed: &closed) }
        #expect(closed.isEmpty)
    }

    @Test func memoryStaysBoundedWhenParentsNeverArrive() {
        var configuration = ServiceGraph.Configuration()
        configuration.maximumWaiting = 1_000
        var graph = ServiceGraph(configuration: configuration)
        var closed: [ServiceGraph.EdgeMinute] = []
        for trace in 0..<50_000 as Range<UInt64> {
            graph.add([Self.span(trace, 2, parent: 1, "orphan", .server, at: 0)], closed: &closed)
        }
        #expect(graph.waitingCount <= 4 * configuration.maximumWaiting)
    }

    @Test func snapshotKeepsOpenMinutes() {
        var graph = ServiceGraph()
        var closed: [ServiceGraph.EdgeMinute] = []
        graph.add(
            [Self.span(1, 1, "a", .client, at: 5), Self.span(1, 2, parent: 1, "b", .server, at: 5)],
            closed: &closed
        )
        var restored = ServiceGraph(restoring: graph.snapshot)
        for _ in 0..<15 { restored.tick(closed: &closed) }
        #expect(closed.map(\.calls) == [1])
    }
}

@Suite struct LatencyHistogramTests {
    @Test func quantilesAreWithinTenPercent() {
        var histogram = LatencyHistogram()
        for millisecond in 1...1000 { histogram.add(Double(millisecond) / 1000) }
        for q in [0.5, 0.9, 0.99] {
            let estimate = histogram.quantile(q)!
            #expect(abs(estimate - q) / q < 0.1, "q\(q): \(estimate)")
        }
        var other = LatencyHistogram()
        other.add(5)
        histogram.merge(other)
        #expect(histogram.count == 1001)
        #expect(abs(histogram.quantile(1)! - 5) / 5 < 0.1)
    }

    @Test func ignoresNonsense() {
        var histogram = LatencyHistogram()
        histogram.add(-.infinity)
        histogram.add(.nan)
        #expect(histogram.quantile(0.5) == nil)
    }
}

@Suite struct SpanMetricsTests {
    @Test func reportsEachServicesRateErrorsAndLatencyPerMinute() {
        var metrics = SpanMetrics()
        var points: [MetricPoint] = []
        var spans: [TraceSpan] = []
        for index in 0..<120 as Range<UInt64> {
            spans.append(
                ServiceGraphTests.span(
                    index,
                    1,
                    "api",
                    .server,
                    at: Int64(index % 60),
                    milliseconds: 100,
                    error: index < 6
                )
            )
            // Client spans are not requests the service served.
            spans.append(ServiceGraphTests.span(index, 2, parent: 1, "api", .client, at: Int64(index % 60)))
        }
        metrics.add(spans, points: &points)
        #expect(points.isEmpty)
        for _ in 0..<15 { metrics.tick(points: &points) }
        let byName = Dictionary(uniqueKeysWithValues: points.map { ($0.series.name, $0) })
        #expect(byName[SpanMetrics.requestRate]?.value == 2)
        #expect(byName[SpanMetrics.errorRatio]?.value == 0.05)
        #expect(abs(byName[SpanMetrics.latencyP95]!.value - 0.1) < 0.01)
        #expect(points.allSatisfy { $0.series.service == "api" })
        #expect(
            byName[SpanMetrics.requestRate]?.time
                == Timestamp(nanoseconds: (ServiceGraphTests.base + 60) * 1_000_000_000)
        )
    }

    /// Calls to a peer that serves no spans (killed, or cut off) still show: the callers' client spans that name
    /// it become its call series, labelled with the peer as the service and the caller.
    @Test func reportsTheCallsToAPeerAsItsCallersSeeThem() {
        var metrics = SpanMetrics()
        var points: [MetricPoint] = []
        var spans: [TraceSpan] = []
        for index in 0..<60 as Range<UInt64> {
            spans.append(
                ServiceGraphTests.span(
                    index,
                    2,
                    parent: 1,
                    "api",
                    .client,
                    at: Int64(index),
                    milliseconds: 3000,
                    error: index % 2 == 0,
                    peer: "payment"
                )
            )
            // A call to itself, and one to no named peer, are no peer's.
            spans.append(ServiceGraphTests.span(index, 3, parent: 1, "api", .client, at: Int64(index), peer: "api"))
            spans.append(ServiceGraphTests.span(index, 4, parent: 1, "api", .client, at: Int64(index)))
        }
        metrics.add(spans, points: &points)
        for _ in 0..<15 { metrics.tick(points: &points) }
        let byText = Dictionary(uniqueKeysWithValues: points.map { ($0.series.text, $0.value) })
        #expect(
            byText.keys.sorted() == [
                #"span_call_error_ratio{caller="api",service="payment"}"#,
                #"span_call_latency_p95_seconds{caller="api",service="payment"}"#,
                #"span_calls_per_second{caller="api",service="payment"}"#,
            ]
        )
        #expect(byText[#"span_call_error_ratio{caller="api",service="payment"}"#] == 0.5)
        #expect(byText[#"span_calls_per_second{caller="api",service="payment"}"#] == 1)
        #expect(points.allSatisfy { $0.series.service == "payment" })
    }
}
