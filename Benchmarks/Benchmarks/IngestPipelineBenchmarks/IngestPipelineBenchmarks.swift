// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Benchmark
import Foundation
import VigilCore
import VigilIngest
import VigilStorage

/// The per-stage costs of `vigil serve`'s log path, on real Loghub lines: one stream per system, 100 lines of
/// each per request (1,000 lines), as `vigil bench-ingest` sends them.
let streams: [(name: String, lines: [[UInt8]])] = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../../../../shared/data/logs/loghub2k"
    )
    .standardized
    let systems = (try? FileManager.default.contentsOfDirectory(atPath: root.path).sorted()) ?? []
    let result: [(name: String, lines: [[UInt8]])] = systems.compactMap { system in
        let file = root.appendingPathComponent("\(system)/\(system)_2k.log")
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        return (system, data.split(separator: 0x0A).map { Array($0) })
    }
    precondition(!result.isEmpty, "no Loghub data under \(root.path)")
    return result
}()

/// The 20 requests of 1,000 lines that carry the 20,000 lines once.
let requests: [[(labels: String, entries: [LogEntry])]] = (0..<20).map { request in
    streams.map { stream in
        let entries = (0..<100).map { offset in
            let index = (request * 100 + offset) % stream.lines.count
            return LogEntry(
                time: Timestamp(nanoseconds: Int64(request * 100 + offset) * 1_000_000),
                line: stream.lines[index]
            )
        }
        return ("{service_name=\"\(stream.name)\"}", entries)
    }
}
let protobufBodies = requests.map { LokiPush.encodeProtobuf($0) }
let jsonBodies: [[UInt8]] = requests.map { streams in
    let encoded = streams.map { stream -> String in
        let values = stream.entries.map { entry -> String in
            let data = try! JSONSerialization.data(
                withJSONObject: [String(entry.time.nanoseconds), String(decoding: entry.line, as: UTF8.self)]
            )
            return String(decoding: data, as: UTF8.self)
        }
        return
            "{\"stream\":{\"service_name\":\"\(stream.labels.split(separator: "\"")[1])\"},\"values\":[\(values.joined(separator: ","))]}"
    }
    return Array("{\"streams\":[\(encoded.joined(separator: ","))]}".utf8)
}
let batches: [[LogBatch]] = protobufBodies.map { try! LokiPush.decodeProtobuf($0) }

/// The same 20,000 lines as OTLP/HTTP protobuf log requests (one resource per system).
let otlpBodies: [[UInt8]] = requests.map { streams in
    streams.flatMap { stream in
        OTLP.encodeLogs(
            service: String(stream.labels.split(separator: "\"")[1]),
            stream.entries.map { .init(time: $0.time, severity: "", body: String(decoding: $0.line, as: UTF8.self)) }
        )
    }
}

/// remote_write in Prometheus's shape: 10,000 series with 8 labels in 5 requests of 2,000 (one sample each).
let seriesKeys: [SeriesKey] = (0..<10_000).map { id in
    var labels = [SeriesKey.Label("instance", "host-\(id % 500):9100"), .init("job", "bench")]
    for extra in 0..<5 { labels.append(.init("label\(extra)", "value-\(id % (7 + extra))")) }
    return SeriesKey(name: "bench_metric_\(id % 50)", labels: labels + [.init("series", "\(id)")])
}
let remoteWriteBodies: [[UInt8]] = stride(from: 0, to: 10_000, by: 2_000).map { start in
    RemoteWrite.encode(
        seriesKeys[start..<start + 2_000].map { MetricPoint(series: $0, time: Timestamp(nanoseconds: 0), value: 1) }
    )
}
let samples: [[MetricPoint]] = remoteWriteBodies.map { try! RemoteWrite.decode($0).points }

/// A metrics.csv as RCA cases and exports have it: 10,000 one-second rows of 20 series (200,000 cells), every
/// 50th cell empty.
let metricsCSV: [UInt8] = {
    var text = "time," + (0..<20).map { "service-\($0 % 5).metric_\($0)" }.joined(separator: ",") + "\n"
    for row in 0..<10_000 {
        text += String(1_700_000_000 + row)
        for column in 0..<20 {
            text += (row * 20 + column) % 50 == 0 ? "," : ",\(Double((row * 7919 + column * 104_729) % 100_000) / 100)"
        }
        text += "\n"
    }
    return Array(text.utf8)
}()
let metricsLines: [[UInt8]] = metricsCSV.split(separator: 0x0A).map { Array($0) }

@inline(never)
func process(_ batches: [[LogBatch]], into shard: inout PipelineShard, findings: inout [Anomaly]) {
    for request in batches {
        for batch in request { shard.process(batch, findings: &findings) }
    }
}

/// 10,000 timestamps in the layouts log headers and CSV files use, as `TimestampParser.parse` gets them.
let timestamps: [[UInt8]] = (0..<10_000).map { index in
    let second = index % 60
    let layouts = [
        "2024-10-10T13:55:\(10 + second % 50).123Z", "2024-10-10 13:55:\(10 + second % 50),123",
        "2015-09-01 22:\(10 + second % 50):00", "Jun 14 15:16:\(10 + second % 50)",
        "10/Oct/2000:13:55:\(10 + second % 50) -0700", "Sun Dec 04 04:47:\(10 + second % 50) 2005",
        "081109 2036\(10 + second % 50)", "\(1_700_000_000 + index)",
    ]
    return Array(layouts[index % layouts.count].utf8)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        maxDuration: .seconds(5)
    )

    // Each iteration handles all 20 requests: 20,000 lines. lines/s = throughput × 20,000.
    // Plain files: what `vigil rca` reads a metrics.csv with, and what `vigil detect` and `rightsize` split lines with.
    Benchmark("CSVReader.numericTable (metrics.csv), 200k cells per iteration") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try CSVReader.numericTable(metricsCSV, path: "metrics.csv"))
        }
    }
    Benchmark("CSVReader.withCells, 10k lines of 21 cells per iteration") { benchmark in
        var cells: [Range<Int>] = []
        for _ in benchmark.scaledIterations {
            for line in metricsLines {
                line.withUnsafeBufferPointer { blackHole(CSVReader.withCells(of: $0, &cells) { $1.count }) }
            }
        }
    }
    Benchmark("TimestampParser.parse, 10k timestamps of 8 layouts per iteration") { benchmark in
        for _ in benchmark.scaledIterations {
            for text in timestamps { blackHole(TimestampParser.parse(text.span)) }
        }
    }
    Benchmark("LokiPush.decodeProtobuf (snappy), 20k lines per iteration") { benchmark in
        for _ in benchmark.scaledIterations {
            for body in protobufBodies { blackHole(try LokiPush.decodeProtobuf(body)) }
        }
    }
    Benchmark("LokiPush.decodeJSON, 20k lines per iteration") { benchmark in
        for _ in benchmark.scaledIterations {
            for body in jsonBodies { blackHole(try LokiPush.decodeJSON(body)) }
        }
    }
    Benchmark("WALPayload.encoded (write-ahead log record), 20k lines per iteration") { benchmark in
        for _ in benchmark.scaledIterations {
            for request in batches { blackHole(WALPayload.logs(request).encoded()) }
        }
    }
    Benchmark("OTLP.decodeLogs (protobuf), 20k records per iteration") { benchmark in
        for _ in benchmark.scaledIterations {
            for body in otlpBodies { blackHole(try OTLP.decodeLogs(protobuf: body, now: Timestamp(nanoseconds: 0))) }
        }
    }
    // Warm cache, as in a running server: every series was seen before.
    Benchmark("RemoteWrite.decode (snappy, series cache), 10k samples per iteration") { benchmark in
        let cache = RemoteWrite.SeriesCache()
        for body in remoteWriteBodies { blackHole(try RemoteWrite.decode(body, cache: cache)) }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for body in remoteWriteBodies { blackHole(try RemoteWrite.decode(body, cache: cache)) }
        }
        benchmark.stopMeasurement()
    }
    // The shard's metric path: one detector per series, updated in place.
    Benchmark("PipelineShard.process (metrics), warm, 10k samples per iteration") { benchmark in
        var shard = PipelineShard()
        var findings: [Anomaly] = []
        for points in samples { shard.process(points, findings: &findings) }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for points in samples { shard.process(points, findings: &findings) }
        }
        benchmark.stopMeasurement()
        blackHole(findings)
    }
    // The shard's whole log path: format detection, multi-line joining, PII masking, template mining, rate
    // buckets and detectors; warm (the shard has seen the stream once).
    Benchmark("PipelineShard.process, warm, 20k Loghub lines in 10 streams per iteration") { benchmark in
        var shard = PipelineShard()
        var findings: [Anomaly] = []
        process(batches, into: &shard, findings: &findings)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { process(batches, into: &shard, findings: &findings) }
        benchmark.stopMeasurement()
        blackHole(findings)
    }
}
