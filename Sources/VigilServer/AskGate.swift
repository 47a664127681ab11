// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// Bounds how many questions a model answers at once. Each can hold the model for up to its timeout, and a
/// server others can reach must not let them queue model calls without end: the rest get 429 at once.
final class AskGate: Sendable {
    /// Questions answered by the model at the same time.
    let limit: Int
    private let inFlight = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes a place, or returns false when all are taken.
    func enter() -> Bool {
        let count = self.inFlight.add(1, ordering: .acquiringAndReleasing).newValue
        if count > self.limit {
            self.inFlight.subtract(1, ordering: .releasing)
            return false
        }
        return true
    }

    /// Gives back a place taken by ``enter()``.
    func leave() {
        self.inFlight.subtract(1, ordering: .releasing)
    }
}
