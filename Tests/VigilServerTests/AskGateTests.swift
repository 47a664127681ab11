// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Synchronization
import Testing

@testable import VigilServer

@Suite struct AskGateTests {
    @Test func admitsUpToItsLimitThenRefusesUntilAPlaceIsGiven() {
        let gate = AskGate(limit: 2)
        #expect(gate.enter() && gate.enter())
        #expect(!gate.enter())
        gate.leave()
        #expect(gate.enter())
        #expect(!gate.enter())
    }

    @Test func neverAdmitsMoreThanItsLimitAtOnce() async {
        final class Tally: Sendable {
            let inside = Atomic<Int>(0)
            let most = Atomic<Int>(0)
            let admitted = Atomic<Int>(0)
        }
        let gate = AskGate(limit: 3)
        let tally = Tally()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    guard gate.enter() else { return }
                    let now = tally.inside.add(1, ordering: .relaxed).newValue
                    tally.most.max(now, ordering: .relaxed)
                    tally.admitted.add(1, ordering: .relaxed)
                    await Task.yield()
                    tally.inside.subtract(1, ordering: .relaxed)
                    gate.leave()
                }
            }
        }
        #expect(tally.most.load(ordering: .relaxed) <= 3)
        #expect(tally.admitted.load(ordering: .relaxed) >= 3)
        #expect(gate.enter() && gate.enter() && gate.enter() && !gate.enter())
    }
}
