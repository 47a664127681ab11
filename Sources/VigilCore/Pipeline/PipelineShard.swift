// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// The work of one pipeline shard as a plain value: the log streams and metric series routed to it, their
/// miners and detectors, and the findings they produce.
///
/// Logs go through format detection, multi-line joining, PII masking and template mining, and are counted per
/// template in buckets of data time; when a bucket closes, each busy template's rate goes through a detector,
/// templates at error level that were never seen before are reported, and a stream that stops is reported
/// as silent when ``tick(now:findings:)`` says how late it is. Metric samples go through one detector per
/// series, and a series that stops arriving is reported silent the same way. Nothing here reads a clock: time
/// arrives with the data and the ticks, so replaying the same input gives the same findings.
public struct PipelineShard: Sendable {
    /// Tuning knobs shared by every shard.
    public struct Configuration: Sendable, Codable {
        /// Length of a rate bucket in seconds.
        public var bucketSeconds: Int64 = 60
        /// Buckets a stream must have seen before new templates count as news.
        public var warmUpBuckets: Int = 10
        /// A log stream or metric series is silent after this many seconds without data, once it has been steady.
        public var minimumSilenceSeconds: Int64 = 300
        /// And after this many of its typical gaps between lines (or samples), whichever is longer.
        public var silenceGapMultiple: Double = 20
        /// Samples a metric series must have sent before its silence counts.
        public var samplesBeforeSilence: Int = 10
        /// Templates per stream whose rate is watched by a detector (the busiest first come first).
        public var maximumRateDetectors: Int = 200
        /// Whether personal data and secrets are masked before mining.
        public var masksPII: Bool = true
        /// Lines of a stream used to detect its format.
        public var formatSample: Int = 32
        /// Header layouts learned for formats the detector reads as plain text, by layout signature
        /// (``FormatLearning``; `vigil analyze --llm-url` learns them).
        public var learnedHeaders: [String: Int] = [:]
        /// The store keeps the last sample of each bucket of this many seconds per series (see ``SampleRollup``).
        public var sampleBucketSeconds: Int64 = 10
        /// A series still beyond the band it left this long after its alert reports again: the change held, it
        /// was no blip (see ``IncidentCorrelator/Configuration/sustainedSeconds``).
        public var sustainedSeconds: Int64 = 60
        /// Per-series overrides: the first rule matching a series decides its threshold, minimum duration and
        /// whether it is muted.
        public var seriesRules: [SeriesRule] = []
        /// The score at which a series alerts when no rule says otherwise. Stricter than a single-series benchmark
        /// wants: a fleet of thousands of series at 0.43 (p ≈ 2.5e-3 per point) would blip every second; at 0.75
        /// (p ≈ 3e-5) blips are rare, and the correlator still asks for corroboration before it opens an incident.
        public var alertThreshold = 0.75
        /// Log templates a person wrote, `<*>` for any run of text: lines they match count under them instead of
        /// a mined template (``TemplateMiner/Configuration/pinnedTemplates``).
        public var pinnedTemplates: [String] = []

        /// The defaults.
        public init() {}

        /// The template miner every stream gets.
        var minerConfiguration: TemplateMiner.Configuration {
            var miner = TemplateMiner.Configuration()
            miner.pinnedTemplates = self.pinnedTemplates
            return miner
        }
    }

    public let configuration: Configuration
    var streams: [StreamKey: LogStreamState] = [:]
    var series: [SeriesKey: MetricSeries] = [:]
    /// Store buckets a later bucket of their series replaced before ``takeSamples()`` took them.
    var finishedBuckets: [MetricPoint] = []
    /// The newest sample time (nanoseconds) of any series, and the data clock that silence is judged on.
    var newestSample = Int64.min
    var sampleClock = SampleClock()
    /// The first sample time this shard took (since it started, or was restored from a checkpoint): a series is
    /// judged silent on how long it has sent nothing since then, so the server's own downtime is no silence.
    var resumedAt = Int64.min
    var trends: [SeriesKey: TrendDetector] = [:]
    var graph = ServiceGraph()
    var spanMetrics = SpanMetrics()
    let piiMasker = PIIMasker()
    /// Log lines taken so far (each line once, whether or not it completed a record yet).
    public internal(set) var processedLines = 0
    /// Metric samples taken so far.
    public internal(set) var processedSamples = 0
    /// Spans joined into the service graph so far.
    public internal(set) var processedSpans = 0

    /// Creates an empty shard.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Records mined so far over all streams; it grows when a tick hands held lines on.
    public var recordCount: Int { self.streams.values.reduce(0) { $0 + $1.records } }

    /// The streams this shard owns, sorted.
    public var streamKeys: [StreamKey] { self.streams.keys.sorted() }

    // MARK: - Logs

    /// Takes a batch of log lines; findings of buckets that closed are appended to `findings`.
    public mutating func process(_ batch: LogBatch, findings: inout [Anomaly]) {
        let config = self.configuration
        let masker = config.masksPII ? self.piiMasker : nil
        var state =
            self.streams.removeValue(forKey: batch.stream)
            ?? LogStreamState(key: batch.stream, configuration: config)
        for entry in batch.entries {
            state.take(entry, masker: masker, findings: &findings)
        }
        self.processedLines += batch.entries.count
        self.finishedBuckets += state.closedPoints
        state.closedPoints = []
        self.streams[batch.stream] = state
    }

    /// Tells the shard what time it is: closes buckets that time has passed and reports silent streams.
    public mutating func tick(now: Timestamp, findings: inout [Anomaly]) {
        let masker = self.configuration.masksPII ? self.piiMasker : nil
        for key in self.streams.keys.sorted() {
            self.streams[key]!.tick(now: now, masker: masker, findings: &findings)
            self.finishedBuckets += self.streams[key]!.closedPoints
            self.streams[key]!.closedPoints = []
        }
        // Metric series that stopped arriving, in key order, judged on the data's own clock.
        guard let clock = self.sampleClock.now(newestSample: self.newestSample, tick: now) else { return }
        var silent: [Anomaly] = []
        for index in self.series.indices where !self.series.values[index].muted {
            guard
                let (last, gap, quiet) = self.series.values[index].fallSilent(
                    now: clock,
                    since: self.resumedAt,
                    self.configuration
                )
            else {
                continue
            }
            let key = self.series.keys[index]
            silent.append(
                Anomaly(
                    kind: .silence,
                    service: key.service ?? "host",
                    subject: key.text,
                    time: Timestamp(nanoseconds: last),
                    score: 1,
                    evidence: Evidence(
                        observed: 0,
                        expected: nil,
                        summary: "\(key.text) has sent no sample for \(Int(quiet)) s; it used to send one every "
                            + "\(Format.number(gap)) s"
                    )
                )
            )
        }
        findings += silent.sorted { $0.subject < $1.subject }
    }

    /// The consolidated templates of every stream, with their statistics.
    public mutating func templates() -> [(stream: StreamKey, templates: [Template])] {
        self.streamKeys.map { key in
            self.streams[key]!.miner.consolidate()
            return (key, self.streams[key]!.miner.templates())
        }
    }

    // MARK: - Metrics

    /// Takes metric samples; a sample that leaves its series' band appends a finding. The store's buckets of
    /// the samples wait for ``takeSamples()``.
    public mutating func process(_ points: [MetricPoint], findings: inout [Anomaly]) {
        let length = self.configuration.sampleBucketSeconds * 1_000_000_000
        let configuration = self.configuration
        if self.newestSample == Int64.min, let first = points.first { self.resumedAt = first.time.nanoseconds }
        for point in points {
            let time = point.time.nanoseconds
            self.newestSample = max(self.newestSample, time)
            let bucket = time - ((time % length) + length) % length
            // Updated in place: one lookup, no copy of the detector, no removal (a removal re-places the keys
            // after it).
            let (result, finished, report, judged) = self.series[
                point.series,
                default: Self.newSeries(point.series, configuration)
            ]
            .take(point, bucket: bucket, sustainedSeconds: self.configuration.sustainedSeconds)
            if let finished {
                self.finishedBuckets.append(
                    MetricPoint(
                        series: point.series,
                        time: Timestamp(nanoseconds: finished.start),
                        value: finished.value
                    )
                )
            }
            guard let result else { continue }
            switch report {
            case .none, .muted: break
            case .deviation: findings.append(Self.deviation(judged, result, rate: self.isRate(judged.series)))
            case .heldBack(let alert, let seconds):
                findings.append(
                    Self.deviation(alert.point, alert.result, heldFor: seconds, rate: self.isRate(judged.series))
                )
            case .sustained(let level, let edge):
                findings.append(Self.held(judged, result, level: level, edge: edge, rate: self.isRate(judged.series)))
            }
            // A series whose name says it can run out: a used ratio climbing to 1, free bytes falling to 0.
            if let limit = TrendDetector.Configuration.named(point.series.name), !report.isMuted,
                let prediction = self.trends[point.series, default: TrendDetector(configuration: limit)]
                    .update(time: point.time, value: judged.value)
            {
                findings.append(Self.exhaustion(judged, prediction, limit: limit.limit))
            }
        }
        self.processedSamples += points.count
    }

    /// The store buckets filled since the last call, each at its start with the last value it got; filling a
    /// bucket again later replaces it in the store.
    public mutating func takeSamples() -> [MetricPoint] {
        var points = self.finishedBuckets
        self.finishedBuckets = []
        // Through the values' in-place accessor: reading a series whole would copy its detector.
        for index in self.series.indices {
            guard let (start, value) = self.series.values[index].takeBucket() else { continue }
            points.append(
                MetricPoint(series: self.series.keys[index], time: Timestamp(nanoseconds: start), value: value)
            )
        }
        return points
    }

    /// Whether a series is judged by its rate (a counter), for the words of its findings.
    func isRate(_ series: SeriesKey) -> Bool { self.series[series]?.counter != nil }

    /// How a finding names what was judged: the series, or the rate of a counter.
    static func judged(_ series: SeriesKey, rate: Bool) -> String {
        rate ? "rate(\(series.text)) (per second)" : series.text
    }

    /// The finding for a sample its detector alerted on, with the numbers behind it; `heldFor` says how long the
    /// series had stayed beyond the band when a rule's minimum duration let the alert through; `rate` that the
    /// series is a counter, judged (and given here) by its increase per second.
    static func deviation(
        _ point: MetricPoint,
        _ result: MetricAnomalyDetector.Result,
        heldFor: Double? = nil,
        rate: Bool = false
    ) -> Anomaly {
        let service = point.series.service ?? "host"
        let (lower, upper) = (result.lower, result.upper)
        let position = point.value > upper ? "above" : point.value < lower ? "below" : "inside"
        let baseline =
            switch result.baseline {
            case .recent: "its recent level"
            case .daily: "the same time of day"
            case .weekly: "the same time of the week"
            }
        let outside =
            result.secondsOutside > 0 ? ", outside for \(Format.number(result.secondsOutside)) s" : ""
        // A level shift's sample may sit inside its band, even on its expected value: what moved, and which way, is
        // an average against the level it left (the sample's band stays in the summary).
        let (observed, expected) = result.shift.map { ($0.mean, $0.level) } ?? (point.value, result.expected)
        let band: (lower: Double?, upper: Double?) = result.shift == nil ? (lower, upper) : (nil, nil)
        return Anomaly(
            kind: .metricDeviation,
            service: service,
            subject: point.series.text,
            time: point.time,
            score: result.score,
            evidence: Evidence(
                observed: observed,
                expected: expected,
                lower: band.lower,
                upper: band.upper,
                summary:
                    "\(Self.judged(point.series, rate: rate)) was \(Format.number(point.value)), \(position) its band "
                    + "\(Format.number(lower))…\(Format.number(upper)) (expected \(Format.number(result.expected)) "
                    + "from \(baseline), \(result.learntPoints) samples learnt); "
                    + result.signal.rawValue.replacing("_", with: " ")
                    + (result.beatSeconds.map {
                        result.signal == .missedBeat
                            ? ": no spike came on its beat every \(DurationText.describe($0))"
                            : " (spikes beat every \(DurationText.describe($0)))"
                    } ?? "")
                    + (result.shift.map {
                        result.baseline == .recent
                            ? " (the average of its last \($0.points) samples was \(Format.number($0.mean)) against the "
                                + "level \(Format.number($0.level)))"
                            : " (its last \($0.points) samples averaged \(Format.number(abs($0.mean - $0.level))) "
                                + "\($0.mean >= $0.level ? "above" : "below") their expected values)"
                    } ?? "")
                    + (result.freeze.map {
                        ": held at \(Format.number(point.value)) for \($0.points) samples in a row (its longest run "
                            + "before: \($0.longestBefore))"
                    } ?? "")
                    + (result.rangeEdge.map {
                        " (\(Format.number(abs(point.value - $0))) \(point.value >= $0 ? "above" : "below") the range it "
                            + "left, whose \(point.value >= $0 ? "highest" : "lowest") was \(Format.number($0)))"
                    } ?? "")
                    + outside
                    + (heldFor.map { "; it stayed beyond the band for \(Format.number($0)) s, as its rule asks" } ?? "")
            )
        )
    }

    /// The finding for a sample still beyond the band its series left at its last alert: the change held. The
    /// edge given is the one it crossed (`level` + `edge`, above or below); the detector's own band has followed
    /// the new level.
    static func held(
        _ point: MetricPoint,
        _ result: MetricAnomalyDetector.Result,
        level: Double,
        edge: Double,
        rate: Bool = false
    )
        -> Anomaly
    {
        let crossed = level + edge
        return Anomaly(
            kind: .metricDeviation,
            service: point.series.service ?? "host",
            subject: point.series.text,
            time: point.time,
            score: result.score,
            evidence: Evidence(
                observed: point.value,
                expected: level,
                lower: edge < 0 ? crossed : nil,
                upper: edge >= 0 ? crossed : nil,
                summary:
                    "\(Self.judged(point.series, rate: rate)) was \(Format.number(point.value)), still \(edge >= 0 ? "above" : "below") "
                    + "\(Format.number(crossed)), the edge of the band it left at its alert (expected "
                    + "\(Format.number(level)) then): the change held"
            )
        )
    }

    static func exhaustion(_ point: MetricPoint, _ prediction: TrendDetector.Prediction, limit: Double) -> Anomaly {
        let crossing = point.time.adding(seconds: prediction.secondsToLimit)
        let service = point.series.service ?? "host"
        return Anomaly(
            kind: .trendExhaustion,
            service: service,
            subject: point.series.text,
            time: point.time,
            score: prediction.confidence,
            evidence: Evidence(
                observed: prediction.level,
                expected: limit,
                lower: prediction.earliestSeconds,
                upper: prediction.latestSeconds.isFinite ? prediction.latestSeconds : nil,
                summary: "\(point.series.text) is at \(Format.number(prediction.level)) and "
                    + "\(prediction.slopePerSecond > 0 ? "rising" : "falling") "
                    + "\(Format.number(abs(prediction.slopePerSecond) * 3600)) per hour: it reaches \(Format.number(limit)) in "
                    + "\(Format.hours(prediction.secondsToLimit)) (between "
                    + "\(Format.hours(prediction.earliestSeconds)) and \(Format.hours(prediction.latestSeconds))), "
                    + "around \(crossing.iso8601)"
            )
        )
    }

    static func metricDetector() -> MetricAnomalyDetector {
        var configuration = MetricAnomalyDetector.Configuration()
        configuration.warmUp = 150
        configuration.rest = 150
        configuration.rearmSeconds = Self.rearmSeconds
        return MetricAnomalyDetector(configuration: configuration)
    }

    /// A series quiet this long after an alert (the default time an incident takes to resolve) has ended its episode:
    /// its next departure alerts, however few points its rest has run (150 points of one-minute data are two and
    /// a half hours).
    static let rearmSeconds = 900.0

    /// A new series, with what its rule decides.
    static func newSeries(_ key: SeriesKey, _ configuration: Configuration) -> MetricSeries {
        var series = MetricSeries(detector: Self.metricDetector())
        Self.apply(SeriesRule.decision(for: key, in: configuration.seriesRules), configuration, to: &series)
        if CounterRate.isCounter(name: key.name) { series.counter = CounterRate() }
        return series
    }

    /// Applies a rule (or the defaults, for nil) to a series: its threshold, minimum duration and muting.
    static func apply(_ rule: SeriesRule?, _ configuration: Configuration, to series: inout MetricSeries) {
        series.detector.setAlertThreshold(rule?.alertThreshold ?? configuration.alertThreshold)
        series.muted = rule?.mute ?? false
        series.minimumNanoseconds = Int64((rule?.minimumSeconds ?? 0) * 1e9)
    }
}

/// One metric series of a shard: its detector and the store bucket it is filling.
struct MetricSeries: Sendable {
    var detector: MetricAnomalyDetector
    /// For a series whose name says it counts (`…_total`), its last sample: its rate is judged, not its raw
    /// value, which only grows. Nil for every other series, and once the series fell other than to restart (no
    /// counter after all, whatever its name).
    var counter: CounterRate?
    /// The start (nanoseconds) of the bucket waiting for the store, `Int64.min` when none is.
    var bucket = Int64.min
    /// The last value that bucket got.
    var bucketValue = 0.0
    /// The newest sample's time (nanoseconds), the typical seconds between samples, and whether the series has
    /// been reported silent since its last sample.
    var lastTime = Int64.min
    var typicalGap = 0.0
    var silent = false
    /// When (nanoseconds) the series reports, if it is still beyond the band it left at its last alert, that the
    /// deviation holds; `Int64.min` when it need not. The band's edge it crossed: the level expected then plus
    /// the band's half width, signed by the side it left on.
    var confirmAt = Int64.min
    var alertLevel = 0.0
    var alertEdge = 0.0
    /// From the series' rule: nothing is reported, and how long (nanoseconds) a deviation must hold before it
    /// is (0: at once).
    var muted = false
    var minimumNanoseconds: Int64 = 0
    /// An alert held back until the series has stayed beyond its band for `minimumNanoseconds` (not kept in
    /// checkpoints: after a restart a held-back alert is forgotten).
    var heldBack: HeldAlert?

    /// A sample the detector alerted on, and its judgement.
    struct HeldAlert: Sendable {
        var point: MetricPoint
        var result: MetricAnomalyDetector.Result
    }

    /// What a sample makes its series report.
    enum Report: Sendable {
        /// Nothing.
        case none
        /// Nothing, whatever happened: the series is muted (trends included).
        case muted
        /// The sample's own alert.
        case deviation
        /// An alert held back by the minimum duration, now `seconds` old and still beyond its band.
        case heldBack(HeldAlert, seconds: Double)
        /// The deviation reported earlier holds (see ``take(_:bucket:sustainedSeconds:)``).
        case sustained(level: Double, edge: Double)

        var isMuted: Bool {
            if case .muted = self { return true }
            return false
        }
    }

    /// Judges a sample and files it in its bucket; a bucket the sample's replaces (or a late sample's own
    /// earlier bucket) comes back to go to the store. A sample no newer than the series' newest is filed, not
    /// judged (no result). The report says what to tell:
    /// - an alert, at once, or with a minimum duration once a later sample `minimumNanoseconds` after it is still
    ///   beyond the band the alert left (on the same side); a sample back inside it first drops the alert.
    /// - `sustained` once per reported alert, at the first sample `sustainedSeconds` after it, when that sample is
    ///   still beyond the band the alert left: a step that held, where a blip has come back. It gives that band
    ///   (the band itself has followed the new level by then).
    @inline(__always)
    mutating func take(
        _ point: MetricPoint,
        bucket: Int64,
        sustainedSeconds: Int64
    ) -> (
        result: MetricAnomalyDetector.Result?, finished: (start: Int64, value: Double)?, report: Report,
        judged: MetricPoint
    ) {
        let time = point.time.nanoseconds
        // A sample at or before the series' newest is a repeat or a straggler (a retried write, history pulled
        // again after a restart): the detector reads its series in time order, so the sample goes to the store
        // only.
        if time <= self.lastTime { return (nil, self.file(point.value, in: bucket), .none, point) }
        // A counter is judged by its rate (the store keeps its raw values, as Prometheus does).
        var judged = point
        if var counter = self.counter {
            switch counter.read(seconds: point.time.seconds, value: point.value) {
            case .rate(let rate):
                self.counter = counter
                judged.value = rate
            case .first:
                self.counter = counter
                self.lastTime = time
                return (nil, self.file(point.value, in: bucket), .none, point)
            case .notACounter:
                // Its values are judged from here on, by a detector that never saw rates.
                self.counter = nil
                let threshold = self.detector.configuration.alertThreshold
                self.detector = PipelineShard.metricDetector()
                self.detector.setAlertThreshold(threshold)
            }
        }
        let result = self.detector.update(time: point.time, value: judged.value)
        var report = Report.none
        func beyond() -> Bool {
            let away = judged.value - self.alertLevel
            return self.alertEdge >= 0 ? away > self.alertEdge : away < self.alertEdge
        }
        if result.isAnomaly {
            self.confirmAt = time + sustainedSeconds * 1_000_000_000
            self.alertLevel = result.expected
            self.alertEdge = judged.value >= result.expected ? result.bandHalfWidth : -result.bandHalfWidth
            if self.minimumNanoseconds > 0 {
                self.heldBack = HeldAlert(point: judged, result: result)
                self.confirmAt = Int64.min
            } else {
                self.heldBack = nil
                report = .deviation
            }
        } else if let alert = self.heldBack {
            if !beyond() {
                self.heldBack = nil
            } else if time - alert.point.time.nanoseconds >= self.minimumNanoseconds {
                report = .heldBack(alert, seconds: Double(time - alert.point.time.nanoseconds) / 1e9)
                self.heldBack = nil
                self.confirmAt = time + sustainedSeconds * 1_000_000_000
            }
        } else if self.confirmAt != Int64.min && time >= self.confirmAt {
            if beyond() { report = .sustained(level: self.alertLevel, edge: self.alertEdge) }
            self.confirmAt = Int64.min
        }
        if self.muted { report = .muted }
        // The gap that ends a silence is not the series' rhythm.
        if self.lastTime != Int64.min && !self.silent {
            let gap = Double(max(0, time - self.lastTime)) / 1e9
            self.typicalGap = result.learntPoints <= 1 ? gap : self.typicalGap + 0.05 * (gap - self.typicalGap)
        }
        self.lastTime = time
        self.silent = false
        return (result, self.file(point.value, in: bucket), report, judged)
    }

    /// Files a sample's value in its bucket; returns the bucket that goes to the store now: the one the sample's
    /// replaces, or a late sample's own earlier bucket.
    mutating func file(_ value: Double, in bucket: Int64) -> (start: Int64, value: Double)? {
        if bucket == self.bucket {
            self.bucketValue = value
            return nil
        }
        if bucket < self.bucket { return (bucket, value) }
        defer { (self.bucket, self.bucketValue) = (bucket, value) }
        return self.bucket == Int64.min ? nil : (self.bucket, self.bucketValue)
    }

    /// The bucket waiting for the store, now handed over.
    mutating func takeBucket() -> (start: Int64, value: Double)? {
        guard self.bucket != Int64.min else { return nil }
        defer { self.bucket = Int64.min }
        return (self.bucket, self.bucketValue)
    }

    /// Whether the series has just gone silent at `now`: it had settled into a rhythm (`samplesBeforeSilence`)
    /// and has sent nothing for `silenceGapMultiple` typical gaps, and at least `minimumSilenceSeconds`, counted
    /// from its last sample or from `since` (when the shard took its first sample), whichever is later.
    /// Reported once until a sample arrives; `quiet` is the whole time since its last sample.
    mutating func fallSilent(
        now: Timestamp,
        since: Int64,
        _ configuration: PipelineShard.Configuration
    ) -> (last: Int64, gap: Double, quiet: Double)? {
        guard !self.silent, self.lastTime != Int64.min, now.nanoseconds > self.lastTime,
            self.detector.pointCount >= configuration.samplesBeforeSilence
        else { return nil }
        let limit = max(Double(configuration.minimumSilenceSeconds), configuration.silenceGapMultiple * self.typicalGap)
        guard Double(now.nanoseconds - max(self.lastTime, since)) / 1e9 >= limit else { return nil }
        let quiet = Double(now.nanoseconds - self.lastTime) / 1e9
        self.silent = true
        return (self.lastTime, self.typicalGap, quiet)
    }
}

/// The time silence is judged at: the newest sample's time, moving on with the ticks' clock since that sample
/// first showed. Live data keeps it at the wall clock; a replay or backfill of old data (hours behind the wall
/// clock) is judged on its own time, so a replayed series is silent only when the others move on without it,
/// or when the whole replay stops.
struct SampleClock: Sendable {
    private var newest = Int64.min
    private var tickWhenNewest = Int64.min

    /// The clock at this tick, nil before any sample.
    mutating func now(newestSample: Int64, tick: Timestamp) -> Timestamp? {
        guard newestSample != Int64.min else { return nil }
        if newestSample > self.newest || self.tickWhenNewest == Int64.min {
            (self.newest, self.tickWhenNewest) = (newestSample, tick.nanoseconds)
        }
        return Timestamp(nanoseconds: self.newest + max(0, tick.nanoseconds - self.tickWhenNewest))
    }
}
