// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import VigilCore

@Suite struct ScalingAdvisorTests {
    /// One point a minute.
    static func series(_ count: Int, _ value: (Int) -> Double) -> (times: [Double], values: [Double]) {
        ((0..<count).map { Double($0) * 60 }, (0..<count).map(value))
    }

    @Test func withLittleHistoryTheCurrentValueStands() throws {
        let (times, values) = Self.series(10) { Double($0) }
        let advice = try #require(ScalingAdvisor().advise(times: times, values: values))
        #expect(advice.value == 9 && advice.forecastPeak == nil)
        #expect(advice.basis == "the current value: 10 points of history, a forecast needs 40")
        #expect(ScalingAdvisor().advise(times: [], values: []) == nil)
        #expect(ScalingAdvisor().advise(times: [1, 2], values: [.nan, .infinity]) == nil)
    }

    @Test func aRisingLoadIsSizedForAheadOfTime() throws {
        // 300 minutes rising 2 per minute with a little noise: 15 minutes on it should be about 30 higher.
        let (times, values) = Self.series(300) { 100 + 2 * Double($0) + (($0 % 3 == 0) ? 1 : -1) }
        let advice = try #require(ScalingAdvisor().advise(times: times, values: values))
        let current = values.last!
        #expect(advice.current == current)
        #expect(advice.value > current + 15 && advice.value < current + 60, "\(advice)")
        #expect(advice.basis.hasPrefix("the forecast's peak over the next 15 min"), "\(advice.basis)")
        // The point forecast is sized for less than the interval's upper bound, and still above now.
        var configuration = ScalingAdvisor.Configuration()
        configuration.sizesForUpperBound = false
        let point = try #require(ScalingAdvisor(configuration: configuration).advise(times: times, values: values))
        #expect(point.value > current && point.value <= advice.value)
    }

    @Test func aFallingLoadNeverScalesBelowWhatIsHappening() throws {
        let (times, values) = Self.series(300) { 1_000 - 2 * Double($0) }
        let advice = try #require(ScalingAdvisor().advise(times: times, values: values))
        #expect(advice.value == values.last!)
        #expect((advice.forecastPeak ?? .infinity) < advice.value)
        #expect(advice.basis.hasPrefix("the current value: the forecast over the next 15 min"))
    }

    @Test func aDailyRiseIsSeenBeforeItStarts() throws {
        // Five days, one point every 5 minutes: quiet at 50 all night, 250 from 09:00 to 17:00. The last point is
        // 08:50 on day six: the next 15 minutes hold the morning rise, which only the daily season can know.
        let step = 300.0
        let count = 5 * 288 + 106
        let times = (0..<count).map { Double($0) * step }
        let values = times.map { time -> Double in
            let hour = time.truncatingRemainder(dividingBy: 86_400) / 3_600
            return hour >= 9 && hour < 17 ? 250 : 50
        }
        #expect(values.last == 50)
        let advice = try #require(ScalingAdvisor().advise(times: times, values: values))
        #expect(advice.value > 200, "\(advice)")
        // The model that knew: one with the daily season of 288 points.
        #expect(advice.basis.contains("288"), "\(advice.basis)")
    }

    @Test func stepsAndSeasonsFollowTheTimestamps() {
        #expect(Forecaster.medianStep([0, 60, 120, 180, 1_000]) == 60)
        #expect(Forecaster.medianStep([5, 5, 5]) == 1)
        #expect(Forecaster.seasonalPeriods(step: 300, count: 288 * 4) == [288])
        #expect(Forecaster.seasonalPeriods(step: 300, count: 288 * 28) == [288, 2016])
        #expect(Forecaster.seasonalPeriods(step: 60, count: 1_000).isEmpty)
    }

    /// A long history is fitted on its latest eight seasons, or 10,000 points, whichever is more; a short one whole.
    @Test func aLongHistoryIsFittedOnItsLatestSeasons() {
        #expect(Forecaster.pointsToFit(count: 5_000, periods: [288, 2016]) == 5_000)
        #expect(Forecaster.pointsToFit(count: 3_000_000, periods: [1440, 10080]) == 80_640)
        #expect(Forecaster.pointsToFit(count: 50_000, periods: []) == 10_000)
    }
}
