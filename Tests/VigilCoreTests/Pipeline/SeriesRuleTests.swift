// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

@Suite struct SeriesRuleTests {
    static func key(_ name: String, _ labels: [(String, String)]) -> SeriesKey {
        SeriesKey(name: name, labels: labels.map { SeriesKey.Label($0.0, $0.1) })
    }

    @Test func globsMatchLabelValuesAndTheName() {
        let series = Self.key("http_request_duration_seconds", [("service", "api-gateway"), ("zone", "eu")])
        func matches(_ match: [String: String]) -> Bool { SeriesRule(match: match).matches(series) }
        #expect(matches([:]))
        #expect(matches(["service": "api-gateway"]))
        #expect(matches(["service": "api-*"]))
        #expect(matches(["service": "*gateway"]))
        #expect(matches(["service": "a*-*y"]))
        #expect(matches(["service": "*"]))
        #expect(matches(["__name__": "http_*_seconds", "zone": "eu"]))
        #expect(!matches(["service": "api"]))
        #expect(!matches(["service": "api-gateway-2"]))
        #expect(!matches(["service": "*gateway*x"]))
        #expect(!matches(["__name__": "http_*_seconds", "zone": "us"]))
        // A missing label is empty: only a pattern that matches nothing-at-all matches it.
        #expect(matches(["team": "*"]) && matches(["team": ""]))
        #expect(!matches(["team": "core-*"]))
        // Backtracking: the first star must give up what the later literal needs.
        func glob(_ pattern: String, _ value: String) -> Bool {
            SeriesRule(match: ["zone": pattern]).matches(Self.key("up", [("zone", value)]))
        }
        #expect(glob("*ab*ab", "xabyabab"))
        #expect(glob("*ab*ab", "xabyab"))
        #expect(!glob("*abc", "ababab"))
    }

    @Test func theFirstMatchingRuleDecides() {
        let rules = [
            SeriesRule(match: ["service": "synthetic-*"], mute: true),
            SeriesRule(match: ["service": "*"], alertThreshold: 0.9),
            SeriesRule(match: ["service": "synthetic-probe"], alertThreshold: 0.5),
        ]
        #expect(SeriesRule.decision(for: Self.key("up", [("service", "synthetic-probe")]), in: rules)?.mute == true)
        #expect(SeriesRule.decision(for: Self.key("up", [("service", "checkout")]), in: rules)?.alertThreshold == 0.9)
        #expect(SeriesRule.decision(for: Self.key("up", []), in: [rules[0]]) == nil)
    }

    /// 300 quiet seconds of two series, then what `fault` makes of the second 300 on, through a shard with `rules`.
    static func run(
        _ rules: [SeriesRule],
        restartAt restart: Int? = nil,
        rulesAfterRestart: [SeriesRule]? = nil,
        fault: (Int) -> Double
    ) -> [Anomaly] {
        var configuration = PipelineShard.Configuration()
        configuration.seriesRules = rules
        var shard = PipelineShard(configuration: configuration)
        var findings: [Anomaly] = []
        let series = ["checkout", "synthetic-probe"].map { Self.key("latency_seconds", [("service", $0)]) }
        for second in 0..<500 {
            if second == restart {
                configuration.seriesRules = rulesAfterRestart ?? rules
                shard = PipelineShard(restoring: shard.snapshot(findings: &findings), configuration: configuration)
            }
            let value = second < 300 ? 0.07 + 0.01 * Double(second % 3) : fault(second)
            let time = Timestamp(nanoseconds: Int64(second) * 1_000_000_000)
            shard.process(series.map { MetricPoint(series: $0, time: time, value: value) }, findings: &findings)
        }
        return findings
    }

    @Test func aMutedSeriesReportsNothing() {
        let unruled = Self.run([]) { _ in 100 }
        #expect(Set(unruled.map(\.service)) == ["checkout", "synthetic-probe"])
        let muted = Self.run([SeriesRule(match: ["service": "synthetic-*"], mute: true)]) { _ in 100 }
        #expect(!muted.isEmpty && muted.allSatisfy { $0.service == "checkout" }, "\(muted.map(\.evidence.summary))")
        // … and it stops mid-way (silence): still nothing from the muted one.
        var configuration = PipelineShard.Configuration()
        configuration.seriesRules = [SeriesRule(match: ["service": "synthetic-*"], mute: true)]
        var shard = PipelineShard(configuration: configuration)
        var findings: [Anomaly] = []
        for second in 0..<100 {
            let time = Timestamp(nanoseconds: Int64(second) * 1_000_000_000)
            shard.process(
                ["checkout", "synthetic-probe"].map {
                    MetricPoint(series: Self.key("up", [("service", $0)]), time: time, value: 1)
                },
                findings: &findings
            )
        }
        shard.tick(now: Timestamp(nanoseconds: 100_000_000_000), findings: &findings)
        shard.tick(now: Timestamp(nanoseconds: 2_000_000_000_000), findings: &findings)
        #expect(findings.map(\.kind) == [.silence] && findings.first?.service == "checkout", "\(findings)")
    }

    /// Deviations of a noisy series (a fixed pseudo-random sequence with occasional larger draws) under `rules`.
    static func noisy(_ rules: [SeriesRule]) -> Int {
        var configuration = PipelineShard.Configuration()
        configuration.seriesRules = rules
        var shard = PipelineShard(configuration: configuration)
        var findings: [Anomaly] = []
        var state: UInt64 = 42
        let series = Self.key("queue_depth", [("service", "checkout")])
        for second in 0..<20_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let uniform = Double(state >> 11) / Double(1 << 53)
            let value = 10 + (uniform < 0.01 ? 40 * uniform / 0.01 : 3 * uniform)
            let time = Timestamp(nanoseconds: Int64(second) * 1_000_000_000)
            shard.process([MetricPoint(series: series, time: time, value: value)], findings: &findings)
        }
        return findings.filter { $0.kind == .metricDeviation }.count
    }

    @Test func aRuleThresholdChangesWhatAlerts() {
        let usual = Self.noisy([])
        let strict = Self.noisy([SeriesRule(match: ["service": "checkout"], alertThreshold: 0.99)])
        let lax = Self.noisy([SeriesRule(match: ["service": "checkout"], alertThreshold: 0.5)])
        // 1, 5 and 45 deviations.
        #expect(strict < usual && usual < lax, "\(strict) \(usual) \(lax)")
    }

    @Test func aMinimumDurationDropsBlipsAndReportsWhatHeldAsOfItsStart() {
        let rules = [SeriesRule(match: ["service": "checkout"], minimumSeconds: 30)]
        // A 20-second blip: the unruled series reports it, checkout does not.
        let blip = Self.run(rules) { second in second < 320 ? 100 : 0.08 }
        #expect(blip.contains { $0.service == "synthetic-probe" })
        #expect(!blip.contains { $0.service == "checkout" }, "\(blip.map(\.evidence.summary))")
        // A step that holds: reported 30 s late, dated at its start, saying how long it held; the change-held
        // report follows a minute after that.
        let step = Self.run(rules) { _ in 100 }.filter { $0.service == "checkout" }
        #expect(step.count == 2, "\(step.map(\.evidence.summary))")
        #expect(step.first?.time.seconds == 300 && step.first?.evidence.observed == 100)
        #expect(step.first?.evidence.summary.contains("it stayed beyond the band for 30 s, as its rule asks") == true)
        #expect(step.last?.evidence.summary.contains("the change held") == true)
    }

    @Test func restoredSeriesFollowTheRulesOfTheRunningServer() {
        let muting = [SeriesRule(match: ["service": "synthetic-*"], mute: true)]
        let before = Self.run([], restartAt: 200, rulesAfterRestart: muting) { _ in 100 }
        #expect(!before.isEmpty && before.allSatisfy { $0.service == "checkout" })
        let unmuted = Self.run(muting, restartAt: 200, rulesAfterRestart: []) { _ in 100 }
        #expect(Set(unmuted.map(\.service)) == ["checkout", "synthetic-probe"])
    }
}
