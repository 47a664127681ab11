// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

@Suite struct FormatTests {
    @Test func numbersKeepAtMostThreeDecimals() {
        #expect(Format.number(1.23456) == "1.235")
        #expect(Format.number(-2.5) == "-2.5")
        #expect(Format.number(100) == "100")
        #expect(Format.number(999.9996) == "1000")
        #expect(Format.number(243_478_528.395) == "243478528")
        #expect(Format.number(-1_500.5) == "-1501")
        #expect(Format.number(.infinity) == "inf")
    }

    @Test func countsGroupThousands() {
        #expect(Format.count(0) == "0")
        #expect(Format.count(999) == "999")
        #expect(Format.count(1_847) == "1,847")
        #expect(Format.count(-1_234_567) == "-1,234,567")
    }

    /// "1 symptom", "2 symptoms": no "symptom(s)" in a sentence someone reads at 3 am.
    @Test func aCountedNounIsPluralUnlessOne() {
        #expect(Format.count(1, "symptom") == "1 symptom")
        #expect(Format.count(0, "symptom") == "0 symptoms")
        #expect(Format.count(1_847, "alert") == "1,847 alerts")
        #expect(Format.count(2, "entry", plural: "entries") == "2 entries")
        #expect(Format.count(1, "entry", plural: "entries") == "1 entry")
    }

    /// A time to a limit reads in hours to a tenth; one never reached says so.
    @Test func hoursAreToATenth() {
        #expect(Format.hours(68 * 3600 + 17 * 60) == "68.3 h")
        #expect(Format.hours(1800) == "0.5 h")
        #expect(Format.hours(.infinity) == "never")
    }

    /// Shares read as whole percentages; a share that is there but rounds to nothing is not "0 %".
    @Test func sharesAreWholePercentages() {
        #expect(Format.percent(0.734) == "73 %")
        #expect(Format.percent(1) == "100 %")
        #expect(Format.percent(0) == "0 %")
        #expect(Format.percent(0.004) == "<1 %")
        #expect(Format.percent(0.005) == "1 %")
    }
}
