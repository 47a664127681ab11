// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing
import VigilCore

@Suite struct VarintTests {
    @Test func encodesAsProtobufDoes() {
        // The examples of the protobuf encoding guide, and both ends of the range.
        let cases: [(UInt64, [UInt8])] = [
            (0, [0x00]),
            (1, [0x01]),
            (127, [0x7F]),
            (150, [0x96, 0x01]),
            (300, [0xAC, 0x02]),
            (UInt64.max, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
        ]
        for (value, expected) in cases {
            var bytes: [UInt8] = [0xEE]
            Varint.append(value, to: &bytes)
            #expect(bytes == [0xEE] + expected, "\(value)")
        }
    }
}
