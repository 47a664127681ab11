// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import VigilCore
import VigilStorage

@Suite struct SQLiteStoreTests {
    func store() throws -> SQLiteStore {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-\(UUID().uuidString).sqlite")
        return try SQLiteStore(path: path.path)
    }

    @Test func writesAreIdempotent() throws {
        let store = try self.store()
        var miner = TemplateMiner()
        for index in 0..<10 { miner.add("user \(index) logged in", severity: .info, time: Timestamp(nanoseconds: 1)) }
        miner.consolidate()
        let stream = StreamKey(service: "auth", source: "loki")
        let series = SeriesKey(name: "host_load1", labels: [.init("host", "a")])
        let anomaly = Anomaly(
            kind: .silence,
            service: "auth",
            subject: "auth/loki",
            time: Timestamp(nanoseconds: 5_000_000_000),
            score: 0.9,
            evidence: Evidence(observed: 0, expected: 12, summary: "quiet")
        )
        let batch = StoreBatch(
            templates: [(stream, miner.templates())],
            samples: [MetricPoint(series: series, time: Timestamp(nanoseconds: 1_000), value: 0.5)],
            anomalies: [anomaly]
        )
        try store.write(batch)
        try store.write(batch)  // a replay after a crash writes the same output again
        let templates = try store.templates(service: "auth", limit: 10)
        #expect(templates.map(\.text) == ["user <*> logged in"])
        #expect(templates.first?.count == 10)
        #expect(try store.anomalies(service: nil, from: nil, to: nil, limit: 10) == [anomaly])
        let listed = try store.series(service: nil, name: "host_load1")
        #expect(listed.map(\.samples) == [1])
        #expect(try store.samples(series: series.text, from: nil, to: nil, limit: 10).map(\.1) == [0.5])
        #expect(try store.templates(service: "other", limit: 10).isEmpty)
    }

    @Test func checkpointsRoundTrip() throws {
        let store = try self.store()
        #expect(try store.loadCheckpoint() == nil)
        var shard = PipelineShard()
        var findings: [Anomaly] = []
        shard.process(
            LogBatch(
                stream: StreamKey(service: "a", source: "b"),
                entries: [LogEntry(time: Timestamp(nanoseconds: 1), line: Array("hello world".utf8))]
            ),
            findings: &findings
        )
        var counters = IngestCounters()
        counters.logs.accepted = 1
        try store.saveCheckpoint(Checkpoint(walSequence: 42, shards: [shard.snapshot()], counters: counters))
        let loaded = try #require(try store.loadCheckpoint())
        #expect(loaded.walSequence == 42)
        #expect(loaded.counters == counters)
        #expect(loaded.shards.first?.processedLines == 1)
    }

    @Test func oldSamplesAreAveragedIntoFiveMinuteBuckets() throws {
        let store = try self.store()
        let series = SeriesKey(name: "load")
        let day: Int64 = 86_400_000_000_000
        let second: Int64 = 1_000_000_000
        // Ten minutes at 10 s of an old day (values 0…59), and one recent sample.
        var points = (0..<60).map {
            MetricPoint(series: series, time: Timestamp(nanoseconds: day + Int64($0) * 10 * second), value: Double($0))
        }
        points.append(MetricPoint(series: series, time: Timestamp(nanoseconds: 3 * day), value: 7))
        try store.write(StoreBatch(samples: points))
        try store.applyRetention(now: Timestamp(nanoseconds: 3 * day + 1))
        let kept = try store.samples(series: "load", from: nil, to: nil, limit: 100)
        #expect(kept.map(\.0.nanoseconds) == [day, day + 300 * second, 3 * day])
        #expect(kept.map(\.1) == [14.5, 44.5, 7])
        try store.applyRetention(now: Timestamp(nanoseconds: 3 * day + 2))  // again: nothing changes
        #expect(try store.samples(series: "load", from: nil, to: nil, limit: 100).map(\.1) == [14.5, 44.5, 7])
    }

    @Test func retentionDropsOldData() throws {
        let store = try self.store()
        let series = SeriesKey(name: "x")
        let day: Int64 = 86_400_000_000_000
        try store.write(
            StoreBatch(samples: [
                MetricPoint(series: series, time: Timestamp(nanoseconds: 1 * day), value: 1),
                MetricPoint(series: series, time: Timestamp(nanoseconds: 20 * day), value: 2),
            ])
        )
        try store.applyRetention(now: Timestamp(nanoseconds: 21 * day))
        #expect(try store.samples(series: "x", from: nil, to: nil, limit: 10).map(\.1) == [2])
    }

    @Test func theAuditLogKeepsEveryRecordInOrderAndOutlivesRetention() throws {
        let store = try self.store()
        let record = { (second: Int64, run: String, state: String, actor: String) in
            AuditRecord(
                time: Timestamp(nanoseconds: second * 1_000_000_000),
                run: run,
                incident: "inc-1",
                runbook: "restart",
                service: "payment",
                state: state,
                actor: actor,
                what: "\(state) by \(actor)"
            )
        }
        try store.appendAudit([record(1, "a", "awaiting_approval", "vigil"), record(2, "b", "suggested", "vigil")])
        // The same time twice: the order written is the order kept.
        try store.appendAudit([record(3, "a", "running", "alice"), record(3, "a", "succeeded", "vigil")])
        #expect(
            try store.audit(run: nil, limit: 10).map(\.state) == [
                "succeeded", "running", "suggested", "awaiting_approval",
            ]
        )
        #expect(
            try store.audit(run: "a", limit: 2) == [
                record(3, "a", "succeeded", "vigil"), record(3, "a", "running", "alice"),
            ]
        )
        try store.applyRetention(now: Timestamp(nanoseconds: 400 * 86_400_000_000_000))
        #expect(try store.audit(run: nil, limit: 10).count == 4)
    }
}
