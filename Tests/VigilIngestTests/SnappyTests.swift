// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing
import VigilCore
import VigilIngest

@Suite struct SnappyTests {
    @Test func roundTripsAndChecksLengths() throws {
        let text = Array(String(repeating: "the quick brown fox jumps over the lazy dog ", count: 200).utf8)
        let compressed = Snappy.compress(text)
        #expect(compressed.count < text.count / 4)
        #expect(try Snappy.decompress(compressed, maximumLength: 1 << 20) == text)
        #expect(throws: IngestError.self) { try Snappy.decompress(compressed, maximumLength: 100) }
        #expect(throws: IngestError.self) {
            try Snappy.decompress(Array(compressed.dropLast(3)), maximumLength: 1 << 20)
        }
        // A copy that reaches before the start of the output.
        #expect(throws: IngestError.self) {
            try Snappy.decompress([10, 0b0000_0001 | (5 << 2), 200], maximumLength: 64)
        }
    }

    @Test func decodesALiteralOnlyBlockAsPrometheusClientsWriteIt() throws {
        // Preamble 5, literal tag (5 - 1) << 2, then the bytes.
        #expect(try Snappy.decompress([5, 16] + Array("hello".utf8), maximumLength: 16) == Array("hello".utf8))
    }

    @Test func keptRangesStayLiteralAndCanBeRewritten() throws {
        var random = SplitMix64(seed: 7)
        for _ in 0..<200 {
            let count = Int(random.next() % 3000) + 1
            // Repetitive input so that matches are everywhere, kept ranges among them.
            let input = (0..<count).map { UInt8(truncatingIfNeeded: $0 % 37 + Int(random.next() % 2)) }
            var ranges: [Range<Int>] = []
            var start = Int(random.next() % 50)
            while start < count {
                let end = min(count, start + 1 + Int(random.next() % 9))
                ranges.append(start..<end)
                start = end + Int(random.next() % 60)
            }
            var (bytes, positions) = Snappy.compress(input, keepingLiteral: ranges)
            #expect(try Snappy.decompress(bytes, maximumLength: count) == input)
            let keptIndices = ranges.flatMap { $0 }
            #expect(positions.count == keptIndices.count)
            var expected = input
            for (position, index) in zip(positions, keptIndices) {
                let byte = UInt8(truncatingIfNeeded: random.next())
                bytes[position] = byte
                expected[index] = byte
            }
            #expect(try Snappy.decompress(bytes, maximumLength: count) == expected)
        }
    }
}
