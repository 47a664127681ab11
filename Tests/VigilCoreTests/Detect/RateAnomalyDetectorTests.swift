// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

@Suite struct RateAnomalyDetectorTests {
    /// A deterministic noisy series: a sine wave plus pseudo-random noise.
    private func noisy(_ count: Int, seed: UInt64 = 42) -> [Double] {
        var state = seed
        return (0..<count).map { index in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let noise = Double(state >> 11) / Double(1 << 53) - 0.5
            return 100 + 10 * Double(index % 50) / 50 + noise
        }
    }

    private func run(_ values: [Double]) -> [RateAnomalyDetector.Result] {
        var detector = RateAnomalyDetector()
        return values.map { detector.update($0) }
    }

    @Test func alertsOnASpikeAfterWarmUp() throws {
        var values = self.noisy(1000)
        values[700] = 400
        let results = self.run(values)
        let alerts = results.indices.filter { results[$0].isAnomaly }
        #expect(alerts.contains(700), "alerts at \(alerts)")
        #expect(results[700].score > 0.9)
    }

    @Test func alertsOnceForALevelShift() {
        var values = self.noisy(1200)
        for index in 600..<1200 { values[index] += 60 }
        let results = self.run(values)
        let alerts = results.indices.filter { results[$0].isAnomaly }
        #expect(alerts.filter { (600..<1000).contains($0) }.count == 1, "alerts at \(alerts)")
    }

    @Test func staysQuietOnAFlatSeriesWithTinyWiggles() {
        let values = (0..<2000).map { 50.0 + ($0 % 7 == 0 ? 0.001 : 0) }
        #expect(self.run(values).allSatisfy { !$0.isAnomaly })
    }

    @Test func scoresAreCausalAndBounded() {
        var values = self.noisy(800)
        values[500] = -300
        let full = self.run(values)
        let truncated = self.run(Array(values.prefix(600)))
        #expect(Array(full.prefix(600)) == truncated, "truncating a series must not change earlier outputs")
        #expect(full.allSatisfy { (0...1).contains($0.score) })
    }

    @Test func helperMathsIsAccurate() {
        #expect(abs(RateAnomalyDetector.normalCDF(0) - 0.5) < 1e-7)
        #expect(abs(RateAnomalyDetector.normalCDF(1.959_964) - 0.975) < 1e-6)
        #expect(abs(RateAnomalyDetector.exponential(-1) - 0.367_879_441_171_442_3) < 1e-12)
        #expect(abs(RateAnomalyDetector.log10(1000) - 3) < 1e-12)
        #expect(abs(RateAnomalyDetector.upperTailLog10(4.753_424) - -6) < 0.01)
    }
}
