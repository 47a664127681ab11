// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Foundation
import VigilCore
import VigilIngest
import VigilServer

/// `vigil bench-ingest`: a load generator (Loki push, remote_write, OTLP logs) for a running `vigil serve`.
struct BenchIngest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-ingest",
        abstract: "Send Loki, remote_write or OTLP batches to a running vigil serve; report throughput and latency.",
        discussion: """
            Pre-encodes requests (snappy protobuf by default) from the lines of --lines (or from generated \
            service-log lines), sends them over keep-alive connections for --duration seconds, then waits until \
            the server has processed everything it acknowledged. Prints lines (or samples) per second acknowledged and \
            processed (from /api/v1/stats), acknowledgement latency percentiles, refusals, and the server's peak RSS when \
            --server-pid is given.

            Example:
              vigil serve --no-host --data-dir /tmp/v & 
              vigil bench-ingest --duration 60 --connections 4 --lines ../shared/data/logs/loghub2k/HDFS/HDFS_2k.log
            """
    )

    @Option(help: "The server's port on 127.0.0.1.")
    var port = 3100

    @Option(help: "Seconds to send for.")
    var duration = 10.0

    @Option(help: "Concurrent keep-alive connections (one thread each).")
    var connections = 4

    @Option(help: "Lines per request.")
    var batch = 1000

    @Option(help: "Streams (services) generated lines are spread over.")
    var streams = 8

    @Option(help: "Encoding: protobuf (snappy) or json.")
    var format = "protobuf"

    @Option(
        help:
            "A log file whose lines are sent as one stream, repeated as needed (repeatable: one stream per file); default: generated lines over --streams streams."
    )
    var lines: [String] = []

    @Option(
        help: ArgumentHelp(
            "What to send: loki (default), remote-write, or otlp-logs.",
            discussion: """
                remote-write sends Prometheus's shape: --series series with --labels labels each, --batch series \
                per request, one sample per series, senders owning disjoint series, timestamps advancing 1 ms per \
                round. otlp-logs sends OTLP/HTTP protobuf log records (--lines or generated lines).
                """
        )
    )
    var `protocol` = "loki"

    @Option(help: "remote-write: series in all (split over the connections).")
    var series = 10_000

    @Option(help: "remote-write: labels per series besides __name__.")
    var labels = 8

    @Flag(help: "The receiver is not Vigil (e.g. Prometheus): report acknowledged throughput only.")
    var acknowledgedOnly = false

    @Option(help: "The server's process ID, to report its peak resident memory (VmHWM).")
    var serverPid: Int?

    func validate() throws {
        guard self.duration > 0, self.connections > 0, self.batch > 0, self.streams > 0 else {
            throw ValidationError("--duration, --connections, --batch and --streams must be positive")
        }
        guard ["protobuf", "json"].contains(self.format) else { throw ValidationError("--format: protobuf or json") }
        guard ["loki", "remote-write", "otlp-logs"].contains(self.protocol) else {
            throw ValidationError("--protocol: loki, remote-write or otlp-logs")
        }
    }

    func run() throws {
        let source = try self.sourceLines()
        let kind = self.protocol == "remote-write" ? "samples" : "logs"
        let perConnection: [[[UInt8]]]
        let templates = self.protocol == "remote-write" ? self.remoteWriteTemplates() : []
        let linesPerRequest: Int
        let path: String
        let headers: [(String, String)]
        switch self.protocol {
        case "remote-write":
            perConnection = templates.map { $0.map(\.bytes) }
            linesPerRequest = self.batch
            path = "/api/v1/write"
            headers = [("Content-Type", "application/x-protobuf"), ("Content-Encoding", "snappy")]
        case "otlp-logs":
            let bodies = self.otlpBodies(source)
            perConnection = Array(repeating: bodies, count: self.connections)
            linesPerRequest = max(1, self.batch / source.count) * source.count
            path = "/v1/logs"
            headers = [("Content-Type", "application/x-protobuf")]
        default:
            let bodies = self.encode(source)
            perConnection = Array(repeating: bodies, count: self.connections)
            linesPerRequest = max(1, self.batch / source.count) * source.count
            path = "/loki/api/v1/push"
            headers = [("Content-Type", self.format == "json" ? "application/json" : "application/x-protobuf")]
        }
        let counter = StatsClient(port: self.port, kind: kind)
        let before = self.acknowledgedOnly ? 0 : try counter.processedLogs()
        let start = Date()
        let deadline = start.addingTimeInterval(self.duration)
        let results = LockedResults()
        let threads = (0..<self.connections).map { connection in
            Thread {
                let client = SimpleHTTPClient(port: self.port)
                var bodies = perConnection[connection]
                let stamps = templates.isEmpty ? [] : templates[connection].map(\.timestampPositions)
                let firstMillisecond = Int64(Date().timeIntervalSince1970 * 1000)
                var index = 0
                var latencies: [Double] = []
                var acked = 0
                var refused = 0
                var failures = 0
                while Date() < deadline {
                    let slot = index % bodies.count
                    if !stamps.isEmpty {
                        // A new timestamp for every round over this connection's series, written into the
                        // compressed request (its timestamps are literals), as cheap as a pre-encoded body.
                        RemoteWrite.stamp(
                            &bodies[slot],
                            positions: stamps[slot],
                            milliseconds: firstMillisecond + Int64(index / bodies.count)
                        )
                    }
                    let body = bodies[slot]
                    index += 1
                    let sent = Date()
                    do {
                        let response = try client.request("POST", path, headers: headers, body: body)
                        latencies.append(Date().timeIntervalSince(sent))
                        if response.status == 204 || response.status == 200 {
                            acked += linesPerRequest
                        } else if response.status == 429 {
                            refused += 1
                            Thread.sleep(forTimeInterval: 0.05)
                        } else {
                            failures += 1
                        }
                    } catch {
                        failures += 1
                        Thread.sleep(forTimeInterval: 0.1)
                    }
                }
                results.add(acked: acked, latencies: latencies, refused: refused, failures: failures)
            }
        }
        for thread in threads { thread.start() }
        while results.finished < self.connections { Thread.sleep(forTimeInterval: 0.05) }
        let sendSeconds = Date().timeIntervalSince(start)
        // Wait for the pipeline to process everything it acknowledged.
        let acked = results.total
        let latencies = results.latencies.sorted()
        func percentile(_ p: Double) -> String {
            guard !latencies.isEmpty else { return "-" }
            let value = latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
            return String(format: "%.1f ms", value * 1000)
        }
        let acknowledged = String(
            format: "acknowledged: %d \(kind) in %.1f s = %.0f \(kind)/s",
            acked,
            sendSeconds,
            Double(acked) / sendSeconds
        )
        if self.acknowledgedOnly {
            print(acknowledged)
            print(
                "ack latency:  p99 \(percentile(0.99)); refused (429): \(results.refused); failed: \(results.failures)"
            )
            return
        }
        guard var processed = (try? counter.processedLogs()).map({ $0 - before }) else {
            print(
                "acknowledged: \(acked) \(kind) in \(String(format: "%.1f", sendSeconds)) s; the server no longer answers"
            )
            throw ExitCode(2)
        }
        while processed < acked && Date().timeIntervalSince(start) < self.duration * 3 + 30 {
            Thread.sleep(forTimeInterval: 0.2)
            processed = try counter.processedLogs() - before
        }
        let totalSeconds = Date().timeIntervalSince(start)
        print(
            "requests: \(latencies.count) of \(linesPerRequest) \(kind == "samples" ? "samples" : "lines") each, \(self.connections) connections, \(self.protocol)"
        )
        print(acknowledged)
        print(
            String(
                format: "processed:    %d \(kind) in %.1f s = %.0f \(kind)/s (send time plus drain)",
                processed,
                totalSeconds,
                Double(processed) / totalSeconds
            )
        )
        print("ack latency:  p50 \(percentile(0.5)), p99 \(percentile(0.99)), max \(percentile(1.0))")
        print("refused (429): \(results.refused) requests; failed: \(results.failures)")
        if let pid = self.serverPid, let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        {
            print("server peak RSS: \(line.dropFirst(6).trimmingCharacters(in: .whitespaces))")
        }
        if processed < acked {
            throw CLIError("the server processed \(processed) of \(acked) acknowledged lines before the timeout")
        }
    }

    /// remote_write request templates per connection: each connection owns `series / connections` series
    /// (whole requests of --batch), snappy-compressed once with the timestamps left as literals; every send
    /// stamps a new timestamp into the compressed bytes (1 ms later per round, as increasing timestamps are what
    /// a TSDB accepts), so the sender spends no CPU compressing and the server decodes real snappy.
    func remoteWriteTemplates() -> [[(bytes: [UInt8], timestampPositions: [Int])]] {
        let now = Int64(Date().timeIntervalSince1970 * 1000) * 1_000_000
        let perConnection = max(1, self.series / self.connections / self.batch) * self.batch
        return (0..<self.connections).map { connection in
            let keys = (0..<perConnection).map { offset -> SeriesKey in
                let id = connection * perConnection + offset
                var labels = [SeriesKey.Label("instance", "host-\(id % 500):9100"), .init("job", "bench")]
                for extra in 0..<max(0, self.labels - 3) {
                    labels.append(.init("label\(extra)", "value-\(id % (7 + extra))"))
                }
                return SeriesKey(name: "bench_metric_\(id % 50)", labels: labels + [.init("series", "\(id)")])
            }
            return stride(from: 0, to: keys.count, by: self.batch).map { start in
                RemoteWrite.compressedTemplate(
                    keys[start..<min(keys.count, start + self.batch)].enumerated().map { offset, key in
                        MetricPoint(series: key, time: Timestamp(nanoseconds: now), value: Double(offset % 10))
                    }
                )
            }
        }
    }

    /// OTLP/HTTP protobuf log requests: each source is one service.
    func otlpBodies(_ sources: [(name: String, lines: [[UInt8]])]) -> [[UInt8]] {
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        var cursors = [Int](repeating: 0, count: sources.count)
        let perStream = max(1, self.batch / sources.count)
        return (0..<64).map { request in
            var body: [UInt8] = []
            for (index, source) in sources.enumerated() {
                var records: [OTLP.Record] = []
                for offset in 0..<perStream {
                    let line = source.lines[cursors[index] % source.lines.count]
                    cursors[index] += 1
                    records.append(
                        .init(
                            time: Timestamp(nanoseconds: now + Int64(request * self.batch + offset) * 1000),
                            severity: "",
                            body: String(decoding: line, as: UTF8.self)
                        )
                    )
                }
                // Concatenated requests are one request with more resources (protobuf repeated fields).
                body += OTLP.encodeLogs(service: source.name, records)
            }
            return body
        }
    }

    /// The streams to send: each file is one stream; generated lines are dealt over `--streams` streams.
    func sourceLines() throws -> [(name: String, lines: [[UInt8]])] {
        if !self.lines.isEmpty {
            return try self.lines.map { path in
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw CLIError("cannot read \(path)")
                }
                let lines = data.split(separator: 0x0A).map { Array($0) }.filter { !$0.isEmpty }
                guard !lines.isEmpty else { throw CLIError("\(path) has no lines") }
                return (URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent, lines)
            }
        }
        var generator = SplitMix64(seed: 42)
        let shapes = [
            "INFO  [http-nio-8080-exec-%d] c.e.checkout.OrderService - order %d placed by user %d in %d ms",
            "DEBUG [pool-2-thread-%d] c.e.cache.Redis - cache hit for key session:%d (%d bytes) after %d us",
            "WARN  [http-nio-8080-exec-%d] c.e.payment.Client - retrying charge %d for account %d, attempt %d",
            "INFO  [scheduler-%d] c.e.inventory.Sync - synced %d items from warehouse %d in %d ms",
            "ERROR [http-nio-8080-exec-%d] c.e.payment.Client - charge %d failed for account %d: timeout after %d ms",
        ]
        let generated: [[UInt8]] = (0..<50_000).map { _ in
            var line = shapes[Int(generator.next() % UInt64(shapes.count))]
            while let range = line.range(of: "%d") {
                line.replaceSubrange(range, with: String(generator.next() % 10_000))
            }
            return Array(line.utf8)
        }
        return (0..<self.streams).map { stream in
            ("bench-\(stream)", stride(from: stream, to: generated.count, by: self.streams).map { generated[$0] })
        }
    }

    /// 64 pre-encoded request bodies; each holds `--batch` lines dealt evenly over the streams, every stream
    /// continuing where its previous request stopped.
    func encode(_ sources: [(name: String, lines: [[UInt8]])]) -> [[UInt8]] {
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        var bodies: [[UInt8]] = []
        var cursors = [Int](repeating: 0, count: sources.count)
        let perStream = max(1, self.batch / sources.count)
        for request in 0..<64 {
            var streams: [(labels: String, entries: [LogEntry])] = []
            for (index, source) in sources.enumerated() {
                var entries: [LogEntry] = []
                for offset in 0..<perStream {
                    entries.append(
                        LogEntry(
                            time: Timestamp(nanoseconds: now + Int64(request * self.batch + offset) * 1000),
                            line: source.lines[cursors[index] % source.lines.count]
                        )
                    )
                    cursors[index] += 1
                }
                streams.append(("{service_name=\"\(source.name)\", source=\"bench\"}", entries))
            }
            bodies.append(self.format == "json" ? Self.json(streams) : LokiPush.encodeProtobuf(streams))
        }
        return bodies
    }

    static func json(_ streams: [(labels: String, entries: [LogEntry])]) -> [UInt8] {
        var parts: [String] = []
        for (labels, entries) in streams {
            let service = labels.split(separator: "\"")[1]
            let values = entries.map { entry -> String in
                let line = String(decoding: entry.line, as: UTF8.self)
                let data = try! JSONSerialization.data(withJSONObject: [String(entry.time.nanoseconds), line])
                return String(decoding: data, as: UTF8.self)
            }
            parts.append("{\"stream\":{\"service_name\":\"\(service)\"},\"values\":[\(values.joined(separator: ","))]}")
        }
        return Array("{\"streams\":[\(parts.joined(separator: ","))]}".utf8)
    }
}

/// Reads `/api/v1/stats` of the server.
struct StatsClient {
    let client: SimpleHTTPClient
    let kind: String

    init(port: Int, kind: String = "logs") {
        self.client = SimpleHTTPClient(port: port)
        self.kind = kind
    }

    func processedLogs() throws -> Int {
        let response = try self.client.request("GET", "/api/v1/stats")
        guard response.status == 200,
            let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let logs = object[self.kind] as? [String: Any], let processed = logs["processed"] as? Int
        else { throw CLIError("unexpected /api/v1/stats answer: \(response.text.prefix(200))") }
        return processed
    }
}

/// Results gathered from the sender threads.
final class LockedResults: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var total = 0
    private(set) var latencies: [Double] = []
    private(set) var refused = 0
    private(set) var failures = 0
    private(set) var finished = 0

    func add(acked: Int, latencies: [Double], refused: Int, failures: Int) {
        self.lock.withLock {
            self.total += acked
            self.latencies += latencies
            self.refused += refused
            self.failures += failures
            self.finished += 1
        }
    }
}
