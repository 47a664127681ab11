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
}
