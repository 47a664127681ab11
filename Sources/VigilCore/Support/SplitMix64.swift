// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// SplitMix64: a tiny, fast pseudo-random generator whose sequence is fixed by its seed, for reproducible load
/// generation and mutation tests (never for anything that must be unpredictable).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator; the same seed gives the same sequence on every machine.
    public init(seed: UInt64) { self.state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
