// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing
import VigilCore

@testable import VigilServer

@Suite struct ExternalScalerTests {
    @Test func aTriggerReadsItsMetadataAndNamesMistakes() throws {
        let trigger = try ExternalScaler.Trigger([
            "series": "rps{service=\"checkout\"}", "targetValue": "50", "horizon": "5m", "history": "2d",
            "mode": "point",
            "coverage": "0.9", "activationValue": "3",
        ])
        #expect(trigger.targetValue == 50 && trigger.activationValue == 3 && trigger.historySeconds == 172_800)
        #expect(trigger.advisor.horizonSeconds == 300 && trigger.advisor.coverage == 0.9)
        #expect(!trigger.advisor.sizesForUpperBound && !trigger.isReactive)
        #expect(
            trigger.metricName == ExternalScaler.Trigger(series: "rps{service=\"checkout\"}", targetValue: 1).metricName
        )
        let mistakes: [([String: String], String)] = [
            (["targetValue": "5"], "metadata needs series"),
            (["series": "x", "targetValue": "0"], "metadata needs targetValue"),
            (["series": "x", "targetValue": "5", "horizon": "soon"], "horizon must be a duration"),
            (["series": "x", "targetValue": "5", "history": "10m"], "history must be a duration of at least 1h"),
            (["series": "x", "targetValue": "5", "mode": "yolo"], "mode must be upper, point or current"),
            (["series": "x", "targetValue": "5", "coverage": "1.5"], "coverage must be between 0 and 1"),
            (["series": "x", "targetValue": "5", "Series": "y"], "unknown metadata key Series"),
        ]
        for (metadata, message) in mistakes {
            #expect {
                try ExternalScaler.Trigger(metadata)
            } throws: {
                ($0 as? ExternalScaler.ScalerError)?.message.hasPrefix(message) == true
            }
        }
    }

    @Test func longHistoriesAreAveragedIntoBucketsEndingAtTheNewestSample() {
        let samples = (0..<10).map { (Timestamp(seconds: Double($0)), Double($0)) }
        let (times, values) = ExternalScaler.bucketed(samples, maximum: 4)
        // Buckets of 3 from the newest back; the oldest bucket keeps what is left (1 sample).
        #expect(times == [0, 3, 6, 9] && values == [0, 2, 5, 8])
        let (allTimes, allValues) = ExternalScaler.bucketed(samples, maximum: 100)
        #expect(allTimes.count == 10 && allValues == samples.map(\.1))
    }
}
