// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Glibc
import VigilTestSupport

/// A real HTTP server (Python's http.server) on a free loopback port that keeps every POSTed JSON body, as a
/// Slack incoming webhook or a generic webhook receiver would.
final class WebhookReceiver {
    let port: Int
    let received: URL
    private let process = Process()

    init() throws {
        let folder = try Scratch.folder("vigil-hook")
        self.received = folder.appendingPathComponent("received.jsonl")
        self.port = try ServerProcess.freePort()
        self.process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        self.process.arguments = [
            "-c",
            """
            import http.server, sys
            class H(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    body = self.rfile.read(int(self.headers['Content-Length']))
                    with open(sys.argv[1], 'ab') as f: f.write(body + b'\\n')
                    self.send_response(200); self.end_headers()
                def log_message(self, *a): pass
            http.server.HTTPServer(('127.0.0.1', int(sys.argv[2])), H).serve_forever()
            """,
            self.received.path, String(self.port),
        ]
        // Not the test runner's pipes: a receiver left behind must not keep `swift test` waiting.
        self.process.standardOutput = FileHandle.nullDevice
        self.process.standardError = FileHandle.nullDevice
        try self.process.run()
    }

    /// The URL to give `--incident-webhook`.
    var url: String { "http://127.0.0.1:\(self.port)/hook" }

    /// Every body received so far, parsed.
    var notifications: [[String: Any]] {
        ((try? String(contentsOf: self.received, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// Waits up to `seconds` for a notification that `matches`.
    func wait(seconds: Double = 20, for matches: ([String: Any]) -> Bool) -> [String: Any]? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let found = self.notifications.first(where: matches) { return found }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return nil
    }

    /// SIGKILL: a child of the test runner may inherit SIGTERM blocked, and the receiver keeps no state.
    func stop() {
        guard self.process.isRunning else { return }
        kill(self.process.processIdentifier, SIGKILL)
        self.process.waitUntilExit()
    }
}
