// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilIngest

@Suite struct DecimalNumberTests {
    private func value(_ text: String, fast: Bool = false) -> Double? {
        Array(text.utf8).withUnsafeBufferPointer { fast ? DecimalNumber.fastValue($0) : DecimalNumber.value($0) }
    }

    /// Whichever path reads it, a number is the very Double the standard library parses.
    @Test func numbersMatchTheStandardParser() {
        var generator = SystemRandomNumberGenerator()
        var texts = [
            "0", "-0", "1674982201.749", "30.671821220562006", "1e-7", "2.5E+3", "123456789012345678901", "0.1",
            "0.30000000000000004", "9007199254740993", "-1.5e300", "0.0000000000000000000001", "inf", "nan",
        ]
        for _ in 0..<2_000 {
            texts.append("\(Double.random(in: -2e9..<2e9, using: &generator))")
            texts.append(
                String(Int.random(in: 0..<Int(1e12), using: &generator)) + "."
                    + String(Int.random(in: 0..<1000, using: &generator))
            )
        }
        var fast = 0
        for text in texts {
            let expected = Double(text)!
            let read = self.value(text)!
            #expect(read == expected || (read.isNaN && expected.isNaN), "\(text)")
            if let quick = self.value(text, fast: true) {
                fast += 1
                #expect(quick.bitPattern == expected.bitPattern, "\(text)")
            }
        }
        // The fast path takes the common case.
        #expect(fast > texts.count / 2)
    }

    @Test func onlyWholeNumbersAreRead() {
        for text in ["", "-", "1.", ".5", "1,5", " 1", "1 ", "+1", "1.2.3", "12a", "0x10"] {
            #expect(self.value(text, fast: true) == nil, "\(text)")
        }
        for text in ["", "-", "1,5", " 1", "12a", "abc"] {
            #expect(self.value(text) == nil, "\(text)")
        }
    }
}
