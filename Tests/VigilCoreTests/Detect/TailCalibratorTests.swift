// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import RealModule
import Testing

@testable import VigilCore

@Suite struct TailCalibratorTests {
    @Test func bucketsAreFourPerDoubling() {
        #expect(TailCalibrator.bucket(of: 0) == 0)
        #expect(TailCalibrator.bucket(of: 0.0625) == 0)
        #expect(TailCalibrator.bucket(of: 0.07) == 1)
        #expect(TailCalibrator.bucket(of: 0.125) == 5)
        #expect(TailCalibrator.bucket(of: 0.25) == 9)
        #expect(TailCalibrator.bucket(of: .infinity) == TailCalibrator.bucketCount - 1)
        #expect(TailCalibrator.bucket(of: 1e300) == TailCalibrator.bucketCount - 1)
    }

    /// On exponential(1) data, P(U ≥ u) = e^−u: the calibrated −log10 tail must track u / ln 10, inside the
    /// histogram and beyond it (the fitted tail).
    @Test func tailProbabilitiesMatchAnExponentialDistribution() {
        var calibrator = TailCalibrator(forgetting: 0.0001)
        var random = SplitMix64(seed: 11)
        for _ in 0..<20_000 {
            let uniform = (Double(random.next() >> 11) + 0.5) / Double(1 << 53)
            calibrator.add(-Double.log(uniform))
        }
        for u in [1.0, 2.0, 4.0, 8.0, 12.0] {
            let expected = u / Double.log(10)
            let got = calibrator.surpriseLog10(u)
            #expect(abs(got - expected) < 0.25 * expected + 0.15, "u \(u): \(got) against \(expected)")
        }
        #expect(calibrator.surpriseLog10(30) > calibrator.surpriseLog10(20))
    }

    /// The statistic that reaches a surprise is where the surprise is first reached: inside the histogram (1 in 10)
    /// and in the fitted tail (1 in 1,000 and 1 in a million), on exponential(1) data, about u = s · ln 10.
    @Test func theStatisticReachingASurpriseIsWhereItIsReached() {
        var calibrator = TailCalibrator(forgetting: 0.0001)
        var random = SplitMix64(seed: 11)
        #expect(calibrator.statistic(reaching: 3) == .infinity)
        for _ in 0..<20_000 {
            let uniform = (Double(random.next() >> 11) + 0.5) / Double(1 << 53)
            calibrator.add(-Double.log(uniform))
        }
        for surprise in [1.0, 3.0, 6.0] {
            let u = calibrator.statistic(reaching: surprise)
            #expect(calibrator.surpriseLog10(u + 1e-9) >= surprise - 0.01, "\(surprise) reached at \(u)")
            #expect(calibrator.surpriseLog10(u * 0.9) < surprise, "\(surprise) already reached before \(u)")
            #expect(abs(u - surprise * Double.log(10)) < 0.25 * surprise * Double.log(10) + 0.3, "\(surprise) at \(u)")
        }
    }

    @Test func saysNothingBeforeTwentyPoints() {
        var calibrator = TailCalibrator()
        for _ in 0..<20 { calibrator.add(1) }
        #expect(calibrator.surpriseLog10(100) == 0)
    }
}
