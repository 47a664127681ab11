// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing
import VigilCore
import VigilIngest

@Suite struct OTLPTests {
    static let now = Timestamp(nanoseconds: 1_800_000_000_000_000_000)
    static let spans = [
        TraceSpan(
            traceID: .init(high: 0x0102_0304_0506_0708, low: 0x090A_0B0C_0D0E_0F10),
            spanID: 0x1111,
            service: "frontend",
            name: "GET /cart",
            kind: .server,
            start: Timestamp(nanoseconds: 1_700_000_000_000_000_000),
            end: Timestamp(nanoseconds: 1_700_000_000_050_000_000)
        ),
        TraceSpan(
            traceID: .init(high: 0x0102_0304_0506_0708, low: 0x090A_0B0C_0D0E_0F10),
            spanID: 0x2222,
            parentSpanID: 0x1111,
            service: "cart",
            name: "HGET",
            kind: .client,
            start: Timestamp(nanoseconds: 1_700_000_000_010_000_000),
            end: Timestamp(nanoseconds: 1_700_000_000_020_000_000),
            isError: true,
            peer: "redis"
        ),
    ]

    @Test func tracesRoundTripThroughProtobuf() throws {
        #expect(try OTLP.decodeTraces(protobuf: OTLP.encodeTraces(Self.spans)) == Self.spans)
    }

    @Test func logsRoundTripWithTheLevelInFront() throws {
        let body = OTLP.encodeLogs(
            service: "checkout",
            [
                .init(time: Timestamp(nanoseconds: 5), severity: "ERROR", body: "payment declined for order 7"),
                .init(time: Timestamp(nanoseconds: 0), severity: "", body: "no time here"),
            ]
        )
        let batches = try OTLP.decodeLogs(protobuf: body, now: Self.now)
        #expect(batches.count == 1)
        #expect(batches[0].stream == StreamKey(service: "checkout", source: "otlp"))
        #expect(
            batches[0].entries.map { String(decoding: $0.line, as: UTF8.self) } == [
                "ERROR payment declined for order 7", "no time here",
            ]
        )
        #expect(batches[0].entries.map(\.time) == [Timestamp(nanoseconds: 5), Self.now])
    }

    @Test func gaugesCarryResourceAndPointLabels() throws {
        let point = MetricPoint(
            series: SeriesKey(name: "queue.depth", labels: [.init("queue", "emails")]),
            time: Timestamp(nanoseconds: 42),
            value: 7.5
        )
        let decoded = try OTLP.decodeMetrics(protobuf: OTLP.encodeGauges(service: "mailer", [point]))
        #expect(
            decoded == [
                MetricPoint(
                    series: SeriesKey(
                        name: "queue_depth",
                        labels: [.init("service", "mailer"), .init("queue", "emails")]
                    ),
                    time: Timestamp(nanoseconds: 42),
                    value: 7.5
                )
            ]
        )
    }

    /// A monotonic cumulative sum is a counter, named `…_total` as OpenTelemetry's Prometheus exporters name it
    /// (so it is judged by its rate); a delta or non-monotonic sum keeps its name.
    @Test func aMonotonicCumulativeSumIsNamedAsACounter() throws {
        func names(_ name: String, temporality: UInt64, monotonic: Bool) throws -> [String] {
            let point = MetricPoint(series: SeriesKey(name: name), time: Timestamp(nanoseconds: 42), value: 7)
            let body = OTLP.encodeSums(service: "api", [point], temporality: temporality, monotonic: monotonic)
            return try OTLP.decodeMetrics(protobuf: body).map(\.series.name)
        }
        #expect(try names("http.server.requests", temporality: 2, monotonic: true) == ["http_server_requests_total"])
        #expect(try names("rpc.calls_total", temporality: 2, monotonic: true) == ["rpc_calls_total"])
        #expect(try names("http.server.requests", temporality: 1, monotonic: true) == ["http_server_requests"])
        #expect(try names("db.client.connections", temporality: 2, monotonic: false) == ["db_client_connections"])
        let json = """
            {"resourceMetrics":[{"scopeMetrics":[{"metrics":[
            {"name":"a","sum":{"aggregationTemporality":"AGGREGATION_TEMPORALITY_CUMULATIVE","isMonotonic":true,
            "dataPoints":[{"asDouble":1,"timeUnixNano":"1"}]}},
            {"name":"b","sum":{"aggregationTemporality":1,"isMonotonic":true,
            "dataPoints":[{"asDouble":1,"timeUnixNano":"1"}]}}]}]}]}
            """
        #expect(try OTLP.decodeMetrics(json: Array(json.utf8)).map(\.series.name) == ["a_total", "b"])
    }

    /// The example shapes of the OTLP/JSON specification: camelCase, hex IDs, 64-bit integers as strings.
    @Test func decodesJSON() throws {
        let traces = """
            {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}}]},
            "scopeSpans":[{"scope":{"name":"x"},"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10",
            "spanId":"0000000000002222","parentSpanId":"0000000000001111","name":"HGET","kind":3,
            "startTimeUnixNano":"1700000000010000000","endTimeUnixNano":1700000000020000000,
            "attributes":[{"key":"peer.service","value":{"stringValue":"redis"}},{"key":"n","value":{"intValue":"3"}}],
            "status":{"code":2},"unknownField":true}]}]}]}
            """
        #expect(try OTLP.decodeTraces(json: Array(traces.utf8)) == [Self.spans[1]])

        let logs = """
            {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},
            "scopeLogs":[{"logRecords":[{"timeUnixNano":"1700000000000000000","severityNumber":17,
            "body":{"stringValue":"disk full"}},{"observedTimeUnixNano":"12","body":{"kvlistValue":{"values":[
            {"key":"user","value":{"stringValue":"ann"}},{"key":"ok","value":{"boolValue":false}}]}}}]}]}]}
            """
        let batches = try OTLP.decodeLogs(json: Array(logs.utf8), now: Self.now)
        #expect(
            batches.first?.entries.map { String(decoding: $0.line, as: UTF8.self) } == [
                "ERROR disk full", "{user=ann, ok=false}",
            ]
        )
        #expect(
            batches.first?.entries.map(\.time) == [
                Timestamp(nanoseconds: 1_700_000_000_000_000_000), Timestamp(nanoseconds: 12),
            ]
        )

        let metrics = """
            {"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}},
            {"key":"k8s.pod.name","value":{"stringValue":"api-7f9"}}]},"scopeMetrics":[{"metrics":[
            {"name":"http.server.requests","sum":{"aggregationTemporality":2,"isMonotonic":true,"dataPoints":[
            {"asInt":"1234","timeUnixNano":"1000000000","attributes":[{"key":"code","value":{"intValue":200}}]}]}},
            {"name":"latency","histogram":{"dataPoints":[{"count":"10","sum":2.5,"timeUnixNano":"1000000000",
            "bucketCounts":["1","9"],"explicitBounds":[0.1]}]}}]}]}]}
            """
        let points = try OTLP.decodeMetrics(json: Array(metrics.utf8))
        #expect(
            points.map(\.series.text) == [
                "http_server_requests_total{code=\"200\",pod=\"api-7f9\",service=\"api\"}",
                "latency_count{pod=\"api-7f9\",service=\"api\"}",
                "latency_sum{pod=\"api-7f9\",service=\"api\"}",
            ]
        )
        #expect(points.map(\.value) == [1234, 10, 2.5])
    }

    @Test func namesTheFieldThatIsWrong() {
        let bad = #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz","spanId":"0000000000000001"}]}]}]}"#
        #expect {
            try OTLP.decodeTraces(json: Array(bad.utf8))
        } throws: { error in
            (error as? IngestError)?.message
                == "OTLP traces: resourceSpans[0].scopeSpans[0].spans[0].traceId must be 32 hex digits"
        }
        #expect(throws: IngestError.self) { try OTLP.decodeLogs(json: Array("[1]".utf8), now: Self.now) }
        #expect(throws: IngestError.self) { try OTLP.decodeTraces(protobuf: [0x0A, 0x05, 0x01]) }
    }

    /// 100,000 mutated requests of each signal and encoding never crash a decoder.
    @Test func survivesMutatedRequests() {
        var mutation = Mutation(seed: 7)
        let traces = OTLP.encodeTraces(Self.spans)
        let logs = OTLP.encodeLogs(service: "a", [.init(time: Self.now, severity: "WARN", body: "slow request 1")])
        let gauges = OTLP.encodeGauges(
            service: "a",
            [MetricPoint(series: SeriesKey(name: "x", labels: [.init("k", "v")]), time: Self.now, value: 1)]
        )
        let json = Array(
            #"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"c"}}]},"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0000000000002222","kind":2,"startTimeUnixNano":"1","endTimeUnixNano":"2","status":{"code":2}}]}]}]}"#
                .utf8
        )
        let decodedTraces = mutation.count(100_000, seeds: [traces]) { _ = try OTLP.decodeTraces(protobuf: $0) }
        let decodedLogs = mutation.count(100_000, seeds: [logs]) {
            _ = try OTLP.decodeLogs(protobuf: $0, now: Self.now)
        }
        let decodedMetrics = mutation.count(100_000, seeds: [gauges]) { _ = try OTLP.decodeMetrics(protobuf: $0) }
        let decodedJSON = mutation.count(100_000, seeds: [json]) {
            _ = try OTLP.decodeTraces(json: $0)
            _ = try OTLP.decodeLogs(json: $0, now: Self.now)
            _ = try OTLP.decodeMetrics(json: $0)
        }
        for decoded in [decodedTraces, decodedLogs, decodedMetrics, decodedJSON] {
            #expect(decoded > 0 && decoded < 100_000)
        }
    }
}

@Suite struct GzipTests {
    @Test func roundTripsAndBoundsTheOutput() throws {
        let text = Array(String(repeating: "the quick brown fox ", count: 10_000).utf8)
        let compressed = Gzip.compress(text)
        #expect(compressed.count < text.count / 20)
        #expect(try Gzip.decompress(compressed, maximumLength: 1 << 20) == text)
        #expect {
            try Gzip.decompress(compressed, maximumLength: 1000)
        } throws: { error in
            (error as? IngestError)?.message.contains("limit of 1000 bytes") == true
        }
        #expect(throws: IngestError.self) { try Gzip.decompress(Array(compressed.prefix(30)), maximumLength: 1 << 20) }
        #expect(throws: IngestError.self) { try Gzip.decompress(Array("not gzip".utf8), maximumLength: 1 << 20) }
    }

    @Test func survivesMutatedStreams() {
        var mutation = Mutation(seed: 3)
        let seed = Gzip.compress(Array(String(repeating: "level=info msg=ok ", count: 500).utf8))
        let decoded = mutation.count(100_000, seeds: [seed]) { _ = try Gzip.decompress($0, maximumLength: 1 << 16) }
        #expect(decoded < 100_000)
    }
}
