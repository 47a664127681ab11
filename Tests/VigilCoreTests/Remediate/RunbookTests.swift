// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing
import VigilCore

@Suite struct RunbookTests {
    @Test func variablesAreFilledAndAValueStaysOneArgument() throws {
        let action = Runbook.Action.command(["kubectl", "rollout", "restart", "deployment/{{ service }}"])
        // A hostile service name is one argument: no shell ever splits it.
        let filled = try #require(action.filled(with: ["service": "pay; rm -rf /"]))
        #expect(filled == .command(["kubectl", "rollout", "restart", "deployment/pay; rm -rf /"]))
        #expect(filled.summary == "kubectl rollout restart deployment/pay; rm -rf /")
    }

    @Test func aValueCannotChangeTheShapeOfARequest() throws {
        let action = Runbook.Action.http(
            method: "POST",
            url: "https://ops.example.com/services/{{service}}/restart?by=vigil",
            body: #"{"service": "{{service}}", "incident": "{{incident}}"}"#
        )
        let hostile = "pay/../admin?x=1#\", \"routing_key\": \"evil\nline"
        let filled = try #require(action.filled(with: ["service": hostile, "incident": "inc-1"]))
        guard case .http(_, let url, let body) = filled else {
            Issue.record("not an HTTP action")
            return
        }
        // One path segment in the URL; one string in the JSON body.
        #expect(
            url
                == "https://ops.example.com/services/pay%2F..%2Fadmin%3Fx%3D1%23%22%2C%20%22routing_key%22%3A%20%22evil%0Aline/restart?by=vigil"
        )
        #expect(body == #"{"service": "pay/../admin?x=1#\", \"routing_key\": \"evil\nline", "incident": "inc-1"}"#)
        // A text body is left as written.
        let text = Runbook.Action.http(method: "POST", url: "http://x/", body: "restart {{service}} now")
        #expect(
            text.filled(with: ["service": "a\"b"]) == .http(method: "POST", url: "http://x/", body: "restart a\"b now")
        )
    }

    @Test func anActionNeedingAMissingValueCannotBeFilled() {
        let action = Runbook.Action.http(method: "POST", url: "http://x/{{service}}", body: "{{version}}")
        #expect(action.filled(with: ["service": "payment"]) == nil)
        #expect(
            action.filled(with: ["service": "payment", "version": "v2"])
                == .http(method: "POST", url: "http://x/payment", body: "v2")
        )
    }

    @Test func aUsableRunbookHasNoProblems() {
        #expect(RemediationFixtures.restart().problems.isEmpty)
        #expect(RemediationFixtures.rollback().problems.isEmpty)
    }

    @Test func eachMistakeIsNamed() {
        let broken = Runbook(
            name: "broken",
            match: .init(minimumConfidence: 2),
            steps: [
                .init(name: "empty", action: .command([])),
                .init(name: "typo", action: .command(["restart", "{{servce}}"])),
                .init(name: "verb", action: .http(method: "YEET", url: "ftp://x", body: nil)),
            ],
            verifyAttempts: 0,
            maximumRunsPerHour: 0,
            cooldownSeconds: -1
        )
        let problems = broken.problems
        for expected in [
            "the command is empty", "unknown variable {{servce}}", "unknown HTTP method YEET",
            "must start with http:// or https://", "verify_attempts", "max_runs_per_hour", "cooldown",
            "min_confidence",
        ] {
            #expect(problems.contains { $0.contains(expected) }, "missing: \(expected) in \(problems)")
        }
        #expect(Runbook(name: "", steps: []).problems.contains("a runbook needs a name"))
        #expect(Runbook(name: "x", steps: []).problems == ["runbook x has no steps"])
        let spaced = Runbook(name: "roll back", steps: [.init(name: "a", action: .command(["true"]))])
        #expect(spaced.problems == ["runbook roll back: a name holds only letters, digits, '-', '_' and '.'"])
    }

    @Test func levelsReadFromNamesOrNumbers() {
        #expect(AutomationLevel(name: "approve") == .approve)
        #expect(AutomationLevel(name: "3") == .autoLowRisk)
        #expect(AutomationLevel(name: "auto-high-risk") == .autoHighRisk)
        #expect(AutomationLevel(name: "5") == nil && AutomationLevel(name: "yolo") == nil)
        #expect(AutomationLevel.allCases.allSatisfy { AutomationLevel(name: $0.name) == $0 })
    }
}
