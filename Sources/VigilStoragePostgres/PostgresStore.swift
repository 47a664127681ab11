// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization
public import VigilCore
public import VigilStorage

/// The scale-out store: the ``Store`` protocol on PostgreSQL, so several `vigil serve` workers share one
/// database. Each worker keeps its own checkpoint (by worker name) and its own share of the service graph; every
/// other table is shared, and every write is an idempotent upsert, as in the SQLite store.
///
/// Calls block the calling thread, as the SQLite store's do; the connection's I/O runs on a private event loop,
/// so a call never waits on the thread it blocks. A broken connection is opened again on the next call.
public final class PostgresStore: SharedStore {
    /// The name of this worker's checkpoint and service-graph share.
    public let worker: String
    /// Where this worker's API answers (`http://HOST:PORT`), for the other workers to forward to when it leads.
    public let address: String
    private let settings: PostgresSettings
    private let retention: StoreRetention
    /// The longest a statement may go unanswered before its connection is given up.
    private let statementTimeout: Duration
    private let group: MultiThreadedEventLoopGroup
    private let logger: Logger
    /// One connection, used by one call at a time (a write's transaction holds it throughout).
    private let connection = Mutex<PostgresConnection?>(nil)
    private let seriesIDs = Mutex<[String: Int64]>([:])
    /// A session of its own that holds the advisory lock on this worker's name while the store is open, and the
    /// lead once taken.
    private let lease = Mutex<Lease>(Lease())

    private struct Lease {
        var connection: PostgresConnection?
        var leads = false
    }

    /// Connects, and creates or migrates the schema (one worker at a time, under an advisory lock).
    public init(
        settings: PostgresSettings,
        worker: String,
        address: String = "",
        retention: StoreRetention = StoreRetention(),
        statementTimeout: Duration = .seconds(60)
    ) throws {
        self.statementTimeout = statementTimeout
        self.settings = settings
        self.worker = worker
        self.address = address
        self.retention = retention
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var logger = Logger(label: "vigil.postgres")
        logger.logLevel = .warning
        self.logger = logger
        do {
            try self.transaction { connection in
                try self.run(connection, "SELECT pg_advisory_xact_lock(\(Self.migrationLock))")
                try self.run(connection, "CREATE TABLE IF NOT EXISTS vigil_migrations (name TEXT PRIMARY KEY)")
                let done = Set(
                    try self.rows(connection, "SELECT name FROM vigil_migrations").map { try $0.decode(String.self) }
                )
                for (name, statements) in PostgresSchema.migrations where !done.contains(name) {
                    for statement in statements { try self.run(connection, PostgresQuery(unsafeSQL: statement)) }
                    try self.run(connection, "INSERT INTO vigil_migrations VALUES (\(name))")
                }
            }
            try self.holdLease()
        } catch {
            self.closeConnections()
            try? self.group.syncShutdownGracefully()
            throw error
        }
    }

    deinit {
        self.closeConnections()
        try? self.group.syncShutdownGracefully()
    }

    /// The first key of the advisory locks on worker names (the second is the name's hash).
    static let workerLockSpace: Int32 = 0x7669_6701
    /// The advisory-lock key of the lead (see ``lead()``).
    static let leadLock: Int64 = 0x7669_6769_6c03
    /// The advisory-lock key under which migrations run.
    static let migrationLock: Int64 = 0x7669_6769_6c01
    /// The advisory-lock key the worker applying retention holds for the transaction.
    static let retentionLock: Int64 = 0x7669_6769_6c02

    // MARK: - Writes

    public func write(_ batch: StoreBatch) throws {
        guard !batch.isEmpty else { return }
        let encoder = StoreEncoding.encoder()
        try self.transaction { connection in
            try self.writeTemplates(batch.templates, connection)
            try self.writeSamples(batch.samples, connection)
            for event in batch.changes {
                try self.run(
                    connection,
                    """
                    INSERT INTO changes (service, kind, version, time, description) VALUES (\(event.service), \(event.kind.rawValue), \(event.version ?? ""),
                    \(event.time.nanoseconds), \(event.description)) ON CONFLICT DO NOTHING
                    """
                )
            }
            for item in batch.alerts {
                let labels = String(decoding: try encoder.encode(item.labels), as: UTF8.self)
                try self.run(
                    connection,
                    """
                    INSERT INTO alerts (fingerprint, starts_at, name, service, status, labels, summary, ends_at)
                    VALUES (\(item.fingerprint), \(item.startsAt.nanoseconds), \(item.name),
                    \(item.service), \(item.status.rawValue), \(labels), \(item.summary), \(item.endsAt?.nanoseconds))
                    ON CONFLICT (fingerprint, starts_at) DO UPDATE SET status = excluded.status,
                    ends_at = excluded.ends_at, summary = excluded.summary, written = excluded.written
                    """
                )
            }
            for item in batch.edges {
                let latency = try encoder.encode(item.latency)
                try self.run(
                    connection,
                    """
                    INSERT INTO edges (minute, caller, callee, worker, partition, calls, errors, latency)
                    VALUES (\(item.minute.nanoseconds), \(item.caller), \(item.callee),
                    \(self.worker), \(batch.partition), \(item.calls), \(item.errors), \(latency))
                    ON CONFLICT (minute, caller, callee, worker, partition) DO UPDATE SET calls = excluded.calls,
                    errors = excluded.errors, latency = excluded.latency, written = excluded.written
                    """
                )
            }
            for anomaly in batch.anomalies {
                let evidence = String(decoding: try encoder.encode(anomaly.evidence), as: UTF8.self)
                try self.run(
                    connection,
                    """
                    INSERT INTO anomalies (id, kind, service, subject, time, score, evidence) VALUES (\(anomaly.id), \(anomaly.kind.rawValue), \(anomaly.service),
                    \(anomaly.subject), \(anomaly.time.nanoseconds), \(anomaly.score), \(evidence))
                    ON CONFLICT DO NOTHING
                    """
                )
            }
        }
    }

    /// Upserts templates in one statement per batch (arrays unnested server-side).
    private func writeTemplates(
        _ groups: [(stream: StreamKey, templates: [Template])],
        _ connection: PostgresConnection
    )
        throws
    {
        // The last version of a template in the batch wins; one statement may not update a row twice.
        var latest: [[String]: (StreamKey, Template)] = [:]
        for (stream, templates) in groups {
            for template in templates { latest[[stream.service, stream.source, template.id]] = (stream, template) }
        }
        guard !latest.isEmpty else { return }
        let rows = Array(latest.values)
        // A missing first or last time travels as Int64.min and is stored as NULL.
        try self.run(
            connection,
            """
            INSERT INTO templates SELECT s, o, i, t, c, e, v, NULLIF(f, \(Int64.min)), NULLIF(l, \(Int64.min))
            FROM unnest(\(rows.map(\.0.service)), \(rows.map(\.0.source)), \(rows.map(\.1.id)), \(rows.map(\.1.text)),
            \(rows.map { Int64($0.1.count) }), \(rows.map { Int64($0.1.errorCount) }), \(rows.map(\.1.severity.name)),
            \(rows.map { $0.1.firstSeen?.nanoseconds ?? Int64.min }), \(rows.map { $0.1.lastSeen?.nanoseconds ?? Int64.min }))
            AS u(s, o, i, t, c, e, v, f, l)
            ON CONFLICT (service, source, id) DO UPDATE SET count = excluded.count,
            error_count = excluded.error_count, severity = excluded.severity,
            first_seen = excluded.first_seen, last_seen = excluded.last_seen
            """
        )
    }

    /// Inserts samples in one statement per batch, after giving new series their IDs.
    private func writeSamples(_ points: [MetricPoint], _ connection: PostgresConnection) throws {
        guard !points.isEmpty else { return }
        var unknown: [String: SeriesKey] = [:]
        self.seriesIDs.withLock { ids in
            for point in points where ids[point.series.text] == nil { unknown[point.series.text] = point.series }
        }
        if !unknown.isEmpty {
            let keys = Array(unknown.values)
            let texts = keys.map(\.text)
            try self.run(
                connection,
                """
                INSERT INTO series (text, name, service)
                SELECT t, n, NULLIF(s, '') FROM unnest(\(texts), \(keys.map(\.name)), \(keys.map { $0.service ?? "" }))
                AS u(t, n, s) ON CONFLICT (text) DO NOTHING
                """
            )
            let found = try self.rows(connection, "SELECT id, text FROM series WHERE text = ANY(\(texts))").map {
                try $0.decode((Int64, String).self)
            }
            self.seriesIDs.withLock { ids in for (id, text) in found { ids[text] = id } }
        }
        // The last value of a series at one time wins, as INSERT OR REPLACE does in SQLite.
        var latest: [Int64: [Int64: Double]] = [:]
        let ids = self.seriesIDs.withLock { ids in points.map { ids[$0.series.text] } }
        for (point, id) in zip(points, ids) {
            guard let id else { throw PostgresStoreError(message: "series \(point.series.text) has no ID") }
            latest[id, default: [:]][point.time.nanoseconds] = point.value
        }
        var seriesColumn: [Int64] = []
        var timeColumn: [Int64] = []
        var valueColumn: [Double] = []
        for (id, values) in latest {
            for (time, value) in values {
                seriesColumn.append(id)
                timeColumn.append(time)
                valueColumn.append(value)
            }
        }
        try self.run(
            connection,
            """
            INSERT INTO samples SELECT * FROM unnest(\(seriesColumn), \(timeColumn), \(valueColumn))
            ON CONFLICT (series_id, time) DO UPDATE SET value = excluded.value
            """
        )
    }

    public func saveCheckpoint(_ checkpoint: Checkpoint) throws {
        let state = try StoreEncoding.encode(checkpoint)
        try self.holdLease()
        try self.transaction { connection in
            try self.run(
                connection,
                """
                INSERT INTO checkpoints VALUES (\(self.worker), \(Int64(bitPattern: checkpoint.walSequence)), \(state))
                ON CONFLICT (worker) DO UPDATE SET wal_sequence = excluded.wal_sequence, state = excluded.state
                """
            )
        }
    }

    public func loadCheckpoint() throws -> Checkpoint? {
        let rows = try self.read { connection in
            try self.rows(connection, "SELECT state FROM checkpoints WHERE worker = \(self.worker)")
        }
        guard let row = rows.first else { return nil }
        return try StoreEncoding.decodeCheckpoint(try row.decode(Data.self))
    }

    public func appendAudit(_ records: [AuditRecord]) throws {
        guard !records.isEmpty else { return }
        try self.transaction { connection in
            for record in records {
                try self.run(
                    connection,
                    """
                    INSERT INTO audit (time, run, incident, runbook, service, state, actor, what) VALUES
                    (\(record.time.nanoseconds), \(record.run), \(record.incident), \(record.runbook),
                    \(record.service), \(record.state), \(record.actor), \(record.what))
                    """
                )
            }
        }
    }

    public func recordAnnouncements(_ states: [String: String], at time: Timestamp) throws {
        guard !states.isEmpty else { return }
        let sorted = states.sorted { $0.key < $1.key }
        try self.transaction { connection in
            try self.run(
                connection,
                """
                INSERT INTO announcements (incident, state, time)
                SELECT incident, state, \(time.nanoseconds) FROM unnest(\(sorted.map(\.key))::text[], \(sorted.map(\.value))::text[])
                AS t (incident, state)
                ON CONFLICT (incident) DO UPDATE SET state = excluded.state, time = excluded.time
                """
            )
        }
    }

    public func announcements() throws -> [String: String] {
        try self.read { connection in
            var states: [String: String] = [:]
            for row in try self.rows(connection, "SELECT incident, state FROM announcements") {
                let (incident, state) = try row.decode((String, String).self)
                states[incident] = state
            }
            return states
        }
    }

    public func saveRuns(_ runs: [RemediationRun]) throws {
        guard !runs.isEmpty else { return }
        let encoder = StoreEncoding.encoder()
        let bodies = try runs.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        try self.transaction { connection in
            for (run, body) in zip(runs, bodies) {
                try self.run(
                    connection,
                    """
                    INSERT INTO runs (id, state, created, body) VALUES (\(run.id), \(run.state.rawValue), \(run.created.nanoseconds), \(body))
                    ON CONFLICT (id) DO UPDATE SET state = excluded.state, body = excluded.body
                    """
                )
            }
        }
    }

    public func savedRuns(in state: RemediationRun.State) throws -> [RemediationRun] {
        let bodies = try self.read { connection in
            try self.rows(connection, "SELECT body FROM runs WHERE state = \(state.rawValue) ORDER BY created, id").map
            {
                try $0.decode(String.self)
            }
        }
        let decoder = JSONDecoder()
        do {
            return try bodies.map { try decoder.decode(RemediationRun.self, from: Data($0.utf8)) }
        } catch {
            throw PostgresStoreError(message: "a saved remediation run cannot be read: \(error)")
        }
    }

    public func applyRetention(now: Timestamp) throws {
        let bucket = self.retention.downsampleBucketSeconds * 1_000_000_000
        let cutoff = now.nanoseconds - self.retention.downsampleAfterSeconds * 1_000_000_000
        let samplesBefore = now.nanoseconds - self.retention.sampleSeconds * 1_000_000_000
        let findingsBefore = now.nanoseconds - self.retention.anomalySeconds * 1_000_000_000
        try self.transaction { connection in
            // One worker applies retention at a time; the others skip their turn.
            let locked = try self.rows(connection, "SELECT pg_try_advisory_xact_lock(\(Self.retentionLock))")
            guard try locked.first?.decode(Bool.self) == true else { return }
            try self.run(
                connection,
                "CREATE TEMP TABLE downsampled (series_id BIGINT, time BIGINT, value FLOAT8) ON COMMIT DROP"
            )
            // Average old raw samples into buckets; a bucket already reduced to one aligned row is left alone.
            try self.run(
                connection,
                """
                INSERT INTO downsampled
                SELECT series_id, (time / \(bucket)) * \(bucket), avg(value) FROM samples WHERE time < \(cutoff)
                GROUP BY 1, 2 HAVING count(*) > 1 OR min(time) % \(bucket) <> 0
                """
            )
            try self.run(
                connection,
                """
                DELETE FROM samples s USING downsampled d WHERE s.time < \(cutoff)
                AND d.series_id = s.series_id AND d.time = (s.time / \(bucket)) * \(bucket)
                """
            )
            try self.run(
                connection,
                """
                INSERT INTO samples SELECT series_id, time, value FROM downsampled
                ON CONFLICT (series_id, time) DO UPDATE SET value = excluded.value
                """
            )
            try self.run(connection, "DELETE FROM samples WHERE time < \(samplesBefore)")
            try self.run(connection, "DELETE FROM alerts WHERE starts_at < \(findingsBefore)")
            try self.run(connection, "DELETE FROM changes WHERE time < \(findingsBefore)")
            try self.run(connection, "DELETE FROM anomalies WHERE time < \(findingsBefore)")
            try self.run(connection, "DELETE FROM edges WHERE minute < \(findingsBefore)")
            try self.run(connection, "DELETE FROM announcements WHERE time < \(findingsBefore)")
            try self.run(connection, "DELETE FROM runs WHERE created < \(findingsBefore)")
        }
    }

    // MARK: - Reads

    public func templates(service: String?, limit: Int) throws -> [StoredTemplate] {
        try self.read { connection in
            try self.rows(
                connection,
                """
                SELECT id, service, source, text, count, error_count, severity, first_seen, last_seen FROM templates
                WHERE (\(service)::text IS NULL OR service = \(service)) ORDER BY count DESC, id LIMIT \(Int64(limit))
                """
            ).map { row in
                let (id, service, source, text, count, errors, severity, first, last) = try row.decode(
                    (String, String, String, String, Int64, Int64, String, Int64?, Int64?).self
                )
                return StoredTemplate(
                    id: id,
                    service: service,
                    source: source,
                    text: text,
                    count: Int(count),
                    errorCount: Int(errors),
                    severity: severity,
                    firstSeen: first.map { Timestamp(nanoseconds: $0).iso8601 },
                    lastSeen: last.map { Timestamp(nanoseconds: $0).iso8601 }
                )
            }
        }
    }

    public func anomalies(service: String?, from: Timestamp?, to: Timestamp?, limit: Int) throws -> [Anomaly] {
        let decoder = JSONDecoder()
        return try self.read { connection in
            try self.rows(
                connection,
                """
                SELECT id, kind, service, subject, time, score, evidence FROM anomalies
                WHERE (\(service)::text IS NULL OR service = \(service))
                AND (\(from?.nanoseconds)::bigint IS NULL OR time >= \(from?.nanoseconds))
                AND (\(to?.nanoseconds)::bigint IS NULL OR time <= \(to?.nanoseconds))
                ORDER BY time DESC, id LIMIT \(Int64(limit))
                """
            ).compactMap { try Self.anomaly($0, decoder) }
        }
    }

    private static func anomaly(_ row: PostgresRow, _ decoder: JSONDecoder) throws -> Anomaly? {
        let (id, kind, service, subject, time, score, evidence) = try row.decode(
            (String, String, String, String, Int64, Double, String).self
        )
        guard let kind = Anomaly.Kind(rawValue: kind) else { return nil }
        var anomaly = Anomaly(
            kind: kind,
            service: service,
            subject: subject,
            time: Timestamp(nanoseconds: time),
            score: score,
            evidence: try decoder.decode(Evidence.self, from: Data(evidence.utf8))
        )
        anomaly.id = id
        return anomaly
    }

    public func series(service: String?, name: String?) throws -> [SeriesSummary] {
        try self.read { connection in
            try self.rows(
                connection,
                """
                SELECT s.text, s.name, count(*), max(p.time),
                (SELECT value FROM samples q WHERE q.series_id = s.id ORDER BY time DESC LIMIT 1)
                FROM series s JOIN samples p ON p.series_id = s.id
                WHERE (\(service)::text IS NULL OR s.service = \(service)) AND (\(name)::text IS NULL OR s.name = \(name))
                GROUP BY s.id ORDER BY s.text
                """
            ).map { row in
                let (text, name, count, last, value) = try row.decode((String, String, Int64, Int64, Double).self)
                return SeriesSummary(
                    series: text,
                    name: name,
                    samples: Int(count),
                    lastTime: Timestamp(nanoseconds: last).iso8601,
                    lastValue: value
                )
            }
        }
    }

    public func samples(series: String, from: Timestamp?, to: Timestamp?, limit: Int) throws -> [(Timestamp, Double)] {
        try self.read { connection in
            try self.rows(
                connection,
                """
                SELECT p.time, p.value FROM samples p JOIN series s ON s.id = p.series_id
                WHERE s.text = \(series) AND (\(from?.nanoseconds)::bigint IS NULL OR p.time >= \(from?.nanoseconds))
                AND (\(to?.nanoseconds)::bigint IS NULL OR p.time <= \(to?.nanoseconds))
                ORDER BY p.time LIMIT \(Int64(limit))
                """
            ).map { row in
                let (time, value) = try row.decode((Int64, Double).self)
                return (Timestamp(nanoseconds: time), value)
            }
        }
    }

    public func changes(service: String?, from: Timestamp?, to: Timestamp?, limit: Int) throws -> [ChangeEvent] {
        try self.read { connection in
            try self.rows(
                connection,
                """
                SELECT service, kind, version, time, description FROM changes
                WHERE (\(service)::text IS NULL OR service = \(service))
                AND (\(from?.nanoseconds)::bigint IS NULL OR time >= \(from?.nanoseconds))
                AND (\(to?.nanoseconds)::bigint IS NULL OR time <= \(to?.nanoseconds))
                ORDER BY time DESC LIMIT \(Int64(limit))
                """
            ).compactMap(Self.change)
        }
    }

    private static func change(_ row: PostgresRow) throws -> ChangeEvent? {
        let (service, kind, version, time, description) = try row.decode((String, String, String, Int64, String?).self)
        guard let kind = ChangeEvent.Kind(rawValue: kind) else { return nil }
        return ChangeEvent(
            service: service,
            kind: kind,
            version: version.isEmpty ? nil : version,
            time: Timestamp(nanoseconds: time),
            description: description
        )
    }

    public func alerts(service: String?, status: String?, limit: Int) throws -> [Alert] {
        let decoder = JSONDecoder()
        return try self.read { connection in
            try self.rows(
                connection,
                """
                SELECT fingerprint, starts_at, name, service, status, labels, summary, ends_at FROM alerts
                WHERE (\(service)::text IS NULL OR service = \(service)) AND (\(status)::text IS NULL OR status = \(status))
                ORDER BY starts_at DESC, fingerprint LIMIT \(Int64(limit))
                """
            ).compactMap { try Self.alert($0, decoder) }
        }
    }

    private static func alert(_ row: PostgresRow, _ decoder: JSONDecoder) throws -> Alert? {
        let (fingerprint, startsAt, name, service, status, labels, summary, endsAt) = try row.decode(
            (String, Int64, String, String, String, String, String?, Int64?).self
        )
        guard let status = Alert.Status(rawValue: status) else { return nil }
        return Alert(
            fingerprint: fingerprint,
            name: name,
            service: service,
            status: status,
            labels: try decoder.decode([SeriesKey.Label].self, from: Data(labels.utf8)),
            summary: summary,
            startsAt: Timestamp(nanoseconds: startsAt),
            endsAt: endsAt.map { Timestamp(nanoseconds: $0) }
        )
    }

    /// How far back of the cursor ``written(after:)`` reads again: longer than a write transaction takes.
    static let rereadMicroseconds: Int64 = 30_000_000
    /// The most rows of each kind one ``written(after:)`` returns.
    static let writtenLimit: Int64 = 50_000

    public func written(after cursor: Int64?) throws -> (batch: StoreBatch, cursor: Int64) {
        let decoder = JSONDecoder()
        return try self.read { connection in
            guard let cursor else {
                let now = try self.rows(connection, "SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT")
                return (StoreBatch(), try now.first?.decode(Int64.self) ?? 0)
            }
            let from = cursor - Self.rereadMicroseconds
            var batch = StoreBatch()
            var newest = cursor
            for row in try self.rows(
                connection,
                """
                SELECT id, kind, service, subject, time, score, evidence, written FROM anomalies
                WHERE written > \(from) ORDER BY written LIMIT \(Self.writtenLimit)
                """
            ) {
                if let anomaly = try Self.anomaly(row, decoder) { batch.anomalies.append(anomaly) }
                newest = max(
                    newest,
                    try row.decode((String, String, String, String, Int64, Double, String, Int64).self).7
                )
            }
            for row in try self.rows(
                connection,
                """
                SELECT fingerprint, starts_at, name, service, status, labels, summary, ends_at, written FROM alerts
                WHERE written > \(from) ORDER BY written LIMIT \(Self.writtenLimit)
                """
            ) {
                if let alert = try Self.alert(row, decoder) { batch.alerts.append(alert) }
                newest = max(
                    newest,
                    try row.decode((String, Int64, String, String, String, String, String?, Int64?, Int64).self).8
                )
            }
            for row in try self.rows(
                connection,
                """
                SELECT service, kind, version, time, description, written FROM changes
                WHERE written > \(from) ORDER BY written LIMIT \(Self.writtenLimit)
                """
            ) {
                if let change = try Self.change(row) { batch.changes.append(change) }
                newest = max(newest, try row.decode((String, String, String, Int64, String?, Int64).self).5)
            }
            for row in try self.rows(
                connection,
                """
                SELECT minute, caller, callee, written FROM edges
                WHERE written > \(from) ORDER BY written LIMIT \(Self.writtenLimit)
                """
            ) {
                let (minute, caller, callee, written) = try row.decode((Int64, String, String, Int64).self)
                batch.edges.append(
                    ServiceGraph.EdgeMinute(
                        minute: Timestamp(nanoseconds: minute),
                        caller: caller,
                        callee: callee,
                        calls: 0,
                        errors: 0,
                        latency: LatencyHistogram()
                    )
                )
                newest = max(newest, written)
            }
            return (batch, newest)
        }
    }

    public func topology(from: Timestamp, to: Timestamp) throws -> [TopologyEdge] {
        let decoder = JSONDecoder()
        let rows = try self.read { connection in
            try self.rows(
                connection,
                """
                SELECT minute, caller, callee, calls, errors, latency FROM edges
                WHERE minute >= \(from.nanoseconds) AND minute < \(to.nanoseconds) ORDER BY caller, callee, minute
                """
            )
        }
        var byEdge: [[String]: [ServiceGraph.EdgeMinute]] = [:]
        for row in rows {
            let (minute, caller, callee, calls, errors, latency) = try row.decode(
                (Int64, String, String, Int64, Int64, Data).self
            )
            byEdge[[caller, callee], default: []].append(
                ServiceGraph.EdgeMinute(
                    minute: Timestamp(nanoseconds: minute),
                    caller: caller,
                    callee: callee,
                    calls: Int(calls),
                    errors: Int(errors),
                    latency: try decoder.decode(LatencyHistogram.self, from: latency)
                )
            )
        }
        return byEdge.keys.sorted { $0.lexicographicallyPrecedes($1) }.map {
            TopologyEdge(caller: $0[0], callee: $0[1], minutes: byEdge[$0]!)
        }
    }

    public func audit(run: String?, limit: Int) throws -> [AuditRecord] {
        try self.read { connection in
            try self.rows(
                connection,
                """
                SELECT time, run, incident, runbook, service, state, actor, what FROM audit
                WHERE (\(run)::text IS NULL OR run = \(run)) ORDER BY sequence DESC LIMIT \(Int64(limit))
                """
            ).map { row in
                let (time, run, incident, runbook, service, state, actor, what) = try row.decode(
                    (Int64, String, String, String, String, String, String, String).self
                )
                return AuditRecord(
                    time: Timestamp(nanoseconds: time),
                    run: run,
                    incident: incident,
                    runbook: runbook,
                    service: service,
                    state: state,
                    actor: actor,
                    what: what
                )
            }
        }
    }

    // MARK: - The connection

    private func closeConnections() {
        let connections = [self.connection.withLock { $0.take() }, self.lease.withLock { $0.connection.take() }]
        for connection in connections.compactMap(\.self) { try? connection.close().wait() }
    }

    /// Takes (or, after a lost connection, takes again) the advisory lock on this worker's name, so two workers of
    /// one name cannot overwrite each other's checkpoint.
    private func holdLease() throws {
        try self.lease.withLock { lease in _ = try self.leaseConnection(&lease) }
    }

    private func leaseConnection(_ lease: inout Lease) throws -> PostgresConnection {
        if let connection = lease.connection, !connection.isClosed { return connection }
        lease = Lease()
        var slot: PostgresConnection?
        let connection = try self.open(&slot)
        do {
            // A worker restarted at once may find its old session still ending on the server: wait a little.
            var locked = false
            let deadline = ContinuousClock.now + .seconds(5)
            while !locked {
                let rows = try self.rows(
                    connection,
                    "SELECT pg_try_advisory_lock(\(Self.workerLockSpace), hashtext(\(self.worker)))"
                )
                locked = try rows.first?.decode(Bool.self) == true
                guard !locked, ContinuousClock.now < deadline else { break }
                Thread.sleep(forTimeInterval: 0.1)
            }
            guard locked else {
                throw PostgresStoreError(
                    message:
                        "another worker named \(self.worker) is using \(self.settings.place); give each worker its own name (--worker)"
                )
            }
            try self.run(
                connection,
                """
                INSERT INTO workers (worker, address, pid) VALUES (\(self.worker), \(self.address), pg_backend_pid())
                ON CONFLICT (worker) DO UPDATE SET address = excluded.address, pid = excluded.pid
                """
            )
        } catch {
            try? connection.close().wait()
            throw PostgresStoreError(error)
        }
        lease.connection = connection
        return connection
    }

    public func lead() throws -> Bool {
        try self.lease.withLock { lease in
            if lease.leads, let connection = lease.connection {
                // The session may have ended on the server (terminated, or the server restarted) before this
                // client noticed; then another worker may lead already. Ask.
                do {
                    try self.run(connection, "SELECT 1")
                    return true
                } catch {
                    try? connection.close().wait()
                    lease = Lease()
                }
            }
            let connection = try self.leaseConnection(&lease)
            do {
                let rows = try self.rows(connection, "SELECT pg_try_advisory_lock(\(Self.leadLock))")
                lease.leads = try rows.first?.decode(Bool.self) == true
            } catch {
                throw PostgresStoreError(error)
            }
            return lease.leads
        }
    }

    public func leader() throws -> (worker: String, address: String)? {
        // A lock on one bigint key shows its high half as classid and its low half as objid.
        let query = PostgresQuery(
            unsafeSQL: """
                SELECT w.worker, w.address FROM pg_locks l JOIN workers w ON w.pid = l.pid
                WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND l.classid = \(Self.leadLock >> 32) AND l.objid = \(Self.leadLock & 0xffff_ffff)
                """
        )
        return try self.read { connection in
            guard let row = try self.rows(connection, query).first else { return nil }
            let (worker, address) = try row.decode((String, String).self)
            return (worker, address)
        }
    }

    /// Runs `body` with the connection, opening it first when there is none or it broke. A call whose connection
    /// turns out to be lost is tried once more on a new one (every call is a read or an idempotent write).
    private func read<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try self.connection.withLock { slot in
            do {
                do {
                    return try body(try self.open(&slot))
                } catch let error as PSQLError where Self.isLostConnection(error) {
                    slot = nil
                    return try body(try self.open(&slot))
                }
            } catch {
                throw PostgresStoreError(error)
            }
        }
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    private func transaction(_ body: (PostgresConnection) throws -> Void) throws {
        try self.read { connection in
            try self.run(connection, "BEGIN")
            do {
                try body(connection)
                try self.run(connection, "COMMIT")
            } catch {
                _ = try? self.run(connection, "ROLLBACK")
                throw error
            }
        }
    }

    static func isLostConnection(_ error: PSQLError) -> Bool {
        [.serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .connectionError].contains(error.code)
    }

    private func open(_ slot: inout PostgresConnection?) throws -> PostgresConnection {
        if let connection = slot, !connection.isClosed { return connection }
        do {
            let connection = try PostgresConnection.connect(
                on: self.group.next(),
                configuration: try self.settings.configuration(),
                id: 1,
                logger: self.logger
            ).wait()
            slot = connection
            return connection
        } catch {
            throw PostgresStoreError(
                message: "cannot connect to PostgreSQL at \(self.settings.place): \(PostgresStoreError.describe(error))"
            )
        }
    }

    private func run(_ connection: PostgresConnection, _ query: PostgresQuery) throws {
        _ = try self.answer(connection.query(query, logger: self.logger), from: connection)
    }

    private func rows(_ connection: PostgresConnection, _ query: PostgresQuery) throws -> [PostgresRow] {
        Array(try self.answer(connection.query(query, logger: self.logger), from: connection).rows)
    }

    /// Waits for a statement's answer for at most ``statementTimeout``. A connection that stays silent longer (its
    /// session ended on the server unnoticed, or the network is cut) is closed, so the next call opens another.
    private func answer<T: Sendable>(_ future: EventLoopFuture<T>, from connection: PostgresConnection) throws -> T {
        let promise = future.eventLoop.makePromise(of: T.self)
        future.cascade(to: promise)
        let place = self.settings.place
        let seconds = self.statementTimeout.components.seconds
        let timeout = future.eventLoop.scheduleTask(in: .nanoseconds(Int64(seconds) * 1_000_000_000)) {
            promise.fail(PostgresStoreError(message: "PostgreSQL at \(place) did not answer within \(seconds) s"))
            let closing: EventLoopFuture<Void> = connection.close()
            closing.whenComplete { _ in }
        }
        defer { timeout.cancel() }
        return try promise.futureResult.wait()
    }
}

/// A PostgreSQL store failure, with the server's own message when it sent one.
public struct PostgresStoreError: Error, CustomStringConvertible {
    public var message: String

    public init(message: String) { self.message = message }

    init(_ error: any Error) {
        self.message = (error as? PostgresStoreError)?.message ?? "PostgreSQL: \(Self.describe(error))"
    }

    public var description: String { self.message }

    /// The server's message (and SQLSTATE) for a server error, else the client's own description.
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                return "\(message) (SQLSTATE \(error.serverInfo?[.sqlState] ?? "?"))"
            }
            return "\(error.code)"
        }
        return "\(error)"
    }
}
