// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

@Suite struct PipelineShardTests {
    static let stream = StreamKey(service: "checkout", source: "loki")
    static let minute: Int64 = 60_000_000_000

    /// `count` lines of steady traffic spread over minute `minute`.
    static func traffic(minute: Int64, count: Int = 30, error: String? = nil) -> LogBatch {
        var entries = (0..<count).map { index in
            LogEntry(
                time: Timestamp(nanoseconds: minute * Self.minute + Int64(index) * (Self.minute / Int64(count))),
                line: Array("2024-01-01 10:00:00 INFO order \(index * 7 + Int(minute)) placed in \(index + 3) ms".utf8)
            )
        }
        if let error {
            entries.append(
                LogEntry(
                    time: Timestamp(nanoseconds: minute * Self.minute + 1),
                    line: Array("2024-01-01 10:00:00 ERROR \(error)".utf8)
                )
            )
        }
        return LogBatch(stream: Self.stream, entries: entries)
    }

    @Test func reportsANewErrorTemplateOnlyAfterWarmUp() {
        var shard = PipelineShard()
        var findings: [Anomaly] = []
        shard.process(Self.traffic(minute: 0, error: "cache warm-up failed for region eu-1"), findings: &findings)
        for minute in 1...15 { shard.process(Self.traffic(minute: Int64(minute)), findings: &findings) }
        #expect(findings.allSatisfy { $0.kind != .newErrorTemplate }, "errors during warm-up are not news")
        shard.process(
            Self.traffic(minute: 16, error: "payment provider refused card for order 991: code 51"),
            findings: &findings
        )
        shard.process(Self.traffic(minute: 17), findings: &findings)
        let news = findings.filter { $0.kind == .newErrorTemplate }
        #expect(news.count == 1)
        #expect(news.first?.evidence.summary.contains("payment provider refused card") == true)
        #expect(news.first?.service == "checkout")
        #expect(shard.processedLines == 18 * 30 + 2)
    }

    /// Minutes of checkout requests by `request_id`, ten a minute, each writing three JSON lines a second apart;
    /// `cut` requests stop after the second line.
    static func requests(minute: Int64, cut: Set<Int> = []) -> LogBatch {
        var entries: [LogEntry] = []
        for request in 0..<10 {
            let id = Int(minute) * 10 + request
            let steps = ["order \(id) created", "stock reserved for order \(id)", "payment authorised for order \(id)"]
            for (index, message) in steps.enumerated() where !(cut.contains(request) && index == 2) {
                let time = minute * Self.minute + Int64(request * 5 + index) * 1_000_000_000
                let line = #"{"level":"info","request_id":"req-\#(id)","msg":"\#(message)"}"#
                entries.append(LogEntry(time: Timestamp(nanoseconds: time), line: Array(line.utf8)))
            }
        }
        return LogBatch(stream: Self.stream, entries: entries)
    }

    @Test func aRequestThatStopsHalfwayIsASequenceAnomaly() throws {
        var shard = PipelineShard()
        var findings: [Anomaly] = []
        for minute in 0..<30 { shard.process(Self.requests(minute: Int64(minute)), findings: &findings) }
        #expect(findings.allSatisfy { $0.kind != .sequenceAnomaly }, "\(findings.map(\.evidence.summary))")
        shard.process(Self.requests(minute: 30, cut: [4]), findings: &findings)
        // The request is idle for five minutes before it counts as ended; by then its step has been taken 359 times
        // (300 requests before, 9 beside it and 50 after).
        for minute in 31..<38 { shard.process(Self.requests(minute: Int64(minute)), findings: &findings) }
        let sequences = findings.filter { $0.kind == .sequenceAnomaly }
        let finding = try #require(sequences.first)
        #expect(sequences.count == 1)
        #expect(finding.service == "checkout" && finding.subject == Template.id(for: "stock reserved for order <*>"))
        #expect(
            finding.evidence.summary.hasPrefix(
                "in checkout/loki, a session by request_id ended after \"stock reserved for order <*>\""
            ),
            "\(finding.evidence.summary)"
        )
        #expect(finding.evidence.summary.contains("\"payment authorised for order <*>\" (359×)"))
        #expect(finding.time == Timestamp(nanoseconds: 30 * Self.minute + 21 * 1_000_000_000 + 300_000_000_000))
    }

    /// Each closed minute of a stream becomes a sample of its error lines (0 when there were none), for the store:
    /// root-cause ranking reads them as log evidence.
    @Test func closedBucketsBecomeErrorLineSamples() throws {
        var shard = PipelineShard()
        var findings: [Anomaly] = []
        for minute in Int64(0)..<3 {
            let error = minute == 1 ? "payment provider refused card for order 991" : nil
            shard.process(Self.traffic(minute: minute, error: error), findings: &findings)
            shard.tick(now: Timestamp(nanoseconds: minute * Self.minute + 59_000_000_000), findings: &findings)
        }
        // The stream's clock: its newest line (2:58) and the two seconds since.
        shard.tick(now: Timestamp(nanoseconds: 3 * Self.minute + 1_000_000_000), findings: &findings)
        let samples = shard.takeSamples().filter { $0.series.name == IncidentData.LogMetric.errorLines }
        #expect(samples.map(\.value) == [0, 1, 0])
        #expect(samples.map(\.time.nanoseconds) == [0, Self.minute, 2 * Self.minute])
        #expect(samples.allSatisfy { $0.series.service == "checkout" })
        #expect(shard.takeSamples().isEmpty, "handed on once")
    }

    /// A new stream's first lines wait while its format is learnt (a backlog pushed at once: a line a minute for
    /// 20 minutes): each is still mined at its own time, so its template was first seen at the first line, and
    /// each minute's error lines are that minute's sample.
    @Test func linesHeldWhileTheFormatIsLearntKeepTheirOwnTimes() throws {
        var shard = PipelineShard()
        var findings: [Anomaly] = []
        let entries = (0..<20).map { minute in
            LogEntry(
                time: Timestamp(nanoseconds: Int64(minute) * Self.minute),
                line: Array("2024-01-01 10:\(minute + 10):00 ERROR payment \(minute) declined: upstream timeout".utf8)
            )
        }
        shard.process(LogBatch(stream: Self.stream, entries: entries), findings: &findings)
        #expect(shard.templates().flatMap(\.templates).isEmpty, "held while the format is learnt")
        // The first tick finds lines taken since the last, the second hands them on, the third moves the stream's
        // clock (its newest line's time and the minute since) past the last minute.
        for minute in Int64(21)...23 {
            shard.tick(now: Timestamp(nanoseconds: minute * Self.minute), findings: &findings)
        }
        let template = try #require(shard.templates().flatMap(\.templates).first)
        #expect(template.count == 20)
        #expect(template.firstSeen == Timestamp(nanoseconds: 0))
        let samples = shard.takeSamples().filter { $0.series.name == IncidentData.LogMetric.errorLines }
        #expect(samples.prefix(20).map(\.value) == Array(repeating: 1, count: 20), "\(samples.map(\.value))")
        #expect(samples.prefix(20).map(\.time.nanoseconds) == (0..<20).map { Int64($0) * Self.minute })
    }

    @Test func reportsSilenceOnceWhenASteadyStreamStops() {
        var shard = PipelineShard()
        var findings: [Anomaly] = []
        for minute in 0..<20 {
            shard.process(Self.traffic(minute: Int64(minute)), findings: &findings)
            shard.tick(now: Timestamp(nanoseconds: Int64(minute) * Self.minute + 59_000_000_000), findings: &findings)
        }
        #expect(findings.isEmpty)
        for second in stride(from: 20 * 60, to: 40 * 60, by: 10) {
            shard.tick(now: Timestamp(nanoseconds: Int64(second) * 1_000_000_000), findings: &findings)
        }
        let silences = findings.filter { $0.kind == .silence }
        #expect(silences.count == 1)
        #expect(silences.first?.subject == "checkout/loki")
        // Traffic returns, then stops again: a second episode.
        shard.process(Self.traffic(minute: 40), findings: &findings)
        for second in stride(from: 41 * 60, to: 60 * 60, by: 10) {
            shard.tick(now: Timestamp(nanoseconds: Int64(second) * 1_000_000_000), findings: &findings)
        }
        #expect(findings.filter { $0.kind == .silence }.count == 2)
    }

    /// A sender whose clock runs ten minutes behind the server's (or a replay of old lines) is judged on its own
    /// clock: not silent while its lines come, silent once when they stop, its minutes its own.
    @Test func aStreamWhoseClockRunsBehindIsJudgedOnItsOwnClock() {
        var shard = PipelineShard()
        var findings: [Anomaly] = []
        let lag: Int64 = 600
        for second in Int64(0)..<1800 {
            let line = LogEntry(
                time: Timestamp(nanoseconds: second * 1_000_000_000),
                line: Array("2024-01-01 10:00:00 INFO GET /cart 200 in \(second % 7) ms".utf8)
            )
            shard.process(LogBatch(stream: Self.stream, entries: [line]), findings: &findings)
            shard.tick(now: Timestamp(nanoseconds: (second + lag) * 1_000_000_000), findings: &findings)
        }
        #expect(findings.isEmpty, "\(findings.count) findings, the first: \(findings.first?.evidence.summary ?? "")")
        let minutes = shard.takeSamples().filter { $0.series.name == IncidentData.LogMetric.errorLines }
        #expect(minutes.last?.time == Timestamp(nanoseconds: 28 * Self.minute), "the 29th minute closed last")
        for second in stride(from: Int64(1800), to: 2400, by: 1) {
            shard.tick(now: Timestamp(nanoseconds: (second + lag) * 1_000_000_000), findings: &findings)
        }
        let silences = findings.filter { $0.kind == .silence }
        #expect(silences.count == 1)
        #expect(silences.first?.time == Timestamp(nanoseconds: 1799 * 1_000_000_000))
    }

    /// The kernel's boot messages, 300 in 1.5 s and then nothing for an hour: a burst is no rhythm, so its end is
    /// no silence (it was reported once the stream's first minutes had passed, "it used to send a line every
    /// 0.005 s").
    @Test func aBurstIsNoRhythmToMiss() {
        var shard = PipelineShard()
        var findings: [Anomaly] = []
        let entries = (0..<300).map { index in
            LogEntry(
                time: Timestamp(nanoseconds: Int64(index) * 5_000_000),
                line: Array("pci 0000:00:\(index % 30).0: BAR \(index % 4) [mem 0x\(index)]".utf8)
            )
        }
        shard.process(
            LogBatch(stream: StreamKey(service: "kernel", source: "kmsg"), entries: entries),
            findings: &findings
        )
        for second in Int64(2)..<3600 {
            shard.tick(now: Timestamp(nanoseconds: second * 1_000_000_000), findings: &findings)
        }
        #expect(findings.isEmpty, "\(findings.map(\.evidence.summary))")
    }

    @Test func reportsATemplateRateSpike() {
        var shard = PipelineShard()
        var findings: [Anomaly] = []
        for minute in 0..<60 { shard.process(Self.traffic(minute: Int64(minute)), findings: &findings) }
        #expect(findings.isEmpty)
        shard.process(Self.traffic(minute: 60, count: 600), findings: &findings)
        shard.process(Self.traffic(minute: 61), findings: &findings)
        let spikes = findings.filter { $0.kind == .templateRateSpike }
        #expect(spikes.count == 1)
        #expect(spikes.first?.evidence.observed == 600)
    }

    @Test func metricDeviationCarriesItsBand() {
        var shard = PipelineShard()
        var findings: [Anomaly] = []
        let series = SeriesKey(name: "host_cpu_busy_ratio", labels: [.init("host", "a")])
        for index in 0..<200 {
            let value = 0.2 + 0.01 * Double(index % 5)
            shard.process(
                [
                    MetricPoint(
                        series: series,
                        time: Timestamp(nanoseconds: Int64(index) * 10_000_000_000),
                        value: value
                    )
                ],
                findings: &findings
            )
        }
        #expect(findings.isEmpty)
        shard.process(
            [MetricPoint(series: series, time: Timestamp(nanoseconds: 2_000_000_000_000), value: 0.95)],
            findings: &findings
        )
        let found = findings.first
        #expect(found?.kind == .metricDeviation)
        #expect(found?.evidence.observed == 0.95)
        #expect((found?.evidence.upper ?? 1) < 0.95)
        #expect((found?.evidence.expected ?? 0) > 0.19 && (found?.evidence.expected ?? 1) < 0.25)
    }

    /// The finding on checkout's `series`, whose latest sample was `value` against `expected`: a level shift's when
    /// `shift` is given, a new high's or low's when `rangeEdge` is.
    private func deviationFinding(
        _ series: String,
        value: Double,
        signal: MetricAnomalyDetector.Signal,
        baseline: MetricAnomalyDetector.Baseline,
        expected: Double,
        shift: MetricAnomalyDetector.Shift? = nil,
        rangeEdge: Double? = nil
    ) -> Evidence {
        let point = MetricPoint(
            series: SeriesKey(name: series, labels: [.init("service", "checkout")]),
            time: Timestamp(nanoseconds: 1_000_000_000),
            value: value
        )
        let result = MetricAnomalyDetector.Result(
            score: 0.8,
            isAnomaly: true,
            signal: signal,
            baseline: baseline,
            expected: expected,
            bandHalfWidth: 0.2 * expected,
            neverNegative: true,
            secondsOutside: 0,
            learntPoints: 500,
            shift: shift,
            rangeEdge: rangeEdge
        )
        return PipelineShard.deviation(point, result).evidence
    }

    /// A sample that scored by leaving the range seen says how far beyond the edge it left it went: a climbing
    /// daily swing's new high may sit inside the band of its time of day.
    @Test func aNewHighFindingSaysHowFarBeyondTheRangeItLeft() {
        let evidence = self.deviationFinding(
            "memory",
            value: 121.8,
            signal: .spike,
            baseline: .daily,
            expected: 116,
            rangeEdge: 113
        )
        #expect(
            evidence.summary.contains("spike (8.8 above the range it left, whose highest was 113)"),
            "\(evidence.summary)"
        )
        #expect(evidence.observed == 121.8 && evidence.expected == 116)
    }

    /// A level shift's finding names the average that moved and the level it left: the sample itself sits inside
    /// its band.
    @Test func aLevelShiftFindingNamesTheAverageThatMoved() {
        let evidence = self.deviationFinding(
            "latency",
            value: 12.5,
            signal: .levelShiftUp,
            baseline: .recent,
            expected: 11,
            shift: .init(points: 8, mean: 12.75, level: 10)
        )
        #expect(evidence.summary.contains("inside its band"), "\(evidence.summary)")
        #expect(
            evidence.summary.contains(
                "level shift up (the average of its last 8 samples was 12.75 against the level 10)"
            ),
            "\(evidence.summary)"
        )
        #expect(evidence.observed == 12.75 && evidence.expected == 10, "the average against the level it left")
        #expect(evidence.lower == nil && evidence.upper == nil, "the sample's band is no band of the average")
    }

    /// On a seasonal baseline the average is of the samples' distances from where the profile put each one.
    @Test func aSeasonalLevelShiftFindingSaysHowFarTheSamplesAveragedFromTheirExpectations() {
        let evidence = self.deviationFinding(
            "requests",
            value: 95,
            signal: .levelShiftDown,
            baseline: .daily,
            expected: 110,
            shift: .init(points: 64, mean: 98, level: 110)
        )
        #expect(
            evidence.summary.contains("level shift down (its last 64 samples averaged 12 below their expected values)"),
            "\(evidence.summary)"
        )
        #expect(evidence.observed == 98 && evidence.expected == 110)
    }

    /// A nightly job that did not run is found in serve too, and its finding names the beat it missed.
    @Test func aMissedRunOfANightlyJobIsAFinding() throws {
        var shard = PipelineShard()
        var findings: [Anomaly] = []
        let series = SeriesKey(name: "backup_bytes_written", labels: [.init("service", "backup")])
        var random = SplitMix64(seed: 8)
        // Five-minute samples, a job every 288 (a day) that does not run on day 12.
        for index in 0..<4000 {
            let run = index % 288 == 40 && index / 288 != 12
            let value = run ? 5000 : 100 + Double(random.next() % 400) / 100
            let time = Timestamp(nanoseconds: Int64(index) * 300_000_000_000)
            shard.process([MetricPoint(series: series, time: time, value: value)], findings: &findings)
        }
        let missed = findings.filter { $0.evidence.summary.contains("missed beat") }
        #expect(missed.count == 1, "\(findings.map(\.evidence.summary))")
        let finding = try #require(missed.first)
        #expect(
            finding.evidence.summary.hasSuffix("missed beat: no spike came on its beat every 24 h"),
            "\(finding.evidence.summary)"
        )
        // The beat's time plus twice its tolerance (3 % of a day): about 17 samples after row 12 × 288 + 40.
        let row = Int(finding.time.seconds) / 300
        #expect((12 * 288 + 40 + 15)...(12 * 288 + 40 + 20) ~= row, "\(row)")
    }

    /// Memory whose average shifted down is spare capacity even when the sample that found it sits on its expected
    /// value: it does not make a caller's blip an incident of two services.
    @Test func aLevelShiftDownOfMemoryIsNoSymptom() {
        let point = MetricPoint(
            series: SeriesKey(name: "mem", labels: [.init("service", "carts-db")]),
            time: Timestamp(seconds: 1_000),
            value: 107
        )
        let result = MetricAnomalyDetector.Result(
            score: 0.9,
            isAnomaly: true,
            signal: .levelShiftDown,
            baseline: .recent,
            expected: 107,
            bandHalfWidth: 6,
            neverNegative: true,
            secondsOutside: 0,
            learntPoints: 338,
            shift: .init(points: 64, mean: 124, level: 165)
        )
        var correlator = IncidentCorrelator()
        correlator.addCall(caller: "carts", callee: "carts-db")
        correlator.add(PipelineShard.deviation(point, result))
        correlator.add(
            Anomaly(
                kind: .metricDeviation,
                service: "carts",
                subject: "cpu{service=\"carts\"}",
                time: Timestamp(seconds: 1_005),
                score: 1,
                evidence: Evidence(observed: 90, expected: 10, summary: "cpu was 90")
            )
        )
        #expect(correlator.incidents().isEmpty, "\(correlator.incidents().map(\.services))")
    }

    /// A step that holds reports again a minute after its alert, so the correlator sees it was no blip; a
    /// spike that came back does not.
    @Test func aDeviationThatHoldsReportsAgainAMinuteLater() {
        func run(_ fault: (Int) -> Double) -> [Anomaly] {
            var shard = PipelineShard()
            var findings: [Anomaly] = []
            let series = SeriesKey(name: "cpu", labels: [.init("service", "payment")])
            for second in 0..<400 {
                let value = second < 300 ? 0.07 + 0.01 * Double(second % 3) : fault(second)
                let time = Timestamp(nanoseconds: Int64(second) * 1_000_000_000)
                shard.process([MetricPoint(series: series, time: time, value: value)], findings: &findings)
            }
            return findings
        }
        let step = run { _ in 100 }
        #expect(step.count == 2)
        #expect(Set(step.map(\.subject)).count == 1)
        #expect(step.count == 2 && step[1].time.seconds - step[0].time.seconds == 60)
        // The second finding judges against the band the alert left, not the one that followed the new level.
        #expect(step.count == 2 && step[1].evidence.expected ?? 1 < 0.1 && step[1].evidence.upper ?? 100 < 100)
        #expect(step.count == 2 && step[1].evidence.summary.contains("the change held"))
        #expect(step.count == 2 && step[1].evidence.lower == nil, "only the edge it crossed: \(step)")
        #expect(
            step.count == 2
                && step[1].evidence.summary.contains("still above \(Format.number(step[1].evidence.upper!))")
        )
        let blip = run { second in second < 303 ? 100 : 0.08 }
        #expect(blip.count == 1)
        // A CPU hog held at 100 % that dips to 75 % now and then (a dip that alerts against the new level) still
        // held: the question is whether it came back to where it was before its first alert.
        let dipping = run { second in (317...321).contains(second) || (340...343).contains(second) ? 75 : 100 }
        #expect(dipping.contains { $0.evidence.summary.contains("the change held") && $0.time.seconds == 360 })
    }

    /// A fault that comes back after the series has been quiet for a quarter of an hour is a new finding, however
    /// few points of the series' rest have run (150 one-minute points are two and a half hours). Quiet: the
    /// level-shift score stays up for a quarter of an hour after a spike like the first one here.
    @Test func aFaultThatComesBackAfterAQuietQuarterHourIsReportedAgain() {
        var shard = PipelineShard()
        var findings: [Anomaly] = []
        let series = SeriesKey(name: "cpu", labels: [.init("service", "payment")])
        var random = SplitMix64(seed: 3)
        for minute in 0..<300 {
            let fault = minute == 200 || (250..<260).contains(minute)
            let value = fault ? 95 : 20 + Double(random.next() % 400) / 100
            let time = Timestamp(nanoseconds: Int64(minute) * 60_000_000_000)
            shard.process([MetricPoint(series: series, time: time, value: value)], findings: &findings)
        }
        let minutes = findings.map { Int($0.time.seconds) / 60 }
        #expect(minutes.first == 200, "findings at minutes \(minutes)")
        #expect(minutes.contains { (250..<260).contains($0) }, "findings at minutes \(minutes)")
        #expect(!minutes.contains { (201..<250).contains($0) }, "findings at minutes \(minutes)")
    }

    @Test func judgedSamplesReachTheStoreAsTheLastValueOfEachBucket() {
        var shard = PipelineShard()
        let a = SeriesKey(name: "a")
        let b = SeriesKey(name: "b")
        func point(_ series: SeriesKey, _ second: Double, _ value: Double) -> MetricPoint {
            MetricPoint(series: series, time: Timestamp(seconds: second), value: value)
        }
        var findings: [Anomaly] = []
        shard.process(
            [point(a, 1001, 1), point(b, 1002, 2), point(a, 1011, 3), point(a, 1005, 4), point(a, 1019, 5)],
            findings: &findings
        )
        func texts(_ points: [MetricPoint]) -> [String] {
            points.map { "\($0.series.name)@\($0.time.wholeSeconds)=\($0.value)" }.sorted()
        }
        #expect(texts(shard.takeSamples()) == ["a@1000=1.0", "a@1000=4.0", "a@1010=5.0", "b@1000=2.0"])
        #expect(shard.takeSamples().isEmpty)
        shard.process([point(b, 1003, 6)], findings: &findings)
        #expect(texts(shard.takeSamples()) == ["b@1000=6.0"])
        #expect(shard.processedSamples == 6)
    }

    /// History sent again (a retried write, a pull that starts from before a restart) is stored but not judged:
    /// its normal values, read after the step that followed them, would be a step back.
    @Test func samplesNoNewerThanTheSeriesNewestAreStoredButNotJudged() {
        var shard = PipelineShard()
        let series = SeriesKey(name: "queue_depth")
        let history = (0..<300).map { index in
            MetricPoint(
                series: series,
                time: Timestamp(seconds: 1_000 + 10 * Double(index)),
                value: (index < 250 ? 10 : 80) + Double(index % 3)
            )
        }
        var findings: [Anomaly] = []
        shard.process(history, findings: &findings)
        #expect(findings.contains { $0.kind == .metricDeviation }, "the step to 80 is found the first time")
        _ = shard.takeSamples()
        var again: [Anomaly] = []
        shard.process(history, findings: &again)
        #expect(again.isEmpty, "\(again.map(\.evidence.summary))")
        #expect(shard.takeSamples().count == 300, "every repeated sample still reaches the store")
        // The next new sample is judged as the continuation of the series: 81 is its level now.
        shard.process(
            [MetricPoint(series: series, time: Timestamp(seconds: 4_000), value: 81)],
            findings: &again
        )
        #expect(again.isEmpty, "\(again.map(\.evidence.summary))")
        #expect(shard.processedSamples == 601)
    }

    @Test func aMetricSeriesThatStopsIsReportedSilentOnce() {
        var shard = PipelineShard()
        let steady = SeriesKey(name: "up", labels: [.init("job", "api")])
        let young = SeriesKey(name: "up", labels: [.init("job", "new")])
        var findings: [Anomaly] = []
        shard.process(
            (0..<20).map { MetricPoint(series: steady, time: Timestamp(seconds: 1000 + 15 * Double($0)), value: 1) }
                + (0..<5).map { MetricPoint(series: young, time: Timestamp(seconds: 1000 + Double($0)), value: 1) },
            findings: &findings
        )
        // Live data: the ticks' clock is where the data is.
        let last = 1000 + 15 * 19.0
        shard.tick(now: Timestamp(seconds: last), findings: &findings)
        shard.tick(now: Timestamp(seconds: last + 299), findings: &findings)
        #expect(findings.filter { $0.kind == .silence }.isEmpty)  // 300 s at least, 20 gaps of 15 s = 300 s
        shard.tick(now: Timestamp(seconds: last + 301), findings: &findings)
        let silent = findings.filter { $0.kind == .silence }
        #expect(silent.map(\.subject) == [steady.text])  // the young series has too few samples to judge
        #expect(silent.first?.service == "api")
        #expect(silent.first?.time == Timestamp(seconds: last))
        #expect(silent.first?.evidence.summary.contains("every 15 s") == true)

        // Once only; a checkpoint keeps that; a new sample re-arms it.
        var restored = PipelineShard(restoring: shard.snapshot(findings: &findings))
        restored.tick(now: Timestamp(seconds: last + 900), findings: &findings)
        #expect(findings.filter { $0.kind == .silence }.count == 1)
        restored.process(
            [MetricPoint(series: steady, time: Timestamp(seconds: last + 1000), value: 1)],
            findings: &findings
        )
        restored.tick(now: Timestamp(seconds: last + 1000), findings: &findings)
        restored.tick(now: Timestamp(seconds: last + 1000 + 400), findings: &findings)
        #expect(findings.filter { $0.kind == .silence }.count == 2)
    }

    /// A server down for an hour: after its restart the host's rates come a sample later than its gauges (a rate
    /// needs two readings). The hour was the server's own downtime, so neither is silent; a series that does not
    /// come back is, five minutes after the restart, with its whole gap.
    @Test func aRestartIsNoSilence() {
        let gauge = SeriesKey(name: "host_load1", labels: [.init("host", "vm")])
        let rate = SeriesKey(name: "host_cpu_busy_ratio", labels: [.init("host", "vm")])
        let gone = SeriesKey(name: "host_disk_read_bytes_per_second", labels: [.init("host", "vm")])
        var shard = PipelineShard()
        var findings: [Anomaly] = []
        for index in 0..<100 {
            let time = Timestamp(seconds: 1000 + 5 * Double(index))
            shard.process(
                [gauge, rate, gone].map { MetricPoint(series: $0, time: time, value: 1) },
                findings: &findings
            )
            shard.tick(now: time, findings: &findings)
        }
        var restarted = PipelineShard(restoring: shard.snapshot(findings: &findings))
        let back = 1000 + 5 * 99 + 3600.0
        restarted.process([MetricPoint(series: gauge, time: Timestamp(seconds: back), value: 1)], findings: &findings)
        restarted.tick(now: Timestamp(seconds: back), findings: &findings)
        restarted.process(
            [gauge, rate].map { MetricPoint(series: $0, time: Timestamp(seconds: back + 5), value: 1) },
            findings: &findings
        )
        restarted.tick(now: Timestamp(seconds: back + 5), findings: &findings)
        #expect(findings.filter { $0.kind == .silence }.isEmpty, "\(findings.map(\.evidence.summary))")
        restarted.tick(now: Timestamp(seconds: back + 301), findings: &findings)
        let silent = findings.filter { $0.kind == .silence }
        #expect(silent.map(\.subject) == [gone.text])
        #expect(silent.first?.evidence.summary.contains("no sample for 3901 s") == true)
    }

    @Test func aReplayIsJudgedOnItsOwnClock() {
        // Data from 2022 replayed quickly while the wall clock says 2026: only a series the others leave behind
        // is silent.
        var shard = PipelineShard()
        let a = SeriesKey(name: "cpu", labels: [.init("service", "a")])
        let b = SeriesKey(name: "cpu", labels: [.init("service", "b")])
        let start = 1_650_000_000.0
        let wall = 1_795_000_000.0
        var findings: [Anomaly] = []
        for minute in 0..<30 {
            var points = [MetricPoint(series: a, time: Timestamp(seconds: start + 60 * Double(minute)), value: 1)]
            if minute < 15 {
                points.append(MetricPoint(series: b, time: Timestamp(seconds: start + 60 * Double(minute)), value: 1))
            }
            shard.process(points, findings: &findings)
            shard.tick(now: Timestamp(seconds: wall + Double(minute) / 10), findings: &findings)
        }
        // b stopped at minute 14; 20 gaps of 60 s later (minute 34) it is silent in data time, not before.
        #expect(findings.filter { $0.kind == .silence }.isEmpty)
        for minute in 30..<36 {
            shard.process(
                [MetricPoint(series: a, time: Timestamp(seconds: start + 60 * Double(minute)), value: 1)],
                findings: &findings
            )
            shard.tick(now: Timestamp(seconds: wall + Double(minute) / 10), findings: &findings)
        }
        #expect(findings.filter { $0.kind == .silence }.map(\.service) == ["b"])
    }

    @Test func aFillingDiskIsReportedWithItsCrossingTime() throws {
        var shard = PipelineShard()
        var findings: [Anomaly] = []
        let series = SeriesKey(
            name: "host_filesystem_used_ratio",
            labels: [.init("host", "db-1"), .init("mountpoint", "/")]
        )
        for index in 0..<720 {  // two hours at 10 s, filling 1 % an hour from 0.9
            let value = 0.9 + 0.01 * Double(index) / 360 + 0.0005 * Double(index % 7 - 3) / 3
            shard.process(
                [
                    MetricPoint(
                        series: series,
                        time: Timestamp(seconds: 1_700_000_000 + Double(index) * 10),
                        value: value
                    )
                ],
                findings: &findings
            )
        }
        let trend = try #require(findings.first { $0.kind == .trendExhaustion })
        #expect(findings.count(where: { $0.kind == .trendExhaustion }) == 1)
        #expect(trend.subject == series.text && trend.service == "db-1")
        #expect(trend.evidence.expected == 1)
        #expect(trend.evidence.summary.contains("reaches 1 in"))
    }

    /// node_exporter's free disk space falling 2 GB an hour towards 0 is a disk filling too: reported once, with
    /// the fall and its crossing time. A used ratio that falls is no exhaustion.
    @Test func freeSpaceFallingToZeroIsReportedWithItsCrossingTime() throws {
        var shard = PipelineShard()
        var findings: [Anomaly] = []
        let free = SeriesKey(
            name: "node_filesystem_avail_bytes",
            labels: [.init("instance", "db-1:9100"), .init("mountpoint", "/")]
        )
        let used = SeriesKey(name: "host_filesystem_used_ratio", labels: [.init("host", "db-1")])
        for index in 0..<720 {  // two hours at 10 s, from 20 GB
            let time = Timestamp(seconds: 1_700_000_000 + Double(index) * 10)
            let bytes = 20e9 - 2e9 * Double(index) / 360 + 1e6 * Double(index % 7 - 3)
            shard.process(
                [
                    MetricPoint(series: free, time: time, value: bytes),
                    MetricPoint(series: used, time: time, value: 0.5 - 0.01 * Double(index) / 360),
                ],
                findings: &findings
            )
        }
        let trends = findings.filter { $0.kind == .trendExhaustion }
        #expect(trends.count == 1 && trends.first?.subject == free.text, "\(trends.map(\.subject))")
        let summary = try #require(trends.first?.evidence.summary)
        // At 19.7 GB falling 2.0 GB an hour: 9.8 h.
        #expect(
            summary.contains(" and falling 199") && summary.contains(" per hour: it reaches 0 in 9.8 h"),
            "\(summary)"
        )
        #expect(trends.first?.evidence.expected == 0)
    }

    /// A shard restored from a snapshot continues exactly as the original: same findings, same templates.
    /// A counter sampled every 10 s: `rate(second)` per second, as a running total that restarts from zero at
    /// `restart` (the sample there is what it counted since).
    static func counter(
        _ series: SeriesKey,
        samples: Range<Int>,
        restart: Int? = nil,
        rate: (Int) -> Double
    ) -> [MetricPoint] {
        var total = 1_000_000.0
        return (0..<samples.upperBound).compactMap { index in
            total = index == restart ? 10 * rate(index) : total + 10 * rate(index)
            guard samples.contains(index) else { return nil }
            return MetricPoint(
                series: series,
                time: Timestamp(nanoseconds: Int64(index) * 10_000_000_000),
                value: total
            )
        }
    }

    /// A counter's raw value only grows: its rate is judged, a restart is no dip, and the finding gives the rate.
    @Test func aCounterIsJudgedByItsRate() throws {
        let series = SeriesKey(name: "http_requests_total", labels: [.init("service", "checkout")])
        let steady = { (index: Int) in 10 + 0.3 * Double(index % 7) }
        var shard = PipelineShard()
        var findings: [Anomaly] = []
        shard.process(Self.counter(series, samples: 0..<300, restart: 250, rate: steady), findings: &findings)
        #expect(findings.isEmpty)
        shard.process(
            Self.counter(series, samples: 300..<303, restart: 250) { $0 < 300 ? steady($0) : 100 },
            findings: &findings
        )
        let found = try #require(findings.first)
        #expect(found.subject == series.text)
        #expect(abs((found.evidence.observed ?? 0) - 100) < 1e-9)
        #expect(found.evidence.summary.hasPrefix("rate(\(series.text)) (per second) was 100"))
    }

    /// A series named like a counter that falls other than to restart is no counter: its values are judged.
    @Test func aGaugeNamedLikeACounterIsJudgedByItsValues() throws {
        let series = SeriesKey(name: "pg_stat_activity_count", labels: [.init("service", "db")])
        var shard = PipelineShard()
        var findings: [Anomaly] = []
        let points = (0..<300).map { index in
            let time = Timestamp(nanoseconds: Int64(index) * 10_000_000_000)
            return MetricPoint(series: series, time: time, value: index == 299 ? 60 : 5 + Double(index % 3))
        }
        shard.process(points, findings: &findings)
        let found = try #require(findings.first)
        #expect(found.evidence.observed == 60)
        #expect(found.evidence.summary.hasPrefix("\(series.text) was 60"))
    }

    /// A restored shard knows a counter's last sample: its next sample has a rate at once.
    @Test func aRestoredShardKeepsACountersLastSample() {
        let series = SeriesKey(name: "bytes_sent_total", labels: [.init("service", "edge")])
        let rate = { (index: Int) in index >= 310 ? 400.0 : 40 + Double(index % 5) }
        var original = PipelineShard()
        var findings: [Anomaly] = []
        original.process(Self.counter(series, samples: 0..<300, rate: rate), findings: &findings)
        var restored = PipelineShard(restoring: original.snapshot(findings: &findings))
        var originalFindings: [Anomaly] = []
        var restoredFindings: [Anomaly] = []
        original.process(Self.counter(series, samples: 300..<320, rate: rate), findings: &originalFindings)
        restored.process(Self.counter(series, samples: 300..<320, rate: rate), findings: &restoredFindings)
        #expect(!originalFindings.isEmpty)
        #expect(restoredFindings == originalFindings)
    }

    @Test func aRestoredShardBehavesLikeTheOriginal() {
        var original = PipelineShard()
        var findings: [Anomaly] = []
        for minute in 0..<12 {
            original.process(
                Self.traffic(minute: Int64(minute), error: minute == 3 ? "disk full on /var" : nil),
                findings: &findings
            )
        }
        let snapshot = original.snapshot(findings: &findings)
        var restored = PipelineShard(restoring: snapshot)
        var originalFindings: [Anomaly] = []
        var restoredFindings: [Anomaly] = []
        for minute in 12..<30 {
            let error = minute == 20 ? "replica lag 31 s on db-2" : nil
            original.process(Self.traffic(minute: Int64(minute), error: error), findings: &originalFindings)
            restored.process(Self.traffic(minute: Int64(minute), error: error), findings: &restoredFindings)
        }
        #expect(restoredFindings == originalFindings)
        #expect(!restoredFindings.isEmpty)
        let originalTemplates = original.templates().flatMap { $0.templates.map { "\($0.id) \($0.count)" } }
        let restoredTemplates = restored.templates().flatMap { $0.templates.map { "\($0.id) \($0.count)" } }
        #expect(restoredTemplates == originalTemplates)
        #expect(restored.processedLines == original.processedLines)
    }
}

@Suite struct TemplateMinerSnapshotTests {
    @Test func restoringKeepsTemplateIDsAndCounts() {
        var miner = TemplateMiner()
        let lines = [
            "Receiving block blk_1 src: /10.0.0.1:5000 dest: /10.0.0.2:50010",
            "Receiving block blk_2 src: /10.0.0.3:5000 dest: /10.0.0.4:50010",
            "PacketResponder 1 for block blk_1 terminating",
            "PacketResponder 2 for block blk_9 terminating",
            "Verification succeeded for blk_5",
        ]
        for (index, line) in lines.enumerated() {
            miner.add(line, severity: index == 4 ? .error : .info, time: Timestamp(nanoseconds: Int64(index)))
        }
        miner.consolidate()
        let restored = TemplateMiner(restoring: miner.snapshot())
        #expect(restored.templates() == miner.templates())
        #expect(restored.lineCount == miner.lineCount)
        var next = restored
        let group = next.add("Receiving block blk_1 src: /10.0.0.7:5001 dest: /10.0.0.6:50010")
        #expect(next.groupCount == restored.groupCount, "a known shape maps to its restored group")
        #expect(next.templateText(of: group) == miner.templates().first { $0.text.hasPrefix("Receiving") }?.text)
    }
}
