// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import VigilCore
import VigilRemediation
import VigilTestSupport

@Suite struct SystemExecutorTests {
    @Test func aCommandsExitStatusAndOutputAreItsResult() async {
        let executor = SystemExecutor(timeoutSeconds: 10)
        let passed = await executor.perform(.command(["sh", "-c", "echo restarted; echo second line"]))
        #expect(passed.outcome == Outcome(true, "exit 0: restarted | second line"))
        let failed = await executor.perform(.command(["sh", "-c", "echo no such deployment >&2; exit 3"]))
        #expect(failed.outcome == Outcome(false, "exit 3: no such deployment"))
        let missing = await executor.perform(.command(["vigil-no-such-program", "x"]))
        #expect(missing.outcome == Outcome(false, "vigil-no-such-program: not found on PATH"))
    }

    @Test func aFilledInValueReachesTheProgramAsOneArgumentAndNoShellRunsIt() async throws {
        let marker = Scratch.path("vigil-injected")
        let hostile = "pay; touch \(marker.path)"
        let action = try #require(
            Runbook.Action.command(["printf", "[%s]", "{{service}}"]).filled(with: ["service": hostile])
        )
        let result = await SystemExecutor(timeoutSeconds: 10).perform(action)
        #expect(result.outcome == Outcome(true, "exit 0: [\(hostile)]"))
        #expect(!FileManager.default.fileExists(atPath: marker.path))
    }

    @Test func aCommandThatHangsIsKilledAtItsTimeoutWithWhatItStarted() async throws {
        // The child ignores SIGTERM, as a careless script might, and starts a grandchild that would outlive it.
        let result = await SystemExecutor(timeoutSeconds: 1).perform(
            .command(["sh", "-c", "trap '' TERM; echo waiting; sleep 37.25; echo never"])
        )
        #expect(result.outcome == Outcome(false, "killed after 1 s: waiting"))
        // Neither the script nor its sleep is left.
        let processes = try FileManager.default.contentsOfDirectory(atPath: "/proc").filter { Int($0) != nil }
        let left = processes.filter { pid in
            let arguments = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
            return String(decoding: arguments, as: UTF8.self).contains("37.25")
        }
        #expect(left.isEmpty, "still running: \(left)")
        // Seen to end at its deadline, not when the sleep would have: a grandchild holding the status pipe would
        // have kept it waiting (measured on Foundation's thread, so a busy test machine does not move it).
        #expect(result.seconds < 20, "\(result.seconds) s")
    }

    @Test func longOutputIsCutForTheAuditLog() async {
        let result = await SystemExecutor(timeoutSeconds: 10, keptOutputBytes: 16).perform(
            .command(["sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x"])
        )
        #expect(result.succeeded && result.detail == "exit 0: xxxxxxxxxxxxxxxx … (100000 bytes)", "\(result)")
    }

    @Test func anHTTPActionSendsItsBodyAndA2xxIsSuccess() async throws {
        let receiver = try HTTPReceiver()
        defer { receiver.stop() }
        let executor = SystemExecutor(timeoutSeconds: 10)
        let posted = await executor.perform(
            .http(
                method: "POST",
                url: "http://127.0.0.1:\(receiver.port)/annotations",
                body: "{\"text\":\"rolled back\"}"
            )
        )
        #expect(posted.outcome == Outcome(true, "answered 201: noted"))
        let failed = await executor.perform(
            .http(method: "GET", url: "http://127.0.0.1:\(receiver.port)/fail", body: nil)
        )
        #expect(failed.outcome == Outcome(false, "answered 503: noted"))
        #expect(
            receiver.requests() == [
                "POST /annotations application/json {\"text\":\"rolled back\"}", "GET /fail  ",
            ]
        )
        let refused = await executor.perform(.http(method: "GET", url: "http://127.0.0.1:1/", body: nil))
        #expect(!refused.succeeded && refused.detail.hasPrefix("GET http://127.0.0.1:1/:"))
    }
}

/// A real HTTP server (Python's http.server) on a free loopback port that answers 201 to POST, 503 to /fail, and
/// records each request as "METHOD PATH CONTENT-TYPE BODY".
final class HTTPReceiver: Sendable {
    let port: Int
    let log: URL
    private let process: Process

    init() throws {
        self.log = Scratch.path("vigil-http")
        let script = """
            import http.server, sys
            log = open(sys.argv[1], "a", buffering=1)
            class H(http.server.BaseHTTPRequestHandler):
                def handle_one(self):
                    body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                    log.write(f"{self.command} {self.path} {self.headers.get('Content-Type') or ''} {body}\\n")
                    code = 503 if self.path == "/fail" else 201 if self.command == "POST" else 200
                    self.send_response(code); self.send_header("Content-Length", "5"); self.end_headers()
                    self.wfile.write(b"noted")
                do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_one
                def log_message(self, *args): pass
            server = http.server.HTTPServer(("127.0.0.1", 0), H)
            print(server.server_address[1], flush=True)
            server.serve_forever()
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, self.log.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        var line = Data()
        while !line.contains(0x0A) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            process.terminate()
            throw CocoaError(.fileReadCorruptFile)
        }
        self.port = port
    }

    func requests() -> [String] {
        ((try? String(contentsOf: self.log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func stop() {
        // SIGKILL: a test runner's child may inherit SIGTERM blocked.
        kill(self.process.processIdentifier, SIGKILL)
        self.process.waitUntilExit()
        try? FileManager.default.removeItem(at: self.log)
    }
}

/// A result without its duration, for comparing.
struct Outcome: Equatable {
    var succeeded: Bool
    var detail: String

    init(_ succeeded: Bool, _ detail: String) {
        self.succeeded = succeeded
        self.detail = detail
    }
}

extension ActionResult {
    var outcome: Outcome { Outcome(self.succeeded, self.detail) }
}
