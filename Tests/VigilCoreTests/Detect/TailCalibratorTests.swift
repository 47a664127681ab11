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

    @Test func saysNothingBeforeTwentyPoints() {
        var calibrator = TailCalibrator()
        for _ in 0..<20 { calibrator.add(1) }
        #expect(calibrator.surpriseLog10(100) == 0)
    }
}
