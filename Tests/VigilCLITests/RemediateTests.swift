// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import VigilIngest
import VigilServer
import VigilTestSupport

@Suite struct RemediateTests {
    @Test func checkShowsWhatEachRunbookWouldDoAndNamesMistakes() throws {
        let example = Vigil.packageRoot.appendingPathComponent("runbooks.example.yaml").path
        let shown = try Vigil.run(["remediate", "check", example, "--automation-level", "auto-low-risk"])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("3 runbooks, shown at server level auto-low-risk"))
        #expect(shown.stdout.contains("roll-back-bad-deploy (high risk, level approve)"))
        #expect(shown.stdout.contains("at approve: runs after a person approves"))
        #expect(shown.stdout.contains("restart-leaking-pod (low risk, level auto-low-risk)"))
        #expect(shown.stdout.contains("at auto-low-risk: runs unattended"))
        let suggested = try Vigil.run(["remediate", "check", example])
        #expect(!suggested.stdout.contains("runs unattended") && suggested.stdout.contains("a person runs it"))

        let folder = try Scratch.folder("vigil-rb")
        let bad = folder.appendingPathComponent("bad.yaml")
        try Data("runbooks: [{name: a, steps: [{run: \"kubectl delete pod {{service}}\"}]}]".utf8).write(to: bad)
        let refused = try Vigil.run(["remediate", "check", bad.path])
        #expect(refused.status == 1 && refused.stderr.contains("a shell line is never run"), "\(refused.stderr)")
        // The server refuses to start on the same file.
        let serve = try Vigil.run([
            "serve", "--no-host", "--runbooks", bad.path, "--data-dir", folder.appendingPathComponent("data").path,
        ])
        #expect(serve.status != 0 && serve.stderr.contains("a shell line is never run"), "\(serve.stderr)")
        let unusable = try Vigil.run(["serve", "--no-host", "--automation-level", "approve"])
        #expect(unusable.status != 0 && unusable.stderr.contains("--automation-level needs --runbooks"))
    }

    /// A deploy of auth-api, then an alert storm: the runbook that rolls deploys back waits for approval, performs
    /// nothing before it, then runs, is checked, and everything is in the audit log.
    @Test func aRunWaitsForApprovalThenRunsAndIsAudited() throws {
        let fixture = try RollbackRunbook(token: "test-approval-token-0123456789")
        let (marker, config, token) = (fixture.marker, fixture.config, fixture.token)
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        let vigil = try ServerProcess(arguments: [
            "--no-host", "--config", config.path, "--incident-webhook", receiver.url,
        ])
        try vigil.start()
        defer { vigil.stop() }
        let client = vigil.client()
        let json = [("Content-Type", "application/json")]
        try RollbackRunbook.deployThenStorm(on: vigil)

        // High risk at auto-low-risk: it waits for a person.
        let run = try #require(try vigil.firstRemediation(), "\(vigil.log())")
        let id = try #require(run["id"] as? String)
        #expect(run["state"] as? String == "awaiting_approval" && run["service"] as? String == "auth-api")
        #expect((run["reasons"] as? [String])?.contains { $0.contains("high risk") } == true, "\(run)")
        #expect(!FileManager.default.fileExists(atPath: marker.path))
        let server = "http://127.0.0.1:\(vigil.port)"
        let listed = try Vigil.run(["remediate", "list", "--server", server])
        #expect(listed.stdout.contains("\(id)  awaiting_approval  roll-back on auth-api"), "\(listed.stdout)")

        // The people on the incident's webhook are asked for the approval.
        let asked = receiver.wait { $0["event"] as? String == "remediation" }
        #expect(
            (asked?["text"] as? String)?.hasPrefix("[remediation] roll-back on auth-api") == true
                && (asked?["text"] as? String)?.contains(
                    "waiting for approval (high risk, level auto-low-risk): vigil remediate approve \(id)"
                ) == true,
            "\(receiver.notifications)"
        )

        // Approval needs the token; a wrong one is refused, and so is a nameless approver.
        let body = Array(#"{"by": "alice"}"#.utf8)
        let path = "/api/v1/remediations/\(id)/approve"
        #expect(try client.request("POST", path, headers: json, body: body).status == 401)
        let wrong = json + [("Authorization", "Bearer not-the-token")]
        #expect(try client.request("POST", path, headers: wrong, body: body).status == 401)
        let authorised = json + [("Authorization", "Bearer \(token)")]
        #expect(try client.request("POST", path, headers: authorised, body: Array(#"{"by": ""}"#.utf8)).status == 400)
        #expect(
            try client.request("POST", "/api/v1/remediations/run-nope/approve", headers: authorised, body: body).status
                == 404
        )
        #expect(!FileManager.default.fileExists(atPath: marker.path))

        let approved = try Vigil.run([
            "remediate", "approve", id, "--by", "alice", "--token", token, "--server", server,
        ])
        #expect(approved.status == 0, "\(approved.stderr)")
        #expect(try vigil.remediationState(id, reaching: "succeeded", seconds: 60) == "succeeded")
        #expect(FileManager.default.fileExists(atPath: marker.path))
        // And told how it ended.
        let ended = receiver.wait { ($0["run"] as? [String: Any])?["state"] as? String == "succeeded" }
        #expect(
            (ended?["text"] as? String)?.contains("succeeded — check passed: exit 0") == true,
            "\(receiver.notifications)"
        )
        // Approving twice is a conflict.
        #expect(try client.request("POST", path, headers: authorised, body: body).status == 409)

        let audit = try Vigil.run(["remediate", "audit", "--run", id, "--server", server])
        for line in [
            "[awaiting_approval] vigil: waiting for approval", "[running] alice: approved", "running step undo: touch",
            "[succeeded] vigil: check passed",
        ] {
            #expect(audit.stdout.contains(line), "missing \(line) in \(audit.stdout)")
        }
    }
}

extension RemediateTests {
    /// The Approve button of the Slack message: only a request signed with the app's secret, from a Slack user
    /// named as an approver, lets the run go, and the audit log names that user.
    @Test func aSlackButtonApprovesOnlyForAListedSlackUser() throws {
        let fixture = try RollbackRunbook(token: "test-approval-token-0123456789", slack: true)
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        let vigil = try ServerProcess(arguments: [
            "--no-host", "--config", fixture.config.path, "--incident-webhook", receiver.url,
        ])
        try vigil.start()
        defer { vigil.stop() }
        try RollbackRunbook.deployThenStorm(on: vigil)
        let run = try #require(try vigil.firstRemediation(), "\(vigil.log())")
        let id = try #require(run["id"] as? String)
        #expect(run["state"] as? String == "awaiting_approval")

        // The message asking for approval carries the two buttons, each naming the run.
        let asked = try #require(receiver.wait { $0["event"] as? String == "remediation" }, "\(receiver.notifications)")
        let blocks = try #require(asked["blocks"] as? [[String: Any]], "\(asked)")
        let buttons = blocks.compactMap { $0["elements"] as? [[String: Any]] }.flatMap { $0 }
        #expect(buttons.map { $0["action_id"] as? String } == ["vigil_approve", "vigil_reject"], "\(blocks)")
        #expect(buttons.allSatisfy { $0["value"] as? String == id })
        #expect(buttons.first?["confirm"] != nil)

        #expect(try vigil.slackClick(run: id, user: "U0BOB") == 403)
        #expect(try vigil.slackClick(run: id, user: "U0ALICE", secret: "not-the-signing-secret-of-slack") == 401)
        #expect(try vigil.slackClick(run: id, user: "U0ALICE", age: 600) == 401)
        #expect(try vigil.slackClick(run: id, user: "U0ALICE", action: "vigil_launch") == 400)
        Thread.sleep(forTimeInterval: 1)
        #expect(try vigil.remediationState(id, reaching: "awaiting_approval") == "awaiting_approval")
        #expect(!FileManager.default.fileExists(atPath: fixture.marker.path))

        #expect(try vigil.slackClick(run: id, user: "U0ALICE") == 200)
        #expect(try vigil.remediationState(id, reaching: "succeeded", seconds: 60) == "succeeded")
        #expect(FileManager.default.fileExists(atPath: fixture.marker.path))
        #expect(try vigil.slackClick(run: id, user: "U0ALICE", action: "vigil_reject") == 409)
        let audit = try Vigil.run(["remediate", "audit", "--run", id, "--server", "http://127.0.0.1:\(vigil.port)"])
        #expect(audit.stdout.contains("[running] alice (Slack U0ALICE): approved"), "\(audit.stdout)")
    }

    @Test func slackApprovalsNeedApproversAndASecret() throws {
        let secret = RollbackRunbook.slackSecret
        for (settings, reason) in [
            (", slack_signing_secret: \(secret)", "needs remediation.slack_approvers"),
            (", slack_approvers: [U0ALICE]", "needs remediation.slack_signing_secret"),
            (
                ", slack_signing_secret: \(secret), slack_approvers: [\"alice@example.com\"]",
                "alice@example.com is not a Slack user ID"
            ),
        ] {
            let fixture = try RollbackRunbook(token: "test-approval-token-0123456789", extra: settings)
            let refused = try Vigil.run(["serve", "--no-host", "--config", fixture.config.path])
            #expect(refused.status != 0 && refused.stderr.contains(reason), "\(settings): \(refused.stderr)")
        }
    }
}

/// A runbook that rolls back the deploy behind an incident (it touches a marker file; the check is `test -e` on it),
/// high risk, and a configuration that runs it at auto-low-risk with an approval token: a run waits for a person.
struct RollbackRunbook {
    let folder: URL
    /// The file the rollback of auth-api v2.4.1 creates.
    let marker: URL
    /// The `vigil serve --config` file.
    let config: URL
    let token: String

    /// `extra` is appended to the `remediation` settings (`, key: value`).
    /// The Slack app's signing secret, set with `slack` (U0ALICE may approve).
    static let slackSecret = "8f742231b10e8888abcd99yyyzzz85a5"

    /// `extra` is appended to the `remediation` settings (`, key: value`); `slack` lets U0ALICE approve in Slack.
    init(token: String, slack: Bool = false, extra: String = "") throws {
        let extra = slack ? ", slack_signing_secret: \(Self.slackSecret), slack_approvers: [U0ALICE]\(extra)" : extra
        self.token = token
        self.folder = try Scratch.folder("vigil-rb")
        self.marker = self.folder.appendingPathComponent("auth-api-v2.4.1.rolled-back")
        let runbooks = self.folder.appendingPathComponent("runbooks.yaml")
        try Data(
            """
            runbooks:
              - name: roll-back
                match: {triggers: [deploy]}
                level: auto-high-risk
                risk: high
                steps:
                  - name: undo
                    run: [touch, "\(self.folder.path)/{{service}}-{{version}}.rolled-back"]
                verify:
                  run: [test, -e, "\(self.folder.path)/{{service}}-{{version}}.rolled-back"]
                  delay: 0
            """.utf8
        ).write(to: runbooks)
        self.config = self.folder.appendingPathComponent("vigil.yaml")
        try Data(
            "remediation: {runbooks: \(runbooks.path), level: auto-low-risk, approval_token: \(token)\(extra)}\n".utf8
        ).write(to: self.config)
    }
}

extension RollbackRunbook {
    /// A deploy of auth-api v2.4.1, then an alert storm from it and two services behind it: one incident whose
    /// trigger is the deploy.
    static func deployThenStorm(on vigil: ServerProcess) throws {
        let json = [("Content-Type", "application/json")]
        let deploy = #"{"service": "auth-api", "kind": "deploy", "version": "v2.4.1", "time": "2026-11-23T14:29:45Z"}"#
        #expect(
            try vigil.client().request("POST", "/api/v1/changes", headers: json, body: Array(deploy.utf8)).status == 202
        )
        var alerts: [String] = []
        for (index, service) in ["auth-api", "user-service", "checkout"].enumerated() {
            alerts.append(
                """
                {"status": "firing", "fingerprint": "\(service)-errors", "startsAt": "2026-11-23T14:31:\(45 + index * 4)Z",
                 "labels": {"alertname": "\(service)-errors", "service": "\(service)", "namespace": "shop"},
                 "annotations": {"summary": "\(service) error ratio above 5 %"}}
                """
            )
        }
        try IncidentTests.post(alerts, to: vigil)
    }
}

extension ServerProcess {
    /// The status of a click on a Slack button of run `run` by Slack user `user` (whose name is the ID's lower-case
    /// tail: U0ALICE is alice), signed with `secret` `age` seconds ago, as Slack sends it.
    func slackClick(
        run: String,
        user: String,
        action: String = "vigil_approve",
        age: Double = 0,
        secret: String = RollbackRunbook.slackSecret
    ) throws -> Int {
        let name = user.dropFirst(2).lowercased()
        let payload =
            #"{"type":"block_actions","user":{"id":"\#(user)","username":"\#(name)"},"actions":[{"type":"button","action_id":"\#(action)","value":"\#(run)"}]}"#
        let body = Array("payload=\(payload.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)".utf8)
        let timestamp = String(Int(Date().timeIntervalSince1970 - age))
        let signature = SHA256.hmac(key: Array(secret.utf8), Array("v0:\(timestamp):".utf8) + body)
            .map { String(format: "%02x", $0) }.joined()
        return try self.client().request(
            "POST",
            "/api/v1/slack/interactions",
            headers: [
                ("Content-Type", "application/x-www-form-urlencoded"), ("X-Slack-Request-Timestamp", timestamp),
                ("X-Slack-Signature", "v0=\(signature)"),
            ],
            body: body
        ).status
    }

    /// The newest remediation run, once there is one (nil after `seconds`); an error answer (no worker leads
    /// for a moment) is waited out too.
    func firstRemediation(seconds: Double = 60) throws -> [String: Any]? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let run = ((try? self.json("/api/v1/remediations")) as? [[String: Any]])?.first { return run }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return nil
    }

    /// The state of run `id` once it is `wanted`, or the last one seen after `seconds`.
    func remediationState(_ id: String, reaching wanted: String, seconds: Double = 30) throws -> String {
        var state = ""
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline && state != wanted {
            Thread.sleep(forTimeInterval: 0.2)
            state = (try self.json("/api/v1/remediations/\(id)") as? [String: Any])?["state"] as? String ?? ""
        }
        return state
    }
}
