// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Glibc
import Testing
import VigilCore
import VigilLLM
import VigilServer

let llmPython = Vigil.packageRoot.appendingPathComponent(".build/llm-venv/bin/python")

/// `vigil ask` against a real `vigil serve` holding an incident: by rules, with what a model would be sent
/// shown (masked), and through a real llama.cpp server (scripts/llm-server, SmolLM2-135M) speaking the OpenAI
/// chat API. The 135M model writes poor answers, so those tests check the protocol and the fallbacks, not prose.
@Suite(.serialized) struct AskTests {
    /// A deploy, then an alert storm whose summaries carry an e-mail address.
    static func serverWithAnIncident() throws -> ServerProcess {
        let vigil = try ServerProcess(arguments: ["--no-host"])
        try vigil.start()
        let client = vigil.client()
        let json = [("Content-Type", "application/json")]
        let deploy = #"{"service": "auth-api", "kind": "deploy", "version": "v2.4.1", "time": "2026-11-23T14:29:45Z"}"#
        _ = try client.request("POST", "/api/v1/changes", headers: json, body: Array(deploy.utf8))
        let alerts = ["auth-api", "user-service", "checkout"].enumerated().map { index, service in
            """
            {"status": "firing", "fingerprint": "\(service)-errors", "startsAt": "2026-11-23T14:31:\(45 + 4 * index)Z",
             "labels": {"alertname": "\(service)-errors", "service": "\(service)", "namespace": "shop"},
             "annotations": {"summary": "\(service) errors; first report from oncall.lead@example.com"}}
            """
        }
        let storm = #"{"version": "4", "status": "firing", "alerts": ["# + alerts.joined(separator: ",") + "]}"
        _ = try client.request("POST", "/api/v1/alerts/alertmanager", headers: json, body: Array(storm.utf8))
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let incidents = try vigil.json("/api/v1/incidents") as? [[String: Any]] ?? []
            if incidents.first?["symptomCount"] as? Int == 3 { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return vigil
    }

    static func ask(_ arguments: [String]) throws -> (Vigil.Result, [String: Any]) {
        let result = try Vigil.run(["ask"] + arguments + ["--output", "json"])
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
        return (result, object)
    }

    @Test func rulesAnswerFromTheServersFactsAndShowWhatAModelWouldBeSent() throws {
        let vigil = try Self.serverWithAnIncident()
        defer { vigil.stop() }
        let server = "http://127.0.0.1:\(vigil.port)"

        let (result, answer) = try Self.ask(["why is checkout failing?", "--server", server])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(answer["answeredBy"] as? String == "rules")
        #expect(answer["intent"] as? String == "cause" && answer["service"] as? String == "checkout")
        let text = answer["answer"] as? String ?? ""
        #expect(text.hasPrefix("checkout is affected, but most likely as a symptom"), "\(text)")
        #expect(text.contains("points at auth-api") && text.contains("Roll back the deploy v2.4.1 of auth-api"))
        #expect((answer["evidence"] as? [String])?.first?.hasPrefix("incident [") == true)

        // The text report says how it was answered.
        let report = try Vigil.run(["ask", "what", "changed?", "--server", server])
        #expect(report.stdout.contains("1 change recorded; the latest: deploy v2.4.1 of auth-api"), "\(report.stdout)")
        #expect(report.stdout.contains("Answered by Vigil's rules"))

        // What a model would get: the facts and the question, the e-mail masked; nothing is sent.
        let prompt = try Vigil.run(["ask", "is oncall.lead@example.com paged?", "--server", server, "--show-prompt"])
        #expect(prompt.status == 0)
        #expect(prompt.stdout.hasPrefix("--- system\nYou are Vigil"))
        #expect(prompt.stdout.contains("Question: is <email> paged?"))
        #expect(prompt.stdout.contains("incident ["))
        #expect(!prompt.stdout.contains("oncall.lead@example.com"), "\(prompt.stdout)")

        // A model that is not there: the rules answer, and stderr says why.
        let port = try ServerProcess.freePort()
        let (down, fallback) = try Self.ask([
            "what should I do?", "--server", server, "--llm-url", "http://127.0.0.1:\(port)/v1", "--llm-model", "m",
        ])
        #expect(down.status == 0)
        #expect(fallback["answeredBy"] as? String == "rules")
        #expect((fallback["answer"] as? String)?.contains("Roll back the deploy v2.4.1 of auth-api") == true)
        #expect((fallback["llmError"] as? String)?.hasPrefix("cannot reach the LLM") == true)
        #expect(down.stderr.contains("answering by rules instead"))
    }

    @Test func noServerIsAClearError() throws {
        let port = try ServerProcess.freePort()
        let result = try Vigil.run(["ask", "status?", "--server", "http://127.0.0.1:\(port)"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot reach vigil serve at http://127.0.0.1:\(port)"), "\(result.stderr)")
        #expect(try Vigil.run(["ask", " "]).status != 0)
    }

    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: llmPython.path)
                || ProcessInfo.processInfo.environment["CI"] != nil,
            "needs .build/llm-venv (scripts/test creates it; in CI a missing venv fails the test)"
        )
    )
    func aRealModelAnswersThroughTheOpenAIChatAPI() async throws {
        let model = try LLMServerProcess()
        defer { model.stop() }
        let base = "http://127.0.0.1:\(model.port)/v1"

        // The client on its own: the listed model, an answer with token counts, a wrong path's 404.
        #expect(try await ChatClient.models(baseURL: base).first == "smollm2")
        var configuration = ChatClient.Configuration(baseURL: base, model: "smollm2")
        configuration.maxTokens = 24
        configuration.timeout = 120
        let completion = try await ChatClient(configuration: configuration).complete([
            .init(role: "system", content: "Answer in one short sentence."),
            .init(
                role: "user",
                content: "Which service should be rolled back: auth-api was deployed just before it failed."
            ),
        ])
        #expect(!completion.text.isEmpty)
        #expect((completion.promptTokens ?? 0) > 10 && (completion.completionTokens ?? 0) > 0)
        #expect(["stop", "length"].contains(completion.finishReason ?? ""))
        do {
            _ = try await ChatClient(configuration: .init(baseURL: base + "/nope", model: "smollm2")).complete([
                .init(role: "user", content: "hi")
            ])
            Issue.record("a wrong path answered")
        } catch {
            #expect("\(error)".contains("HTTP 404"), "\(error)")
        }

        // Through `vigil ask`: the model is found by listing, and its answer is used when it names a fact, or
        // the rules answer and say why.
        let vigil = try Self.serverWithAnIncident()
        defer { vigil.stop() }
        let (result, answer) = try Self.ask([
            "why is checkout failing?", "--server", "http://127.0.0.1:\(vigil.port)", "--llm-url", base,
            "--llm-max-tokens", "48", "--llm-timeout", "120",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        if answer["answeredBy"] as? String == "llm" {
            #expect(answer["model"] as? String != nil)
            #expect(!(answer["answer"] as? String ?? "").isEmpty)
        } else {
            #expect((answer["llmError"] as? String)?.contains("named no service or incident") == true, "\(answer)")
            #expect((answer["answer"] as? String)?.contains("points at auth-api") == true)
        }
    }
}

/// scripts/llm-server (llama.cpp with SmolLM2-135M) on a free loopback port.
final class LLMServerProcess {
    let port: Int
    private let process = Process()

    init() throws {
        self.port = try ServerProcess.freePort()
        self.process.executableURL = llmPython
        self.process.arguments = [
            Vigil.packageRoot.appendingPathComponent("scripts/llm-server").path, String(self.port),
        ]
        self.process.standardOutput = FileHandle.nullDevice
        self.process.standardError = FileHandle.nullDevice
        try self.process.run()
        let client = SimpleHTTPClient(port: self.port)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if (try? client.request("GET", "/v1/models").status) == 200 { return }
            guard self.process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        self.stop()
        throw ServerError(description: "scripts/llm-server did not answer on port \(self.port) within 60 s")
    }

    /// Kills it: a child of the test runner may inherit SIGTERM blocked, and the model server keeps no state.
    func stop() {
        guard self.process.isRunning else { return }
        kill(self.process.processIdentifier, SIGKILL)
        self.process.waitUntilExit()
    }
}
