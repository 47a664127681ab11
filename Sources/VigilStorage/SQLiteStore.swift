// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import GRDB
import Synchronization
public import VigilCore

/// The embedded store: one SQLite file in WAL mode (GRDB), written in batches by the pipeline and read by the
/// API. Migrations are append-only: once shipped, a migration never changes.
public final class SQLiteStore: Store {
    private let pool: DatabasePool
    private let retention: StoreRetention
    private let seriesIDs = Mutex<[String: Int64]>([:])

    /// Opens (or creates) the store at `path`.
    public init(path: String, retention: StoreRetention = StoreRetention()) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        self.pool = try DatabasePool(path: path, configuration: configuration)
        self.retention = retention
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE templates (
                        service TEXT NOT NULL, source TEXT NOT NULL, id TEXT NOT NULL, text TEXT NOT NULL,
                        count INTEGER NOT NULL, error_count INTEGER NOT NULL, severity TEXT NOT NULL,
                        first_seen INTEGER, last_seen INTEGER,
                        PRIMARY KEY (service, source, id)
                    ) WITHOUT ROWID;
                    CREATE TABLE series (
                        id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE, name TEXT NOT NULL, service TEXT
                    );
                    CREATE TABLE samples (
                        series_id INTEGER NOT NULL, time INTEGER NOT NULL, value REAL NOT NULL,
                        PRIMARY KEY (series_id, time)
                    ) WITHOUT ROWID;
                    CREATE TABLE anomalies (
                        id TEXT PRIMARY KEY, kind TEXT NOT NULL, service TEXT NOT NULL, subject TEXT NOT NULL,
                        time INTEGER NOT NULL, score REAL NOT NULL, evidence TEXT NOT NULL
                    );
                    CREATE INDEX anomalies_by_time ON anomalies (time);
                    CREATE TABLE checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), wal_sequence INTEGER NOT NULL,
                        state BLOB NOT NULL);
                    """
            )
        }
        migrator.registerMigration("v2-changes") { db in
            try db.execute(
                sql: """
                    CREATE TABLE changes (
                        service TEXT NOT NULL, kind TEXT NOT NULL, version TEXT NOT NULL, time INTEGER NOT NULL,
                        description TEXT, PRIMARY KEY (service, kind, time, version)
                    );
                    CREATE INDEX changes_by_time ON changes (time);
                    """
            )
        }
        migrator.registerMigration("v3-alerts") { db in
            try db.execute(
                sql: """
                    CREATE TABLE alerts (
                        fingerprint TEXT NOT NULL, starts_at INTEGER NOT NULL, name TEXT NOT NULL, service TEXT NOT NULL,
                        status TEXT NOT NULL, labels TEXT NOT NULL, summary TEXT, ends_at INTEGER,
                        PRIMARY KEY (fingerprint, starts_at)
                    );
                    CREATE INDEX alerts_by_start ON alerts (starts_at);
                    """
            )
        }
        migrator.registerMigration("v4-edges") { db in
            try db.execute(
                sql: """
                    CREATE TABLE edges (
                        minute INTEGER NOT NULL, caller TEXT NOT NULL, callee TEXT NOT NULL, partition INTEGER NOT NULL,
                        calls INTEGER NOT NULL, errors INTEGER NOT NULL, latency BLOB NOT NULL,
                        PRIMARY KEY (minute, caller, callee, partition)
                    ) WITHOUT ROWID
                    """
            )
        }
        migrator.registerMigration("v5-audit") { db in
            try db.execute(
                sql: """
                    CREATE TABLE audit (
                        sequence INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, run TEXT NOT NULL,
                        incident TEXT NOT NULL, runbook TEXT NOT NULL, service TEXT NOT NULL, state TEXT NOT NULL,
                        actor TEXT NOT NULL, what TEXT NOT NULL
                    );
                    CREATE INDEX audit_run ON audit (run, sequence)
                    """
            )
        }
        migrator.registerMigration("v6-announcements") { db in
            try db.execute(
                sql:
                    "CREATE TABLE announcements (incident TEXT PRIMARY KEY, state TEXT NOT NULL, time INTEGER NOT NULL)"
            )
        }
        migrator.registerMigration("v7-runs") { db in
            try db.execute(
                sql: """
                    CREATE TABLE runs (id TEXT PRIMARY KEY, state TEXT NOT NULL, created INTEGER NOT NULL, body TEXT NOT NULL);
                    CREATE INDEX runs_by_state ON runs (state, created)
                    """
            )
        }
        try migrator.migrate(self.pool)
    }

    public func write(_ batch: StoreBatch) throws {
        guard !batch.isEmpty else { return }
        let encoder = StoreEncoding.encoder()
        try self.pool.write { db in
            for (stream, templates) in batch.templates {
                let statement = try db.cachedStatement(
                    sql: """
                        INSERT INTO templates VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (service, source, id) DO UPDATE SET count = excluded.count,
                        error_count = excluded.error_count, severity = excluded.severity,
                        first_seen = excluded.first_seen, last_seen = excluded.last_seen
                        """
                )
                for template in templates {
                    try statement.execute(arguments: [
                        stream.service, stream.source, template.id, template.text, template.count,
                        template.errorCount, template.severity.name, template.firstSeen?.nanoseconds,
                        template.lastSeen?.nanoseconds,
                    ])
                }
            }
            if !batch.samples.isEmpty {
                let statement = try db.cachedStatement(sql: "INSERT OR REPLACE INTO samples VALUES (?, ?, ?)")
                for point in batch.samples {
                    let id = try self.seriesID(point.series, db)
                    try statement.execute(arguments: [id, point.time.nanoseconds, point.value])
                }
            }
            let change = try db.cachedStatement(sql: "INSERT OR IGNORE INTO changes VALUES (?, ?, ?, ?, ?)")
            for event in batch.changes {
                try change.execute(arguments: [
                    event.service, event.kind.rawValue, event.version ?? "", event.time.nanoseconds, event.description,
                ])
            }
            let alert = try db.cachedStatement(
                sql: """
                    INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (fingerprint, starts_at) DO UPDATE
                    SET status = excluded.status, ends_at = excluded.ends_at, summary = excluded.summary
                    """
            )
            for item in batch.alerts {
                let labels = String(decoding: try encoder.encode(item.labels), as: UTF8.self)
                try alert.execute(arguments: [
                    item.fingerprint, item.startsAt.nanoseconds, item.name, item.service, item.status.rawValue, labels,
                    item.summary, item.endsAt?.nanoseconds,
                ])
            }
            let edge = try db.cachedStatement(sql: "INSERT OR REPLACE INTO edges VALUES (?, ?, ?, ?, ?, ?, ?)")
            for item in batch.edges {
                try edge.execute(arguments: [
                    item.minute.nanoseconds, item.caller, item.callee, batch.partition, item.calls, item.errors,
                    try encoder.encode(item.latency),
                ])
            }
            let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO anomalies VALUES (?, ?, ?, ?, ?, ?, ?)")
            for anomaly in batch.anomalies {
                let evidence = String(decoding: try encoder.encode(anomaly.evidence), as: UTF8.self)
                try insert.execute(arguments: [
                    anomaly.id, anomaly.kind.rawValue, anomaly.service, anomaly.subject, anomaly.time.nanoseconds,
                    anomaly.score, evidence,
                ])
            }
        }
    }

    private func seriesID(_ key: SeriesKey, _ db: Database) throws -> Int64 {
        let text = key.text
        if let id = self.seriesIDs.withLock({ $0[text] }) { return id }
        let service = key.service
        try db.execute(
            sql: "INSERT OR IGNORE INTO series (text, name, service) VALUES (?, ?, ?)",
            arguments: [text, key.name, service]
        )
        let id = try Int64.fetchOne(db, sql: "SELECT id FROM series WHERE text = ?", arguments: [text]) ?? 0
        self.seriesIDs.withLock { $0[text] = id }
        return id
    }

    public func saveCheckpoint(_ checkpoint: Checkpoint) throws {
        let state = try StoreEncoding.encode(checkpoint)
        try self.pool.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO checkpoint VALUES (1, ?, ?)",
                arguments: [Int64(bitPattern: checkpoint.walSequence), state]
            )
        }
    }

    public func loadCheckpoint() throws -> Checkpoint? {
        let data = try self.pool.read { db in try Data.fetchOne(db, sql: "SELECT state FROM checkpoint WHERE id = 1") }
        return try data.map(StoreEncoding.decodeCheckpoint)
    }

    public func templates(service: String?, limit: Int) throws -> [StoredTemplate] {
        try self.pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM templates WHERE (?1 IS NULL OR service = ?1)
                    ORDER BY count DESC, id LIMIT ?2
                    """,
                arguments: [service, limit]
            )
            return rows.map { row in
                StoredTemplate(
                    id: row["id"],
                    service: row["service"],
                    source: row["source"],
                    text: row["text"],
                    count: row["count"],
                    errorCount: row["error_count"],
                    severity: row["severity"],
                    firstSeen: (row["first_seen"] as Int64?).map { Timestamp(nanoseconds: $0).iso8601 },
                    lastSeen: (row["last_seen"] as Int64?).map { Timestamp(nanoseconds: $0).iso8601 }
                )
            }
        }
    }

    public func anomalies(service: String?, from: Timestamp?, to: Timestamp?, limit: Int) throws -> [Anomaly] {
        let decoder = JSONDecoder()
        return try self.pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM anomalies WHERE (?1 IS NULL OR service = ?1) AND (?2 IS NULL OR time >= ?2)
                    AND (?3 IS NULL OR time <= ?3) ORDER BY time DESC, id LIMIT ?4
                    """,
                arguments: [service, from?.nanoseconds, to?.nanoseconds, limit]
            )
            return try rows.compactMap { row -> Anomaly? in
                guard let kind = Anomaly.Kind(rawValue: row["kind"]) else { return nil }
                let evidence = try decoder.decode(Evidence.self, from: Data((row["evidence"] as String).utf8))
                var anomaly = Anomaly(
                    kind: kind,
                    service: row["service"],
                    subject: row["subject"],
                    time: Timestamp(nanoseconds: row["time"]),
                    score: row["score"],
                    evidence: evidence
                )
                anomaly.id = row["id"]
                return anomaly
            }
        }
    }

    public func series(service: String?, name: String?) throws -> [SeriesSummary] {
        try self.pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT s.text, s.name, COUNT(*) AS n, MAX(p.time) AS last_time,
                    (SELECT value FROM samples q WHERE q.series_id = s.id ORDER BY time DESC LIMIT 1) AS last_value
                    FROM series s JOIN samples p ON p.series_id = s.id
                    WHERE (?1 IS NULL OR s.service = ?1) AND (?2 IS NULL OR s.name = ?2)
                    GROUP BY s.id ORDER BY s.text
                    """,
                arguments: [service, name]
            )
            return rows.map { row in
                SeriesSummary(
                    series: row["text"],
                    name: row["name"],
                    samples: row["n"],
                    lastTime: Timestamp(nanoseconds: row["last_time"]).iso8601,
                    lastValue: row["last_value"]
                )
            }
        }
    }

    public func samples(series: String, from: Timestamp?, to: Timestamp?, limit: Int) throws -> [(Timestamp, Double)] {
        try self.pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT p.time, p.value FROM samples p JOIN series s ON s.id = p.series_id
                    WHERE s.text = ?1 AND (?2 IS NULL OR p.time >= ?2) AND (?3 IS NULL OR p.time <= ?3)
                    ORDER BY p.time LIMIT ?4
                    """,
                arguments: [series, from?.nanoseconds, to?.nanoseconds, limit]
            )
            return rows.map { (Timestamp(nanoseconds: $0["time"]), $0["value"]) }
        }
    }

    public func changes(service: String?, from: Timestamp?, to: Timestamp?, limit: Int) throws -> [ChangeEvent] {
        try self.pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM changes WHERE (?1 IS NULL OR service = ?1) AND (?2 IS NULL OR time >= ?2)
                    AND (?3 IS NULL OR time <= ?3) ORDER BY time DESC LIMIT ?4
                    """,
                arguments: [service, from?.nanoseconds, to?.nanoseconds, limit]
            )
            return rows.compactMap { row in
                guard let kind = ChangeEvent.Kind(rawValue: row["kind"]) else { return nil }
                return ChangeEvent(
                    service: row["service"],
                    kind: kind,
                    version: (row["version"] as String?).flatMap { $0.isEmpty ? nil : $0 },
                    time: Timestamp(nanoseconds: row["time"]),
                    description: row["description"]
                )
            }
        }
    }

    public func alerts(service: String?, status: String?, limit: Int) throws -> [Alert] {
        let decoder = JSONDecoder()
        return try self.pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM alerts WHERE (?1 IS NULL OR service = ?1) AND (?2 IS NULL OR status = ?2)
                    ORDER BY starts_at DESC, fingerprint LIMIT ?3
                    """,
                arguments: [service, status, limit]
            )
            return try rows.compactMap { row -> Alert? in
                guard let status = Alert.Status(rawValue: row["status"]) else { return nil }
                let labels = try decoder.decode([SeriesKey.Label].self, from: Data((row["labels"] as String).utf8))
                return Alert(
                    fingerprint: row["fingerprint"],
                    name: row["name"],
                    service: row["service"],
                    status: status,
                    labels: labels,
                    summary: row["summary"],
                    startsAt: Timestamp(nanoseconds: row["starts_at"]),
                    endsAt: (row["ends_at"] as Int64?).map { Timestamp(nanoseconds: $0) }
                )
            }
        }
    }

    public func appendAudit(_ records: [AuditRecord]) throws {
        guard !records.isEmpty else { return }
        try self.pool.write { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO audit (time, run, incident, runbook, service, state, actor, what)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """
            )
            for record in records {
                try statement.execute(arguments: [
                    record.time.nanoseconds, record.run, record.incident, record.runbook, record.service,
                    record.state, record.actor, record.what,
                ])
            }
        }
    }

    public func recordAnnouncements(_ states: [String: String], at time: Timestamp) throws {
        guard !states.isEmpty else { return }
        try self.pool.write { db in
            let statement = try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO announcements (incident, state, time) VALUES (?, ?, ?)"
            )
            for (incident, state) in states.sorted(by: { $0.key < $1.key }) {
                try statement.execute(arguments: [incident, state, time.nanoseconds])
            }
        }
    }

    public func announcements() throws -> [String: String] {
        try self.pool.read { db in
            var states: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT incident, state FROM announcements") {
                states[row["incident"]] = row["state"]
            }
            return states
        }
    }

    public func saveRuns(_ runs: [RemediationRun]) throws {
        guard !runs.isEmpty else { return }
        let encoder = StoreEncoding.encoder()
        let bodies = try runs.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        try self.pool.write { db in
            let statement = try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO runs (id, state, created, body) VALUES (?, ?, ?, ?)"
            )
            for (run, body) in zip(runs, bodies) {
                try statement.execute(arguments: [run.id, run.state.rawValue, run.created.nanoseconds, body])
            }
        }
    }

    public func savedRuns(in state: RemediationRun.State) throws -> [RemediationRun] {
        let bodies = try self.pool.read { db in
            try String.fetchAll(
                db,
                sql: "SELECT body FROM runs WHERE state = ? ORDER BY created, id",
                arguments: [state.rawValue]
            )
        }
        let decoder = JSONDecoder()
        return try bodies.map { try decoder.decode(RemediationRun.self, from: Data($0.utf8)) }
    }

    public func audit(run: String?, limit: Int) throws -> [AuditRecord] {
        try self.pool.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM audit WHERE (?1 IS NULL OR run = ?1) ORDER BY sequence DESC LIMIT ?2",
                arguments: [run, limit]
            ).map { row in
                AuditRecord(
                    time: Timestamp(nanoseconds: row["time"]),
                    run: row["run"],
                    incident: row["incident"],
                    runbook: row["runbook"],
                    service: row["service"],
                    state: row["state"],
                    actor: row["actor"],
                    what: row["what"]
                )
            }
        }
    }

    public func applyRetention(now: Timestamp) throws {
        let bucket = self.retention.downsampleBucketSeconds * 1_000_000_000
        let cutoff = now.nanoseconds - self.retention.downsampleAfterSeconds * 1_000_000_000
        try self.pool.write { db in
            // Average old raw samples into buckets; a bucket already reduced to one aligned row is left alone.
            try db.execute(
                sql: "CREATE TEMP TABLE IF NOT EXISTS downsampled (series_id INTEGER, time INTEGER, value REAL)"
            )
            try db.execute(sql: "DELETE FROM downsampled")
            try db.execute(
                sql: """
                    INSERT INTO downsampled
                    SELECT series_id, (time / ?1) * ?1, avg(value) FROM samples WHERE time < ?2
                    GROUP BY series_id, time / ?1 HAVING count(*) > 1 OR min(time) % ?1 != 0
                    """,
                arguments: [bucket, cutoff]
            )
            try db.execute(
                sql: """
                    DELETE FROM samples WHERE time < ?2 AND EXISTS (SELECT 1 FROM downsampled d
                    WHERE d.series_id = samples.series_id AND d.time = (samples.time / ?1) * ?1)
                    """,
                arguments: [bucket, cutoff]
            )
            try db.execute(sql: "INSERT OR REPLACE INTO samples SELECT series_id, time, value FROM downsampled")
            try db.execute(sql: "DELETE FROM downsampled")
            try db.execute(
                sql: "DELETE FROM samples WHERE time < ?",
                arguments: [now.nanoseconds - self.retention.sampleSeconds * 1_000_000_000]
            )
            // Findings, and what hangs off them, are kept as long as findings are.
            let findingsBefore = now.nanoseconds - self.retention.anomalySeconds * 1_000_000_000
            for (table, time) in [
                ("alerts", "starts_at"), ("changes", "time"), ("anomalies", "time"), ("edges", "minute"),
                ("announcements", "time"), ("runs", "created"),
            ] {
                try db.execute(sql: "DELETE FROM \(table) WHERE \(time) < ?", arguments: [findingsBefore])
            }
        }
    }

    public func topology(from: Timestamp, to: Timestamp) throws -> [TopologyEdge] {
        let decoder = JSONDecoder()
        return try self.pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT * FROM edges WHERE minute >= ? AND minute < ? ORDER BY caller, callee, minute",
                arguments: [from.nanoseconds, to.nanoseconds]
            )
            var byEdge: [[String]: [ServiceGraph.EdgeMinute]] = [:]
            for row in rows {
                let caller: String = row["caller"]
                let callee: String = row["callee"]
                let latency = try decoder.decode(LatencyHistogram.self, from: row["latency"] as Data)
                byEdge[[caller, callee], default: []].append(
                    ServiceGraph.EdgeMinute(
                        minute: Timestamp(nanoseconds: row["minute"]),
                        caller: caller,
                        callee: callee,
                        calls: row["calls"],
                        errors: row["errors"],
                        latency: latency
                    )
                )
            }
            return byEdge.keys.sorted { $0.lexicographicallyPrecedes($1) }.map {
                TopologyEdge(caller: $0[0], callee: $0[1], minutes: byEdge[$0]!)
            }
        }
    }
}
