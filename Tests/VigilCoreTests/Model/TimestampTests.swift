// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

@Suite struct TimestampTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00Z"),
        (1_700_000_000_123_000_000, "2023-11-14T22:13:20.123Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (951_782_400_000_000_000, "2000-02-29T00:00:00Z"),
        (Int64.max, "2262-04-11T23:47:16.854Z"),
        (-Int64.max, "1677-09-21T00:12:43.145Z"),
    ])
    func formatsISO8601(_ nanoseconds: Int64, _ expected: String) {
        #expect(Timestamp(nanoseconds: nanoseconds).iso8601 == expected)
    }

    @Test func secondsAreClampedNotTrapped() {
        #expect(Timestamp(seconds: 1e300).nanoseconds == Int64.max)
        #expect(Timestamp(seconds: -1e300).nanoseconds == -Int64.max)
        #expect(Timestamp(seconds: .nan).nanoseconds == 0)
        #expect(Timestamp(seconds: 1.5).adding(seconds: 0.25) == Timestamp(nanoseconds: 1_750_000_000))
    }
}
