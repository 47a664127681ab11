// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

@testable import VigilCore

@Suite struct TrendDetectorTests {
    /// Deterministic noise in [-1, 1].
    static func noise(_ index: Int) -> Double {
        var x = UInt64(index) &* 0x9E37_79B9_7F4A_7C15
        x ^= x >> 29
        x = x &* 0xBF58_476D_1CE4_E5B9
        return Double(x >> 11) / Double(1 << 53) * 2 - 1
    }

    /// A leak that reaches the limit 68 h after the last sample: one alert, the interval contains 68 h.
    @Test func predictsAMemoryLeakWithAnInterval() throws {
        var detector = TrendDetector(configuration: .init(limit: 1))
        let slopePerHour = 0.2 / 68  // from 0.8 to 1.0 in 68 h
        var alerts: [TrendDetector.Prediction] = []
        let samples = 6 * 60  // six hours, one sample a minute
        for index in 0..<samples {
            let hours = Double(index - samples + 1) / 60
            let value = 0.8 + slopePerHour * hours + 0.002 * Self.noise(index)
            if let alert = detector.update(time: Timestamp(seconds: Double(index) * 60), value: value) {
                alerts.append(alert)
            }
        }
        #expect(alerts.count == 1)
        let last = try #require(detector.predict(at: Double(samples - 1) * 60))
        let hoursToLimit = last.secondsToLimit / 3600
        #expect(abs(hoursToLimit - 68) < 4, "predicted \(hoursToLimit) h")
        #expect(last.earliestSeconds / 3600 < 68 && last.latestSeconds / 3600 > 68)
        #expect(last.confidence > 0.999)
    }

    @Test(arguments: ["flat", "falling", "step"])
    func staysQuietWithoutAClimb(shape: String) {
        var detector = TrendDetector(configuration: .init(limit: 1))
        var alerts = 0
        for index in 0..<2000 {
            let base: Double
            switch shape {
            case "flat": base = 0.6
            case "falling": base = 0.9 - Double(index) * 0.0001
            default: base = index < 1000 ? 0.4 : 0.7  // a deploy that uses more memory, then a plateau
            }
            if detector.update(time: Timestamp(seconds: Double(index) * 10), value: base + 0.01 * Self.noise(index))
                != nil
            {
                alerts += 1
            }
        }
        #expect(alerts == 0)
    }

    /// Free disk space falling towards 0 at 2 GB an hour from 200 GB: the same prediction, mirrored (a negative
    /// slope, the fitted level where the series is), and a climb does not alert on a falling limit.
    @Test func predictsAFallTowardsAFallingLimit() throws {
        var detector = TrendDetector(configuration: .init(limit: 0, falling: true))
        var alerts: [TrendDetector.Prediction] = []
        for index in 0..<360 {
            let value = 200 - 2 * Double(index) / 60 + 0.5 * Self.noise(index)
            if let alert = detector.update(time: Timestamp(seconds: Double(index) * 60), value: value) {
                alerts.append(alert)
            }
        }
        #expect(alerts.count == 1)
        let last = try #require(detector.predict(at: 359 * 60))
        #expect(abs(last.slopePerSecond * 3600 + 2) < 0.05, "\(last)")
        #expect(abs(last.level - (200 - 2 * 359 / 60.0)) < 0.5, "\(last)")
        // From 188 GB at 2 GB an hour: 94 h.
        #expect(abs(last.secondsToLimit / 3600 - 94) < 3 && last.earliestSeconds < last.secondsToLimit)
        var climbing = TrendDetector(configuration: .init(limit: 0, falling: true))
        let rising = (0..<360).compactMap { index in
            climbing.update(time: Timestamp(seconds: Double(index) * 60), value: 10 + Double(index) / 60)
        }
        #expect(rising.isEmpty)
    }

    /// A configuration written before falling limits existed reads as a climb.
    @Test func anOlderConfigurationClimbs() throws {
        let json = #"{"limit":1,"memory":360,"warmUp":60,"horizonSeconds":604800,"minimumZ":4}"#
        let configuration = try JSONDecoder().decode(TrendDetector.Configuration.self, from: Data(json.utf8))
        #expect(configuration.limit == 1 && !configuration.falling)
    }

    @Test func stateIsSmall() {
        #expect(MemoryLayout<TrendDetector>.size <= 256)
    }
}
