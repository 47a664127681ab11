// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Foundation
import VigilCore
import VigilIngest
import VigilServer

/// `vigil bench-ingest`: a Loki-push load generator for a running `vigil serve`.
struct BenchIngest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-ingest",
        abstract: "Push Loki batches at a running vigil serve and report throughput and latency.",
        discussion: """
            Pre-encodes requests (snappy protobuf by default) from the lines of --lines (or from generated \
            service-log lines), sends them over keep-alive connections for --duration seconds, then waits until \
            the server has processed everything it acknowledged. Prints lines/s acknowledged, lines/s processed \
            (from /api/v1/stats), acknowledgement latency percentiles, refusals, and the server's peak RSS when \
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

    @Option(help: "The server's process ID, to report its peak resident memory (VmHWM).")
    var serverPid: Int?

    func validate() throws {
        guard self.duration > 0, self.connections > 0, self.batch > 0, self.streams > 0 else {
            throw ValidationError("--duration, --connections, --batch and --streams must be positive")
        }
        guard ["protobuf", "json"].contains(self.format) else { throw ValidationError("--format: protobuf or json") }
    }

    func run() throws {
        let source = try self.sourceLines()
        let bodies = self.encode(source)
        let linesPerRequest = max(1, self.batch / source.count) * source.count
        let counter = StatsClient(port: self.port)
        let before = try counter.processedLogs()
        let start = Date()
        let deadline = start.addingTimeInterval(self.duration)
        let results = LockedResults()
        let threads = (0..<self.connections).map { connection in
            Thread {
                let client = SimpleHTTPClient(port: self.port)
                var index = connection
                var latencies: [Double] = []
                var acked = 0
                var refused = 0
                var failures = 0
                while Date() < deadline {
                    let body = bodies[index % bodies.count]
                    index += self.connections
                    let sent = Date()
                    do {
                        let response = try client.request(
                            "POST",
                            "/loki/api/v1/push",
                            headers: [
                                ("Content-Type", self.format == "json" ? "application/json" : "application/x-protobuf")
                            ],
                            body: body
                        )
                        latencies.append(Date().timeIntervalSince(sent))
                        if response.status == 204 {
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
        guard var processed = (try? counter.processedLogs()).map({ $0 - before }) else {
            print(
                "acknowledged: \(acked) lines in \(String(format: "%.1f", sendSeconds)) s; the server no longer answers"
            )
            throw ExitCode(2)
        }
        while processed < acked && Date().timeIntervalSince(start) < self.duration * 3 + 30 {
            Thread.sleep(forTimeInterval: 0.2)
            processed = try counter.processedLogs() - before
        }
        let totalSeconds = Date().timeIntervalSince(start)
        let latencies = results.latencies.sorted()
        func percentile(_ p: Double) -> String {
            guard !latencies.isEmpty else { return "-" }
            let value = latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
            return String(format: "%.1f ms", value * 1000)
        }
        print(
            "requests: \(latencies.count) of \(linesPerRequest) lines over \(source.count) streams, \(self.connections) connections, \(self.format)"
        )
        print(
            String(
                format: "acknowledged: %d lines in %.1f s = %.0f lines/s",
                acked,
                sendSeconds,
                Double(acked) / sendSeconds
            )
        )
        print(
            String(
                format: "processed:    %d lines in %.1f s = %.0f lines/s (send time plus drain)",
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
            throw ValidationError("the server processed \(processed) of \(acked) acknowledged lines before the timeout")
        }
    }

    /// The streams to send: each file is one stream; generated lines are dealt over `--streams` streams.
    func sourceLines() throws -> [(name: String, lines: [[UInt8]])] {
        if !self.lines.isEmpty {
            return try self.lines.map { path in
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ValidationError("cannot read \(path)")
                }
                let lines = data.split(separator: 0x0A).map { Array($0) }.filter { !$0.isEmpty }
                guard !lines.isEmpty else { throw ValidationError("\(path) has no lines") }
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

    init(port: Int) { self.client = SimpleHTTPClient(port: port) }

    func processedLogs() throws -> Int {
        let response = try self.client.request("GET", "/api/v1/stats")
        guard response.status == 200,
            let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let logs = object["logs"] as? [String: Any], let processed = logs["processed"] as? Int
        else { throw ValidationError("unexpected /api/v1/stats answer: \(response.text.prefix(200))") }
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
