// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
public import VigilCore
public import VigilStorage

/// What every ``Store`` must do, checked the same way on the SQLite and the PostgreSQL store. Each check takes a
/// new, empty store.
public enum StoreContract {
    /// Every check, by name, for parameterised tests.
    public static let checks: [(name: String, run: @Sendable (any Store) throws -> Void)] = [
        ("writes are idempotent", writesAreIdempotent),
        ("a batch may repeat a key; the last value wins", aBatchMayRepeatAKey),
        ("checkpoints round-trip", checkpointsRoundTrip),
        ("changes, alerts and edges round-trip", changesAlertsAndEdgesRoundTrip),
        ("filters and limits", filtersAndLimits),
        ("old samples are averaged into five-minute buckets", oldSamplesAreAveragedIntoFiveMinuteBuckets),
        ("retention drops old data", retentionDropsOldData),
        ("the audit log keeps every record in order and outlives retention", auditLogKeepsEveryRecordInOrder),
        ("announcements are replaced and expire with findings", announcementsAreReplacedAndExpire),
        ("remediation runs are replaced and found by state", remediationRunsAreReplacedAndFoundByState),
    ]

    static func writesAreIdempotent(_ store: any Store) throws {
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
        #expect(templates.first?.firstSeen == Timestamp(nanoseconds: 1).iso8601)
        #expect(try store.anomalies(service: nil, from: nil, to: nil, limit: 10) == [anomaly])
        let listed = try store.series(service: nil, name: "host_load1")
        #expect(listed.map(\.samples) == [1])
        #expect(listed.map(\.lastValue) == [0.5])
        #expect(try store.samples(series: series.text, from: nil, to: nil, limit: 10).map(\.1) == [0.5])
        #expect(try store.templates(service: "other", limit: 10).isEmpty)
    }

    static func aBatchMayRepeatAKey(_ store: any Store) throws {
        var miner = TemplateMiner()
        miner.add("disk full", severity: .error, time: Timestamp(nanoseconds: 1))
        let first = miner.templates()
        miner.add("disk full", severity: .error, time: Timestamp(nanoseconds: 2))
        let second = miner.templates()
        let stream = StreamKey(service: "db", source: "syslog")
        let series = SeriesKey(name: "load", labels: [.init("service", "db")])
        var batch = StoreBatch(
            templates: [(stream, first), (stream, second)],
            samples: [
                MetricPoint(series: series, time: Timestamp(nanoseconds: 10), value: 1),
                MetricPoint(series: series, time: Timestamp(nanoseconds: 10), value: 2),
            ]
        )
        let alert = { (status: Alert.Status) in
            Alert(
                fingerprint: "f1",
                name: "DiskFull",
                service: "db",
                status: status,
                labels: [.init("severity", "page")],
                summary: status == .firing ? "disk 99 %" : "disk 80 %",
                startsAt: Timestamp(nanoseconds: 5),
                endsAt: status == .firing ? nil : Timestamp(nanoseconds: 9)
            )
        }
        batch.alerts = [alert(.firing), alert(.resolved)]
        try store.write(batch)
        #expect(try store.templates(service: "db", limit: 10).map(\.count) == [2])
        #expect(try store.samples(series: series.text, from: nil, to: nil, limit: 10).map(\.1) == [2])
        #expect(try store.alerts(service: "db", status: nil, limit: 10) == [alert(.resolved)])
        // A series seen in an earlier batch keeps its identity.
        try store.write(StoreBatch(samples: [MetricPoint(series: series, time: Timestamp(nanoseconds: 20), value: 3)]))
        #expect(try store.series(service: "db", name: nil).map(\.samples) == [2])
    }

    static func checkpointsRoundTrip(_ store: any Store) throws {
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
        try store.saveCheckpoint(Checkpoint(walSequence: 41, shards: [], counters: IngestCounters()))
        try store.saveCheckpoint(
            Checkpoint(walSequence: 42, shards: [shard.snapshot(findings: &findings)], counters: counters)
        )
        let loaded = try #require(try store.loadCheckpoint())
        #expect(loaded.walSequence == 42)
        #expect(loaded.counters == counters)
        #expect(loaded.shards.first?.processedLines == 1)
    }

    static func changesAlertsAndEdgesRoundTrip(_ store: any Store) throws {
        let minute: Int64 = 60_000_000_000
        let deploy = ChangeEvent(
            service: "checkout",
            kind: .deploy,
            version: "v2",
            time: Timestamp(nanoseconds: 3 * minute),
            description: "rollout"
        )
        let flag = ChangeEvent(
            service: "checkout",
            kind: .config,
            version: nil,
            time: Timestamp(nanoseconds: 4 * minute)
        )
        var latency = LatencyHistogram()
        for _ in 0..<9 { latency.add(0.010) }
        latency.add(2)
        var batch = StoreBatch(changes: [deploy, flag, deploy])
        batch.edges = [
            ServiceGraph.EdgeMinute(
                minute: Timestamp(nanoseconds: minute),
                caller: "frontend",
                callee: "checkout",
                calls: 10,
                errors: 1,
                latency: latency
            )
        ]
        batch.partition = 0
        try store.write(batch)
        batch.changes = []
        batch.partition = 1  // another shard's share of the same minute adds to it
        try store.write(batch)
        #expect(try store.changes(service: "checkout", from: nil, to: nil, limit: 10) == [flag, deploy])
        #expect(
            try store.changes(service: nil, from: Timestamp(nanoseconds: 3 * minute + 1), to: nil, limit: 10) == [flag]
        )
        let edges = try store.topology(from: Timestamp(nanoseconds: 0), to: Timestamp(nanoseconds: 2 * minute))
        #expect(edges.map { "\($0.caller)->\($0.callee)" } == ["frontend->checkout"])
        #expect(edges.first?.calls == 20)
        #expect(edges.first?.errors == 2)
        #expect((edges.first?.latencyP99Seconds ?? 0) > 1)
        #expect(
            try store.topology(from: Timestamp(nanoseconds: 2 * minute), to: Timestamp(nanoseconds: 9 * minute)).isEmpty
        )
    }

    static func filtersAndLimits(_ store: any Store) throws {
        let second: Int64 = 1_000_000_000
        var anomalies: [Anomaly] = []
        for index in 0..<5 {
            let evidence = Evidence(observed: Double(index), expected: 0, summary: "spike \(index)")
            let time = Timestamp(nanoseconds: Int64(index) * second)
            let service = index % 2 == 0 ? "even" : "odd"
            anomalies.append(
                Anomaly(
                    kind: .metricDeviation,
                    service: service,
                    subject: "latency",
                    time: time,
                    score: 0.5,
                    evidence: evidence
                )
            )
        }
        try store.write(StoreBatch(anomalies: anomalies))
        #expect(
            try store.anomalies(service: "even", from: nil, to: nil, limit: 10).map(\.evidence.observed) == [4, 2, 0]
        )
        #expect(try store.anomalies(service: nil, from: nil, to: nil, limit: 2).map(\.evidence.observed) == [4, 3])
        #expect(
            try store.anomalies(
                service: nil,
                from: Timestamp(nanoseconds: second),
                to: Timestamp(nanoseconds: 3 * second),
                limit: 10
            ).map(\.evidence.observed) == [3, 2, 1]
        )
        let series = SeriesKey(name: "rps", labels: [.init("service", "odd")])
        try store.write(
            StoreBatch(
                samples: (0..<5).map {
                    MetricPoint(series: series, time: Timestamp(nanoseconds: Int64($0) * second), value: Double($0))
                }
            )
        )
        #expect(
            try store.samples(
                series: series.text,
                from: Timestamp(nanoseconds: second),
                to: Timestamp(nanoseconds: 3 * second),
                limit: 2
            ).map(\.1) == [1, 2]
        )
        #expect(try store.series(service: "odd", name: nil).map(\.lastValue) == [4])
        #expect(try store.series(service: "even", name: nil).isEmpty)
        #expect(try store.samples(series: "unknown", from: nil, to: nil, limit: 10).isEmpty)
    }

    static func oldSamplesAreAveragedIntoFiveMinuteBuckets(_ store: any Store) throws {
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

    static func retentionDropsOldData(_ store: any Store) throws {
        let series = SeriesKey(name: "x")
        let day: Int64 = 86_400_000_000_000
        try store.write(
            StoreBatch(
                samples: [
                    MetricPoint(series: series, time: Timestamp(nanoseconds: 1 * day), value: 1),
                    MetricPoint(series: series, time: Timestamp(nanoseconds: 20 * day), value: 2),
                ],
                changes: [
                    ChangeEvent(service: "a", kind: .deploy, version: "1", time: Timestamp(nanoseconds: 1 * day)),
                    ChangeEvent(service: "a", kind: .deploy, version: "2", time: Timestamp(nanoseconds: 40 * day)),
                ]
            )
        )
        try store.applyRetention(now: Timestamp(nanoseconds: 41 * day))
        #expect(try store.samples(series: "x", from: nil, to: nil, limit: 10).isEmpty)
        #expect(try store.changes(service: nil, from: nil, to: nil, limit: 10).map(\.version) == ["2"])
    }

    static func auditLogKeepsEveryRecordInOrder(_ store: any Store) throws {
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

    static func announcementsAreReplacedAndExpire(_ store: any Store) throws {
        #expect(try store.announcements() == [:])
        let day = Int64(86_400_000_000_000)
        try store.recordAnnouncements(["inc-1": "open|3|auth", "inc-2": "open|1|db"], at: Timestamp(nanoseconds: day))
        try store.recordAnnouncements(["inc-1": "resolved|4|auth"], at: Timestamp(nanoseconds: 40 * day))
        #expect(try store.announcements() == ["inc-1": "resolved|4|auth", "inc-2": "open|1|db"])
        // Thirty days of findings are kept: the one last told on day 1 goes, the one told on day 40 stays.
        try store.applyRetention(now: Timestamp(nanoseconds: 45 * day))
        #expect(try store.announcements() == ["inc-1": "resolved|4|auth"])
    }

    static func remediationRunsAreReplacedAndFoundByState(_ store: any Store) throws {
        let day = Int64(86_400_000_000_000)
        // A deploy of payment, then its errors and its caller's: one incident rooted at payment.
        var correlator = IncidentCorrelator()
        correlator.addCall(caller: "checkout", callee: "payment")
        correlator.add(ChangeEvent(service: "payment", kind: .deploy, version: "v2", time: Timestamp(nanoseconds: day)))
        for index in 0..<5 {
            for (service, lag) in [("payment", 60), ("checkout", 80)] {
                correlator.add(
                    Anomaly(
                        kind: .metricDeviation,
                        service: service,
                        subject: "http_errors_ratio{service=\"\(service)\"}",
                        time: Timestamp(nanoseconds: day + Int64(lag + index * 10) * 1_000_000_000),
                        score: 0.95,
                        evidence: Evidence(observed: 0.3, expected: 0.01, summary: "errors 30 %, expected 1 %")
                    )
                )
            }
        }
        let runbook = Runbook(
            name: "roll-back",
            match: .init(triggers: [.deploy]),
            level: .approve,
            risk: .high,
            steps: [.init(name: "undo", action: .command(["kubectl", "rollout", "undo", "deployment/{{service}}"]))]
        )
        let incident = try #require(correlator.incidents().first)
        let plan = try #require(
            RemediationPolicy(maximumLevel: .approve).plan(
                for: incident,
                runbooks: [runbook],
                history: [],
                now: Timestamp(nanoseconds: day)
            )
        )
        var first = RemediationRun(id: "run-1", plan: plan, at: Timestamp(nanoseconds: day))
        _ = first.start(at: Timestamp(nanoseconds: day))
        var second = RemediationRun(id: "run-2", plan: plan, at: Timestamp(nanoseconds: 40 * day))
        _ = second.start(at: Timestamp(nanoseconds: 40 * day))
        try store.saveRuns([second, first])
        #expect(try store.savedRuns(in: .awaitingApproval) == [first, second])
        _ = second.handle(.rejected(by: "alice", reason: "not now"), at: Timestamp(nanoseconds: 41 * day))
        try store.saveRuns([second])
        #expect(try store.savedRuns(in: .awaitingApproval) == [first])
        #expect(try store.savedRuns(in: .rejected) == [second])
        try store.applyRetention(now: Timestamp(nanoseconds: 45 * day))
        #expect(try store.savedRuns(in: .awaitingApproval) == [])
        #expect(try store.savedRuns(in: .rejected) == [second])
    }
}
