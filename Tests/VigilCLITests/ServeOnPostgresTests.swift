// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import VigilServer
import VigilTestSupport

/// Two `vigil serve` workers sharing one real PostgreSQL: each takes its own input and keeps its own
/// checkpoint, and either one's API answers for both.
@Suite(.serialized) struct ServeOnPostgresTests {
    @Test func twoWorkersShareOneDatabase() throws {
        let postgres = try PostgresServer()
        let url = try postgres.createDatabase()
        let first = try ServerProcess(arguments: [
            "--postgres", url, "--worker", "vigil-a", "--no-host", "--shards", "2",
        ])
        let second = try ServerProcess(arguments: ["--postgres", url, "--worker", "vigil-b", "--no-host"])
        try first.start()
        try second.start()
        defer {
            first.stop()
            second.stop()
        }

        // Logs go to the first worker, change events to the second.
        #expect(try ServeTests.push(port: first.port, seed: 1) == 198)
        let change = try second.client().request(
            "POST",
            "/api/v1/changes",
            headers: [("Content-Type", "application/json")],
            body: Array(#"{"service":"svc-1","kind":"deploy","version":"v7","time":"2026-11-23T14:31:45Z"}"#.utf8)
        )
        #expect(change.status == 202)
        try first.waitUntilDrained()
        try second.waitUntilDrained()
        Thread.sleep(forTimeInterval: 1.5)  // stored on the next tick

        // Either worker answers for both.
        for server in [first, second] {
            let templates = try server.json("/api/v1/templates?limit=100") as? [[String: Any]] ?? []
            #expect(Set(templates.compactMap { $0["service"] as? String }) == ["svc-0", "svc-1", "svc-2"])
            let changes = try server.json("/api/v1/changes") as? [[String: Any]] ?? []
            #expect(changes.compactMap { $0["version"] as? String } == ["v7"])
        }
        #expect(try postgres.psql(url.databaseName, "SELECT worker FROM checkpoints ORDER BY worker") == "")

        // A second server under a taken name refuses to start, and says why.
        let impostor = try ServerProcess(arguments: ["--postgres", url, "--worker", "vigil-a", "--no-host"])
        #expect(throws: (any Error).self) { try impostor.start() }
        #expect(impostor.log().contains("another worker named vigil-a is using postgres://vigil@127.0.0.1"))

        // A clean stop checkpoints under the worker's name; the restart resumes from it, the other is untouched.
        #expect(first.stop() == 0)
        #expect(try postgres.psql(url.databaseName, "SELECT worker FROM checkpoints ORDER BY worker") == "vigil-a\n")
        try first.start()
        #expect(try first.stats("logs").accepted == 198)
        #expect(try second.stats("logs").accepted == 0)
        #expect(try second.stats("changes").accepted == 1)
        // The stop wrote every line the first worker held; the second sees them all.
        let templates = try second.json("/api/v1/templates?limit=100") as? [[String: Any]] ?? []
        #expect(templates.compactMap { $0["count"] as? Int }.reduce(0, +) == 198)
    }

    /// Input split over two workers becomes one incident on both; one worker, the leader, tells the webhook; when
    /// it dies the other takes the lead, and tells of the incident's next change but not again of its opening.
    @Test func oneWorkerLeadsAndAnotherTakesOverWhenItDies() throws {
        let postgres = try PostgresServer()
        let url = try postgres.createDatabase()
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        let workers = try ["vigil-a", "vigil-b"].map { name in
            try ServerProcess(arguments: [
                "--postgres", url, "--worker", name, "--no-host", "--incident-webhook", receiver.url,
            ])
        }
        for worker in workers { try worker.start() }
        defer { for worker in workers { worker.stop() } }
        let leads = "this worker now leads"
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline, !workers.contains(where: { $0.log().contains(leads) }) {
            Thread.sleep(forTimeInterval: 0.2)
        }
        let leaders = workers.filter { $0.log().contains(leads) }
        try #require(leaders.count == 1, "exactly one worker leads")
        let leader = leaders[0]
        let follower = workers.first { $0 !== leader }!
        #expect(try leader.client().request("GET", "/metrics").text.contains("vigil_leader 1"))
        #expect(try follower.client().request("GET", "/metrics").text.contains("vigil_leader 0"))

        // The deploy reaches one worker, the alert storm the other.
        let json = [("Content-Type", "application/json")]
        let deploy = #"{"service": "auth-api", "kind": "deploy", "version": "v2.4.1", "time": "2026-11-23T14:29:45Z"}"#
        #expect(
            try leader.client().request("POST", "/api/v1/changes", headers: json, body: Array(deploy.utf8)).status
                == 202
        )
        let alerts = ["auth-api", "user-service", "checkout"].enumerated().map { index, service in
            """
            {"status": "firing", "fingerprint": "\(service)-errors", "startsAt": "2026-11-23T14:31:\(45 + index * 4)Z",
             "labels": {"alertname": "\(service)-errors", "service": "\(service)", "namespace": "shop"}}
            """
        }
        let payload = #"{"version": "4", "status": "firing", "alerts": ["# + alerts.joined(separator: ",") + "]}"
        let answer = try follower.client().request(
            "POST",
            "/api/v1/alerts/alertmanager",
            headers: json,
            body: Array(payload.utf8)
        )
        #expect(answer.status == 200)

        // Both workers hold the whole incident: the storm from one, the deploy that triggered it from the other.
        var ids: [String] = []
        for worker in workers {
            // Each worker reads what the other stored every 2 s.
            var incidents: [[String: Any]] = []
            var trigger: [String: Any]?
            let until = Date().addingTimeInterval(20)
            while Date() < until {
                incidents = try worker.json("/api/v1/incidents") as? [[String: Any]] ?? []
                if incidents.count == 1, incidents[0]["symptomCount"] as? Int == 3,
                    let id = incidents[0]["id"] as? String
                {
                    let incident = try worker.json("/api/v1/incidents/\(id)") as? [String: Any]
                    trigger = incident?["trigger"] as? [String: Any]
                    if trigger != nil { break }
                }
                Thread.sleep(forTimeInterval: 0.2)
            }
            try #require(incidents.count == 1, "\(incidents)")
            #expect(incidents[0]["symptomCount"] as? Int == 3)
            #expect(trigger?["version"] as? String == "v2.4.1", "\(incidents)")
            ids.append(try #require(incidents[0]["id"] as? String))
        }
        #expect(Set(ids).count == 1, "both workers name the incident alike")

        // The webhook hears about it once: from the leader alone.
        let about = { (body: [String: Any]) in (body["incident"] as? [String: Any])?["id"] as? String == ids[0] }
        try #require(receiver.wait(seconds: 15, for: about) != nil)
        Thread.sleep(forTimeInterval: 5)  // both workers have had two rounds of notifications since
        #expect(receiver.notifications.filter(about).count == 1, "\(receiver.notifications)")

        // The leader dies and the follower takes the lead. It knows from the database that the incident was
        // announced, so it stays quiet about it until the incident changes.
        leader.crash()
        let taken = Date().addingTimeInterval(20)
        while Date() < taken, !follower.log().contains(leads) { Thread.sleep(forTimeInterval: 0.2) }
        #expect(follower.log().contains(leads))
        Thread.sleep(forTimeInterval: 4.5)  // two rounds of notifications as the leader
        #expect(receiver.notifications.filter(about).count == 1, "\(receiver.notifications)")
        let payment = """
            {"version": "4", "status": "firing", "alerts": [{"status": "firing", "fingerprint": "payment-errors",
             "startsAt": "2026-11-23T14:32:05Z", "labels": {"alertname": "payment-errors", "service": "payment",
             "namespace": "shop"}}]}
            """
        #expect(
            try follower.client().request(
                "POST",
                "/api/v1/alerts/alertmanager",
                headers: json,
                body: Array(payment.utf8)
            )
            .status == 200
        )
        let changed = receiver.wait(seconds: 15) { about($0) && $0["event"] as? String == "changed" }
        #expect(changed != nil, "\(receiver.notifications)")
        #expect(receiver.notifications.filter(about).count == 2, "\(receiver.notifications)")
    }

    /// Remediation runs live on the leader; a follower forwards the remediation API to the leader's advertised
    /// address, so a run can be listed, approved and followed on any worker.
    @Test func aFollowerForwardsRemediationCallsToTheLeader() throws {
        // Everything goes to the follower; the leader plans the run from what the follower stored.
        let cluster = try RunbookCluster()
        defer { cluster.stop() }
        let (leader, follower, fixture) = (cluster.leader, cluster.follower, cluster.fixture)
        let json = [("Content-Type", "application/json")]
        let run = try #require(try follower.firstRemediation(), "\(leader.log())")
        let id = try #require(run["id"] as? String)
        #expect(run["state"] as? String == "awaiting_approval" && run["service"] as? String == "auth-api")

        // The leader checks the token and the approver, whichever worker was asked.
        let path = "/api/v1/remediations/\(id)/approve"
        let body = Array(#"{"by": "alice"}"#.utf8)
        let wrong = try follower.client().request(
            "POST",
            path,
            headers: json + [("Authorization", "Bearer not-the-token")],
            body: body
        )
        #expect(wrong.status == 401 && wrong.header("www-authenticate") == "Bearer")
        // A Slack click is forwarded with its signature: the leader verifies it, then refuses the unlisted user.
        #expect(try follower.slackClick(run: id, user: "U0BOB") == 403)
        #expect(try follower.slackClick(run: id, user: "U0BOB", secret: "not-the-signing-secret-of-slack") == 401)
        let approved = try follower.client().request(
            "POST",
            path,
            headers: json + [("Authorization", "Bearer \(fixture.token)")],
            body: body
        )
        #expect(approved.status == 200, "\(approved.text)")
        #expect(try follower.remediationState(id, reaching: "succeeded") == "succeeded")
        #expect(FileManager.default.fileExists(atPath: fixture.marker.path))
        let audit = try follower.json("/api/v1/audit?run=\(id)") as? [[String: Any]] ?? []
        #expect(audit.contains { $0["actor"] as? String == "alice" }, "\(audit)")
    }

    /// A leader dies with a run waiting for approval. The worker that takes the lead takes the run over from the
    /// database (it is approved there and runs), reads the audit log, and plans no second run for the incident.
    @Test func aRunWaitingForApprovalPassesToTheNewLeader() throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        let cluster = try RunbookCluster(["--incident-webhook", receiver.url])
        defer { cluster.stop() }
        let (leader, follower, fixture) = (cluster.leader, cluster.follower, cluster.fixture)
        let run = try #require(try leader.firstRemediation(), "\(leader.log())")
        let id = try #require(run["id"] as? String)
        #expect(run["state"] as? String == "awaiting_approval")

        // People were asked once for the approval.
        let asking = { (body: [String: Any]) in
            let run = body["run"] as? [String: Any]
            return run?["id"] as? String == id && run?["state"] as? String == "awaiting_approval"
        }
        #expect(receiver.wait(seconds: 15, for: asking) != nil)
        // The leader records what it announced once the webhook took it: a crash in between asks again (at least
        // once, rather than never). Crash it after the record.
        let recorded = "SELECT state FROM announcements WHERE incident = '\(id)'"
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline, try cluster.postgres.psql(cluster.database, recorded) != "awaiting_approval\n" {
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(try cluster.postgres.psql(cluster.database, recorded) == "awaiting_approval\n")

        leader.crash()
        let taken = try #require(try follower.firstRemediation(seconds: 20), "\(follower.log())")
        #expect(taken["id"] as? String == id && taken["state"] as? String == "awaiting_approval")
        Thread.sleep(forTimeInterval: 4.5)  // two rounds of remediation as the leader
        #expect((try follower.json("/api/v1/remediations") as? [[String: Any]])?.count == 1, "no second run")
        // The new leader knows they were asked: it does not ask again.
        #expect(receiver.notifications.filter(asking).count == 1, "\(receiver.notifications)")
        let approved = try follower.client().request(
            "POST",
            "/api/v1/remediations/\(id)/approve",
            headers: [("Content-Type", "application/json"), ("Authorization", "Bearer \(fixture.token)")],
            body: Array(#"{"by": "alice"}"#.utf8)
        )
        #expect(approved.status == 200, "\(approved.text)")
        #expect(try follower.remediationState(id, reaching: "succeeded") == "succeeded")
        #expect(FileManager.default.fileExists(atPath: fixture.marker.path))
        let ended = receiver.wait(seconds: 15) {
            let run = $0["run"] as? [String: Any]
            return run?["id"] as? String == id && run?["state"] as? String == "succeeded"
        }
        #expect(ended != nil, "\(receiver.notifications)")
        let audit = try follower.json("/api/v1/audit?run=\(id)") as? [[String: Any]] ?? []
        #expect(
            audit.last?["state"] as? String == "awaiting_approval"
                && !audit.contains { $0["state"] as? String == "failed" },
            "\(audit)"
        )
        #expect(audit.filter { $0["state"] as? String == "awaiting_approval" }.count == 1, "\(audit)")
    }

    /// A write the database refuses is held and retried, and no checkpoint is written past it: after a crash the
    /// write-ahead log still holds the input, and it is stored once the database takes it.
    @Test func aRefusedWriteKeepsItsInputInTheLog() throws {
        let postgres = try PostgresServer()
        let url = try postgres.createDatabase()
        let worker = try ServerProcess(arguments: [
            "--postgres", url, "--worker", "vigil-a", "--no-host", "--checkpoint-seconds", "1",
        ])
        try worker.start()
        _ = try postgres.psql(url.databaseName, "ALTER TABLE changes RENAME TO changes_away")
        let change = #"{"service":"auth","kind":"deploy","version":"v3","time":"2026-11-23T14:31:45Z"}"#
        let answer = try worker.client().request(
            "POST",
            "/api/v1/changes",
            headers: [("Content-Type", "application/json")],
            body: Array(change.utf8)
        )
        #expect(answer.status == 202)
        Thread.sleep(forTimeInterval: 3.5)  // writes fail and are retried; checkpoints come due
        #expect(worker.log().contains("store write failed (will retry)"))
        worker.crash()
        _ = try postgres.psql(url.databaseName, "ALTER TABLE changes_away RENAME TO changes")
        try worker.start()
        defer { worker.stop() }
        var versions: [String] = []
        let deadline = Date().addingTimeInterval(10)
        while versions.isEmpty, Date() < deadline {
            versions = (try worker.json("/api/v1/changes") as? [[String: Any]] ?? []).compactMap {
                $0["version"] as? String
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        #expect(versions == ["v3"])
    }

    @Test func aBadPostgresURLIsRefusedBeforeStarting() throws {
        let server = try ServerProcess(arguments: ["--postgres", "postgres://localhost/vigil", "--no-host"])
        #expect(throws: (any Error).self) { try server.start() }
        #expect(server.log().contains("names no user"))
        let alone = try ServerProcess(arguments: ["--worker", "a", "--no-host"])
        #expect(throws: (any Error).self) { try alone.start() }
        #expect(alone.log().contains("--worker needs --postgres"))
    }
}

extension String {
    /// The database a test URL names.
    fileprivate var databaseName: String {
        String(self.split(separator: "/").last!.split(separator: "?").first!)
    }
}

/// Two workers on a fresh database, with the rollback runbook waiting for approval at auto-low-risk; a deploy of
/// auth-api and an alert storm of it and two services depending on it are sent to the one that does not lead.
struct RunbookCluster {
    let postgres: PostgresServer
    let fixture: RollbackRunbook
    let leader: ServerProcess
    let follower: ServerProcess
    /// The workers' database.
    let database: String

    /// `arguments` go to both workers.
    init(_ arguments: [String] = []) throws {
        self.postgres = try PostgresServer()
        let url = try self.postgres.createDatabase()
        self.database = url.databaseName
        self.fixture = try RollbackRunbook(token: "test-approval-token-0123456789", slack: true)
        let config = self.fixture.config.path
        let workers = try ["vigil-a", "vigil-b"].map { name in
            try ServerProcess(
                arguments: ["--postgres", url, "--worker", name, "--no-host", "--config", config] + arguments
            )
        }
        for worker in workers { try worker.start() }
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline, !workers.contains(where: { $0.log().contains("this worker now leads") }) {
            Thread.sleep(forTimeInterval: 0.2)
        }
        let leader = workers.first { $0.log().contains("this worker now leads") }
        if leader == nil { for worker in workers { worker.stop() } }
        try #require(leader != nil, "no worker took the lead within 15 s")
        self.leader = leader!
        self.follower = workers.first { $0 !== leader }!

        let json = [("Content-Type", "application/json")]
        let deploy = #"{"service": "auth-api", "kind": "deploy", "version": "v2.4.1", "time": "2026-11-23T14:29:45Z"}"#
        #expect(
            try self.follower.client().request("POST", "/api/v1/changes", headers: json, body: Array(deploy.utf8))
                .status == 202
        )
        try IncidentTests.post(
            ["auth-api", "user-service", "checkout"].enumerated().map { index, service in
                """
                {"status": "firing", "fingerprint": "\(service)-errors", "startsAt": "2026-11-23T14:31:\(45 + index * 4)Z",
                 "labels": {"alertname": "\(service)-errors", "service": "\(service)", "namespace": "shop"}}
                """
            },
            to: self.follower
        )
    }

    func stop() {
        self.leader.stop()
        self.follower.stop()
    }
}
