// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

@testable import VigilCore

@Suite struct PackedBytesTests {
    @Test func base64MatchesFoundation() {
        var random = SplitMix64(seed: 4)
        for length in 0..<40 {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let encoded = Base64.encode(bytes)
            #expect(encoded == Data(bytes).base64EncodedString())
            #expect(Base64.decode(encoded) == bytes)
        }
        #expect(Base64.decode("abc") == nil)
        #expect(Base64.decode("ab!=") == nil)
        #expect(Base64.decode("a=bc") == nil)
    }

    @Test func writerAndReaderKeepEveryBit() throws {
        var writer = PackedWriter()
        let floats: [Float] = [0, -0, 1.5, -3.25e-12, .infinity, -.infinity, .greatestFiniteMagnitude, .nan]
        writer.write(floats)
        writer.write(-42)
        writer.write(Double.infinity)
        writer.write(-1.25e300)
        var reader = try PackedReader(base64: writer.base64)
        let back = try reader.floats()
        #expect(back.prefix(7) == floats.prefix(7) && back[7].isNaN)
        #expect(try reader.int() == -42)
        #expect(try reader.double() == .infinity)
        #expect(try reader.double() == -1.25e300)
        #expect(reader.isAtEnd)
        #expect(throws: PackedReader.Failure.self) { try reader.int() }
        var short = try PackedReader(base64: Base64.encode([1, 0, 0, 0, 0, 0, 0, 0]))
        #expect(throws: PackedReader.Failure.self) { try short.floats() }
    }
}
