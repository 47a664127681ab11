// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import VigilCore
import VigilIngest

/// One fuzz target: a decoder fed the fuzzer's bytes. A thrown `IngestError` is the right answer to bad input;
/// a trap, a sanitizer report, a hang or a broken invariant (`check`) is a bug.
struct FuzzTarget: Sendable {
    /// What to name in `VIGIL_FUZZ_TARGET`.
    let name: String
    /// What the bytes are read as.
    let summary: String
    /// Runs the decoder on one input.
    let run: @Sendable ([UInt8]) -> Void
}

/// Stops the run with a message libFuzzer records beside the input that broke the invariant.
func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("invariant broken: \(message())") }
}

/// The timestamp every decoder that needs "now" is given.
let fuzzNow = Timestamp(nanoseconds: 1_700_000_000_000_000_000)

/// Every target, in the order `scripts/fuzz` runs them.
let fuzzTargets: [FuzzTarget] = [
    FuzzTarget(name: "snappy", summary: "a snappy block; what compresses must decompress to itself") { bytes in
        let limit = 1 << 20
        if let out = try? Snappy.decompress(bytes, maximumLength: limit) {
            check(out.count <= limit, "snappy output \(out.count) over its limit")
        }
        check(
            (try? Snappy.decompress(Snappy.compress(bytes), maximumLength: bytes.count)) == bytes,
            "snappy round trip"
        )
    },
    FuzzTarget(name: "gzip", summary: "a gzip body; what compresses must decompress to itself") { bytes in
        let limit = 1 << 20
        if let out = try? Gzip.decompress(bytes, maximumLength: limit) {
            check(out.count <= limit, "gzip output \(out.count) over its limit")
        }
        check((try? Gzip.decompress(Gzip.compress(bytes), maximumLength: bytes.count)) == bytes, "gzip round trip")
    },
    FuzzTarget(name: "remote-write", summary: "a Prometheus remote_write body, through a pipeline shard") { bytes in
        guard let decoded = try? RemoteWrite.decode(bytes, maximumDecodedBytes: 1 << 20) else { return }
        var shard = PipelineShard()
        var findings: [Anomaly] = []
        shard.process(decoded.points, findings: &findings)
    },
    FuzzTarget(name: "remote-write-raw", summary: "an uncompressed WriteRequest (snappy-framed here)") { bytes in
        _ = try? RemoteWrite.decode(Snappy.compress(bytes), maximumDecodedBytes: 1 << 20)
    },
    FuzzTarget(name: "loki-json", summary: "a Loki push body in JSON, through a pipeline shard") { bytes in
        guard let batches = try? LokiPush.decodeJSON(bytes) else { return }
        process(batches)
    },
    FuzzTarget(name: "loki-protobuf", summary: "an uncompressed Loki PushRequest (snappy-framed here)") { bytes in
        guard let batches = try? LokiPush.decodeProtobuf(Snappy.compress(bytes)) else { return }
        process(batches)
    },
    FuzzTarget(name: "otlp-protobuf", summary: "one body read as OTLP logs, metrics and traces (protobuf)") { bytes in
        if let batches = try? OTLP.decodeLogs(protobuf: bytes, now: fuzzNow) { process(batches) }
        _ = try? OTLP.decodeMetrics(protobuf: bytes)
        _ = try? OTLP.decodeTraces(protobuf: bytes)
    },
    FuzzTarget(name: "otlp-json", summary: "one body read as OTLP logs, metrics and traces (JSON)") { bytes in
        if let batches = try? OTLP.decodeLogs(json: bytes, now: fuzzNow) { process(batches) }
        _ = try? OTLP.decodeMetrics(json: bytes)
        _ = try? OTLP.decodeTraces(json: bytes)
    },
    FuzzTarget(name: "json", summary: "any JSON document, and the webhooks that read one") { bytes in
        if let value = try? JSONParser.parse(bytes) { _ = ChangeWebhooks.kubernetes(value) }
        _ = try? AlertmanagerWebhook.decode(bytes)
        _ = try? ChangeEvents.decode(bytes, now: fuzzNow)
        _ = try? ChangeWebhooks.github(event: "deployment_status", body: bytes)
        _ = try? PrometheusQuery.decode(bytes, name: "fuzz")
        var splitter = JSONObjectSplitter()
        _ = try? splitter.feed(bytes)
    },
    FuzzTarget(name: "syslog", summary: "a TCP syslog stream: frames, then each message") { bytes in
        guard let (messages, used) = try? SyslogMessage.frames(bytes) else {
            _ = SyslogMessage.decode(bytes, now: fuzzNow)
            return
        }
        check(used <= bytes.count, "syslog used \(used) of \(bytes.count) bytes")
        for message in messages { _ = SyslogMessage.decode(message, now: fuzzNow) }
    },
    FuzzTarget(name: "slack", summary: "a Slack interactivity form body") { bytes in
        _ = try? SlackInteraction.parse(form: bytes)
    },
    FuzzTarget(name: "keda", summary: "KEDA external scaler requests") { bytes in
        _ = try? ExternalScalerMessages.scaledObjectRef(bytes[...])
        _ = try? ExternalScalerMessages.metricsRequest(bytes[...])
    },
    FuzzTarget(name: "log-lines", summary: "a log file: format detection, records, templates, PII masking") { bytes in
        var splitter = LogStreamSplitter(
            joinMultiline: true,
            sampleSize: 8,
            latest: Timestamp(nanoseconds: 1_768_046_400_000_000_000)
        )
        var miner = TemplateMiner()
        let masker = PIIMasker()
        var lines: [[UInt8]] = []
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lines.append(Array(line))
        }
        var records: [LogRecord] = []
        for line in lines { records += splitter.add(line.span) }
        records += splitter.finish()
        for record in records {
            _ = miner.add(record.message, severity: record.severity, time: record.timestamp)
            _ = masker.mask(record.message)
        }
        miner.consolidate()
        _ = miner.templates()
        _ = HeaderGrammar.learn(from: lines)
        _ = FormatLearning.signature(of: lines)
        for line in lines.prefix(16) {
            _ = TimestampParser.parse(line.span)
            _ = TimestampParser.timeOfDay(line.span)
            _ = Syslog5424.parse(line.span, lineNumber: 1)
        }
    },
    FuzzTarget(name: "llm-answer", summary: "an LLM's answer about a log format (untrusted text)") { bytes in
        guard let answer = String(validating: bytes, as: UTF8.self) else { return }
        guard let fields = FormatLearning.headerFields(inAnswer: answer) else { return }
        let sample = [Array("2024-01-01 12:00:00 host app[1]: started worker 7".utf8)]
        _ = try? FormatLearning.grammar(headerFields: fields, sample: sample)
    },
    FuzzTarget(name: "detector", summary: "a metric series (12-byte points: Int32 seconds step, Float64 bits)") {
        bytes in
        var detector = MetricAnomalyDetector()
        var seconds: Int64 = 1_700_000_000
        var index = 0
        while index + 12 <= bytes.count {
            var step: Int32 = 0
            var bits: UInt64 = 0
            for offset in 0..<4 { step |= Int32(bytes[index + offset]) << (8 * offset) }
            for offset in 0..<8 { bits |= UInt64(bytes[index + 4 + offset]) << (8 * offset) }
            seconds &+= Int64(step)
            let result = detector.update(time: Timestamp(seconds: Double(seconds)), value: Double(bitPattern: bits))
            check(result.score.isNaN == false && result.score >= 0 && result.score <= 1, "score \(result.score)")
            index += 12
        }
    },
    FuzzTarget(name: "csv", summary: "a CSV file: rows, each line's cells, and a numeric table (metrics.csv)") {
        bytes in
        let rows = CSVReader.rows(bytes)
        check(rows.allSatisfy { !$0.isEmpty }, "every row has a cell")
        var storage: [Range<Int>] = []
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            Array(line).withUnsafeBufferPointer { line in
                CSVReader.withCells(of: line, &storage) { base, cells in
                    check(!cells.isEmpty, "a line has a cell")
                    check(
                        cells.allSatisfy { $0.lowerBound >= 0 && $0.upperBound <= base.count },
                        "cells inside their bytes"
                    )
                    if !line.contains(UInt8(ascii: "\"")) {
                        check(cells.count == line.count { $0 == UInt8(ascii: ",") } + 1, "a cell per comma, and one")
                    }
                }
            }
        }
        if let table = try? CSVReader.numericTable(bytes, path: "fuzz.csv") {
            check(table.columns.count == max(table.header.count - 1, 0), "a column per header cell after time")
            check(table.columns.allSatisfy { $0.count == table.times.count }, "a cell per row in every column")
            check(table.columns.allSatisfy { $0.allSatisfy { $0?.isFinite ?? true } }, "cells finite or missing")
        }
    },
    FuzzTarget(
        name: "rca",
        summary: "an incident case: rows, columns, calls, an alert row, then Int16 cells (0x7FFF missing)"
    ) { bytes in
        guard let (data, alertTime) = fuzzCase(bytes) else { return }
        let result = RootCauseRanker().rank(data, alertTime: alertTime)
        check(Set(result.candidates.map(\.service)) == Set(data.services), "every service ranked once")
        check(result.candidates.count == data.services.count, "no service ranked twice")
        check(result.candidates.allSatisfy { $0.score.isFinite && $0.score >= 0 }, "scores finite, not negative")
        check(data.times.contains(result.onset), "onset \(result.onset) is a row's time")
        check(result.onsetDetected == (alertTime == nil), "onset basis \(result.onsetBasis) for \(alertTime as Any)")
        for candidate in result.candidates where candidate.yieldedAsView {
            check(candidate.yieldedTo != nil, "a view names what it is a view of")
        }
        _ = RootCauseRanker.explain(result, of: data)
    },
]

/// The case `rca` reads from its bytes: a header of four bytes (rows 3–66, columns 1–8, calls 0–15, and the
/// alert's row, 255 for none, which may lie past the last row), the calls as pairs of service indices, then each
/// row's cells as little-endian Int16 (0x7FFF is an empty cell). Columns belong to four services in turn, and
/// their metric names span the kinds the ranker tells apart.
func fuzzCase(_ bytes: [UInt8]) -> (IncidentData, Double?)? {
    guard bytes.count >= 4 else { return nil }
    let rows = 3 + Int(bytes[0]) % 64
    let columnCount = 1 + Int(bytes[1]) % 8
    let callCount = Int(bytes[2]) % 16
    let metrics = ["cpu", "lat_90", "availability", "requests", "PodClientLatencyP90_s", "mem", "error_lines"]
    let services = (0..<5).map { "s\($0)" }
    var index = 4
    var calls: [(String, String)] = []
    for _ in 0..<callCount where index + 2 <= bytes.count {
        calls.append((services[Int(bytes[index]) % 5], services[Int(bytes[index + 1]) % 5]))
        index += 2
    }
    var values = [[Double?]](repeating: [], count: columnCount)
    for _ in 0..<rows {
        for column in 0..<columnCount {
            guard index + 2 <= bytes.count else {
                values[column].append(nil)
                continue
            }
            let cell = Int16(bitPattern: UInt16(bytes[index]) | UInt16(bytes[index + 1]) << 8)
            values[column].append(cell == Int16.max ? nil : Double(cell) / 16)
            index += 2
        }
    }
    let times = (0..<rows).map { 1_700_000_000 + Double($0) * 60 }
    let columns = (0..<columnCount).map {
        IncidentData.Column(service: services[$0 % 4], metric: metrics[$0 % metrics.count], values: values[$0])
    }
    let alertTime = bytes[3] == 255 ? nil : 1_700_000_000 + Double(bytes[3]) * 60
    return (IncidentData(times: times, columns: columns, calls: calls), alertTime)
}

/// Seeds by target name: valid bodies in each format, from the encoders the tests use as well.
let fuzzSeeds: [String: @Sendable () -> [[UInt8]]] = [
    "snappy": { [Snappy.compress(RemoteWrite.encode(seedPoints)), Snappy.compress(Array(seedLog.utf8))] },
    "gzip": { [Gzip.compress(Array(seedLog.utf8)), Gzip.compress([])] },
    "remote-write": { [Snappy.compress(RemoteWrite.encode(seedPoints))] },
    "remote-write-raw": { [RemoteWrite.encode(seedPoints)] },
    "loki-json": { [Array(seedLokiJSON.utf8)] },
    "loki-protobuf": {
        let entries = seedLog.split(separator: "\n").enumerated().map { index, line in
            LogEntry(time: Timestamp(seconds: 1_700_000_000 + Double(index)), line: Array(line.utf8))
        }
        return [Array(LokiPush.encodeProtobuf([(labels: "{app=\"checkout\", env=\"prod\"}", entries: entries)]))]
    },
    "otlp-protobuf": {
        let records = seedLog.split(separator: "\n").map {
            OTLP.Record(time: fuzzNow, severity: "ERROR", body: String($0))
        }
        return [
            OTLP.encodeLogs(service: "checkout", records), OTLP.encodeGauges(service: "checkout", seedPoints),
            OTLP.encodeSums(service: "checkout", seedPoints, temporality: 2, monotonic: true),
            OTLP.encodeTraces(seedSpans),
        ]
    },
    "otlp-json": { [Array(seedOTLPJSON.utf8)] },
    "json": { [Array(seedLokiJSON.utf8), Array(seedOTLPJSON.utf8), Array(seedAlertmanagerJSON.utf8)] },
    "syslog": {
        [
            Array("<34>1 2024-03-01T10:00:00.123Z host app 42 ID7 [x@1 a=\"b\"] worker 7 failed".utf8),
            Array("<13>Mar  1 10:00:00 host sshd[77]: Accepted publickey for root".utf8),
            Array("57 <34>1 2024-03-01T10:00:00Z host app - - - first\n<13>Mar  1 10:00:01 host x: second\n".utf8),
        ]
    },
    "slack": {
        [Array("payload=%7B%22type%22%3A%22block_actions%22%2C%22user%22%3A%7B%22id%22%3A%22U1%22%7D%7D".utf8)]
    },
    "log-lines": { [Array(seedLog.utf8)] },
    "llm-answer": { [Array("The header has 4 fields: date, time, host and process, then the message.".utf8)] },
    "csv": {
        [
            Array("time,a.cpu,\"b,c.mem\"\r\n1,0.5,\n2,x,\"3\"\n3,4,5,6\n".utf8),
            Array("\"Time\",\"cpu{instance=\"\"db-1\"\"}\"\n\"2024-01-01 00:00:00\",\"NaN\"\n".utf8),
        ]
    },
    "rca": {
        // Two services, s0 calling s1; s1's latency jumps at row 30 of 40, alerted at row 32.
        var bytes: [UInt8] = [37, 2, 1, 32, 0, 1]
        for row in 0..<40 {
            for column in 0..<2 {
                let value = Int16(column == 1 && row >= 30 ? 800 : 160 + (row * 7) % 5)
                bytes += withUnsafeBytes(of: value.littleEndian, Array.init)
            }
        }
        return [bytes]
    },
    "detector": {
        var bytes: [UInt8] = []
        for index in 0..<400 {
            let value = 50 + 10 * Double(index % 24) + (index == 300 ? 400 : 0)
            bytes += withUnsafeBytes(of: Int32(60).littleEndian, Array.init)
            bytes += withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init)
        }
        return [bytes]
    },
]

let seedPoints: [MetricPoint] = (0..<20).map { index in
    MetricPoint(
        series: SeriesKey(name: "http_requests_total", labels: [.init("job", "api"), .init("code", "500")]),
        time: Timestamp(seconds: 1_700_000_000 + Double(index * 15)),
        value: Double(index * index)
    )
}

let seedSpans: [TraceSpan] = [
    TraceSpan(
        traceID: .init(high: 1, low: 2),
        spanID: 3,
        service: "checkout",
        name: "GET /cart",
        kind: .server,
        start: fuzzNow,
        end: Timestamp(nanoseconds: fuzzNow.nanoseconds + 5_000_000)
    ),
    TraceSpan(
        traceID: .init(high: 1, low: 2),
        spanID: 4,
        parentSpanID: 3,
        service: "checkout",
        name: "SELECT",
        kind: .client,
        start: fuzzNow,
        end: Timestamp(nanoseconds: fuzzNow.nanoseconds + 2_000_000),
        isError: true,
        peer: "postgres"
    ),
]

let seedLog = """
    2024-03-01 10:00:00,120 INFO  [main] com.shop.Checkout - order 1234 placed by alice@example.com in 35 ms
    2024-03-01 10:00:01,007 ERROR [pool-2] com.shop.Payment - card declined for order 1235 (code=51)
    java.lang.IllegalStateException: gateway timeout after 3000 ms
        at com.shop.Payment.charge(Payment.java:88)
        at com.shop.Checkout.run(Checkout.java:41)
    {"ts":"2024-03-01T10:00:02Z","level":"warn","msg":"retrying","attempt":2,"ip":"10.0.0.7"}
    level=info ts=2024-03-01T10:00:03Z caller=main.go:12 msg="listening" addr=:8080
    I0301 10:00:04.000123   12345 controller.go:88] Reconciled pod default/web-7d9f
    127.0.0.1 - - [01/Mar/2024:10:00:05 +0000] "GET /api/v1/items?id=7 HTTP/1.1" 200 512 "-" "curl/8.0"
    """

let seedLokiJSON = """
    {"streams":[{"stream":{"app":"checkout","level":"error"},"values":[["1700000000000000000","payment failed"],\
    ["1700000001000000000","payment failed again",{"trace_id":"abc"}]]}]}
    """

let seedOTLPJSON = """
    {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},\
    "scopeLogs":[{"logRecords":[{"timeUnixNano":"1700000000000000000","severityText":"ERROR",\
    "body":{"stringValue":"payment failed"}}]}]}],\
    "resourceMetrics":[{"resource":{"attributes":[]},"scopeMetrics":[{"metrics":[{"name":"cpu",\
    "gauge":{"dataPoints":[{"timeUnixNano":"1700000000000000000","asDouble":0.5}]}},{"name":"requests",\
    "sum":{"aggregationTemporality":2,"isMonotonic":true,"dataPoints":[{"timeUnixNano":"1700000000000000000",\
    "asInt":"42"}]}}]}]}],\
    "resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},\
    "scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708",\
    "name":"GET","kind":2,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000005000000"}]}]}]}
    """

let seedAlertmanagerJSON = """
    {"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"HighLatency",\
    "service":"checkout","severity":"page"},"annotations":{"summary":"p99 over 2 s"},\
    "startsAt":"2024-03-01T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"abc123"}]}
    """

/// Feeds decoded log batches to a pipeline shard, as `vigil serve` does.
func process(_ batches: [LogBatch]) {
    var shard = PipelineShard()
    var findings: [Anomaly] = []
    for batch in batches { shard.process(batch, findings: &findings) }
    _ = shard.templates()
}
