// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

extension PipelineShard {
    /// A shard's learned state as plain values, for checkpoints.
    public struct Snapshot: Sendable, Codable {
        /// Each log stream's state.
        public var streams: [StreamSnapshot]
        /// Each metric series' detector.
        public var series: [SeriesSnapshot]
        /// Lines taken when the snapshot was made.
        public var processedLines: Int
        /// Samples taken when the snapshot was made.
        public var processedSamples: Int
        /// The service graph's open minutes.
        public var graph: ServiceGraph.Snapshot?
        /// The span series' open minutes.
        public var spanMetrics: SpanMetrics.Snapshot?
        /// Spans taken when the snapshot was made.
        public var processedSpans: Int?

        /// Creates a snapshot from parts (to re-route streams when the shard count changes).
        public init(streams: [StreamSnapshot], series: [SeriesSnapshot], processedLines: Int, processedSamples: Int) {
            self.streams = streams
            self.series = series
            self.processedLines = processedLines
            self.processedSamples = processedSamples
        }
    }

    /// One log stream's state.
    public struct StreamSnapshot: Sendable, Codable {
        /// The stream.
        public var key: StreamKey
        var miner: TemplateMiner.Snapshot
        var bucketStart: Int64?
        /// Lines of the open bucket per shape, by the shape's index in `miner.shapes`.
        var bucketCounts: [Int: Int]
        var closedBuckets: Int
        /// Closed buckets that held a line (absent in older checkpoints: then every closed bucket counts).
        var activeBuckets: Int?
        var linesBeforeBucket: Int
        var rateDetectors: [String: RateAnomalyDetector]
        var lastTime: Timestamp?
        var typicalGap: Double?
        var silent: Bool
    }

    /// One metric series' detector.
    public struct SeriesSnapshot: Sendable, Codable {
        /// The series.
        public var key: SeriesKey
        var detector: MetricAnomalyDetector
        var trend: TrendDetector?
        /// The newest sample's time (nanoseconds), the typical gap in seconds, and whether it was reported
        /// silent (absent in checkpoints older than silence detection).
        var lastTime: Int64?
        var typicalGap: Double?
        var silent: Bool?
        /// When a deviation that holds reports again, and the band edge it must still be beyond (absent when none
        /// is due, and in older checkpoints).
        var confirmAt: Int64?
        var alertLevel: Double?
        var alertEdge: Double?
        /// For a counter judged by its rate, its last sample (absent for other series, and in checkpoints older
        /// than rates: such a counter's detector learnt raw values, which it goes on judging).
        var counter: CounterRate?
    }

    /// Hands every held line to its miner, then returns the state. Held lines are processed first so that the
    /// snapshot covers every line taken, and nothing taken before it needs to be replayed after a restart; the
    /// findings of buckets they close are appended to `findings`.
    public mutating func snapshot(findings: inout [Anomaly]) -> Snapshot {
        let masker = self.configuration.masksPII ? self.piiMasker : nil
        var streams: [StreamSnapshot] = []
        for key in self.streamKeys {
            var state = self.streams[key]!
            state.flush(masker: masker, findings: &findings)
            self.streams[key] = state
            let miner = state.miner.snapshot()
            var indexBySerial: [UInt32: Int] = [:]
            for (index, serial) in state.miner.groups.map(\.serial).sorted().enumerated() {
                indexBySerial[serial] = index
            }
            var counts: [Int: Int] = [:]
            for (serial, count) in state.bucketCounts {
                if let index = indexBySerial[serial] { counts[index] = count }
            }
            streams.append(
                StreamSnapshot(
                    key: key,
                    miner: miner,
                    bucketStart: state.bucketStart,
                    bucketCounts: counts,
                    closedBuckets: state.closedBuckets,
                    activeBuckets: state.activeBuckets,
                    linesBeforeBucket: state.linesBeforeBucket,
                    rateDetectors: state.rateDetectors,
                    lastTime: state.lastTime,
                    typicalGap: state.typicalGap,
                    silent: state.silent
                )
            )
        }
        // Sorted by text, built once per key (comparing keys builds both texts).
        let series = self.series.map { (text: $0.key.text, key: $0.key, series: $0.value) }
            .sorted { $0.text < $1.text }
            .map {
                SeriesSnapshot(
                    key: $0.key,
                    detector: $0.series.detector,
                    trend: self.trends[$0.key],
                    lastTime: $0.series.lastTime == Int64.min ? nil : $0.series.lastTime,
                    typicalGap: $0.series.typicalGap,
                    silent: $0.series.silent,
                    confirmAt: $0.series.confirmAt == Int64.min ? nil : $0.series.confirmAt,
                    alertLevel: $0.series.confirmAt == Int64.min ? nil : $0.series.alertLevel,
                    alertEdge: $0.series.confirmAt == Int64.min ? nil : $0.series.alertEdge,
                    counter: $0.series.counter
                )
            }
        var snapshot = Snapshot(
            streams: streams,
            series: series,
            processedLines: self.processedLines,
            processedSamples: self.processedSamples
        )
        snapshot.graph = self.graph.snapshot
        snapshot.spanMetrics = self.spanMetrics.snapshot
        snapshot.processedSpans = self.processedSpans
        return snapshot
    }

    /// Rebuilds a shard from a snapshot.
    public init(restoring snapshot: Snapshot, configuration: Configuration = Configuration()) {
        self.init(configuration: configuration)
        for stream in snapshot.streams {
            var state = LogStreamState(key: stream.key, configuration: configuration)
            state.miner = TemplateMiner(restoring: stream.miner, configuration: configuration.minerConfiguration)
            let serials = state.miner.groups.map(\.serial).sorted()
            for (index, count) in stream.bucketCounts where index < serials.count {
                state.bucketCounts[serials[index]] = count
            }
            state.bucketStart = stream.bucketStart
            state.closedBuckets = stream.closedBuckets
            state.activeBuckets = stream.activeBuckets ?? stream.closedBuckets
            state.linesBeforeBucket = stream.linesBeforeBucket
            state.rateDetectors = stream.rateDetectors
            state.lastTime = stream.lastTime
            state.typicalGap = stream.typicalGap
            state.silent = stream.silent
            self.streams[stream.key] = state
        }
        for series in snapshot.series {
            var restored = MetricSeries(detector: series.detector)
            restored.detector.setRearmSeconds(Self.rearmSeconds)
            // The rules of the running server hold, whatever they were when the checkpoint was written.
            Self.apply(
                SeriesRule.decision(for: series.key, in: configuration.seriesRules),
                configuration,
                to: &restored
            )
            restored.lastTime = series.lastTime ?? Int64.min
            restored.typicalGap = series.typicalGap ?? 0
            restored.silent = series.silent ?? false
            restored.counter = series.counter
            if let at = series.confirmAt, let level = series.alertLevel, let edge = series.alertEdge {
                (restored.confirmAt, restored.alertLevel, restored.alertEdge) = (at, level, edge)
            }
            self.series[series.key] = restored
            if let trend = series.trend { self.trends[series.key] = trend }
        }
        self.processedLines = snapshot.processedLines
        self.processedSamples = snapshot.processedSamples
        self.processedSpans = snapshot.processedSpans ?? 0
        if let graph = snapshot.graph { self.graph = ServiceGraph(restoring: graph) }
        if let spanMetrics = snapshot.spanMetrics { self.spanMetrics = SpanMetrics(restoring: spanMetrics) }
    }
}
