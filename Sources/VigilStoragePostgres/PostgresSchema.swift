// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// The PostgreSQL schema, as migrations applied in order. Append-only: once shipped, a migration never changes.
/// Times are nanoseconds since the epoch (BIGINT), as in the SQLite store.
enum PostgresSchema {
    static let migrations: [(name: String, statements: [String])] = [
        (
            "v1",
            [
                """
                CREATE TABLE templates (
                    service TEXT NOT NULL, source TEXT NOT NULL, id TEXT NOT NULL, text TEXT NOT NULL,
                    count BIGINT NOT NULL, error_count BIGINT NOT NULL, severity TEXT NOT NULL,
                    first_seen BIGINT, last_seen BIGINT, PRIMARY KEY (service, source, id)
                )
                """,
                "CREATE TABLE series (id BIGSERIAL PRIMARY KEY, text TEXT NOT NULL UNIQUE, name TEXT NOT NULL, service TEXT)",
                """
                CREATE TABLE samples (
                    series_id BIGINT NOT NULL, time BIGINT NOT NULL, value FLOAT8 NOT NULL, PRIMARY KEY (series_id, time)
                )
                """,
                """
                CREATE TABLE anomalies (
                    id TEXT PRIMARY KEY, kind TEXT NOT NULL, service TEXT NOT NULL, subject TEXT NOT NULL,
                    time BIGINT NOT NULL, score FLOAT8 NOT NULL, evidence TEXT NOT NULL
                )
                """,
                "CREATE INDEX anomalies_by_time ON anomalies (time)",
                // One checkpoint per worker: each replays its own write-ahead log.
                "CREATE TABLE checkpoints (worker TEXT PRIMARY KEY, wal_sequence BIGINT NOT NULL, state BYTEA NOT NULL)",
                """
                CREATE TABLE changes (
                    service TEXT NOT NULL, kind TEXT NOT NULL, version TEXT NOT NULL, time BIGINT NOT NULL,
                    description TEXT, PRIMARY KEY (service, kind, time, version)
                )
                """,
                "CREATE INDEX changes_by_time ON changes (time)",
                """
                CREATE TABLE alerts (
                    fingerprint TEXT NOT NULL, starts_at BIGINT NOT NULL, name TEXT NOT NULL, service TEXT NOT NULL,
                    status TEXT NOT NULL, labels TEXT NOT NULL, summary TEXT, ends_at BIGINT,
                    PRIMARY KEY (fingerprint, starts_at)
                )
                """,
                "CREATE INDEX alerts_by_start ON alerts (starts_at)",
                // Each worker's shards write their own share of a minute of the service graph.
                """
                CREATE TABLE edges (
                    minute BIGINT NOT NULL, caller TEXT NOT NULL, callee TEXT NOT NULL, worker TEXT NOT NULL,
                    partition INTEGER NOT NULL, calls BIGINT NOT NULL, errors BIGINT NOT NULL, latency BYTEA NOT NULL,
                    PRIMARY KEY (minute, caller, callee, worker, partition)
                )
                """,
                """
                CREATE TABLE audit (
                    sequence BIGSERIAL PRIMARY KEY, time BIGINT NOT NULL, run TEXT NOT NULL, incident TEXT NOT NULL,
                    runbook TEXT NOT NULL, service TEXT NOT NULL, state TEXT NOT NULL, actor TEXT NOT NULL,
                    what TEXT NOT NULL
                )
                """,
                "CREATE INDEX audit_run ON audit (run, sequence)",
            ]
        ),
        (
            // When a row was written, by the database's clock in microseconds: workers read what others wrote.
            "v2-written",
            ["anomalies", "alerts", "changes", "edges"].flatMap { table in
                [
                    """
                    ALTER TABLE \(table) ADD COLUMN written BIGINT NOT NULL
                    DEFAULT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT
                    """,
                    "CREATE INDEX \(table)_by_written ON \(table) (written)",
                ]
            }
        ),
        (
            // Where each worker's API answers and which server session holds its lease: the holder of the lead
            // lock is found in pg_locks by that session, so followers forward what only the leader can answer.
            "v3-workers",
            ["CREATE TABLE workers (worker TEXT PRIMARY KEY, address TEXT NOT NULL, pid INTEGER NOT NULL)"]
        ),
        (
            // What people were last told of each incident, so a new leader does not announce it again.
            "v4-announcements",
            ["CREATE TABLE announcements (incident TEXT PRIMARY KEY, state TEXT NOT NULL, time BIGINT NOT NULL)"]
        ),
        (
            // Remediation runs, so one waiting for approval passes to the worker that takes the lead.
            "v5-runs",
            [
                "CREATE TABLE runs (id TEXT PRIMARY KEY, state TEXT NOT NULL, created BIGINT NOT NULL, body TEXT NOT NULL)",
                "CREATE INDEX runs_by_state ON runs (state, created)",
            ]
        ),
    ]
}
