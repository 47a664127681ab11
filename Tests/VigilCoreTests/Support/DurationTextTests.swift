// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing
import VigilCore

@Suite struct DurationTextTests {
    @Test func unitsAndMistakes() {
        #expect(DurationText.seconds(in: "90s") == 90)
        #expect(DurationText.seconds(in: "15m") == 900)
        #expect(DurationText.seconds(in: "1.5h") == 5_400)
        #expect(DurationText.seconds(in: "2d") == 172_800)
        for bad in ["", "m", "15", "15x", "-5m", "0s", "nanm", "infh"] {
            #expect(DurationText.seconds(in: bad) == nil, "\(bad)")
        }
    }

    @Test func periodsReadToTheMinute() {
        #expect(DurationText.describe(42) == "42 s")
        #expect(DurationText.describe(45 * 60) == "45 min")
        #expect(DurationText.describe(3_600) == "1 h")
        #expect(DurationText.describe(86_580) == "24 h 3 min")
        #expect(DurationText.describe(2 * 86_400 + 6 * 3_600 + 100) == "2 days 6 h")
        #expect(DurationText.describe(7 * 86_400) == "7 days")
        #expect(DurationText.describe(.infinity) == "0 s")
    }
}
