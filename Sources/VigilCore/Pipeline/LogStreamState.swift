// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// One log stream inside a shard: its splitter, miner, per-template rate detectors, sequence detector and silence
/// watch.
struct LogStreamState: Sendable {
    let key: StreamKey
    let configuration: PipelineShard.Configuration
    var splitter: LogStreamSplitter
    var miner: TemplateMiner
    /// Start of the open bucket in seconds of data time, or `nil` before the first line.
    var bucketStart: Int64?
    /// Lines per group serial in the open bucket.
    var bucketCounts: [UInt32: Int] = [:]
    /// Buckets closed so far.
    var closedBuckets = 0
    /// Buckets closed that held a line: a stream is judged silent only once it has kept sending (a burst of boot
    /// messages is no rhythm to miss).
    var activeBuckets = 0
    /// The miner's line count when the open bucket started: templates first seen after it are new.
    var linesBeforeBucket = 0
    /// Rate detectors by template ID.
    var rateDetectors: [String: RateAnomalyDetector] = [:]
    /// The newest data time seen.
    var lastTime: Timestamp?
    /// The stream's own clock: its newest line's time, moving on with the ticks since that line came. A sender
    /// whose clock runs behind the server's, or a replay of old lines, is judged on its own time.
    var clock = SampleClock()
    /// A smoothed gap between consecutive lines, in seconds.
    var typicalGap: Double?
    /// Whether a silence was reported and no line came since.
    var silent = false
    /// Records mined so far (a joined stack trace is one record).
    var records = 0
    /// Lines taken since the last tick; a tick that finds none hands held lines on.
    var linesSinceTick = 0
    /// The time of the newest line, given to a record whose first line came without one.
    var currentTime = Timestamp(nanoseconds: 0)
    /// Error lines per closed bucket, as samples for the store (the shard hands them on): what root-cause ranking
    /// reads as log evidence.
    var closedPoints: [MetricPoint] = []
    /// Which template follows which in each session; judged on settled templates when a bucket closes. Not kept in
    /// checkpoints: after a restart it learns again (its gates keep it quiet meanwhile).
    var sequence = LogSequenceDetector()
    /// The records of the open bucket in order: their session and their group, at most
    /// ``maximumSequenceSteps`` (the rest of a busier bucket is not sequenced; see ``judgeSequences``).
    var sequenceSteps: [(session: UInt64, kind: LogSequenceDetector.SessionKind, group: UInt32, time: Timestamp)] = []
    /// Whether the open bucket had more records than ``sequenceSteps`` keeps.
    var sequenceOverflow = false
    /// Records of one bucket kept for the sequence detector (about 2 MiB).
    static let maximumSequenceSteps = 65_536
    /// The field that last named a session of each kind (`request_id`, `pid`), for the evidence.
    var sessionFields: [LogSequenceDetector.SessionKind: String] = [:]

    init(key: StreamKey, configuration: PipelineShard.Configuration) {
        self.key = key
        self.configuration = configuration
        self.miner = TemplateMiner(configuration: configuration.minerConfiguration)
        self.splitter = LogStreamSplitter(
            joinMultiline: true,
            sampleSize: configuration.formatSample,
            learnedHeaders: configuration.learnedHeaders
        )
    }

    mutating func take(_ entry: LogEntry, masker: PIIMasker?, findings: inout [Anomaly]) {
        // A line completes the record before it (which may have been waiting for continuation lines, or for the
        // format to be learnt): each record is mined at its own first line's time, in that time's bucket, before
        // this line's time moves the bucket on. While the format is learnt, no bucket moves.
        let records = entry.line.withUnsafeBufferPointer {
            self.splitter.add(Span(_unsafeElements: $0), arrival: entry.time)
        }
        for record in records { self.mine(record, masker: masker, findings: &findings) }
        if !self.splitter.isLearningFormat { self.advance(to: entry.time, findings: &findings) }
        if let last = self.lastTime {
            let gap = max(0, entry.time.seconds - last.seconds)
            self.typicalGap = self.typicalGap.map { $0 + 0.05 * (gap - $0) } ?? gap
        }
        if self.lastTime.map({ entry.time > $0 }) ?? true { self.lastTime = entry.time }
        self.silent = false
        self.currentTime = entry.time
        self.linesSinceTick += 1
    }

    /// Hands every held line (format sample, open multi-line record) to the miner.
    mutating func flush(masker: PIIMasker?, findings: inout [Anomaly]) {
        for record in self.splitter.finish() { self.mine(record, masker: masker, findings: &findings) }
    }

    private mutating func mine(_ record: LogRecord, masker: PIIMasker?, findings: inout [Anomaly]) {
        let time = record.arrival ?? self.currentTime
        self.advance(to: time, findings: &findings)
        let message = masker.map { $0.mask(record.message) } ?? record.message
        let group = self.miner.add(message, severity: record.severity, time: time)
        self.records += 1
        self.bucketCounts[group.serial, default: 0] += 1
        guard self.sequenceSteps.count < Self.maximumSequenceSteps else {
            self.sequenceOverflow = true
            return
        }
        let session = LogSequenceDetector.session(of: record.fields)
        self.sequenceSteps.append((session.hash, session.kind, group.serial, time))
        if let field = session.field, self.sessionFields[session.kind] != field {
            self.sessionFields[session.kind] = field
        }
    }

    /// Closes the buckets the stream's own clock has passed at the server's time `tick`, and reports the stream
    /// silent once it has sent nothing for long enough by that clock.
    mutating func tick(now tick: Timestamp, masker: PIIMasker?, findings: inout [Anomaly]) {
        // A stream that paused for a whole tick may still hold a format sample or an open record: hand them on
        // (a stack trace whose lines arrive more than a tick apart is split; that is the price of not waiting).
        if self.linesSinceTick == 0 { self.flush(masker: masker, findings: &findings) }
        self.linesSinceTick = 0
        guard !self.splitter.isLearningFormat else { return }
        let now = self.lastTime.flatMap { self.clock.now(newestSample: $0.nanoseconds, tick: tick) } ?? tick
        self.advance(to: now, findings: &findings)
        guard !self.silent, let last = self.lastTime, let gap = self.typicalGap,
            self.activeBuckets >= self.configuration.warmUpBuckets
        else { return }
        let quiet = now.seconds - last.seconds
        let limit = max(Double(self.configuration.minimumSilenceSeconds), gap * self.configuration.silenceGapMultiple)
        guard quiet >= limit else { return }
        self.silent = true
        findings.append(
            Anomaly(
                kind: .silence,
                service: self.key.service,
                subject: self.key.text,
                time: last,
                score: min(1, quiet / (2 * limit)),
                evidence: Evidence(
                    observed: 0,
                    expected: gap > 0 ? 60 / gap : nil,
                    summary: "\(self.key.text) has sent nothing for \(Int(quiet)) s; it used to send a line "
                        + "every \(Format.number(gap)) s"
                )
            )
        )
    }

    /// Closes every bucket that ends at or before `time`.
    private mutating func advance(to time: Timestamp, findings: inout [Anomaly]) {
        let width = self.configuration.bucketSeconds
        let seconds = time.nanoseconds / 1_000_000_000
        let start = seconds - ((seconds % width) + width) % width
        guard let open = self.bucketStart else {
            self.bucketStart = start
            return
        }
        guard start > open else { return }
        self.closeBucket(at: open, findings: &findings)
        // Idle buckets count as zero for every watched template, up to an hour of them.
        let idle = min((start - open) / width - 1, 3600 / width)
        if idle > 0 {
            for _ in 0..<idle {
                for id in self.rateDetectors.keys.sorted() { _ = self.rateDetectors[id]!.update(0) }
            }
        }
        self.bucketStart = start
    }

    private mutating func closeBucket(at start: Int64, findings: inout [Anomaly]) {
        defer {
            self.closedBuckets += 1
            if !self.bucketCounts.isEmpty { self.activeBuckets += 1 }
            self.bucketCounts.removeAll(keepingCapacity: true)
            self.linesBeforeBucket = self.miner.lineCount
        }
        self.miner.consolidate()
        var perTemplate: [String: (count: Int, text: String)] = [:]
        var errorLines = 0.0
        for (serial, count) in self.bucketCounts {
            guard let template = self.miner.template(of: TemplateMiner.GroupID(serial: serial)) else { continue }
            perTemplate[template.id, default: (0, template.text)].count += count
            errorLines += Double(count) * Double(template.errorCount) / Double(max(1, template.count))
        }
        let time = Timestamp(nanoseconds: start * 1_000_000_000)
        self.closedPoints.append(
            MetricPoint(
                series: SeriesKey(
                    name: IncidentData.LogMetric.errorLines,
                    labels: [.init("service", self.key.service), .init("source", self.key.source)]
                ),
                time: time,
                value: errorLines.rounded()
            )
        )
        let warm = self.closedBuckets >= self.configuration.warmUpBuckets
        if warm {
            self.reportNewErrors(time: time, findings: &findings)
        }
        let end = Timestamp(nanoseconds: (start + self.configuration.bucketSeconds) * 1_000_000_000)
        self.judgeSequences(until: end, warm: warm, findings: &findings)
        for id in perTemplate.keys.sorted() where self.rateDetectors[id] == nil {
            guard self.rateDetectors.count < self.configuration.maximumRateDetectors else { break }
            var configuration = RateAnomalyDetector.Configuration()
            configuration.warmUp = 30
            configuration.coolDown = 30
            configuration.minimumRelativeSpread = 0.1
            self.rateDetectors[id] = RateAnomalyDetector(configuration: configuration)
        }
        for id in self.rateDetectors.keys.sorted() {
            let observed = Double(perTemplate[id]?.count ?? 0)
            let expected = self.rateDetectors[id]!.expected
            let band = self.rateDetectors[id]!.bandHalfWidth
            let result = self.rateDetectors[id]!.update(observed)
            // A template rate moving by a handful of lines is never news, whatever its history.
            guard result.isAnomaly, abs(observed - expected) >= 10 else { continue }
            let rising = observed > expected
            let text = perTemplate[id]?.text ?? id
            findings.append(
                Anomaly(
                    kind: rising ? .templateRateSpike : .templateRateDrop,
                    service: self.key.service,
                    subject: id,
                    time: time,
                    score: result.score,
                    evidence: Evidence(
                        observed: observed,
                        expected: expected,
                        lower: max(0, expected - band),
                        upper: expected + band,
                        summary:
                            "\(Format.number(observed)) lines/\(self.configuration.bucketSeconds) s of \"\(text)\" "
                            + "where \(Format.number(expected)) were expected"
                    )
                )
            )
        }
    }

    /// Runs the open bucket's records through the sequence detector on their settled templates, then ends the
    /// sessions idle at `end`; reports at most ``sequenceFindingsPerBucket`` surprises once the stream is `warm`.
    /// A bucket with more records than were kept forgets its open sessions instead of ending them: their next
    /// steps would skip the records not kept.
    private mutating func judgeSequences(until end: Timestamp, warm: Bool, findings: inout [Anomaly]) {
        defer {
            self.sequenceSteps.removeAll(keepingCapacity: true)
            self.sequenceOverflow = false
        }
        var reported = 0
        func report(_ surprise: LogSequenceDetector.Surprise, kind: LogSequenceDetector.SessionKind) {
            guard warm, reported < Self.sequenceFindingsPerBucket else { return }
            reported += 1
            findings.append(self.finding(surprise, field: surprise.session == 0 ? nil : self.sessionFields[kind]))
        }
        for step in self.sequenceSteps {
            guard let number = self.miner.templateNumber(of: TemplateMiner.GroupID(serial: step.group)) else {
                continue
            }
            if let surprise = self.sequence.observe(
                event: UInt32(truncatingIfNeeded: number),
                session: step.session,
                kind: step.kind,
                time: step.time
            ) {
                report(surprise, kind: step.kind)
            }
        }
        if self.sequenceOverflow {
            self.sequence.forgetSessions(now: end)
            return
        }
        // Only bounded sessions end.
        for surprise in self.sequence.expire(now: end) { report(surprise, kind: .bounded) }
    }

    /// Sequence findings one stream reports per bucket at most (a burst of new orders is one story).
    static let sequenceFindingsPerBucket = 10

    private func finding(_ surprise: LogSequenceDetector.Surprise, field: String?) -> Anomaly {
        let subject = surprise.next == .end ? surprise.previous : surprise.next
        let usual = surprise.usual.map { "\"\(self.miner.text(of: $0.step))\" (\($0.count)×)" }.joined(separator: ", ")
        let session = field.map { "a session by \($0)" } ?? "the stream"
        let what =
            surprise.next == .end
            ? "ended after \"\(self.miner.text(of: surprise.previous))\""
            : "went from \"\(self.miner.text(of: surprise.previous))\" to \"\(self.miner.text(of: surprise.next))\""
        return Anomaly(
            kind: .sequenceAnomaly,
            service: self.key.service,
            subject: Template.id(for: self.miner.text(of: subject)),
            time: surprise.time,
            score: 1 - surprise.noveltyChance,
            evidence: Evidence(
                observed: 1,
                expected: 0,
                summary: "in \(self.key.text), \(session) \(what), which never happened in \(surprise.followers) "
                    + "steps before; it went on to \(usual)"
            )
        )
    }

    private func reportNewErrors(time: Timestamp, findings: inout [Anomaly]) {
        for template in self.miner.templates()
        where template.errorCount > 0 && template.firstLine > self.linesBeforeBucket {
            findings.append(
                Anomaly(
                    kind: .newErrorTemplate,
                    service: self.key.service,
                    subject: template.id,
                    time: template.firstSeen ?? time,
                    score: 1,
                    evidence: Evidence(
                        observed: Double(template.count),
                        expected: 0,
                        summary: "a new \(template.severity.name) template in \(self.key.text) after "
                            + "\(self.linesBeforeBucket) lines: \"\(template.text)\" (\(template.count)×)"
                    )
                )
            )
        }
    }
}
