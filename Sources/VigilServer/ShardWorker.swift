// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Synchronization
import VigilCore
import VigilStorage

/// One pipeline shard running as one task: it owns a ``PipelineShard`` value and takes messages in order.
final class ShardWorker: Sendable {
    enum Message: Sendable {
        case logs([LogBatch], lines: Int)
        case samples([MetricPoint])
        case changes([ChangeEvent])
        case alerts([Alert])
        /// Spans of the traces this shard joins into edges.
        case joinSpans([TraceSpan])
        /// Entry spans of the services this shard measures, and their client spans that name a peer.
        case measureSpans([TraceSpan])
        case tick(Timestamp)
        /// Flush, then reply with the shard's state, or nil when the store write failed (the held batch is not in
        /// the store yet, so the log must keep it).
        case checkpoint(@Sendable (PipelineShard.Snapshot?) -> Void)
    }

    let index: Int
    private let stream: AsyncStream<Message>
    private let continuation: AsyncStream<Message>.Continuation
    private let initial: Mutex<PipelineShard?>

    init(index: Int, shard: PipelineShard) {
        self.index = index
        (self.stream, self.continuation) = AsyncStream.makeStream(of: Message.self, bufferingPolicy: .unbounded)
        self.initial = Mutex(shard)
    }

    func send(_ message: Message) { self.continuation.yield(message) }

    func finish() { self.continuation.finish() }

    /// Processes messages until ``finish()``; store output is written on ticks and before every checkpoint.
    func run(
        store: any Store,
        counters: Counters,
        correlate: @Sendable (StoreBatch) -> Void,
        observe: @Sendable (String, Duration) -> Void,
        onError: @Sendable (String) -> Void
    ) async {
        guard var shard = self.initial.withLock({ $0.take() }) else { return }
        var pending = StoreBatch()
        pending.partition = self.index
        // Span-derived series skip the detectors; the shard rolls up the series it judges itself.
        var rollup = SampleRollup()
        var templatesChanged = false
        var correlated = false
        var lastTemplateWrite = Timestamp(nanoseconds: 0)
        @discardableResult
        func flush(templates: Bool) -> Bool {
            pending.samples += shard.takeSamples()
            if !rollup.isEmpty { pending.samples += rollup.take() }
            if templates && templatesChanged {
                pending.templates = shard.templates()
                templatesChanged = false
            }
            guard !pending.isEmpty else { return true }
            // Once per batch: a batch whose write failed is kept and retried, not correlated again.
            if !correlated {
                correlate(pending)
                correlated = true
            }
            let started = ContinuousClock.now
            defer { observe("store", ContinuousClock.now - started) }
            do {
                try store.write(pending)
                correlated = false
                pending = StoreBatch()
                pending.partition = self.index
                return true
            } catch {
                onError("store write failed (will retry): \(error)")
                return false
            }
        }
        for await message in self.stream {
            switch message {
            case .logs(let batches, let lines):
                let started = ContinuousClock.now
                for batch in batches { shard.process(batch, findings: &pending.anomalies) }
                observe("shard", ContinuousClock.now - started)
                templatesChanged = true
                counters.processed(logs: lines)
            case .samples(let points):
                shard.process(points, findings: &pending.anomalies)
                counters.processed(samples: points.count)
            case .changes(let events):
                pending.changes += events
                counters.processed(changes: events.count)
            case .alerts(let alerts):
                pending.alerts += alerts
                counters.processed(alerts: alerts.count)
            case .joinSpans(let spans):
                let started = ContinuousClock.now
                shard.join(spans, edges: &pending.edges)
                observe("shard", ContinuousClock.now - started)
                counters.processed(spans: spans.count)
            case .measureSpans(let spans):
                // `pending` is captured by `flush`, so two of its fields cannot be passed inout at once.
                var points: [MetricPoint] = []
                var findings: [Anomaly] = []
                shard.measure(spans, points: &points, findings: &findings)
                rollup.add(points)
                pending.anomalies += findings
            case .tick(let now):
                let records = shard.recordCount
                shard.tick(now: now, findings: &pending.anomalies)
                var edges: [ServiceGraph.EdgeMinute] = []
                var points: [MetricPoint] = []
                var findings: [Anomaly] = []
                shard.tickSpans(edges: &edges, points: &points, findings: &findings)
                pending.edges += edges
                rollup.add(points)
                pending.anomalies += findings
                if shard.recordCount != records { templatesChanged = true }
                let writeTemplates = now.seconds - lastTemplateWrite.seconds >= 5
                if writeTemplates { lastTemplateWrite = now }
                flush(templates: writeTemplates)
            case .checkpoint(let reply):
                let snapshot = shard.snapshot(findings: &pending.anomalies)
                templatesChanged = true
                reply(flush(templates: true) ? snapshot : nil)
            }
        }
        flush(templates: true)
    }
}

/// Ingest counters shared by the HTTP handlers and the shards.
final class Counters: Sendable {
    private let state = Mutex(IngestCounters())
    private let inFlightCount = Atomic<Int>(0)

    var value: IngestCounters { self.state.withLock { $0 } }

    var inFlight: Int { self.inFlightCount.load(ordering: .relaxed) }

    func restore(_ counters: IngestCounters) { self.state.withLock { $0 = counters } }

    func reserve(_ count: Int, limit: Int) -> Bool {
        let now = self.inFlightCount.add(count, ordering: .relaxed).newValue
        if now > limit && now != count {
            self.inFlightCount.subtract(count, ordering: .relaxed)
            return false
        }
        return true
    }

    func release(_ count: Int) { self.inFlightCount.subtract(count, ordering: .relaxed) }

    func accepted(logs: Int = 0, samples: Int = 0, changes: Int = 0, alerts: Int = 0, spans: Int = 0) {
        self.add(\.accepted, logs: logs, samples: samples, changes: changes, alerts: alerts, spans: spans)
    }

    func rejected(logs: Int = 0, samples: Int = 0, changes: Int = 0, alerts: Int = 0, spans: Int = 0) {
        self.add(\.rejected, logs: logs, samples: samples, changes: changes, alerts: alerts, spans: spans)
    }

    func processed(logs: Int = 0, samples: Int = 0, changes: Int = 0, alerts: Int = 0, spans: Int = 0) {
        self.add(\.processed, logs: logs, samples: samples, changes: changes, alerts: alerts, spans: spans)
        self.release(logs + samples + changes + alerts + spans)
    }

    /// Adds to one count (accepted, rejected or processed) of every signal kind.
    private func add(
        _ count: WritableKeyPath<IngestCounters.Counts, Int>,
        logs: Int,
        samples: Int,
        changes: Int,
        alerts: Int,
        spans: Int
    ) {
        self.state.withLock {
            $0.spans[keyPath: count] += spans
            $0.alerts[keyPath: count] += alerts
            $0.logs[keyPath: count] += logs
            $0.samples[keyPath: count] += samples
            $0.changes[keyPath: count] += changes
        }
    }
}
