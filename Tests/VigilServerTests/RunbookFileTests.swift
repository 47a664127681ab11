// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import VigilCore
import VigilServer

@Suite struct RunbookFileTests {
    /// The example shipped beside the README.
    static let example = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("runbooks.example.yaml")

    @Test func theShippedExampleReads() throws {
        let text = try String(contentsOf: Self.example, encoding: .utf8)
        let runbooks = try RunbookFile.runbooks(yaml: text, source: "runbooks.example.yaml")
        #expect(runbooks.map(\.name) == ["roll-back-bad-deploy", "restart-leaking-pod", "page-database-owner"])
        let rollback = runbooks[0]
        #expect(rollback.level == .approve && rollback.risk == .high)
        #expect(rollback.match == Runbook.Match(triggers: [.deploy], minimumConfidence: 0.5))
        #expect(rollback.steps.map(\.action.summary) == ["kubectl rollout undo deployment/{{service}}"])
        #expect(rollback.verify == .command(["vigil-check-slo", "{{service}}"]))
        #expect(rollback.verifyAttempts == 3 && rollback.verifyDelaySeconds == 60)
        #expect(rollback.maximumRunsPerHour == 2 && rollback.cooldownSeconds == 3_600)
        let restart = runbooks[1]
        #expect(restart.level == .autoLowRisk && restart.risk == .low && restart.match.symptom == "memory")
        #expect(
            runbooks[2].steps[0].action
                == .http(
                    method: "POST",
                    url: "https://events.pagerduty.com/v2/enqueue",
                    body: runbooks[2].steps[0].action.httpBody
                )
        )
    }

    @Test func mistakesAreNamedWithTheirPlace() throws {
        let cases: [(String, String)] = [
            ("runbooks: [{name: a, steps: [{run: [true]}], levle: 2}]", "runbooks[0] (a): unknown key \"levle\""),
            ("runbooks: [{name: a, steps: [{run: \"kubectl rollout restart x\"}]}]", "a shell line is never run"),
            (
                "runbooks: [{name: a, steps: [{run: [restart, {{service}}]}]}]",
                "a key must be plain text (line 1); quote a value"
            ),
            ("runbooks: [{name: a, steps: []}]", "steps must be a non-empty list"),
            ("runbooks: [{name: a, steps: [{run: [x], http: {url: 'http://x'}}]}]", "has both run and http"),
            ("runbooks: [{name: a, level: 7, steps: [{run: [x]}]}]", "level must be 0-4"),
            ("runbooks: [{name: a, risk: medium, steps: [{run: [x]}]}]", "risk must be low or high"),
            ("runbooks: [{name: a, cooldown: soon, steps: [{run: [x]}]}]", "cooldown must be a duration"),
            ("runbooks: [{name: a, match: {triggers: [rollout]}, steps: [{run: [x]}]}]", "unknown change kind rollout"),
            ("runbooks: [{name: a, steps: [{run: [x, '{{sevrice}}']}]}]", "unknown variable {{sevrice}}"),
            ("runbooks: [{name: a, steps: [{run: [x]}]}, {name: a, steps: [{run: [y]}]}]", "a second runbook named a"),
            ("runbooks: [{name: a, steps: [{http: {url: 'ftp://x'}}]}]", "must start with http:// or https://"),
            ("runbook: []", "unknown key \"runbook\""),
            ("runbooks: [a: b", "not valid YAML"),
        ]
        for (text, expected) in cases {
            #expect(throws: RunbookFile.Failure.self) { try RunbookFile.runbooks(yaml: text, source: "f.yaml") }
            do {
                _ = try RunbookFile.runbooks(yaml: text, source: "f.yaml")
            } catch {
                #expect(error.description.hasPrefix("f.yaml") && error.description.contains(expected), "\(error)")
            }
        }
        #expect(try RunbookFile.runbooks(yaml: "", source: "empty.yaml").isEmpty)
    }
}

extension Runbook.Action {
    var httpBody: String? {
        if case .http(_, _, let body) = self { return body }
        return nil
    }
}
