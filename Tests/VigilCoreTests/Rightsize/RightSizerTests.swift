// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing
import VigilCore

@Suite struct RightSizerTests {
    /// `days` of 5-minute samples: CPU 0.1 cores with every 20th sample at 1 core, memory flat at 500 MiB.
    static func steady(
        days: Double,
        cpuRequest: Double? = 2,
        memoryRequest: Double? = 1_073_741_824
    ) -> RightSizer.Usage {
        let count = Int(days * 288)
        return RightSizer.Usage(
            workload: "checkout",
            times: (0..<count).map { Double($0) * 300 },
            cpu: (0..<count).map { $0 % 20 == 0 ? 1.0 : 0.1 },
            memory: (0..<count).map { _ in 500 * 1_048_576 },
            cpuRequest: cpuRequest,
            memoryRequest: memoryRequest
        )
    }

    @Test func cpuCoversItsP95AndMemoryItsPeakWithABuffer() throws {
        let recommendation = RightSizer().recommend(Self.steady(days: 8))
        let cpu = try #require(recommendation.cpu)
        // 5 % of the samples are bursts: the p95 sits at the edge of them, the peak is the burst.
        #expect(cpu.recommended >= 0.1 && cpu.recommended <= 1.0 && cpu.peak == 1.0)
        #expect(cpu.change == cpu.recommended - 2)
        let memory = try #require(recommendation.memory)
        #expect(abs(memory.recommended - 575 * 1_048_576) < 1)
        #expect(recommendation.confidence == 1)
        #expect(recommendation.samples == 2304)
    }

    @Test func aSteadyWeekWithModestCutsIsLowRisk() {
        let recommendation = RightSizer().recommend(
            Self.steady(days: 8, cpuRequest: 0.2, memoryRequest: 600 * 1_048_576)
        )
        #expect(recommendation.risk == .low, "\(recommendation.notes)")
        #expect(recommendation.notes.isEmpty)
    }

    @Test func shortHistoryIsRiskyAndLessTrusted() {
        let day = RightSizer().recommend(Self.steady(days: 0.5, cpuRequest: 0.2, memoryRequest: 600 * 1_048_576))
        #expect(day.risk == .high && day.confidence < 0.1)
        #expect(day.notes.first?.hasPrefix("only 12 h of history") == true)
        let days = RightSizer().recommend(Self.steady(days: 3, cpuRequest: 0.2, memoryRequest: 600 * 1_048_576))
        #expect(days.risk == .medium && abs(days.confidence - 3.0 / 7) < 0.01)
    }

    @Test func deepCutsAndRisingMemoryRaiseTheRisk() {
        let deep = RightSizer().recommend(Self.steady(days: 8))
        #expect(deep.risk == .medium)
        #expect(deep.notes == ["CPU falls below half the current request: apply it in steps"])
        var leaking = Self.steady(days: 8, cpuRequest: 0.2, memoryRequest: 600 * 1_048_576)
        leaking.memory = leaking.memory.indices.map { 300 * 1_048_576 + Double($0) * 100_000 }
        let leak = RightSizer().recommend(leaking)
        #expect(leak.risk == .high)
        #expect(leak.notes.contains { $0.hasPrefix("memory was still rising") })
    }

    @Test func missingSamplesAndFloors() throws {
        let usage = RightSizer.Usage(
            workload: "idle",
            times: [0, 60, 120],
            cpu: [nil, 0, 0.001],
            memory: [nil, nil, nil]
        )
        let recommendation = RightSizer().recommend(usage)
        #expect(recommendation.cpu?.recommended == 0.01)
        #expect(recommendation.memory == nil)
        #expect(recommendation.cpu?.change == nil)
        #expect(recommendation.notes.contains("only 2 samples"))
    }

    /// An HPA scaling on CPU: the CPU request stays (a smaller one would feed the HPA's loop), memory is sized.
    @Test func aRequestAnHPAScalesOnIsKept() throws {
        var usage = Self.steady(days: 8)
        usage.autoscaledOn = [.cpu]
        let kept = RightSizer().recommend(usage)
        let cpu = try #require(kept.cpu)
        #expect(cpu.keptForAutoscaler && cpu.recommended == 2 && cpu.change == 0)
        #expect(cpu.basis.hasPrefix("kept for the HPA; usage alone would ask "))
        #expect(kept.memory?.keptForAutoscaler == false && kept.memory?.recommended ?? 0 < 1_073_741_824)
        #expect(kept.notes.contains { $0.hasPrefix("an HPA scales it on CPU utilisation") })
        // A kept request is no deep cut: the risk stays low.
        #expect(kept.risk == .low, "\(kept.notes)")
        // Allowed: sized from usage, with a word about the HPA's target.
        var configuration = RightSizer.Configuration()
        configuration.sizesAutoscaled = true
        let sized = RightSizer(configuration: configuration).recommend(usage)
        #expect(sized.cpu?.keptForAutoscaler == false && sized.cpu?.recommended ?? 2 < 2)
        #expect(sized.notes.contains { $0.contains("set the HPA's target for the new request") })
        #expect(sized.cpu?.recommended == RightSizer().recommend(Self.steady(days: 8)).cpu?.recommended)
    }

    @Test func podsAreMatchedToTheWorkloadAnHPATargets() {
        #expect(RightSizer.isPod("checkout-7d9f8b6c5d-x2x7q", of: "checkout"))
        #expect(RightSizer.isPod("checkout-0", of: "checkout"))
        #expect(RightSizer.isPod("checkout-x2x7q", of: "checkout"))
        #expect(RightSizer.isPod("checkout", of: "checkout"))
        #expect(!RightSizer.isPod("checkout-api-7d9f8b6c5d-x2x7q", of: "checkout"))
        #expect(!RightSizer.isPod("checkout-7d9f8b6c5d-x2x7q", of: "check"))
        #expect(!RightSizer.isPod("checkout-db", of: "checkout"))
        #expect(!RightSizer.isPod("cart-7d9f8b6c5d-x2x7q", of: "checkout"))
    }
}
