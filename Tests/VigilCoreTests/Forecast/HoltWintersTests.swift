// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

@Suite struct HoltWintersTests {
    /// A noise-free daily shape on a rising line, 24 points per day.
    private func seasonal(days: Int, slope: Double = 0.5) -> [Double] {
        let shape: [Double] = (0..<24).map { hour in hour >= 8 && hour < 18 ? 30 + Double(hour) : 10 }
        return (0..<(days * 24)).map { 100 + slope * Double($0) + shape[$0 % 24] }
    }

    @Test func additiveModelFollowsANoiseFreeSeasonalLine() throws {
        let values = self.seasonal(days: 10)
        let parameters = HoltWinters.Parameters(
            alpha: 0.3,
            beta: 0.1,
            gamma: 0.3,
            phi: 1,
            period: 24,
            seasonality: .additive
        )
        var model = try #require(HoltWinters(parameters: parameters, initial: values[...]))
        for value in values.dropFirst(48) { model.update(value) }
        let future = self.seasonal(days: 11).suffix(24)
        for (step, expected) in future.enumerated() {
            #expect(abs(model.forecast(steps: step + 1) - expected) < 1e-6, "step \(step + 1)")
        }
    }

    @Test func multiplicativeModelNeedsPositiveValues() {
        let parameters = HoltWinters.Parameters(
            alpha: 0.3,
            beta: 0,
            gamma: 0.3,
            phi: 0,
            period: 4,
            seasonality: .multiplicative
        )
        #expect(HoltWinters(parameters: parameters, initial: [1, 2, 0, 4, 1, 2, 3, 4][...]) == nil)
        #expect(HoltWinters(parameters: parameters, initial: [1, 2, 3][...]) == nil)
        #expect(HoltWinters(parameters: parameters, initial: [1, 2, 3, 4, 1, 2, 3, 4][...]) != nil)
    }

    @Test func dampedTrendFlattensFarAhead() throws {
        let values = (0..<100).map { Double($0) }
        let parameters = HoltWinters.Parameters(
            alpha: 0.5,
            beta: 0.3,
            gamma: 0,
            phi: 0.8,
            period: 1,
            seasonality: .none
        )
        var model = try #require(HoltWinters(parameters: parameters, initial: values[...]))
        for value in values.dropFirst(2) { model.update(value) }
        // φ + φ² + … converges: far ahead the forecast levels off instead of climbing for ever.
        #expect(abs(model.forecast(steps: 400) - model.forecast(steps: 100)) < 1e-6)
        #expect(model.forecast(steps: 1) > 99 && model.forecast(steps: 100) < 110)
    }
}
