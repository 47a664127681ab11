// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

/// Five minutes between points.
private let step: Int64 = 300

@Suite struct SpikeRhythmTests {
    /// Deterministic noise in [−0.5, 0.5).
    private func noise(_ count: Int, seed: UInt64) -> [Double] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in Double(random.next() >> 11) / Double(1 << 53) - 0.5 }
    }

    private func run(_ values: [Double]) -> [MetricAnomalyDetector.Result] {
        var detector = MetricAnomalyDetector()
        return values.indices.map { index in
            detector.update(time: Timestamp(nanoseconds: Int64(index) * step * 1_000_000_000), value: values[index])
        }
    }

    /// A job every 25 h 50 min (310 points, dividing no day or week): noise around 100 and a spike to 160.
    private func nightlyJob(count: Int = 4000, period: Int = 310) -> [Double] {
        var values = self.noise(count, seed: 5).map { 100 + 4 * $0 }
        for index in stride(from: 40, to: count, by: period) { values[index] = 160 }
        return values
    }

    @Test func spikesOnTheirBeatStopAlertingOnceTheBeatIsKnown() {
        let results = self.run(self.nightlyJob())
        let alerts = results.indices.filter { results[$0].isAnomaly }
        // The first spike comes before the calibrators know the series; the next five make the beat, and from then
        // on a spike of the same size is the job.
        #expect(alerts.allSatisfy { $0 < 40 + 5 * 310 }, "alerts at \(alerts)")
        #expect(alerts.count >= 3, "spikes alert until the beat is known: \(alerts)")
    }

    @Test func aSpikeOffTheBeatAlertsAsOffBeat() throws {
        var values = self.nightlyJob()
        values[40 + 10 * 310 + 100] = 160
        let results = self.run(values)
        let index = 40 + 10 * 310 + 100
        #expect(results[index].isAnomaly)
        #expect(results[index].signal == .offBeat)
        // The evidence names the beat: 310 points of five minutes.
        let beat = try #require(results[index].beatSeconds)
        #expect(abs(beat - 310 * 300) < 0.03 * 310 * 300, "\(beat)")
        #expect(results[index + 1].beatSeconds == nil)
    }

    @Test func aBeatFarLargerThanItsPredecessorsStillAlerts() {
        var values = self.nightlyJob()
        values[40 + 10 * 310] = 2000
        let results = self.run(values)
        #expect(results[40 + 10 * 310].isAnomaly)
    }

    /// The nightly job with the spike of run `missing` taken out (its row stays, at the noise).
    private func nightlyJob(missing run: Int) -> (values: [Double], beat: Int) {
        var values = self.nightlyJob()
        let beat = 40 + run * 310
        values[beat] = 100
        return (values, beat)
    }

    @Test func aBeatThatDoesNotComeAlertsOnceAsMissed() throws {
        let (values, beat) = self.nightlyJob(missing: 10)
        let results = self.run(values)
        let missed = results.indices.filter { results[$0].signal == .missedBeat }
        // Reported once, when the rows have passed the beat by twice its tolerance (3 % of 310 points, 9.3 points).
        #expect(missed.count == 1, "missed beats at \(missed)")
        let index = try #require(missed.first)
        #expect((beat + 18)...(beat + 20) ~= index, "\(index)")
        #expect(results[index].isAnomaly)
        let period = try #require(results[index].beatSeconds)
        #expect(abs(period - 310 * 300) < 0.03 * 310 * 300, "\(period)")
        // The next run is on its beat again, and quiet.
        #expect(!results[beat + 310].isAnomaly)
    }

    @Test func aBeatThatKeepsComingIsNeverMissed() {
        // Each run up to 3 points early or late: inside the tolerance.
        var values = self.nightlyJob()
        for index in stride(from: 40, to: values.count - 3, by: 310) {
            values[index] = 100
            values[index + (index / 310) % 7 - 3] = 160
        }
        let results = self.run(values)
        #expect(results.allSatisfy { $0.signal != .missedBeat })
        #expect(self.run(self.nightlyJob()).allSatisfy { $0.signal != .missedBeat })
    }

    @Test func aBeatMissedAgainAfterItCameBackAlertsAgain() {
        var (values, _) = self.nightlyJob(missing: 8)
        values[40 + 11 * 310] = 100
        let results = self.run(values)
        let missed = results.indices.filter { results[$0].signal == .missedBeat }
        #expect(missed.count == 2, "missed beats at \(missed)")
    }

    @Test func aLateRunIsNoMissedBeat() {
        // Run 10 comes 15 points (75 minutes) late, beyond the beat's tolerance but before its absence is reported.
        var (values, beat) = self.nightlyJob(missing: 10)
        values[beat + 15] = 160
        let results = self.run(values)
        #expect(results.allSatisfy { $0.signal != .missedBeat })
    }

    @Test func noRowsOverTheBeatIsAGapNotAMissedBeat() {
        // The rows around run 10 never arrived (a scrape outage): nothing says the job did not run.
        let beat = 40 + 10 * 310
        let values = self.nightlyJob()
        var detector = MetricAnomalyDetector()
        var missed: [Int] = []
        for index in values.indices where !((beat - 12)...(beat + 25)).contains(index) {
            let time = Timestamp(nanoseconds: Int64(index) * step * 1_000_000_000)
            if detector.update(time: time, value: values[index]).signal == .missedBeat { missed.append(index) }
        }
        #expect(missed.isEmpty, "missed beats at \(missed)")
    }

    /// Spikes 200 points apart that the calibrators learn as ordinary: a spike of that size between two beats is
    /// the rare thing.
    @Test func aDenserSpikeBetweenRegularOnesStandsOut() {
        var values = [Double](repeating: 0, count: 4000)
        for index in stride(from: 0, to: 4000, by: 200) { values[index] = 20 }
        values[2070] = 20
        let results = self.run(values)
        #expect(results[2070].isAnomaly)
    }

    /// Feeds spikes of surprise 4 at the given indices (five minutes apart) and calm points between them.
    private func rhythm(spikesAt spikes: Set<Int>, count: Int) -> (rhythm: SpikeRhythm, verdicts: [SpikeRhythm.Verdict])
    {
        var rhythm = SpikeRhythm()
        var verdicts: [SpikeRhythm.Verdict] = []
        for index in 0..<count {
            let spike = spikes.contains(index) ? 4.0 : 0.5
            verdicts.append(
                rhythm.judge(seconds: Int64(index) * step, spike: spike, upward: true, surprise: spike).verdict
            )
        }
        return (rhythm, verdicts)
    }

    @Test func spikesAtRandomFindNoBeat() {
        var random = SplitMix64(seed: 11)
        var spikes = Set<Int>()
        var index = 200
        while index < 20_000 {
            spikes.insert(index)
            index += 150 + Int(random.next() % 300)
        }
        let (rhythm, verdicts) = self.rhythm(spikesAt: spikes, count: 20_000)
        #expect(spikes.count > 50)
        #expect(!rhythm.hasBeat)
        #expect(verdicts.allSatisfy { $0 == .none })
    }

    @Test func aSkippedBeatKeepsTheBeatAndThreeMissedOnesLoseIt() {
        // Beats every 288 points (a day), the third one missing: the sixth spike has spikes one, two, four and five
        // periods before it.
        let beats = Set([100, 388, 964, 1252, 1540, 1828])
        let (found, verdicts) = self.rhythm(spikesAt: beats, count: 1900)
        #expect(found.hasBeat)
        #expect(verdicts[1252] == .none, "three spikes in four periods are not a beat yet")
        #expect(verdicts[1540] == .onBeat && verdicts[1828] == .onBeat)
        let (lost, _) = self.rhythm(spikesAt: beats, count: 1828 + 4 * 288)
        #expect(!lost.hasBeat)
    }

    @Test func aSecondSpikeEachCycleBecomesAPhaseOfTheBeat() {
        // A job every day (288 points) in two steps, 40 points apart; one stray spike late on.
        var spikes = Set<Int>()
        for cycle in 0..<20 {
            spikes.insert(100 + cycle * 288)
            spikes.insert(140 + cycle * 288)
        }
        let stray = 100 + 15 * 288 + 200
        spikes.insert(stray)
        let (rhythm, verdicts) = self.rhythm(spikesAt: spikes, count: 20 * 288)
        #expect(rhythm.hasBeat)
        let seconds = (0..<20).map { verdicts[140 + $0 * 288] }
        // Off the beat until it has recurred at the same place in three cycles, then on it.
        #expect(seconds[5...].contains(.offBeat), "\(seconds)")
        #expect(seconds[10...].allSatisfy { $0 == .onBeat }, "\(seconds)")
        #expect(verdicts[stray] == .offBeat)
    }
}
