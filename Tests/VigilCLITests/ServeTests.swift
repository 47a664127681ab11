// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import VigilCore
import VigilIngest
import VigilServer
import VigilTestSupport

/// `vigil serve` as users run it: a real process on loopback, real HTTP.
@Suite(.serialized) struct ServeTests {
    /// Generated service-log lines of a few known events with changing values.
    static func lines(_ count: Int, seed: Int) -> [LogEntry] {
        let shapes = [
            "order %d placed by user %d in %d ms",
            "cache miss for key session:%d after %d us",
            "retrying charge %d for account %d, attempt %d",
            "ERROR charge %d failed: upstream timeout after %d ms",
        ]
        var state = UInt64(seed)
        return (0..<count).map { index in
            var line = shapes[index % shapes.count]
            while let range = line.range(of: "%d") {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                line.replaceSubrange(range, with: String(state >> 50))
            }
            return LogEntry(
                time: Timestamp(nanoseconds: 1_700_000_000_000_000_000 + Int64(seed * 1000 + index)),
                line: Array(line.utf8)
            )
        }
    }

    static func push(port: Int, seed: Int, lines: Int = 200, services: Int = 3) throws -> Int {
        let perService = lines / services
        let body = LokiPush.encodeProtobuf(
            (0..<services).map { service in
                ("{service_name=\"svc-\(service)\"}", Self.lines(perService, seed: seed * 10 + service))
            }
        )
        let response = try SimpleHTTPClient(port: port).request(
            "POST",
            "/loki/api/v1/push",
            headers: [("Content-Type", "application/x-protobuf")],
            body: body
        )
        return response.status == 204 ? perService * services : 0
    }

    func templates(_ server: ServerProcess) throws -> [String: Int] {
        let list = try server.json("/api/v1/templates?limit=100000") as? [[String: Any]] ?? []
        var counts: [String: Int] = [:]
        for template in list {
            let key = "\(template["service"] ?? "")/\(template["id"] ?? "")"
            counts[key] = template["count"] as? Int
        }
        return counts
    }

    /// kill -9 under load, restart: every acknowledged line is processed exactly once, and templates keep
    /// their IDs.
    @Test func crashUnderLoadLosesNothingAcknowledged() throws {
        let server = try ServerProcess(arguments: ["--no-host", "--checkpoint-seconds", "1", "--shards", "2"])
        try server.start()
        let sent = Counter()
        let acked = Counter()
        let stop = Counter()
        let port = server.port
        let senders = (0..<3).map { sender in
            Thread {
                var round = 0
                while stop.value == 0 {
                    round += 1
                    sent.add(198)
                    if let ok = try? Self.push(port: port, seed: sender * 1_000_000 + round) { acked.add(ok) }
                }
            }
        }
        for thread in senders { thread.start() }
        Thread.sleep(forTimeInterval: 2.5)  // a few checkpoints and template writes happen under load
        let before = try self.templates(server)
        Thread.sleep(forTimeInterval: 0.7)
        server.crash()
        stop.add(1)
        Thread.sleep(forTimeInterval: 0.3)  // senders see the connection fail and stop
        #expect(acked.value > 1000)
        #expect(!before.isEmpty)

        try server.start()
        try server.waitUntilDrained()
        let recovered = try server.stats()
        #expect(recovered.accepted >= acked.value, "every acknowledged line was accepted")
        #expect(recovered.accepted <= sent.value)
        #expect(recovered.processed == recovered.accepted)

        // A graceful stop writes every held line to the store; then the counts must add up exactly.
        #expect(try Self.push(port: server.port, seed: 999) == 198)
        #expect(server.stop() == 0)
        try server.start()
        let final = try server.stats()
        let after = try self.templates(server)
        #expect(after.values.reduce(0, +) == final.processed, "each processed line counted once")
        for (key, count) in before {
            #expect((after[key] ?? 0) >= count, "template \(key) kept its ID")
        }
        #expect(server.log().contains("recovered"))
        server.stop()
    }

    /// Sums the template counts of one service, waiting up to `timeout` for them to reach `expected`.
    func lines(of service: String, in server: ServerProcess, expected: Int, timeout: TimeInterval = 20) throws -> Int {
        let deadline = Date().addingTimeInterval(timeout)
        var total = 0
        while Date() < deadline {
            let list = try server.json("/api/v1/templates?limit=100000&service=\(service)") as? [[String: Any]] ?? []
            total = list.reduce(0) { $0 + ($1["count"] as? Int ?? 0) }
            if total >= expected { return total }
            Thread.sleep(forTimeInterval: 0.25)
        }
        return total
    }

    @Test func followsFilesThroughRotationAndTruncation() throws {
        let folder = try Scratch.folder("vigil-tail")
        let file = folder.appendingPathComponent("orders.log")
        func append(_ range: Range<Int>, to url: URL) throws {
            let text = range.map { "2026-11-23 10:00:00 INFO order \($0) placed\n" }.joined()
            if let handle = try? FileHandle(forWritingTo: url) {
                handle.seekToEndOfFile()
                handle.write(Data(text.utf8))
                try handle.close()
            } else {
                try Data(text.utf8).write(to: url)
            }
        }
        try append(0..<10, to: file)  // there before the start: not read (tail -F starts at the end)
        let server = try ServerProcess(arguments: ["--no-host", "--tail", folder.path + "/*.log"])
        try server.start()
        Thread.sleep(forTimeInterval: 0.6)
        try append(10..<60, to: file)
        Thread.sleep(forTimeInterval: 0.6)
        // Rotation: the file is renamed and a new one takes its name.
        try FileManager.default.moveItem(at: file, to: folder.appendingPathComponent("orders.log.1"))
        try append(60..<100, to: file)
        Thread.sleep(forTimeInterval: 0.6)
        // A second file matching the pattern appears.
        try append(0..<25, to: folder.appendingPathComponent("billing.log"))
        #expect(try self.lines(of: "orders", in: server, expected: 90) == 90)
        #expect(try self.lines(of: "billing", in: server, expected: 25) == 25)
        server.stop()
    }

    @Test func readsStandardInput() throws {
        let pipe = Pipe()
        let server = try ServerProcess(arguments: ["--no-host", "--tail", "-"])
        server.standardInput = pipe
        try server.start()
        let text = (0..<40).map { "job \($0) finished in \($0 * 3) ms\n" }.joined()
        pipe.fileHandleForWriting.write(Data(text.utf8))
        try pipe.fileHandleForWriting.close()
        #expect(try self.lines(of: "stdin", in: server, expected: 40) == 40)
        server.stop()
    }

    @Test func aSecondServerOnTheSameDataDirectoryIsRefused() throws {
        let server = try ServerProcess(arguments: ["--no-host"])
        try server.start()
        let port = try ServerProcess.freePort()
        let second = try Vigil.run(
            ["serve", "--no-host", "--port", String(port), "--data-dir", server.dataDirectory.path],
            input: ""
        )
        #expect(second.status != 0)
        #expect(second.stderr.contains("in use by another vigil"), "\(second.stderr)")
        #expect(try server.stats().accepted == 0, "the first server is unharmed")
        server.stop()
    }

    @Test func aBadConfigurationFileStopsStartWithItsReason() throws {
        let file = Scratch.path("vigil", suffix: "yaml")
        try Data("port: 3100\nretension: {samples_days: 3}\n".utf8).write(to: file)
        let result = try Vigil.run(["serve", "--config", file.path], input: "")
        #expect(result.status != 0)
        #expect(result.stderr.contains("unknown setting \"retension\""))
        let missing = try Vigil.run(["serve", "--config", "/nonexistent/vigil.yaml"], input: "")
        #expect(missing.status != 0 && missing.stderr.contains("cannot read the configuration file"))
    }

    @Test func changeEventsAreStoredAndListed() throws {
        let server = try ServerProcess(arguments: ["--no-host"])
        try server.start()
        let client = server.client()
        let body = """
            [{"service":"checkout","kind":"deploy","version":"v2.4.1","time":"2026-11-23T14:31:45Z","description":"CI run 812"},
             {"service":"auth-api","kind":"config","time":1795000000}]
            """
        let response = try client.request(
            "POST",
            "/api/v1/changes",
            headers: [("Content-Type", "application/json")],
            body: Array(body.utf8)
        )
        #expect(response.status == 202)
        let bad = try client.request(
            "POST",
            "/api/v1/changes",
            body: Array("{\"service\":\"x\",\"kind\":\"reboot\"}".utf8)
        )
        #expect(bad.status == 400 && bad.text.contains("deploy, config, flag, scale"))
        try server.waitUntilDrained()
        #expect(try server.stats("changes").processed == 2)
        // Stored on the next tick (once a second); a restart must not duplicate them.
        Thread.sleep(forTimeInterval: 1.5)
        server.stop()
        try server.start()
        let listed = try server.json("/api/v1/changes?service=checkout") as? [[String: Any]] ?? []
        #expect(listed.count == 1)
        #expect(listed.first?["version"] as? String == "v2.4.1")
        #expect(listed.first?["time"] as? String == "2026-11-23T14:31:45Z")
        #expect((try server.json("/api/v1/changes") as? [Any])?.count == 2)
        server.stop()
    }

    @Test func hostileInputGetsClearErrors() throws {
        let server = try ServerProcess(arguments: ["--no-host", "--max-body-bytes", "4096", "--max-in-flight", "1"])
        try server.start()
        let client = server.client()
        let json = [("Content-Type", "application/json")]
        let malformed = try client.request(
            "POST",
            "/loki/api/v1/push",
            headers: json,
            body: Array("{\"streams\":[".utf8)
        )
        #expect(malformed.status == 400)
        #expect(malformed.text.contains("invalid JSON"))
        let badShape = try client.request(
            "POST",
            "/loki/api/v1/push",
            headers: json,
            body: Array("{\"streams\":1}".utf8)
        )
        #expect(badShape.status == 400 && badShape.text.contains("streams"))
        let garbage = try client.request("POST", "/loki/api/v1/push", body: [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 1, 2])
        #expect(garbage.status == 400 && garbage.text.contains("snappy"))
        let big = try client.request(
            "POST",
            "/loki/api/v1/push",
            headers: json,
            body: [UInt8](repeating: 0x20, count: 10_000)
        )
        #expect(big.status == 413)
        let media = try client.request(
            "POST",
            "/loki/api/v1/push",
            headers: [("Content-Type", "text/plain")],
            body: [1]
        )
        #expect(media.status == 415)
        for path in [
            "/api/v1/templates?limit=abc", "/api/v1/anomalies?from=yesterday", "/api/v1/series?series=x&limit=0",
        ] {
            let response = try client.request("GET", path)
            #expect(response.status == 400, "\(path)")
            #expect(response.text.contains("must be"), "\(path)")
        }
        // Overload: with room for one line in flight, concurrent pushes get 429 with Retry-After.
        let refused = Counter()
        let acknowledged = Counter()
        let port = server.port
        let threads = (0..<4).map { sender in
            Thread {
                let client = SimpleHTTPClient(port: port)
                for round in 0..<40 {
                    let body = LokiPush.encodeProtobuf([
                        ("{app=\"a\(sender)\"}", Self.lines(60, seed: sender * 100 + round))
                    ])
                    guard let response = try? client.request("POST", "/loki/api/v1/push", body: body) else { continue }
                    if response.status == 429 && response.headers["retry-after"] == "1" { refused.add(1) }
                    if response.status == 204 { acknowledged.add(60) }
                }
            }
        }
        for thread in threads { thread.start() }
        while threads.contains(where: { !$0.isFinished }) { Thread.sleep(forTimeInterval: 0.05) }
        #expect(refused.value > 0)
        try server.waitUntilDrained()
        let stats = try server.stats()
        #expect(stats.accepted == acknowledged.value, "refused requests were not half-accepted")
        #expect(stats.rejected >= refused.value * 60)
        // A line whose address reaches back into an IP the PII masker just replaced once stopped the server.
        let glued =
            #"{"streams": [{"stream": {"service_name": "glued"}, "values": [["1700000000000000000", "from 10.0.0.1.x@example.com"]]}]}"#
        #expect(try client.request("POST", "/loki/api/v1/push", headers: json, body: Array(glued.utf8)).status == 204)
        var mined: [String] = []
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline && mined.isEmpty {
            let stored = (try? server.json("/api/v1/templates?service=glued")) as? [[String: Any]] ?? []
            mined = stored.compactMap { $0["text"] as? String }
            if mined.isEmpty { Thread.sleep(forTimeInterval: 0.2) }
        }
        #expect(mined == ["from <ip><email>"], "the server mined the line and lives: \(mined)")
        server.stop()
    }
}

extension ServeTests {
    /// `log_templates`: lines a template of the user's matches are stored under it, named by its own text.
    @Test func logTemplatesOfYourOwnTakeTheLinesTheyMatch() throws {
        let folder = try Scratch.folder("vigil-tpl")
        let config = folder.appendingPathComponent("vigil.yaml")
        try Data("log_templates: [\"card declined for order <*>\"]\n".utf8).write(to: config)
        let vigil = try ServerProcess(arguments: ["--no-host", "--config", config.path])
        try vigil.start()
        defer { vigil.stop() }
        let now = Int64(Date().timeIntervalSince1970) * 1_000_000_000
        let lines = (0..<40).map { index in
            index % 2 == 0
                ? "ERROR card declined for order \(1000 + index) (code=\(index % 3 == 0 ? "51" : "05 insufficient funds"))"
                : "INFO order \(1000 + index) shipped to warehouse \(index % 4)"
        }
        try vigil.push(lines: lines, service: "payments", start: now)
        var pinned: [String: Any]?
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline && pinned == nil {
            let stored = try vigil.json("/api/v1/templates?service=payments") as? [[String: Any]] ?? []
            pinned = stored.first { $0["text"] as? String == "card declined for order <*>" }
            if pinned == nil { Thread.sleep(forTimeInterval: 0.2) }
        }
        #expect(pinned?["count"] as? Int == 20, "\(pinned ?? [:])")
        #expect(pinned?["id"] as? String == Template.id(for: "card declined for order <*>"))
    }

    /// A request that stops halfway through its usual three steps reaches the API as a sequence anomaly: forty
    /// minutes of JSON logs by `request_id` (data time two hours ago), one request cut after its second step.
    @Test func aRequestThatStopsHalfwayIsASequenceAnomaly() throws {
        let vigil = try ServerProcess(arguments: ["--no-host"])
        try vigil.start()
        defer { vigil.stop() }
        let start = (Int64(Date().timeIntervalSince1970) - 7200) / 60 * 60
        var entries: [LogEntry] = []
        for minute in 0..<Int64(40) {
            for request in 0..<Int64(10) {
                let id = minute * 10 + request
                let steps = [
                    "order \(id) created", "stock reserved for order \(id)", "payment authorised for order \(id)",
                ]
                for (index, message) in steps.enumerated() where !(id == 304 && index == 2) {
                    let seconds = start + minute * 60 + request * 5 + Int64(index)
                    let line = #"{"level":"info","request_id":"req-\#(id)","msg":"\#(message)"}"#
                    entries.append(
                        LogEntry(time: Timestamp(nanoseconds: seconds * 1_000_000_000), line: Array(line.utf8))
                    )
                }
            }
        }
        try vigil.push(entries: entries, service: "checkout")
        var found: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline && found.isEmpty {
            let anomalies = try vigil.json("/api/v1/anomalies?service=checkout") as? [[String: Any]] ?? []
            found = anomalies.filter { $0["kind"] as? String == "sequence_anomaly" }
            if found.isEmpty { Thread.sleep(forTimeInterval: 0.2) }
        }
        #expect(found.count == 1, "\(found)")
        let evidence = found.first?["evidence"] as? [String: Any]
        let summary = evidence?["summary"] as? String ?? ""
        #expect(summary.contains("a session by request_id ended after \"stock reserved for order <*>\""), "\(summary)")
        #expect(found.first?["subject"] as? String == Template.id(for: "stock reserved for order <*>"))
    }

    /// `series_rules` from the configuration file reach the detectors: a synthetic probe is muted, and a queue
    /// that spikes and drains within its minimum duration is not reported, while one whose step holds is, late and
    /// dated at its start.
    @Test func seriesRulesMuteAndHoldBackWhatTheyMatch() throws {
        let folder = try Scratch.folder("vigil-rules")
        let config = folder.appendingPathComponent("vigil.yaml")
        try Data(
            """
            series_rules:
              - match: {service: "synthetic-*"}
                mute: true
              - match: {service: "queue-*", __name__: depth}
                min_duration: 30s
            """.utf8
        ).write(to: config)
        let vigil = try ServerProcess(arguments: ["--no-host", "--config", config.path])
        try vigil.start()
        defer { vigil.stop() }
        // 400 points a second apart up to a minute ago; the step (or blip) comes at point 300.
        let end = Int64(Date().timeIntervalSince1970) - 60
        func gauge(_ service: String, _ name: String, _ fault: (Int) -> Double) -> OTLPGauge {
            let points = (0..<400).map { index -> (seconds: Int64, value: Double) in
                let value: Double = index < 300 ? 10 + Double(index % 3) : fault(index)
                return (end - Int64(399 - index), value)
            }
            return OTLPGauge(service: service, name: name, points: points)
        }
        try vigil.send([
            gauge("checkout", "latency") { _ in 100 },
            gauge("synthetic-probe", "latency") { _ in 100 },
            gauge("queue-blip", "depth") { $0 < 320 ? 100 : 10 },
            gauge("queue-step", "depth") { _ in 100 },
        ])
        var found: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            found = (try vigil.json("/api/v1/anomalies") as? [[String: Any]] ?? [])
                .filter { $0["kind"] as? String == "metric_deviation" }
            if Set(found.compactMap { $0["service"] as? String }).count >= 2 { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        Thread.sleep(forTimeInterval: 2)  // anything else the same batch held
        found = (try vigil.json("/api/v1/anomalies") as? [[String: Any]] ?? [])
            .filter { $0["kind"] as? String == "metric_deviation" }
        #expect(Set(found.compactMap { $0["service"] as? String }) == ["checkout", "queue-step"], "\(found)")
        // Newest first: the held-back alert, dated at the step, then the change-held report a minute later.
        let step = found.filter { $0["service"] as? String == "queue-step" }.reversed()
            .map { ($0["time"] as? String ?? "", ($0["evidence"] as? [String: Any])?["summary"] as? String ?? "") }
        let start = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(end - 99)))
        #expect(step.count == 2, "\(found)")
        #expect(
            step.first?.0 == start
                && step.first?.1.hasSuffix("it stayed beyond the band for 30 s, as its rule asks") == true,
            "\(step)"
        )
        #expect(step.last?.1.hasSuffix("the change held") == true, "\(step)")

        // Rules that cannot work are refused with the reason.
        for (rule, reason) in [
            ("{match: {service: x}}", "series_rules[0] does nothing"),
            ("{match: {service: x}, alert_threshold: 2}", "series_rules[0].alert_threshold must be a score in (0, 1]"),
            ("{match: {service: x}, min_duration: soon}", "series_rules[0].min_duration must be a duration"),
            ("{match: x, mute: true}", "series_rules[0].match must be a mapping"),
            ("{match: {}, mute: true, silence: true}", "unknown setting \"series_rules[0].silence\""),
        ] {
            try Data("series_rules: [\(rule)]\n".utf8).write(to: config)
            let refused = try Vigil.run(["serve", "--no-host", "--config", config.path])
            #expect(refused.status != 0 && refused.stderr.contains(reason), "\(rule): \(refused.stderr)")
        }
    }
}

/// A thread-safe counter for sender threads.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    var value: Int { self.lock.withLock { self.count } }

    func add(_ amount: Int) { self.lock.withLock { self.count += amount } }
}
