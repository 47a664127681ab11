// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Dispatch
import Foundation
import Synchronization
import Testing
import VigilCore
import VigilStorage
import VigilTestSupport

@testable import VigilStoragePostgres

/// The store contract and what only PostgreSQL adds (workers sharing a database, reconnects), on a real
/// PostgreSQL server started for each test. One test at a time: each blocks a thread of the shared task pool
/// while its server starts and its calls wait.
@Suite(.serialized) struct PostgresStoreTests {
    let server: PostgresServer

    init() throws { self.server = try PostgresServer() }

    func store(_ url: String, worker: String = "w1") throws -> PostgresStore {
        try PostgresStore(settings: try PostgresSettings(url: url), worker: worker, address: "http://\(worker):3100")
    }

    @Test func keepsTheStoreContract() throws {
        for check in StoreContract.checks {
            try check.run(try self.store(try self.server.createDatabase()))
        }
    }

    @Test func workersKeepTheirOwnCheckpointsAndShareTheRest() throws {
        let url = try self.server.createDatabase()
        let first = try self.store(url, worker: "vigil-a")
        let second = try self.store(url, worker: "vigil-b")
        try first.saveCheckpoint(Checkpoint(walSequence: 7, shards: [], counters: IngestCounters()))
        #expect(try second.loadCheckpoint() == nil)
        try second.saveCheckpoint(Checkpoint(walSequence: 9, shards: [], counters: IngestCounters()))
        #expect(try first.loadCheckpoint()?.walSequence == 7)
        #expect(try second.loadCheckpoint()?.walSequence == 9)

        // Shard 0 of each worker holds its own share of a minute of the graph; readers see the sum.
        var batch = StoreBatch(samples: [
            MetricPoint(series: SeriesKey(name: "up"), time: Timestamp(nanoseconds: 1), value: 1)
        ])
        batch.edges = [
            ServiceGraph.EdgeMinute(
                minute: Timestamp(nanoseconds: 0),
                caller: "web",
                callee: "db",
                calls: 5,
                errors: 0,
                latency: LatencyHistogram()
            )
        ]
        try first.write(batch)
        try second.write(batch)
        let edges = try first.topology(from: Timestamp(nanoseconds: 0), to: Timestamp(nanoseconds: 60_000_000_000))
        #expect(edges.map(\.calls) == [10])
        #expect(try second.series(service: nil, name: "up").map(\.samples) == [1])
    }

    @Test func aWorkerNameIsHeldByOneStoreAtATime() throws {
        let url = try self.server.createDatabase()
        var first: PostgresStore? = try self.store(url, worker: "vigil-a")
        let error = #expect(throws: PostgresStoreError.self) { try self.store(url, worker: "vigil-a") }
        #expect(error?.message.contains("another worker named vigil-a is using postgres://vigil@127.0.0.1") == true)
        _ = try self.store(url, worker: "vigil-b")
        #expect(first != nil)
        first = nil  // closing the store releases the name once the server has ended its session
        // Each attempt waits 5 s for the old session; a loaded machine may take longer to end it.
        var again: PostgresStore?
        let deadline = Date().addingTimeInterval(30)
        while again == nil, Date() < deadline { again = try? self.store(url, worker: "vigil-a") }
        #expect(again != nil)
    }

    @Test func oneWorkerLeadsAtATime() throws {
        let url = try self.server.createDatabase()
        var first: PostgresStore? = try self.store(url, worker: "vigil-a")
        let second = try self.store(url, worker: "vigil-b")
        #expect(try second.leader() == nil)  // nobody has taken the lead yet
        #expect(try first?.lead() == true)
        #expect(try first?.lead() == true)  // it keeps the lead
        #expect(try second.lead() == false)
        // Every worker can tell who leads, and where its API answers.
        for store in [first!, second] {
            let leader = try store.leader()
            #expect(leader?.worker == "vigil-a" && leader?.address == "http://vigil-a:3100")
        }
        first = nil  // the leader is gone: its session, and with it the lead, ends
        // The server ends the session a moment after the socket closes, as the workers' 2 s retries allow for.
        var taken = false
        let deadline = Date().addingTimeInterval(10)
        while !taken, Date() < deadline {
            taken = try second.lead()
            if !taken { Thread.sleep(forTimeInterval: 0.05) }
        }
        #expect(taken)
        #expect(try second.leader()?.worker == "vigil-b")
    }

    @Test func aLeaderWhoseSessionEndedHandsOverTheLead() throws {
        let url = try self.server.createDatabase()
        // A session ended on the server can go unnoticed by the client; the statement timeout gives it up.
        let first = try PostgresStore(
            settings: try PostgresSettings(url: url),
            worker: "vigil-a",
            statementTimeout: .seconds(2)
        )
        let second = try PostgresStore(
            settings: try PostgresSettings(url: url),
            worker: "vigil-b",
            statementTimeout: .seconds(2)
        )
        #expect(try first.lead() == true)
        #expect(try second.lead() == false)
        // The server ends every session that holds an advisory lock (an operator, or a failover of the database).
        _ = try self.server.psql(
            url.databaseName,
            """
            SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()
            """
        )
        var taken = false
        let deadline = Date().addingTimeInterval(10)
        while !taken, Date() < deadline {
            taken = (try? second.lead()) ?? false
            if !taken { Thread.sleep(forTimeInterval: 0.05) }
        }
        #expect(taken)
        // The old leader's check of its session fails or times out; then it finds the lead taken.
        var stillLeads = true
        for _ in 0..<3 where stillLeads { stillLeads = (try? first.lead()) ?? true }
        #expect(!stillLeads)
        // Each took its name back on a new session.
        #expect(throws: PostgresStoreError.self) { try self.store(url, worker: "vigil-a") }
    }

    @Test func eachWorkerReadsWhatTheOthersWrote() throws {
        let url = try self.server.createDatabase()
        let writer = try self.store(url, worker: "vigil-a")
        let reader = try self.store(url, worker: "vigil-b")
        let (nothing, start) = try reader.written(after: nil)
        #expect(nothing.isEmpty)
        var batch = StoreBatch(
            anomalies: [
                Anomaly(
                    kind: .silence,
                    service: "auth",
                    subject: "auth/loki",
                    time: Timestamp(nanoseconds: 5),
                    score: 0.9,
                    evidence: Evidence(observed: 0, expected: 12, summary: "quiet")
                )
            ],
            changes: [ChangeEvent(service: "auth", kind: .deploy, version: "v2", time: Timestamp(nanoseconds: 4))]
        )
        batch.alerts = [
            Alert(
                fingerprint: "f",
                name: "AuthDown",
                service: "auth",
                status: .firing,
                labels: [],
                summary: nil,
                startsAt: Timestamp(nanoseconds: 6),
                endsAt: nil
            )
        ]
        batch.edges = [
            ServiceGraph.EdgeMinute(
                minute: Timestamp(nanoseconds: 0),
                caller: "web",
                callee: "auth",
                calls: 3,
                errors: 1,
                latency: LatencyHistogram()
            )
        ]
        try writer.write(batch)
        let (read, cursor) = try reader.written(after: start)
        #expect(read.anomalies == batch.anomalies)
        #expect(read.changes == batch.changes)
        #expect(read.alerts == batch.alerts)
        #expect(read.edges.map { "\($0.caller)->\($0.callee)" } == ["web->auth"])
        #expect(cursor > start)
        // The alert resolving is an update, and is read again.
        batch = StoreBatch()
        var resolved = read.alerts[0]
        resolved.status = .resolved
        resolved.endsAt = Timestamp(nanoseconds: 9)
        batch.alerts = [resolved]
        try writer.write(batch)
        #expect(try reader.written(after: cursor).batch.alerts == [resolved])
    }

    @Test func workersStartingTogetherMigrateOnce() throws {
        let url = try self.server.createDatabase()
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { index in
            do { _ = try self.store(url, worker: "w\(index)") } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.withLock { $0 } == [])
        // Every migration applied, once, and the workers table holds each worker once.
        let migrations = PostgresSchema.migrations.count
        #expect(try self.server.psql(url.databaseName, "SELECT count(*) FROM vigil_migrations") == "\(migrations)\n")
        #expect(try self.server.psql(url.databaseName, "SELECT count(*) FROM workers") == "4\n")
    }

    @Test func aRestartedServerIsReconnected() throws {
        let url = try self.server.createDatabase()
        let store = try self.store(url)
        let series = SeriesKey(name: "up")
        try store.write(StoreBatch(samples: [MetricPoint(series: series, time: Timestamp(nanoseconds: 1), value: 1)]))
        try self.server.stop()
        let error = #expect(throws: PostgresStoreError.self) {
            try store.samples(series: series.text, from: nil, to: nil, limit: 10)
        }
        #expect(error?.message.contains("cannot connect to PostgreSQL at postgres://vigil@127.0.0.1") == true)
        try self.server.start()
        #expect(try store.samples(series: series.text, from: nil, to: nil, limit: 10).map(\.1) == [1])
        try store.write(StoreBatch(samples: [MetricPoint(series: series, time: Timestamp(nanoseconds: 2), value: 2)]))
        #expect(try store.samples(series: series.text, from: nil, to: nil, limit: 10).map(\.1) == [1, 2])
    }

    @Test func aServerErrorIsReportedWithItsMessage() throws {
        let url = try self.server.createDatabase()
        let store = try self.store(url)
        _ = try self.server.psql(url.databaseName, "DROP TABLE audit")
        let error = #expect(throws: PostgresStoreError.self) { try store.audit(run: nil, limit: 1) }
        #expect(error?.message.contains("relation \"audit\" does not exist") == true)
        // The connection survives a failed statement.
        #expect(try store.templates(service: nil, limit: 1).isEmpty)
    }
}

/// The settings read from URLs, and the errors for bad ones.
@Suite struct PostgresSettingsTests {
    @Test func readsALibpqStyleURL() throws {
        let settings = try PostgresSettings(url: "postgresql://vigil:s%40cret@db.internal:6432/ops?sslmode=verify-full")
        #expect(settings.host == "db.internal")
        #expect(settings.port == 6432)
        #expect(settings.user == "vigil")
        #expect(settings.password == "s@cret")
        #expect(settings.database == "ops")
        #expect(settings.tls == .verifyFull)
        #expect(settings.place == "postgres://vigil@db.internal:6432/ops")
        #expect(try PostgresSettings(url: "postgres://u@h/d").tls == .prefer)
        #expect(try PostgresSettings(url: "postgres://u@h/d").port == 5432)
    }

    @Test(arguments: [
        ("mysql://u@h/d", "must look like postgres://"),
        ("postgres://h/d", "names no user"),
        ("postgres://u@h", "names no database"),
        ("postgres://u@h/d?sslmode=maybe", "sslmode must be one of disable, prefer, require, verify-full"),
        ("postgres://u@h/d?pool=3", "option pool is not known"),
    ])
    func refusesABadURL(_ url: String, _ reason: String) {
        let error = #expect(throws: PostgresStoreError.self) { try PostgresSettings(url: url) }
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
    }

    @Test func aClosedPortIsAClearErrorWithoutThePassword() throws {
        let port = try LoopbackPort.free()
        let error = #expect(throws: PostgresStoreError.self) {
            try PostgresStore(
                settings: try PostgresSettings(url: "postgres://u:hunter2@127.0.0.1:\(port)/d?sslmode=disable"),
                worker: "w"
            )
        }
        #expect(error?.message.contains("cannot connect to PostgreSQL at postgres://u@127.0.0.1:\(port)/d") == true)
        #expect(error?.message.contains("hunter2") == false)
    }
}

extension String {
    /// The database a test URL names.
    fileprivate var databaseName: String {
        String(self.split(separator: "/").last!.split(separator: "?").first!)
    }
}
