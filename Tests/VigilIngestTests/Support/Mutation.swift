// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import VigilCore

/// Mutates valid inputs for the decoders' robustness tests: flips, inserts, deletes and truncations.
struct Mutation {
    var random: SplitMix64

    init(seed: UInt64) { self.random = SplitMix64(seed: seed) }

    /// A copy of `seed` with one to four random edits.
    mutating func mutate(_ seed: [UInt8]) -> [UInt8] {
        var body = seed
        for _ in 0...(self.random.next() % 4) {
            let position = Int(self.random.next() % UInt64(body.count + 1))
            switch self.random.next() % 4 {
            case 0 where position < body.count: body[position] = UInt8(truncatingIfNeeded: self.random.next())
            case 1: body.insert(UInt8(truncatingIfNeeded: self.random.next()), at: position)
            case 2 where position < body.count: body.remove(at: position)
            default: body = Array(body.prefix(position))
            }
        }
        return body
    }

    /// Runs `decode` on `count` mutations of the seeds; returns how many decoded (the rest threw).
    mutating func count(_ count: Int, seeds: [[UInt8]], decode: ([UInt8]) throws -> Void) -> Int {
        var decoded = 0
        for index in 0..<count {
            if (try? decode(self.mutate(seeds[index % seeds.count]))) != nil { decoded += 1 }
        }
        return decoded
    }
}
