// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
public import Logging
import Synchronization
import VigilCore
import VigilIngest
public import VigilStorage
import VigilStoragePostgres

/// The durable, sharded pipeline: input is appended to the write-ahead log, acknowledged, and handed to the
/// shard that owns its stream, in log order. Checkpoints record each shard's state together with the last log
/// record it reflects, so a restart restores the state and replays only what came after.
public final class Pipeline: Sendable {
    /// Why input was refused.
    public enum Refusal: Error, Sendable {
        /// More input is waiting than the pipeline may hold; try again shortly (429).
        case overloaded
        /// The write-ahead log cannot take it (503).
        case unavailable(String)
    }

    let configuration: ServerConfiguration
    let wal: WriteAheadLog
    let store: any Store
    /// Groups what the shards store into incidents.
    let incidents: IncidentService
    let workers: [ShardWorker]
    let counters = Counters()
    /// Series already seen by remote_write, shared by all requests.
    let seriesCache = RemoteWrite.SeriesCache()
    let logger: Logger
    let metrics: ServerMetrics
    /// Serialises dispatch so every shard sees records, ticks and checkpoint markers in one global order.
    private let dispatchLock = Mutex<UInt64>(0)
    private let checkpointLock = Mutex<Bool>(false)
    /// Whether recovery (WAL replay) has finished.
    let ready = Atomic<Bool>(false)
    /// When this server last confirmed it leads the workers of a shared store (uptime nanoseconds): `Int64.max`
    /// when it runs alone, 0 when it does not lead.
    let leadConfirmed = Atomic<Int64>(Int64.max)

    /// Whether this server tells people about incidents and remediates them now: always alone; with a shared store,
    /// only while it leads and confirmed so within 10 s, so a worker cut off from the database stops acting.
    var mayAct: Bool {
        let confirmed = self.leadConfirmed.load(ordering: .relaxed)
        return confirmed == Int64.max || (confirmed > 0 && Self.uptimeNanoseconds() - confirmed < 10_000_000_000)
    }

    static func uptimeNanoseconds() -> Int64 {
        Int64(DispatchTime.now().uptimeNanoseconds)
    }
    let recoveredRecords: Int
    private let lock: DataDirectoryLock

    /// Opens the store and the log in the data directory, restores the last checkpoint and replays the log.
    init(configuration: ServerConfiguration, logger: Logger, metrics: ServerMetrics) throws {
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        let directory = URL(fileURLWithPath: configuration.dataDirectory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.lock = try DataDirectoryLock(directory: directory.path)
        if let postgres = configuration.postgres {
            self.store = try PostgresStore(
                settings: try PostgresSettings(url: postgres.url),
                worker: postgres.worker,
                address: configuration.advertisedAddress,
                retention: configuration.retention
            )
        } else {
            self.store = try SQLiteStore(
                path: directory.appendingPathComponent("vigil.sqlite").path,
                retention: configuration.retention
            )
        }
        if self.store is any SharedStore { self.leadConfirmed.store(0, ordering: .relaxed) }
        self.incidents = IncidentService(
            webhooks: configuration.incidentWebhooks.compactMap(URL.init(string:)),
            pagerDuty: configuration.pagerDuty,
            dependencies: configuration.dependencies,
            correlation: configuration.correlation,
            store: self.store
        )
        try self.incidents.restore(from: self.store, now: Clock.now())
        self.wal = try WriteAheadLog(
            directory: directory.appendingPathComponent("wal").path,
            syncPolicy: configuration.walSync
        )
        var shardConfiguration = PipelineShard.Configuration()
        shardConfiguration.masksPII = configuration.masksPII
        shardConfiguration.learnedHeaders = configuration.learnedHeaders
        shardConfiguration.seriesRules = configuration.seriesRules
        shardConfiguration.pinnedTemplates = configuration.pinnedTemplates
        let checkpoint = try self.store.loadCheckpoint()
        let shards = Self.distribute(checkpoint?.shards ?? [], into: configuration.shards, shardConfiguration)
        self.workers = shards.enumerated().map { ShardWorker(index: $0.offset, shard: $0.element) }
        if let checkpoint { self.counters.restore(checkpoint.counters) }
        let replay = self.wal.records(after: checkpoint?.walSequence ?? 0)
        self.recoveredRecords = replay.count
        self.dispatchLock.withLock { $0 = checkpoint?.walSequence ?? 0 }
        for record in replay {
            guard var payload = WALPayload.decode(record.payload) else {
                logger.error("write-ahead log record \(record.sequence) is not readable; skipped")
                continue
            }
            if case .remoteWriteBody(let body) = payload {
                guard let decoded = try? RemoteWrite.decode(body) else {
                    logger.error("write-ahead log record \(record.sequence) holds an unreadable remote_write body")
                    continue
                }
                payload = .samples(decoded.points)
            }
            _ = self.counters.reserve(payload.count, limit: Int.max)
            self.dispatch(sequence: record.sequence, payload)
        }
    }

    /// Restores shard snapshots, re-routing streams when the shard count changed.
    static func distribute(
        _ snapshots: [PipelineShard.Snapshot],
        into count: Int,
        _ configuration: PipelineShard.Configuration
    ) -> [PipelineShard] {
        if snapshots.count == count {
            return snapshots.map { PipelineShard(restoring: $0, configuration: configuration) }
        }
        var parts = [PipelineShard.Snapshot](
            repeating: PipelineShard.Snapshot(streams: [], series: [], processedLines: 0, processedSamples: 0),
            count: count
        )
        for snapshot in snapshots {
            for stream in snapshot.streams { parts[Int(stream.key.stableHash % UInt64(count))].streams.append(stream) }
            for series in snapshot.series {
                parts[Int(series.key.stableHash % UInt64(count))].series.append(series)
            }
        }
        // Open span minutes stay with a shard of the same number (a trace or service may move: a minute's share).
        for (index, snapshot) in snapshots.enumerated() where index < count {
            parts[index].graph = snapshot.graph
            parts[index].spanMetrics = snapshot.spanMetrics
        }
        return parts.map { PipelineShard(restoring: $0, configuration: configuration) }
    }

    /// Runs the shards until ``shutdown()``.
    func runWorkers() async {
        await withTaskGroup(of: Void.self) { group in
            for worker in self.workers {
                group.addTask {
                    await worker.run(
                        store: self.store,
                        counters: self.counters,
                        correlate: { batch in self.incidents.observe(batch) },
                        observe: { stage, duration in self.metrics.stage(stage, duration) },
                        onError: { message in self.logger.error("\(message)") }
                    )
                }
            }
        }
    }

    // MARK: - Input

    /// Makes input durable, then hands it to its shards; returns once it may be acknowledged.
    /// `record` is what the log keeps when it is not `payload` itself (a remote_write body as received).
    public func submit(_ payload: WALPayload, record: [UInt8]? = nil, countsRefusal: Bool = true) async throws(Refusal)
    {
        let count = payload.count
        guard self.counters.reserve(count, limit: self.configuration.maximumInFlight) else {
            if countsRefusal { self.reject(payload) }
            throw .overloaded
        }
        let started = ContinuousClock.now
        defer { self.metrics.stage("wal", ContinuousClock.now - started) }
        do {
            _ = try await self.wal.append(record ?? payload.encoded()) { sequence in
                self.dispatch(sequence: sequence, payload)
            }
        } catch {
            self.counters.release(count)
            self.reject(payload)
            throw .unavailable("\(error)")
        }
    }

    /// For Vigil's own sources (host monitor, tailed files, syslog): submits, waiting while the pipeline is
    /// full instead of dropping; gives up only when the log cannot take input at all (logged, counted).
    func submitWaiting(_ payload: WALPayload) async {
        while !Task.isCancelled {
            do {
                try await self.submit(payload, countsRefusal: false)
                return
            } catch {
                switch error {
                case .overloaded:
                    try? await Task.sleep(for: .milliseconds(100))
                case .unavailable(let reason):
                    self.logger.error("cannot persist \(VigilCore.Format.count(payload.count, "signal")): \(reason)")
                    return
                }
            }
        }
    }

    /// Counts input refused before it reached the log.
    func reject(_ payload: WALPayload) {
        switch payload {
        case .logs: self.counters.rejected(logs: payload.count)
        case .samples: self.counters.rejected(samples: payload.count)
        case .changes: self.counters.rejected(changes: payload.count)
        case .alerts: self.counters.rejected(alerts: payload.count)
        case .spans: self.counters.rejected(spans: payload.count)
        case .remoteWriteBody: break
        }
    }

    private func dispatch(sequence: UInt64, _ payload: WALPayload) {
        self.dispatchLock.withLock { last in
            last = sequence
            let count = self.workers.count
            switch payload {
            case .logs(let batches):
                self.counters.accepted(logs: payload.count)
                var parts = [[LogBatch]](repeating: [], count: count)
                for batch in batches { parts[Int(batch.stream.stableHash % UInt64(count))].append(batch) }
                for (index, part) in parts.enumerated() where !part.isEmpty {
                    self.workers[index].send(.logs(part, lines: part.reduce(0) { $0 + $1.entries.count }))
                }
            case .samples(let points):
                self.counters.accepted(samples: points.count)
                var parts = [[MetricPoint]](repeating: [], count: count)
                for point in points { parts[Int(point.series.stableHash % UInt64(count))].append(point) }
                for (index, part) in parts.enumerated() where !part.isEmpty { self.workers[index].send(.samples(part)) }
            case .alerts(let alerts):
                self.counters.accepted(alerts: alerts.count)
                var parts = [[Alert]](repeating: [], count: count)
                for alert in alerts {
                    parts[Int(StreamKey(service: alert.fingerprint, source: "alerts").stableHash % UInt64(count))]
                        .append(alert)
                }
                for (index, part) in parts.enumerated() where !part.isEmpty { self.workers[index].send(.alerts(part)) }
            case .changes(let events):
                self.counters.accepted(changes: events.count)
                var parts = [[ChangeEvent]](repeating: [], count: count)
                for event in events {
                    parts[Int(StreamKey(service: event.service, source: "changes").stableHash % UInt64(count))].append(
                        event
                    )
                }
                for (index, part) in parts.enumerated() where !part.isEmpty { self.workers[index].send(.changes(part)) }
            case .remoteWriteBody:
                // Never dispatched: submit and replay hand over the decoded samples.
                break
            case .spans(let spans):
                self.counters.accepted(spans: spans.count)
                // A trace's spans meet in one shard to be joined into edges; a service's spans meet in one shard
                // to be measured (its calls to a named peer too, so each caller's calls to it have one shard).
                // The join message carries the count that is released when processed.
                var byTrace = [[TraceSpan]](repeating: [], count: count)
                var byService = [[TraceSpan]](repeating: [], count: count)
                for span in spans {
                    byTrace[Int((span.traceID.high ^ span.traceID.low) % UInt64(count))].append(span)
                    if span.isEntry || (span.kind == .client && span.peer != nil) {
                        byService[Int(StreamKey(service: span.service, source: "spans").stableHash % UInt64(count))]
                            .append(span)
                    }
                }
                for index in 0..<count {
                    if !byService[index].isEmpty { self.workers[index].send(.measureSpans(byService[index])) }
                    if !byTrace[index].isEmpty { self.workers[index].send(.joinSpans(byTrace[index])) }
                }
            }
        }
    }

    /// Tells every shard the time.
    func tick(_ now: Timestamp) {
        self.dispatchLock.withLock { _ in
            for worker in self.workers { worker.send(.tick(now)) }
        }
    }

    // MARK: - Checkpoints

    /// Takes a consistent checkpoint: a marker goes to every shard in log order; each shard writes its pending
    /// output and answers with its state; the states, the log position and the counters are saved together,
    /// and log segments the checkpoint covers are deleted.
    public func checkpoint() async throws {
        let claimed = self.checkpointLock.withLock { busy in
            defer { busy = true }
            return !busy
        }
        guard claimed else { return }
        defer { self.checkpointLock.withLock { $0 = false } }
        let collected = Mutex<[Int: PipelineShard.Snapshot?]>([:])
        let (sequence, counters) = await withCheckedContinuation {
            (marker: CheckedContinuation<(UInt64, IngestCounters), Never>) in
            // Under the dispatch lock the marker lands in every shard's queue after every record up to `last`.
            self.dispatchLock.withLock { last in
                let position = last
                let counters = self.counters.value
                let answered = Atomic<Int>(0)
                for worker in self.workers {
                    worker.send(
                        .checkpoint { snapshot in
                            collected.withLock { $0[worker.index] = snapshot }
                            if answered.add(1, ordering: .acquiringAndReleasing).newValue == self.workers.count {
                                marker.resume(returning: (position, counters))
                            }
                        }
                    )
                }
            }
        }
        var saved = counters
        // Everything up to the marker has been processed by every shard.
        saved.logs.processed = saved.logs.accepted
        saved.samples.processed = saved.samples.accepted
        saved.changes.processed = saved.changes.accepted
        saved.alerts.processed = saved.alerts.accepted
        saved.spans.processed = saved.spans.accepted
        saved.spans.rejected = self.counters.value.spans.rejected
        saved.logs.rejected = self.counters.value.logs.rejected
        saved.samples.rejected = self.counters.value.samples.rejected
        saved.changes.rejected = self.counters.value.changes.rejected
        saved.alerts.rejected = self.counters.value.alerts.rejected
        let snapshots = collected.withLock { all in (0..<self.workers.count).compactMap { all[$0] ?? nil } }
        // A shard whose batch is not in the store yet: the log must keep what it came from.
        guard snapshots.count == self.workers.count else { throw CheckpointSkipped() }
        try self.store.saveCheckpoint(Checkpoint(walSequence: sequence, shards: snapshots, counters: saved))
        self.wal.truncate(through: sequence)
    }

    /// A checkpoint was not written because a shard's store write failed; the next one is tried as usual.
    struct CheckpointSkipped: Error, CustomStringConvertible {
        var description: String { "a store write failed, so the write-ahead log keeps its records until it succeeds" }
    }

    /// Stops taking input, drains the log, checkpoints and stops the shards.
    func shutdown() async {
        self.wal.close()
        do {
            try await self.checkpoint()
        } catch {
            self.logger.error("final checkpoint failed: \(error)")
        }
        for worker in self.workers { worker.finish() }
    }
}
