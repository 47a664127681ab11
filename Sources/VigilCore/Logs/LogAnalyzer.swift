// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Accumulates log records and produces a ``LogReport``: templates, levels, and activity over time.
///
/// It keeps a template miner and one compact entry per record (time, template group, level), so it can
/// afford millions of records; all time comes from the records themselves.
public struct LogAnalyzer: Sendable {
    /// How many templates each list of the report holds.
    public var listLength: Int
    /// How many buckets the timeline aims for.
    public var timelineBuckets: Int

    private var miner: TemplateMiner
    private var entries: [Entry] = []
    private var formats: [String] = []
    private var lines = 0

    private struct Entry {
        var nanoseconds: Int64
        var group: UInt32
        var severity: Severity
        /// The record's session (see ``LogSequenceDetector/session(of:)``) and the field that named it, as its
        /// rank plus one (0: none).
        var session: UInt64
        var sessionField: UInt8
        var bounded: Bool
        var line: Int
        static let noTime = Int64.min
    }

    /// Creates an analyzer; lines that `pinnedTemplates` match count under them instead of a mined template.
    public init(listLength: Int = 10, timelineBuckets: Int = 60, pinnedTemplates: [String] = []) {
        var configuration = TemplateMiner.Configuration()
        configuration.pinnedTemplates = pinnedTemplates
        self.miner = TemplateMiner(configuration: configuration)
        self.listLength = listLength
        self.timelineBuckets = max(4, timelineBuckets)
    }

    /// Records the format of a stream that was read, by name (``LogStreamSplitter/formatName``).
    public mutating func noteFormat(named name: String) {
        if !self.formats.contains(name) { self.formats.append(name) }
    }

    /// Adds one record.
    public mutating func add(_ record: LogRecord) {
        self.lines += record.lineCount
        // Only the first line of a multi-line record names its event; the frames are its detail.
        var headline = record.message
        if let newline = headline.utf8.firstIndex(of: 0x0A) { headline = String(headline[..<newline]) }
        let group = self.miner.add(headline, severity: record.severity, time: record.timestamp)
        let session = LogSequenceDetector.session(of: record.fields)
        let field = session.field.flatMap { LogSequenceDetector.sessionFieldRanks[$0] }.map { $0 + 1 } ?? 0
        self.entries.append(
            Entry(
                nanoseconds: record.timestamp?.nanoseconds ?? Entry.noTime,
                group: group.serial,
                severity: record.severity,
                session: session.hash,
                sessionField: UInt8(field),
                bounded: session.kind == .bounded,
                line: record.lineNumber
            )
        )
    }

    /// Builds the report of everything added so far.
    public mutating func report() -> LogReport {
        self.miner.consolidate()
        let templates = self.miner.templates()
        let records = self.entries.count
        let lines = templates.map(Self.line)
        let errorRecords = self.entries.count(where: { $0.severity.isError })
        let warningRecords = self.entries.count(where: { $0.severity == .warning })
        let timed = self.entries.filter { $0.nanoseconds != Entry.noTime }
        let range = timed.isEmpty ? nil : (timed.map(\.nanoseconds).min()!, timed.map(\.nanoseconds).max()!)
        var errorsPerMinute: Double?
        var peak: Int?
        if let (first, last) = range, last > first {
            let minutes = (Double(last) - Double(first)) / 60e9
            errorsPerMinute = Double(errorRecords) / max(minutes, 1.0 / 60)
            var perMinute: [Int64: Int] = [:]
            for entry in timed where entry.severity.isError {
                perMinute[entry.nanoseconds / 60_000_000_000, default: 0] += 1
            }
            peak = perMinute.values.max() ?? 0
        }
        let lateStart = records * 3 / 4
        let newErrorStart = records / 5
        let rareLimit = max(2, records / 500)
        let (timeline, bucketOf) = self.timeline(timed: timed, range: range)
        return LogReport(
            formats: self.formats,
            lines: self.lines,
            records: records,
            recordsWithoutTime: records - timed.count,
            templateCount: templates.count,
            timeRange: range.map { [Timestamp(nanoseconds: $0.0).iso8601, Timestamp(nanoseconds: $0.1).iso8601] },
            errorRecords: errorRecords,
            warningRecords: warningRecords,
            errorsPerMinute: errorsPerMinute,
            peakErrorsPerMinute: peak,
            topTemplates: Array(lines.prefix(self.listLength)),
            errorTemplates: Array(
                lines.filter { $0.errors > 0 }.sorted { $0.errors > $1.errors }.prefix(self.listLength)
            ),
            warningTemplates: Array(lines.filter { $0.severity == Severity.warning.name }.prefix(self.listLength)),
            rareTemplates: Array(
                lines.filter { $0.count <= rareLimit }.sorted {
                    ($0.count, $0.firstRecord) < ($1.count, $1.firstRecord)
                }
                .prefix(self.listLength)
            ),
            lateTemplates: records < 20
                ? []
                : Array(
                    lines.filter { $0.firstRecord > lateStart }.sorted { $0.firstRecord < $1.firstRecord }.prefix(
                        self.listLength
                    )
                ),
            newErrorTemplates: records < 20
                ? []
                : Array(
                    lines.filter { $0.errors > 0 && $0.firstRecord > newErrorStart }.sorted {
                        $0.firstRecord < $1.firstRecord
                    }
                    .prefix(self.listLength)
                ),
            timeline: timeline,
            bursts: self.bursts(in: timeline, bucketOf: bucketOf),
            silences: self.silences(timed: timed),
            sequenceAnomalies: self.sequenceAnomalies()
        )
    }

    /// Steps between templates never seen in their session before, once the templates have settled (the miner
    /// consolidated): the first ``listLength`` in input order. A record without a time counts as one second after
    /// the one before, for the end of idle sessions.
    private func sequenceAnomalies() -> [LogReport.SequenceStep] {
        var detector = LogSequenceDetector()
        var result: [LogReport.SequenceStep] = []
        var clock: Int64 = 0
        /// The line and session field of each open session's last record, for the evidence of an end.
        var lastOf: [UInt64: (line: Int, field: UInt8)] = [:]
        func report(_ surprise: LogSequenceDetector.Surprise, line: Int, field: UInt8) {
            guard result.count < self.listLength else { return }
            result.append(
                LogReport.SequenceStep(
                    previous: self.miner.text(of: surprise.previous),
                    next: self.miner.text(of: surprise.next),
                    line: line,
                    time: surprise.time.nanoseconds > 0 ? surprise.time.iso8601 : nil,
                    session: field == 0 ? nil : LogSequenceDetector.sessionFields[Int(field) - 1],
                    followers: surprise.followers,
                    usual: surprise.usual.map { .init(template: self.miner.text(of: $0.step), count: $0.count) }
                )
            )
        }
        for (index, entry) in self.entries.enumerated() {
            guard let number = self.miner.templateNumber(of: TemplateMiner.GroupID(serial: entry.group)) else {
                continue
            }
            clock = entry.nanoseconds != Entry.noTime ? entry.nanoseconds : clock + 1_000_000_000
            let time = Timestamp(nanoseconds: clock)
            if index % 256 == 0 {
                for surprise in detector.expire(now: time) {
                    let last = lastOf[surprise.session] ?? (entry.line, 0)
                    report(surprise, line: last.line, field: last.field)
                }
            }
            if let surprise = detector.observe(
                event: UInt32(truncatingIfNeeded: number),
                session: entry.session,
                kind: entry.bounded ? .bounded : .continuous,
                time: time
            ) {
                report(surprise, line: entry.line, field: entry.sessionField)
            }
            if entry.bounded { lastOf[entry.session] = (entry.line, entry.sessionField) }
        }
        for surprise in detector.expire(now: Timestamp(nanoseconds: clock)) {
            let last = lastOf[surprise.session] ?? (0, 0)
            report(surprise, line: last.line, field: last.field)
        }
        return result
    }

    private static func line(_ template: Template) -> LogReport.TemplateLine {
        LogReport.TemplateLine(
            id: template.id,
            template: template.text,
            count: template.count,
            errors: template.errorCount,
            severity: template.severity.name,
            firstRecord: template.firstLine,
            firstSeen: template.firstSeen?.iso8601,
            lastSeen: template.lastSeen?.iso8601
        )
    }

    // MARK: - Time

    /// Bucket widths a person reads easily, in seconds.
    static let niceWidths: [Double] = [
        1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 604_800,
    ]

    private func timeline(timed: [Entry], range: (Int64, Int64)?) -> (LogReport.Timeline, [Int]) {
        if let (first, last) = range, last > first, timed.count * 2 >= self.entries.count {
            let span = (Double(last) - Double(first)) / 1e9
            let width =
                Self.niceWidths.first { span / $0 <= Double(self.timelineBuckets) } ?? span
                / Double(self.timelineBuckets)
            let widthNanos = Int64(min(width * 1e9, 9e18))
            let start = first - first % widthNanos
            let count = Int((Double(last) - Double(start)) / Double(widthNanos)) + 1
            var counts = [Int](repeating: 0, count: count)
            var errors = [Int](repeating: 0, count: count)
            var bucketOf: [Int] = []
            bucketOf.reserveCapacity(timed.count)
            for entry in timed {
                let bucket = min(
                    count - 1,
                    max(0, Int((Double(entry.nanoseconds) - Double(start)) / Double(widthNanos)))
                )
                counts[bucket] += 1
                if entry.severity.isError { errors[bucket] += 1 }
                bucketOf.append(bucket)
            }
            let timeline = LogReport.Timeline(
                axis: "time",
                bucketWidth: width,
                start: Timestamp(nanoseconds: start).iso8601,
                counts: counts,
                errors: errors
            )
            return (timeline, bucketOf)
        }
        let total = self.entries.count
        let width = max(1, (total + self.timelineBuckets - 1) / self.timelineBuckets)
        let count = total == 0 ? 0 : (total + width - 1) / width
        var counts = [Int](repeating: 0, count: count)
        var errors = [Int](repeating: 0, count: count)
        for (index, entry) in self.entries.enumerated() {
            counts[index / width] += 1
            if entry.severity.isError { errors[index / width] += 1 }
        }
        return (
            LogReport.Timeline(axis: "records", bucketWidth: Double(width), start: nil, counts: counts, errors: errors),
            []
        )
    }

    /// Buckets far above the median count (more than median + 5 × MAD and at least twice the median), for all
    /// records and for error records.
    private func bursts(in timeline: LogReport.Timeline, bucketOf: [Int]) -> [LogReport.Burst] {
        guard timeline.axis == "time", timeline.counts.count >= 8 else { return [] }
        let timed = self.entries.filter { $0.nanoseconds != Entry.noTime }
        let width = Int64(min(timeline.bucketWidth * 1e9, 9e18))
        let origin = timed.map(\.nanoseconds).min().map { $0 - $0 % width } ?? 0
        var result: [LogReport.Burst] = []
        for (kind, counts) in [("records", timeline.counts), ("errors", timeline.errors)] {
            let median = Self.median(counts.map(Double.init))
            let mad = Self.median(counts.map { abs(Double($0) - median) })
            let threshold = max(median + 5 * max(mad, 1), 2 * median, 3)
            // Neighbouring loud buckets form one episode.
            var episodes: [ClosedRange<Int>] = []
            for (bucket, count) in counts.enumerated() where Double(count) > threshold {
                if let last = episodes.last, last.upperBound == bucket - 1 {
                    episodes[episodes.count - 1] = last.lowerBound...bucket
                } else {
                    episodes.append(bucket...bucket)
                }
            }
            for episode in episodes {
                var perGroup: [UInt32: Int] = [:]
                for (index, entry) in timed.enumerated()
                where episode.contains(bucketOf[index]) && (kind == "records" || entry.severity.isError) {
                    perGroup[entry.group, default: 0] += 1
                }
                let top = perGroup.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }
                result.append(
                    LogReport.Burst(
                        kind: kind,
                        bucket: episode.lowerBound,
                        buckets: episode.count,
                        start: Timestamp(seconds: (Double(origin) + Double(episode.lowerBound) * Double(width)) / 1e9)
                            .iso8601,
                        end: Timestamp(seconds: (Double(origin) + Double(episode.upperBound + 1) * Double(width)) / 1e9)
                            .iso8601,
                        count: episode.reduce(0) { $0 + counts[$1] },
                        peak: episode.map { counts[$0] }.max() ?? 0,
                        typical: median,
                        topTemplate: top.flatMap { self.miner.templateText(of: TemplateMiner.GroupID(serial: $0.key)) }
                    )
                )
            }
        }
        // The loudest episodes only, shown in time order.
        let loudest = result.sorted { ($0.count, -$0.bucket) > ($1.count, -$1.bucket) }.prefix(self.listLength)
        return loudest.sorted { ($0.bucket, $0.kind) < ($1.bucket, $1.kind) }

    }

    /// Gaps between consecutive records longer than 20 × the median gap and 10 × the 90th-percentile gap.
    private func silences(timed: [Entry]) -> [LogReport.Silence] {
        guard timed.count >= 20 else { return [] }
        let times = timed.map(\.nanoseconds).sorted()
        var gaps: [Double] = []
        gaps.reserveCapacity(times.count - 1)
        for index in 1..<times.count { gaps.append((Double(times[index]) - Double(times[index - 1])) / 1e9) }
        let sortedGaps = gaps.sorted()
        let median = sortedGaps[sortedGaps.count / 2]
        let p90 = sortedGaps[sortedGaps.count * 9 / 10]
        let threshold = max(20 * median, 10 * p90, 1)
        // What a person calls the usual gap: between records that do not share a timestamp (a log stamped to the
        // second that writes ten lines a second has a median gap of 0).
        let moments = sortedGaps.filter { $0 > 0 }
        let typical = moments.isEmpty ? 0 : moments[moments.count / 2]
        var result: [LogReport.Silence] = []
        for (index, gap) in gaps.enumerated() where gap > threshold {
            result.append(
                LogReport.Silence(
                    from: Timestamp(nanoseconds: times[index]).iso8601,
                    to: Timestamp(nanoseconds: times[index + 1]).iso8601,
                    seconds: gap,
                    typicalGapSeconds: typical
                )
            )
        }
        return Array(result.sorted { $0.seconds > $1.seconds }.prefix(self.listLength))
    }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
