// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

@Suite struct ByteEqualityTests {
    /// Against `==` at every length up to 40 (word and tail parts), with one byte changed at every position, and
    /// with lengths that differ.
    @Test func agreesWithElementwiseEquality() {
        for length in 0...40 {
            let a = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(ByteEquality.equal(a, a))
            #expect(!ByteEquality.equal(a, a + [0]))
            for position in 0..<length {
                var b = a
                b[position] ^= 0x40
                #expect(!ByteEquality.equal(a, b), "length \(length), position \(position)")
            }
        }
    }
}
