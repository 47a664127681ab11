// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import VigilServer
import VigilTestSupport

/// The language-model fallback of the format detector (`vigil analyze|parse --llm-url`): asked once per format,
/// the answer checked against the file and cached.
@Suite struct FormatHelpTests {
    /// Lines whose header (host, service) opens with plain words, which the detector alone reads as plain text.
    static func plainLog(seed: Int, lines: Int = 120) throws -> URL {
        let hosts = ["edge-01", "edge-02", "edge-07"]
        let services = ["billing", "catalog", "search"]
        var text = ""
        for index in 0..<lines {
            let n = (index * 7919 + seed * 104_729) % 9000 + 1000
            let messages = [
                "accepted payment \(n) for order \(String(n * 31, radix: 16)) in \(n % 900) ms",
                "cache miss for sku \(n)", "user \(n) logged in as ops\(n)@example.com",
                "request \(String(n, radix: 16)) finished in \(n % 700) ms",
            ]
            text +=
                "\(hosts[(index + seed) % 3]) \(services[(index * 5 + seed) % 3]) \(messages[(index * 3 + seed) % 4])\n"
        }
        let url = Scratch.path("vigil-plain", suffix: "log")
        try Data(text.utf8).write(to: url)
        return url
    }

    /// An OpenAI-compatible model that always gives `answer` (Python's http.server on a free port); it records
    /// every chat request's body, one per line.
    final class ScriptedModel {
        let port: Int
        let requests: URL
        private let process = Process()

        init(answer: String) throws {
            self.port = try ServerProcess.freePort()
            self.requests = Scratch.path("vigil-model")
            self.process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            self.process.arguments = [
                "-c",
                """
                import http.server, json, sys
                log, answer = sys.argv[1], sys.argv[3]
                class H(http.server.BaseHTTPRequestHandler):
                    def reply(self, body):
                        data = json.dumps(body).encode()
                        self.send_response(200); self.send_header('Content-Type', 'application/json')
                        self.send_header('Content-Length', str(len(data))); self.end_headers(); self.wfile.write(data)
                    def do_GET(self):
                        self.reply({'object': 'list', 'data': [{'id': 'scripted'}]})
                    def do_POST(self):
                        body = self.rfile.read(int(self.headers['Content-Length'])).decode()
                        with open(log, 'a') as f: f.write(json.dumps(json.loads(body)) + '\\n')
                        self.reply({'model': 'scripted', 'choices': [{'message': {'role': 'assistant', 'content': answer},
                                    'finish_reason': 'stop'}]})
                    def log_message(self, *a): pass
                http.server.HTTPServer(('127.0.0.1', int(sys.argv[2])), H).serve_forever()
                """,
                self.requests.path, String(self.port), answer,
            ]
            self.process.standardOutput = FileHandle.nullDevice
            self.process.standardError = FileHandle.nullDevice
            try self.process.run()
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                if (try? SimpleHTTPClient(port: self.port).request("GET", "/v1/models").status) == 200 { return }
                Thread.sleep(forTimeInterval: 0.1)
            }
            self.stop()
            throw ServerError(description: "the scripted model did not start")
        }

        var chatRequests: [String] {
            ((try? String(contentsOf: self.requests, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        func stop() {
            guard self.process.isRunning else { return }
            kill(self.process.processIdentifier, SIGKILL)
            self.process.waitUntilExit()
        }
    }

    static func cache() -> URL {
        Scratch.path("vigil-formats", suffix: "json")
    }

    @Test func aFormatIsLearnedOnceCheckedCachedAndUsedWithoutTheModel() throws {
        let model = try ScriptedModel(answer: #"Sure. {"header_fields": 2}"#)
        defer { model.stop() }
        let cache = Self.cache()
        let first = try Self.plainLog(seed: 1)
        let url = "http://127.0.0.1:\(model.port)/v1"

        let plain = try Vigil.run(["analyze", first.path])
        #expect(plain.stdout.contains("plain text"), "\(plain.stdout)")
        let learned = try Vigil.run(["analyze", first.path, "--llm-url", url, "--format-cache", cache.path])
        #expect(learned.status == 0, "\(learned.stderr)")
        #expect(learned.stdout.contains("text header [word word]"), "\(learned.stdout)")
        #expect(learned.stderr.contains("scripted read the header as 2 fields [word word]"), "\(learned.stderr)")
        // What was sent was masked: the sample's e-mail addresses never left.
        let sent = model.chatRequests
        #expect(sent.count == 1)
        #expect(!(sent.first ?? "").contains("@example.com") && (sent.first ?? "").contains("edge-0"))
        let stored = try JSONSerialization.jsonObject(with: Data(contentsOf: cache)) as? [String: [String: Any]] ?? [:]
        #expect(stored.count == 1 && stored.values.first?["headerFields"] as? Int == 2, "\(stored)")

        // Another file of the format: read with the cached header, and the model is not asked again.
        let second = try Self.plainLog(seed: 2)
        let again = try Vigil.run(["analyze", second.path, "--llm-url", url, "--format-cache", cache.path])
        #expect(again.stdout.contains("text header [word word]") && again.stderr.isEmpty, "\(again.stderr)")
        let parsed = try Vigil.run(["parse", "--output", "csv", second.path, "--format-cache", cache.path])
        let templates = Set(
            parsed.stdout.split(separator: "\n").dropFirst().map {
                $0.split(separator: ",").dropFirst(2).joined(separator: ",")
            }
        )
        #expect(!templates.isEmpty && templates.allSatisfy { !$0.hasPrefix("edge-") }, "\(templates)")
        #expect(model.chatRequests.count == 1)

        // vigil serve reads the same cache: a stream of that layout has its header split off before mining.
        let vigil = try ServerProcess(arguments: ["--no-host", "--log-formats", cache.path])
        try vigil.start()
        defer { vigil.stop() }
        let now = Int64(Date().timeIntervalSince1970) * 1_000_000_000
        let lines = try String(contentsOf: second, encoding: .utf8).split(separator: "\n").map(String.init)
        try vigil.push(lines: lines, service: "edge-app", start: now)
        var texts: [String] = []
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline && texts.isEmpty {
            let stored = try vigil.json("/api/v1/templates?service=edge-app") as? [[String: Any]] ?? []
            texts = stored.compactMap { $0["text"] as? String }
            if texts.isEmpty { Thread.sleep(forTimeInterval: 0.2) }
        }
        #expect(!texts.isEmpty && texts.allSatisfy { !$0.hasPrefix("edge-") && !$0.hasPrefix("<*> <*>") }, "\(texts)")
    }

    @Test func anAnswerThatDoesNotFitTheFileIsRefused() throws {
        let model = try ScriptedModel(answer: #"{"header_fields": 9}"#)
        defer { model.stop() }
        let cache = Self.cache()
        let log = try Self.plainLog(seed: 3)
        let result = try Vigil.run([
            "analyze", log.path, "--llm-url", "http://127.0.0.1:\(model.port)/v1", "--format-cache", cache.path,
        ])
        #expect(result.status == 0 && result.stdout.contains("plain text"))
        #expect(result.stderr.contains("a header of 9 fields fits"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cache.path))
    }

    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: llmPython.path)
                || ProcessInfo.processInfo.environment["CI"] != nil,
            "needs .build/llm-venv (scripts/test installs it)"
        )
    )
    func aRealModelIsAskedAndItsAnswerCheckedEitherWay() throws {
        let model = try LLMServerProcess()
        defer { model.stop() }
        let cache = Self.cache()
        let log = try Self.plainLog(seed: 4)
        let result = try Vigil.run([
            "analyze", log.path, "--llm-url", "http://127.0.0.1:\(model.port)/v1", "--format-cache", cache.path,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        // SmolLM2-135M is a protocol fixture: whatever it says is checked, and only an answer that fits is kept.
        if result.stderr.contains("was not used") {
            #expect(result.stdout.contains("plain text"))
            #expect(!FileManager.default.fileExists(atPath: cache.path))
        } else {
            #expect(result.stderr.contains("read the header as"), "\(result.stderr)")
            #expect(result.stdout.contains("text header ["))
            #expect(FileManager.default.fileExists(atPath: cache.path))
        }
    }
}
