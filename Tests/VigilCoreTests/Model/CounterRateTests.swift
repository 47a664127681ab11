// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

@Suite struct CounterRateTests {
    @Test func theRateIsTheIncreasePerSecond() {
        var counter = CounterRate()
        #expect(counter.rate(seconds: 100, value: 5_000) == nil)
        #expect(counter.rate(seconds: 110, value: 5_250) == 25)
        // A sample no later than the last is not kept.
        #expect(counter.rate(seconds: 110, value: 9_999) == nil)
        #expect(counter.rate(seconds: 115, value: 5_300) == 10)
    }

    /// A fall is a restart from zero: the new value is all of the increase.
    @Test func aFallIsARestartFromZero() {
        var counter = CounterRate(lastSeconds: 0, value: 80_000)
        #expect(counter.rate(seconds: 20, value: 600) == 30)
        #expect(CounterRate.isRestart(from: 80_000, to: 600))
        #expect(!CounterRate.isRestart(from: 7, to: 5))
    }

    /// A fall that is no restart says the series is no counter.
    @Test func readingTellsAFallThatIsNoRestart() {
        var counter = CounterRate()
        #expect(counter.read(seconds: 0, value: 7) == .first)
        #expect(counter.read(seconds: 10, value: 27) == .rate(2))
        #expect(counter.read(seconds: 20, value: 3) == .rate(0.3))
        #expect(counter.read(seconds: 30, value: 2) == .notACounter)
    }

    @Test func namesThatCount() {
        for name in [
            "http_requests_total", "node_cpu_seconds_total", "rpc_duration_seconds_count",
            "rpc_duration_seconds_sum", "request_duration_seconds_bucket",
        ] {
            #expect(CounterRate.isCounter(name: name), "\(name)")
        }
        for name in ["cpu", "memory_used_bytes", "requests_Sum", "total_memory", "PodWorkload_Ops"] {
            #expect(!CounterRate.isCounter(name: name), "\(name)")
        }
    }
}
