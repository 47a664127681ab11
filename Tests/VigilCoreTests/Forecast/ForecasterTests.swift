// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

@Suite struct ForecasterTests {
    @Test func choosesASeasonalModelAndItsIntervalsHoldNoiseFreeData() throws {
        let shape: [Double] = (0..<24).map { hour in hour >= 8 && hour < 18 ? 80 : 20 }
        let values = (0..<(24 * 14)).map { shape[$0 % 24] }
        let forecaster = try #require(Forecaster.fit(values, periods: [24], horizon: 6))
        for step in forecaster.forecast() {
            let expected = shape[(24 * 14 + step.steps - 1) % 24]
            #expect(abs(step.value - expected) < 1e-6, "step \(step.steps): \(step.value)")
            #expect(step.lower <= expected && expected <= step.upper)
        }
        if case .seasonalNaive = forecaster.model {
        } else if case .holtWinters(let model) = forecaster.model {
            #expect(model.parameters.seasonality != .none)
        }
    }

    /// On noisy data the 80 % interval, learnt from backtest misses, holds about 80 % of what comes next.
    @Test func intervalsAreCalibratedOnNoisyData() throws {
        var random = SplitMix64(seed: 5)
        func noise() -> Double { Double(random.next() >> 11) / Double(1 << 53) - 0.5 }
        let values = (0..<4000).map { index in
            50 + 20 * Double((index % 48 < 24) ? 1 : 0) + 6 * noise()
        }
        var forecaster = try #require(Forecaster.fit(Array(values[..<3000]), periods: [48], horizon: 3))
        var inside = 0
        for index in 3000..<4000 {
            let step = forecaster.forecast(steps: 1)
            if step.lower <= values[index] && values[index] <= step.upper { inside += 1 }
            forecaster.update(values[index])
        }
        #expect((700...900).contains(inside), "\(inside) of 1000 inside the 80 % interval")
    }

    @Test func tooShortAHistoryGivesNoForecaster() {
        #expect(Forecaster.fit([1, 2, 3], periods: [24], horizon: 3) == nil)
    }

    @Test func seasonalNaiveRepeatsTheLastSeason() {
        var model = SeasonalNaive(period: 3, initial: [1, 2, 3, 4, 5, 6][...])
        #expect((1...4).map { model.forecast(steps: $0) } == [4, 5, 6, 4])
        model.update(7)
        #expect(model.forecast(steps: 1) == 5)
    }
}
