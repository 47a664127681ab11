// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

public import VigilCore

/// Where findings, templates, series and checkpoints live. The embedded SQLite store is the default; a
/// PostgreSQL store will implement the same protocol for scale-out.
public protocol Store: Sendable {
    /// Writes one batch of pipeline output in one transaction. Every write is idempotent (templates and
    /// samples are upserts, anomalies are keyed by ID), so replaying input after a crash changes nothing.
    func write(_ batch: StoreBatch) throws
    /// Saves a checkpoint atomically, replacing the previous one.
    func saveCheckpoint(_ checkpoint: Checkpoint) throws
    /// The last checkpoint, if any.
    func loadCheckpoint() throws -> Checkpoint?
    /// Templates, busiest first.
    func templates(service: String?, limit: Int) throws -> [StoredTemplate]
    /// Findings in a time range, newest first.
    func anomalies(service: String?, from: Timestamp?, to: Timestamp?, limit: Int) throws -> [Anomaly]
    /// Every series with its latest sample.
    func series(service: String?, name: String?) throws -> [SeriesSummary]
    /// Samples of one series (by its text form) in a time range, oldest first.
    func samples(series: String, from: Timestamp?, to: Timestamp?, limit: Int) throws -> [(Timestamp, Double)]
    /// Change events in a time range, newest first.
    func changes(service: String?, from: Timestamp?, to: Timestamp?, limit: Int) throws -> [ChangeEvent]
    /// External alerts, newest first.
    func alerts(service: String?, status: String?, limit: Int) throws -> [Alert]
    /// The service graph of the minutes in `[from, to)`: each edge's calls, errors and latency.
    func topology(from: Timestamp, to: Timestamp) throws -> [TopologyEdge]
    /// Deletes samples and findings older than the retention allows (never the audit log).
    func applyRetention(now: Timestamp) throws
    /// Appends to the remediation audit log, which is never updated or pruned.
    func appendAudit(_ records: [AuditRecord]) throws
    /// The audit log, newest first; one run's alone when `run` is given.
    func audit(run: String?, limit: Int) throws -> [AuditRecord]
    /// Records what people were last told of each incident (an opaque state, by incident ID) at `time`, so a
    /// restarted server, or another worker taking the lead, does not announce it again. Kept as long as findings.
    func recordAnnouncements(_ states: [String: String], at time: Timestamp) throws
    /// What people were last told of each incident, by incident ID.
    func announcements() throws -> [String: String]
    /// Saves remediation runs, each replacing the one of its ID, so a run waiting for approval outlives a restart
    /// and passes to the worker that takes the lead. Kept as long as findings.
    func saveRuns(_ runs: [RemediationRun]) throws
    /// The saved runs in `state`, oldest first.
    func savedRuns(in state: RemediationRun.State) throws -> [RemediationRun]
}

/// A store several workers write at once (PostgreSQL): each reads back what the others wrote, and one of them
/// leads, telling people about incidents and remediating them, so that happens once.
public protocol SharedStore: Store {
    /// Findings, alerts, change events and call edges any worker wrote after `cursor`, and the cursor for the
    /// next call. Rows near the cursor come again (a transaction may commit after a later one), so callers
    /// ignore what they already have. A nil cursor returns nothing and the current one.
    func written(after cursor: Int64?) throws -> (batch: StoreBatch, cursor: Int64)
    /// Whether this worker leads: takes the lead when no live worker holds it, and keeps it while it lives.
    func lead() throws -> Bool
    /// The worker that leads now and the address its API answers at, if one does.
    func leader() throws -> (worker: String, address: String)?
}

/// How long samples and findings are kept.
public struct StoreRetention: Sendable, Equatable {
    /// Samples older than this many seconds are deleted (default 7 days).
    public var sampleSeconds: Int64 = 7 * 86_400
    /// Findings and change events older than this many seconds are deleted (default 30 days).
    public var anomalySeconds: Int64 = 30 * 86_400
    /// Samples older than this many seconds are averaged into buckets of ``downsampleBucketSeconds``
    /// (default 1 day).
    public var downsampleAfterSeconds: Int64 = 86_400
    /// The bucket of downsampled samples (default 5 minutes).
    public var downsampleBucketSeconds: Int64 = 300

    /// The defaults.
    public init() {}
}

/// One line of the remediation audit log: what a run did or was told, when, and by whom.
public struct AuditRecord: Sendable, Codable, Equatable {
    public var time: Timestamp
    public var run: String
    public var incident: String
    public var runbook: String
    /// The service the run acts on.
    public var service: String
    /// The run's state after it (`awaiting_approval`, `running`, `succeeded`, …).
    public var state: String
    /// `vigil`, or the person who approved or rejected.
    public var actor: String
    public var what: String

    /// Creates a record.
    public init(
        time: Timestamp,
        run: String,
        incident: String,
        runbook: String,
        service: String,
        state: String,
        actor: String,
        what: String
    ) {
        self.time = time
        self.run = run
        self.incident = incident
        self.runbook = runbook
        self.service = service
        self.state = state
        self.actor = actor
        self.what = what
    }
}

/// One transaction's worth of pipeline output.
public struct StoreBatch: Sendable {
    /// The current templates of streams whose templates changed.
    public var templates: [(stream: StreamKey, templates: [Template])] = []
    /// Metric samples (host metrics, template rates).
    public var samples: [MetricPoint] = []
    /// New findings.
    public var anomalies: [Anomaly] = []
    /// Change events received.
    public var changes: [ChangeEvent] = []
    /// External alerts received (a resolved alert updates its firing one).
    public var alerts: [Alert] = []
    /// Service-graph edges of closed minutes, absolute values that replace what `partition` wrote before.
    public var edges: [ServiceGraph.EdgeMinute] = []
    /// Which shard wrote the edges: each shard's share of a minute is its own row.
    public var partition = 0

    /// Creates a batch.
    public init(
        templates: [(stream: StreamKey, templates: [Template])] = [],
        samples: [MetricPoint] = [],
        anomalies: [Anomaly] = [],
        changes: [ChangeEvent] = []
    ) {
        self.templates = templates
        self.samples = samples
        self.anomalies = anomalies
        self.changes = changes
    }

    /// Whether there is nothing to write.
    public var isEmpty: Bool {
        self.templates.isEmpty && self.samples.isEmpty && self.anomalies.isEmpty && self.changes.isEmpty
            && self.alerts.isEmpty && self.edges.isEmpty
    }
}

/// Everything needed to resume after a restart: the last write-ahead log record the shards had processed, each
/// shard's state, and the ingest counters at that point.
public struct Checkpoint: Sendable, Codable {
    /// Records up to and including this sequence number are reflected in `shards`.
    public var walSequence: UInt64
    /// Each shard's state, in shard order.
    public var shards: [PipelineShard.Snapshot]
    /// Ingest counters at the checkpoint.
    public var counters: IngestCounters

    /// Creates a checkpoint.
    public init(walSequence: UInt64, shards: [PipelineShard.Snapshot], counters: IngestCounters) {
        self.walSequence = walSequence
        self.shards = shards
        self.counters = counters
    }
}

/// Per signal kind, how much was accepted, processed and rejected.
public struct IngestCounters: Sendable, Codable, Equatable {
    /// One signal kind's counts.
    public struct Counts: Sendable, Codable, Equatable {
        /// Signals acknowledged to a sender (durable in the write-ahead log).
        public var accepted = 0
        /// Signals the pipeline has taken.
        public var processed = 0
        /// Signals refused (malformed, too large, overload).
        public var rejected = 0

        /// Zero counts.
        public init() {}
    }

    /// Log lines.
    public var logs = Counts()
    /// Metric samples.
    public var samples = Counts()
    /// Trace spans.
    public var spans = Counts()
    /// External alerts.
    public var alerts = Counts()
    /// Change events.
    public var changes = Counts()

    /// Zero counts.
    public init() {}
}

/// A template as stored, with its stream.
public struct StoredTemplate: Sendable, Codable, Equatable {
    /// The stable template ID.
    public var id: String
    /// The service of its stream.
    public var service: String
    /// The source of its stream.
    public var source: String
    /// The template text.
    public var text: String
    /// Lines that matched it.
    public var count: Int
    /// Lines at error level or above.
    public var errorCount: Int
    /// The highest severity seen.
    public var severity: String
    /// First time seen (RFC 3339), if known.
    public var firstSeen: String?
    /// Last time seen (RFC 3339), if known.
    public var lastSeen: String?

    /// Creates a stored template.
    public init(
        id: String,
        service: String,
        source: String,
        text: String,
        count: Int,
        errorCount: Int,
        severity: String,
        firstSeen: String?,
        lastSeen: String?
    ) {
        self.id = id
        self.service = service
        self.source = source
        self.text = text
        self.count = count
        self.errorCount = errorCount
        self.severity = severity
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
    }
}

/// A series and its latest sample.
public struct SeriesSummary: Sendable, Codable, Equatable {
    /// The series in Prometheus spelling.
    public var series: String
    /// The metric name.
    public var name: String
    /// Samples stored.
    public var samples: Int
    /// The latest sample's time (RFC 3339).
    public var lastTime: String
    /// The latest sample's value.
    public var lastValue: Double

    /// Creates a summary.
    public init(series: String, name: String, samples: Int, lastTime: String, lastValue: Double) {
        self.series = series
        self.name = name
        self.samples = samples
        self.lastTime = lastTime
        self.lastValue = lastValue
    }
}

/// One edge of the service graph over a time range.
public struct TopologyEdge: Sendable, Codable, Equatable {
    /// The calling service.
    public var caller: String
    /// The called service (or, for an uninstrumented callee, what the caller's spans named).
    public var callee: String
    /// Calls in the range.
    public var calls: Int
    /// Calls that failed.
    public var errors: Int
    /// errors / calls.
    public var errorRatio: Double
    /// Calls per second over the minutes the edge was seen.
    public var callsPerSecond: Double
    /// Latency percentiles of the callee's spans, in seconds.
    public var latencyP50Seconds: Double
    public var latencyP90Seconds: Double
    public var latencyP99Seconds: Double
    /// The first and last minute with calls (RFC 3339).
    public var firstSeen: String
    public var lastSeen: String

    public init(caller: String, callee: String, minutes: [ServiceGraph.EdgeMinute]) {
        var latency = LatencyHistogram()
        for minute in minutes { latency.merge(minute.latency) }
        self.caller = caller
        self.callee = callee
        self.calls = minutes.reduce(0) { $0 + $1.calls }
        self.errors = minutes.reduce(0) { $0 + $1.errors }
        self.errorRatio = self.calls > 0 ? Double(self.errors) / Double(self.calls) : 0
        let seenMinutes = Set(minutes.map(\.minute)).count
        self.callsPerSecond = Double(self.calls) / Double(max(1, seenMinutes) * 60)
        self.latencyP50Seconds = latency.quantile(0.5) ?? 0
        self.latencyP90Seconds = latency.quantile(0.9) ?? 0
        self.latencyP99Seconds = latency.quantile(0.99) ?? 0
        self.firstSeen = (minutes.map(\.minute).min() ?? Timestamp(nanoseconds: 0)).iso8601
        self.lastSeen = (minutes.map(\.minute).max() ?? Timestamp(nanoseconds: 0)).iso8601
    }
}
