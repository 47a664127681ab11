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
