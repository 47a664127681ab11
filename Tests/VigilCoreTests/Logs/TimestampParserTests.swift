// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import PropertyBased
import Testing

@testable import VigilCore

@Suite struct TimestampParserTests {
    @Test(arguments: [
        ("2024-10-10T13:55:36.123Z", "2024-10-10T13:55:36.123Z"),
        ("2024-10-10T13:55:36+02:00", "2024-10-10T11:55:36Z"),
        ("2024-10-10 13:55:36,123", "2024-10-10T13:55:36.123Z"),
        ("10/Oct/2000:13:55:36 -0700", "2000-10-10T20:55:36Z"),
        ("Sun Dec 04 04:47:44 2005", "2005-12-04T04:47:44Z"),
        ("Jun 14 15:16:01", "1970-06-14T15:16:01Z"),
        ("081109 203615", "2008-11-09T20:36:15Z"),
        ("17/06/09 20:10:40", "2017-06-09T20:10:40Z"),
        ("2005-06-03-15.42.50.675872", "2005-06-03T15:42:50.675Z"),
        ("1117838570", "2005-06-03T22:42:50Z"),
        ("1700000000123", "2023-11-14T22:13:20.123Z"),
        ("Jan 29, 2023 8:50:01 PM", "2023-01-29T20:50:01Z"),
        ("Jan 29, 2023 12:05:00 AM", "2023-01-29T00:05:00Z"),
        ("Jan 29, 2023 12:05:00 pm", "2023-01-29T12:05:00Z"),
    ])
    func parsesCommonShapes(_ text: String, _ expected: String) {
        let bytes = Array(text.utf8)
        #expect(TimestampParser.parse(bytes.span)?.iso8601 == expected)
    }

    @Test(arguments: ["", "hello", "99:99:99", "2024-13-45 10:00:00", "::::"])
    func rejectsNonsense(_ text: String) {
        let bytes = Array(text.utf8)
        #expect(TimestampParser.parse(bytes.span) == nil)
    }

    @Test(arguments: [
        ("16:50:01.757", Int64(60_601_757_000_000)),
        ("16:50:01,5", Int64(60_601_500_000_000)),
        ("9:05:00", Int64(32_700_000_000_000)),
        ("00:00:00.000000001", Int64(1)),
    ])
    func readsATimeOfDayAlone(_ text: String, _ nanoseconds: Int64) {
        let bytes = Array(text.utf8)
        #expect(TimestampParser.timeOfDay(bytes.span) == nanoseconds)
        #expect(TimestampParser.parse(bytes.span) == nil, "a date is what parse reads")
    }

    @Test(arguments: [
        "", "16:50", "16:50:01.", "24:00:00", "16:60:00", "16:50:01 x", "2024-10-10 13:55:36", "123:00:00",
    ])
    func aTimeOfDayIsNothingElse(_ text: String) {
        let bytes = Array(text.utf8)
        #expect(TimestampParser.timeOfDay(bytes.span) == nil)
    }

    @Test func civilDateConversionRoundTrips() {
        for days in stride(from: Int64(-800_000), through: 800_000, by: 997) {
            let (year, month, day) = CivilDate.fromDays(days)
            #expect(CivilDate.days(year: year, month: month, day: day) == days)
        }
    }

    /// Digits, separators and month names in any order: a timestamp or `nil`, never a trap.
    @Test func neverTrapsOnGeneratedInput() async {
        let pieces = [
            "9", "99", "2024", "9999999999", "99999999999999999999", "-", ":", "/", ".", ",", " ", "T", "Z", "+", "Jul",
            "x",
        ]
        let text = Gen.int(in: 0...(pieces.count - 1)).map { pieces[$0] }.array(of: 0...14).map { $0.joined() }
        await propertyCheck(count: 20000, input: text) { text in
            let bytes = Array(text.utf8)
            if let time = TimestampParser.parse(bytes.span) {
                #expect(time.nanoseconds >= 0, "\(text)")
            }
        }
    }
}
