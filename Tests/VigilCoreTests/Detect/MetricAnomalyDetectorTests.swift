// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

@testable import VigilCore

/// Five minutes between points, as in most exported metrics.
private let step: Int64 = 300

@Suite struct MetricAnomalyDetectorTests {
    /// Deterministic noise in [−0.5, 0.5).
    private func noise(_ count: Int, seed: UInt64 = 7) -> [Double] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in Double(random.next() >> 11) / Double(1 << 53) - 0.5 }
    }

    private func run(_ values: [Double], times: [Int64]? = nil) -> [MetricAnomalyDetector.Result] {
        var detector = MetricAnomalyDetector()
        return values.indices.map { index in
            let seconds = times?[index] ?? Int64(index) * step
            return detector.update(time: Timestamp(nanoseconds: seconds * 1_000_000_000), value: values[index])
        }
    }

    private func alerts(_ results: [MetricAnomalyDetector.Result]) -> [Int] {
        results.indices.filter { results[$0].isAnomaly }
    }

    @Test func spikeAlertsAtThePointAsASpike() {
        var values = self.noise(2000).map { 100 + 4 * $0 }
        values[1500] = 160
        let results = self.run(values)
        #expect(self.alerts(results).contains(1500), "alerts at \(self.alerts(results))")
        #expect(results[1500].signal == .spike)
        #expect(results[1500].score > 0.9)
        #expect(abs(results[1500].expected - 100) < 3)
    }

    /// Whoever looks at a chart sees a spike against everything the series has already shown: the same jump from
    /// 10 to 18 is the highest point yet after an earlier excursion to 20.5, and a small one after an excursion to
    /// 100, where it reaches about a tenth of the range seen (without the rule it scores 0.46 and alerts).
    @Test func aSpikeLowInTheRangeSeenCountsForLess() {
        func results(earlierExcursion: Double) -> [MetricAnomalyDetector.Result] {
            var values = self.noise(2000).map { 10 + 3 * $0 }
            values[300] = earlierExcursion
            values[1500] = 18
            return self.run(values)
        }
        let small = results(earlierExcursion: 20.5)
        #expect(self.alerts(small) == [300, 1500])
        #expect(small[1500].signal == .spike)
        let large = results(earlierExcursion: 100)
        #expect(self.alerts(large) == [300], "scored \(large[1500].score)")
    }

    /// A step series (CPU held for a while, then moving a little) has a tiny typical error, so every move looks
    /// big against it; a jump far outside everything seen must still stand out as the worst.
    @Test func aJumpFarOutsideTheRangeSeenIsOffTheScale() {
        var random = SplitMix64(seed: 3)
        var values: [Double] = []
        while values.count < 600 {
            let level = 1 + 0.5 * Double(random.next() >> 11) / Double(1 << 53)
            values += Array(repeating: level, count: Int(random.next() % 12) + 1)
        }
        values = Array(values.prefix(600)) + Array(repeating: 100, count: 50)
        let results = self.run(values)
        #expect(results[600].isAnomaly, "alerts at \(self.alerts(results))")
        #expect(results[600].score == 1)
    }

    /// A memory gauge that sat at 95,838,208 bytes and grew by one 4 KiB page is flat for anyone watching it; the
    /// same gauge doubling is not.
    @Test func aOnePageStepOnAFlatGaugeIsNoise() {
        let flat = Array(repeating: 95_838_208.0, count: 400)
        let stepped = self.run(flat + Array(repeating: 95_842_304, count: 100))
        #expect(self.alerts(stepped).isEmpty, "alerts at \(self.alerts(stepped))")
        let doubled = self.run(flat + Array(repeating: 191_676_416, count: 100))
        #expect(self.alerts(doubled) == [400])
    }

    /// A gauge scraped now and then but re-sent every point (held for 5 to 90 points at a time) is judged by its
    /// moves: an ordinary move after a long hold is not news, a real step still is.
    @Test func aHeldGaugeIsJudgedByItsMoves() {
        var random = SplitMix64(seed: 11)
        var values: [Double] = []
        while values.count < 3000 {
            let sample = 10 + Double(random.next() >> 11) / Double(1 << 53) - 0.5
            values += Array(repeating: sample, count: 5 + Int(random.next() % 86))
        }
        values = Array(values.prefix(3000))
        let quiet = self.run(values)
        #expect(self.alerts(quiet).isEmpty, "alerts at \(self.alerts(quiet))")
        let stepped = self.run(values + Array(repeating: 20, count: 30))
        #expect(self.alerts(stepped) == [3000])
    }

    /// Until a series has moved 20 times its tails are guesses: a held gauge with a handful of samples stays
    /// quiet even after the point warm-up, while a series that never moved still alerts at its first big move.
    @Test func aFewMovesAreNotEnoughToAlert() {
        var values: [Double] = []
        for sample in [5.0, 5.2, 4.9, 5.1, 5.0, 5.3, 4.8, 5.1] { values += Array(repeating: sample, count: 25) }
        let results = self.run(values + Array(repeating: 9, count: 10))
        #expect(self.alerts(results).isEmpty, "alerts at \(self.alerts(results))")
        let constant = self.run(Array(repeating: 5, count: 200) + Array(repeating: 9, count: 10))
        #expect(self.alerts(constant) == [200])
    }

    /// An alert opens an episode in which repeats are quiet; a far worse deviation inside it alerts again.
    @Test func aDeviationFarBeyondTheEpisodesPeakAlertsAgain() {
        var values = self.noise(2000).map { 100 + 4 * $0 }
        for index in 1500..<1515 { values[index] = 100 }  // a freeze: an alert at the threshold
        for index in 1530..<1600 { values[index] = 400 }  // then a collapse, inside the rest
        let results = self.run(values)
        let alerts = self.alerts(results)
        let freeze = try? #require(alerts.first { (1500..<1515).contains($0) }, "alerts at \(alerts)")
        #expect(freeze.map { results[$0].signal } == .flatline)
        #expect(alerts.contains(1530), "alerts at \(alerts)")
        #expect(alerts.filter { $0 > 1530 && $0 < 1600 }.isEmpty, "alerts at \(alerts)")
    }

    /// As `vigil serve` configures it: a series that stayed quiet for a quarter of an hour after an alert has ended
    /// its episode, and its next departure alerts however few points of its rest have run; one that comes back
    /// sooner is the same episode. Without the re-arm, 150 one-minute points (two and a half hours) rest.
    @Test func aQuietQuarterHourEndsTheRest() {
        var values = self.noise(1200).map { 100 + 4 * $0 }
        for index in [800, 810] { values[index] = 160 }
        values[840] = 220  // larger: the calibrators have seen two of 160 by then
        func alerts(rearm: Double) -> [Int] {
            var detector = PipelineShard.metricDetector()
            detector.setAlertThreshold(PipelineShard.Configuration().alertThreshold)
            detector.setRearmSeconds(rearm)
            return values.indices.filter { index in
                detector.update(time: Timestamp(nanoseconds: Int64(index) * 60_000_000_000), value: values[index])
                    .isAnomaly
            }
        }
        let rearmed = alerts(rearm: PipelineShard.rearmSeconds)
        #expect(rearmed.contains(800) && rearmed.contains(840), "alerts at \(rearmed)")
        #expect(!rearmed.contains(810), "ten minutes after the alert is the same episode: \(rearmed)")
        let resting = alerts(rearm: 0)
        #expect(resting.contains(800) && !resting.contains(810) && !resting.contains(840), "alerts at \(resting)")
    }

    /// The band never reaches below 0 on a series that has never been negative (a CPU's band is not −2.8…5.1),
    /// and is symmetric on one that has.
    @Test func theBandStopsAtZeroOnASeriesNeverNegative() {
        var values = self.noise(600).map { 1.2 + 2 * abs($0) }
        values[500] = 100
        let results = self.run(values)
        #expect(results[500].isAnomaly && results[500].bandHalfWidth > results[500].expected)
        #expect(results[500].lower == 0 && results[500].upper == results[500].expected + results[500].bandHalfWidth)
        let signed = self.run(values.enumerated().map { $0.offset == 10 ? -1 : $0.element })
        #expect(signed[500].lower == signed[500].expected - signed[500].bandHalfWidth)
    }

    /// Scores saturate: a dip that already scored 1 must not hide, inside its rest, a collapse a hundred times
    /// further out (a CPU at 1.4 % that dips to 0.9 %, then sits at 100 %). Repeats of the collapse stay quiet.
    @Test func aSaturatedBlipDoesNotHideACollapse() {
        var values = self.noise(1200).map { 1.4 + 0.05 * $0 }
        for index in 600..<612 { values[index] = 0.9 }
        for index in 700..<800 { values[index] += 98.6 }
        let results = self.run(values)
        let alerts = self.alerts(results)
        #expect(alerts.contains { (600..<612).contains($0) } && results[600].score >= 0.9, "alerts at \(alerts)")
        #expect(alerts.contains(700), "alerts at \(alerts)")
        #expect(alerts.filter { $0 > 700 && $0 < 800 }.isEmpty, "alerts at \(alerts)")
    }

    @Test func dipIsNamedADip() {
        var values = self.noise(2000).map { 100 + 4 * $0 }
        values[1500] = 40
        let results = self.run(values)
        #expect(results[1500].isAnomaly)
        #expect(results[1500].signal == .dip)
    }

    @Test func stepAlertsOnceWithinAFewPoints() {
        var values = self.noise(3000).map { 50 + 2 * $0 }
        for index in 2000..<3000 { values[index] += 8 }
        let results = self.run(values)
        let inStep = self.alerts(results).filter { $0 >= 2000 }
        #expect(inStep.count >= 1 && inStep[0] < 2010, "alerts at \(inStep)")
        #expect(inStep.filter { $0 < 2300 }.count == 1, "one alert per episode: \(inStep)")
    }

    @Test func slowRampShowsAsALevelShift() {
        var values = self.noise(3000).map { 20 + $0 }
        for index in 2000..<3000 { values[index] += Double(index - 2000) * 0.05 }
        let results = self.run(values)
        let first = self.alerts(results).first { $0 >= 2000 }
        #expect(first != nil && first! < 2150, "alerts at \(self.alerts(results))")
        if let first { #expect(results[first].signal == .levelShiftUp || results[first].signal == .spike) }
    }

    /// A level shift names what moved: the average of the latest points, above the slow level it left (a point
    /// of a ramp stays inside its band); other signals carry no shift.
    @Test func aLevelShiftNamesTheAverageThatMovedAndTheLevelItLeft() throws {
        var values = self.noise(3000).map { 20 + $0 }
        for index in 2000..<3000 { values[index] += Double(index - 2000) * 0.05 }
        let results = self.run(values)
        let shifted = try #require(results[2000...].first { $0.isAnomaly && $0.signal == .levelShiftUp })
        let shift = try #require(shifted.shift)
        #expect([2, 8, 64].contains(shift.points))
        #expect(shift.mean > shift.level + 0.5, "\(shift)")
        // The slow level lags the ramp: above where the series started, below the average that left it.
        #expect(shift.level > 19.5, "\(shift)")
        #expect(
            results.allSatisfy { ($0.shift != nil) == ($0.signal == .levelShiftUp || $0.signal == .levelShiftDown) }
        )
    }

    /// Twelve days of a daily swing from −10 to 110 over noise of ±3, plus `shift` from day 10 at 04:00.
    private func dailySwing(shiftedBy shift: Double = 0) -> (values: [Double], shiftStart: Int) {
        let perDay = Int(86_400 / step)
        let noise = self.noise(perDay * 12)
        let start = 10 * perDay + 48
        let values = noise.indices.map { index in
            50 + 60 * sin(2 * Double.pi * Double(index % perDay) / Double(perDay)) + 6 * noise[index]
                + (index >= start ? shift : 0)
        }
        return (values, start)
    }

    /// Once the day profile is the baseline, the level-shift averages are of each point's distance from its
    /// expectation: the swing itself, which crosses the slow level twice a day, is no level shift.
    @Test func aDailySwingIsNoLevelShift() {
        let results = self.run(self.dailySwing().values)
        let ready = 3 * Int(86_400 / step)
        #expect(results[ready...].allSatisfy { $0.baseline == .daily })
        let shifts = self.alerts(results).filter { $0 >= ready && results[$0].shift != nil }
        #expect(shifts.isEmpty, "level shifts at \(shifts)")
    }

    /// A lasting step on a seasonal series is a level shift against where the day profile put each point.
    @Test func aStepOnASeasonalSeriesIsAShiftFromTheProfile() throws {
        let (values, start) = self.dailySwing(shiftedBy: 12)
        let results = self.run(values)
        let first = try #require(self.alerts(results).first { $0 >= start - 300 })
        #expect((start..<(start + 12)).contains(first), "first alert at \(first), the step at \(start)")
        let shifted = try #require(results[start..<(start + 12)].first { $0.signal == .levelShiftUp })
        let shift = try #require(shifted.shift)
        #expect(shifted.baseline == .daily)
        #expect(shift.level == shifted.expected, "\(shift)")
        #expect(shift.mean - shift.level > 3, "\(shift)")
    }

    /// Twelve days of the daily swing, climbing (or sinking) 0.2 a point, 58 a day, from day 7: each point follows
    /// the one before closely and the day profile follows the drift, so only the range shows it. Each day's peak
    /// is a new high measured from the day before's (each trough a new low), and the first one alerts on the first
    /// day, naming the edge it left.
    @Test(arguments: [0.2, -0.2])
    func aDailySwingThatDriftsAlertsAsANewHighOrLowOnItsFirstDay(slope: Double) throws {
        let perDay = Int(86_400 / step)
        let start = 7 * perDay
        let swing = self.dailySwing().values
        let values = swing.indices.map { swing[$0] + ($0 >= start ? slope * Double($0 - start) : 0) }
        let results = self.run(values)
        let first = try #require(self.alerts(results).first { $0 >= start }, "no alert on the drift")
        #expect(first < start + perDay, "first alert at \(first), the drift from \(start)")
        #expect(results[first].signal == (slope > 0 ? .spike : .dip), "\(results[first])")
        #expect(results[first].baseline == .daily, "\(results[first])")
        let edge = try #require(results[first].rangeEdge, "\(results[first])")
        let before = (slope > 0 ? swing[..<start].max() : swing[..<start].min()) ?? 0
        #expect(abs(edge - before) < 1 && abs(values[first] - edge) > 5, "edge \(edge), before \(before)")
        #expect(results.allSatisfy { $0.rangeEdge == nil || $0.signal == .spike || $0.signal == .dip })
    }

    /// A series that settled at a new level sets new highs on it now and then; they are judged from the edge as
    /// it follows the series, not from where the series was before the step, so the step alerts and its new
    /// level does not go on alerting.
    @Test func aSeriesSettledAtANewLevelIsJudgedFromThere() {
        let values = self.noise(6000).enumerated().map { 20 + $0.element + ($0.offset >= 2000 ? 10 : 0) }
        let alerts = self.alerts(self.run(values))
        #expect(alerts.contains { (2000..<2012).contains($0) }, "alerts at \(alerts)")
        #expect(alerts.filter { $0 >= 2400 }.isEmpty, "alerts at \(alerts)")
    }

    /// A daily cycle that jumps from 20 to 80 every morning: the morning jump is normal, its absence is not.
    @Test func seasonalSeriesAlertsWhenTheDailyJumpIsMissing() {
        let perDay = Int(86_400 / step)
        let days = 12
        let noise = self.noise(perDay * days)
        var values = (0..<(perDay * days)).map { index -> Double in
            let minute = (index % perDay) * Int(step) / 60
            return (minute >= 9 * 60 && minute < 17 * 60 ? 80 : 20) + 2 * noise[index]
        }
        let skipped = 10 * perDay
        for index in skipped..<(skipped + perDay) { values[index] = 20 + 2 * noise[index] }
        let results = self.run(values)
        let alerts = self.alerts(results)
        let missing = skipped + 9 * 12
        #expect(alerts.contains { (missing..<(missing + 6)).contains($0) }, "alerts at \(alerts)")
        #expect(results[missing].baseline == .daily)
        #expect(abs(results[missing].expected - 80) < 10)
        // Normal mornings after the daily profile is ready do not alert.
        let normalMornings = (3..<10).map { $0 * perDay + 9 * 12 }
        #expect(normalMornings.allSatisfy { day in !alerts.contains { (day..<(day + 6)).contains($0) } }, "\(alerts)")
    }

    @Test func flatlineAfterMovementAlerts() {
        var values = self.noise(1500).map { 10 + $0 }
        for index in 1000..<1500 { values[index] = 10 }
        let results = self.run(values)
        let alerts = self.alerts(results).filter { $0 >= 1000 }
        #expect(alerts.first == 1012, "alerts at \(alerts)")
        #expect(alerts.first.map { results[$0].signal } == .flatline)
        // How long it held, against the longest run of the noise before (none: every point moved).
        #expect(alerts.first.flatMap { results[$0].freeze } == .init(points: 13, longestBefore: 1))
    }

    @Test func flatSeriesWithTinyWigglesNeverAlerts() {
        let values = (0..<3000).map { 50.0 + ($0 % 7 == 0 ? 0.001 : 0) }
        #expect(self.alerts(self.run(values)).isEmpty)
    }

    /// A noise-free curve (a period of 628 points, longer than the warm-up) has point errors well under its floor;
    /// where its slope passes the largest seen, by a tenth of an error, the point is still no spike (before, it
    /// alerted at 615: "spike value 48.67 expected 48.57"). The spike of 300 at 2,500 alerts.
    @Test func aSmoothCurveIsNoSpikeWhereItsSlopeSetsARecord() {
        var values = (0..<3000).map { 50 + 10 * sin(Double($0) / 100) }
        values[2500] += 300
        let results = self.run(values)
        let spikes = self.alerts(results).filter { results[$0].signal == .spike || results[$0].signal == .dip }
        #expect(spikes == [2500], "spike or dip alerts at \(spikes)")
    }

    /// On a series whose points never strayed half an error (the floor, 1 % of the level), a jump of three errors
    /// is as rare as an alert: its band is drawn where alerts start, so the spike is outside it (with a band of
    /// four errors it sat inside, 96…104).
    @Test func aSpikeThatAlertsIsOutsideItsBand() {
        var values = self.noise(2000).map { 100 + $0 }
        values[1500] = 103
        let results = self.run(values)
        #expect(self.alerts(results).contains(1500), "alerts at \(self.alerts(results))")
        #expect(results[1500].signal == .spike)
        #expect(results[1500].upper < 103, "band \(results[1500].lower)…\(results[1500].upper)")
    }

    @Test func gapsAndIrregularTimestampsKeepTheDailyPhase() {
        let perDay = Int(86_400 / step)
        var times: [Int64] = []
        var values: [Double] = []
        var random = SplitMix64(seed: 3)
        var second: Int64 = 0
        while second < 12 * 86_400 {
            // A six-hour gap on day 5; otherwise 4–6 minutes between points.
            if second >= 5 * 86_400 && second < 5 * 86_400 + 6 * 3600 {
                second += 6 * 3600
                continue
            }
            let hour = (second % 86_400) / 3600
            times.append(second)
            values.append((hour >= 9 && hour < 17 ? 80 : 20) + Double(random.next() % 100) / 50)
            second += 240 + Int64(random.next() % 120)
        }
        let results = self.run(values, times: times)
        let warm = times.firstIndex { $0 >= 3 * 86_400 }!
        #expect(self.alerts(results).filter { $0 >= warm }.isEmpty, "no alert on a normal cycle with gaps")
        #expect(results.last!.baseline == .daily)
        _ = perDay
    }

    @Test func truncatingASeriesLeavesEarlierOutputsUnchanged() {
        var values = self.noise(3000).map { 40 + 3 * $0 }
        values[1800] = 90
        for index in 2200..<3000 { values[index] -= 10 }
        let full = self.run(values)
        for cut in [500, 1801, 2500] {
            #expect(Array(full.prefix(cut)) == self.run(Array(values.prefix(cut))), "cut at \(cut)")
        }
        #expect(full.allSatisfy { (0...1).contains($0.score) })
    }

    @Test func stateStaysUnderFourKiB() {
        var detector = MetricAnomalyDetector()
        for index in 0..<5000 {
            _ = detector.update(
                time: Timestamp(nanoseconds: Int64(index) * step * 1_000_000_000),
                value: Double(index % 17)
            )
        }
        #expect(detector.stateBytes <= 4096, "\(detector.stateBytes) bytes")
        #expect(detector.stateBytes > 2048, "the profiles and calibrators are counted")
    }
}

/// Checkpoints: a detector restored from its JSON goes on exactly as the original.
@Suite struct MetricAnomalyDetectorCodingTests {
    /// As the store writes checkpoints …
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf",
            negativeInfinity: "-inf",
            nan: "nan"
        )
        return encoder
    }

    /// … and reads them.
    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf",
            negativeInfinity: "-inf",
            nan: "nan"
        )
        return decoder
    }

    @Test func roundTripContinuesIdentically() throws {
        var random = SplitMix64(seed: 21)
        // A daily square wave, and a job's spike every 310 points: the checkpoint falls between two beats.
        let values = (0..<3000).map { index in
            Double(index % 288 < 100 ? 80 : 20) + Double(random.next() % 1000) / 100 + (index % 310 == 40 ? 200 : 0)
        }
        func time(_ index: Int) -> Timestamp { Timestamp(nanoseconds: Int64(index) * step * 1_000_000_000) }
        var original = MetricAnomalyDetector()
        for index in 0..<2000 { _ = original.update(time: time(index), value: values[index]) }
        let json = try Self.encoder.encode(original)
        #expect(json.count < 5800, "\(json.count) bytes of JSON")
        var restored = try Self.decoder.decode(MetricAnomalyDetector.self, from: json)
        for index in 2000..<3000 {
            #expect(
                original.update(time: time(index), value: values[index])
                    == restored.update(time: time(index), value: values[index])
            )
        }
    }

    /// A checkpoint written after a missed beat was reported, before the next beat: the restored detector does not
    /// report it again.
    @Test func aReportedMissedBeatSurvivesACheckpoint() throws {
        var random = SplitMix64(seed: 5)
        // A job spiking to 160 every 310 points over noise of ±2 around 100; its run at 3140 does not come.
        let values = (0..<4000).map { index in
            let noise = 100 + 4 * (Double(random.next() >> 11) / Double(1 << 53) - 0.5)
            return index % 310 == 40 && index != 3140 ? 160 : noise
        }
        func time(_ index: Int) -> Timestamp { Timestamp(nanoseconds: Int64(index) * step * 1_000_000_000) }
        var original = MetricAnomalyDetector()
        let missed = (0..<3200).filter { original.update(time: time($0), value: values[$0]).signal == .missedBeat }
        #expect(missed.count == 1 && missed[0] > 3140, "missed beats at \(missed)")
        var restored = try Self.decoder.decode(MetricAnomalyDetector.self, from: try Self.encoder.encode(original))
        for index in 3200..<4000 {
            let result = restored.update(time: time(index), value: values[index])
            #expect(result == original.update(time: time(index), value: values[index]))
            #expect(result.signal != .missedBeat)
        }
    }

    /// A checkpoint keeps the edge a climbing series left and whether its range has had its day to form: written
    /// in the first hours, and again halfway up a climb above the old high, the restored detector goes on as the
    /// original does.
    @Test func anEdgeLeftAndAFormingRangeSurviveACheckpoint() throws {
        let perDay = 288
        let values = (0..<(6 * perDay)).map { (index: Int) -> Double in
            let swing = 60 * sin(2 * Double.pi * Double(index % perDay) / Double(perDay))
            let climb = index >= 4 * perDay ? 0.2 * Double(index - 4 * perDay) : 0
            return 50 + swing + Double(index % 7) + climb
        }
        func time(_ index: Int) -> Timestamp { Timestamp(nanoseconds: Int64(index) * step * 1_000_000_000) }
        // In the first hours, and on the climb's second day, beyond the day before's high.
        for checkpoint in [100, 5 * perDay + 40] {
            var original = MetricAnomalyDetector()
            for index in 0..<checkpoint { _ = original.update(time: time(index), value: values[index]) }
            var restored = try Self.decoder.decode(MetricAnomalyDetector.self, from: try Self.encoder.encode(original))
            var differing: [Int] = []
            for index in checkpoint..<values.count
            where original.update(time: time(index), value: values[index])
                != restored.update(time: time(index), value: values[index])
            {
                differing.append(index)
            }
            #expect(differing.isEmpty, "from a checkpoint at \(checkpoint), differs at \(differing.prefix(5))")
        }
    }

    /// A checkpoint written while a series is quiet after an alert keeps how long it has been quiet: the
    /// restored detector ends the rest when the original does.
    @Test func aQuietStretchSurvivesACheckpoint() throws {
        var random = SplitMix64(seed: 5)
        var values = (0..<1000).map { _ in 100 + Double(random.next() % 800) / 100 }
        for index in [600, 630] { values[index] = 200 }
        func time(_ index: Int) -> Timestamp { Timestamp(nanoseconds: Int64(index) * 60_000_000_000) }
        var original = PipelineShard.metricDetector()
        original.setAlertThreshold(PipelineShard.Configuration().alertThreshold)
        let first = (0..<610).filter { original.update(time: time($0), value: values[$0]).isAnomaly }
        #expect(first.contains(600), "alerts at \(first)")
        let json = try Self.encoder.encode(original)
        var restored = try Self.decoder.decode(MetricAnomalyDetector.self, from: json)
        var alerts: [Int] = []
        for index in 610..<1000 {
            let expected = original.update(time: time(index), value: values[index])
            #expect(expected == restored.update(time: time(index), value: values[index]))
            if expected.isAnomaly { alerts.append(index) }
        }
        #expect(alerts.contains(630), "the second spike alerts after the restore: \(alerts)")
    }
}
