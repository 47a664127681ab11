// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Foundation
import VigilCore
import VigilLLM

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `vigil ask`: a plain-English question about what a running `vigil serve` knows, answered from its incidents,
/// anomalies, changes and error logs: by rules, or by a language model when one is configured.
struct Ask: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ask",
        abstract: "Ask a running vigil serve a question in plain English (\"why is checkout failing?\").",
        discussion: """
            Reads the server's open and recent incidents (with their root causes, triggers and first actions), \
            anomalies, change events and error log templates, then answers the question from them and lists the \
            facts it used.

            With no model configured, Vigil answers by its own rules: it reads what the question asks for \
            (what is wrong, why, what changed, which errors, what to do, which anomalies) and which service it \
            names. With --llm-url (or VIGIL_LLM_URL) an OpenAI-compatible chat API writes the answer from the \
            same facts: Ollama (http://127.0.0.1:11434/v1), llama.cpp's server, vLLM, LocalAI or OpenAI \
            (https://api.openai.com/v1 with --llm-api-key or VIGIL_LLM_API_KEY). Before anything is sent, \
            e-mail and IP addresses, card numbers, tokens, keys and passwords are masked, and the facts are cut to \
            --llm-budget characters; --show-prompt prints exactly what would be sent and sends nothing. If the \
            model fails, times out, or answers without naming any service or incident of the facts, the rules \
            answer instead and the reason goes to stderr.

            Examples:
              vigil ask "what is wrong right now?"
              vigil ask "why is checkout slow?" --server http://vigil.internal:3100
              VIGIL_LLM_URL=http://127.0.0.1:11434/v1 VIGIL_LLM_MODEL=llama3.2 vigil ask "what should I do first?"
              vigil ask "what changed before payment broke?" --output json | jq .answer
            """
    )

    @Argument(help: "The question (quote it, or give it as several words).")
    var question: [String]

    @Option(help: "The vigil serve to ask (VIGIL_SERVER).")
    var server: String?

    @Option(help: "An OpenAI-compatible API base, such as http://127.0.0.1:11434/v1 (VIGIL_LLM_URL).")
    var llmURL: String?

    @Option(help: "The model to ask (VIGIL_LLM_MODEL; default: the first the server lists).")
    var llmModel: String?

    @Option(help: "The API key, sent as a bearer token (VIGIL_LLM_API_KEY).")
    var llmAPIKey: String?

    @Option(help: "Seconds to wait for the model.")
    var llmTimeout: Double = 60

    @Option(help: "The longest answer asked of the model, in tokens.")
    var llmMaxTokens: Int = 400

    @Option(help: "The most characters of facts sent to the model.")
    var llmBudget: Int = 6000

    @Flag(help: "Answer by rules even when a model is configured.")
    var noLLM = false

    @Flag(help: "Print the messages that would be sent to the model (masked), and send nothing.")
    var showPrompt = false

    @Option(help: "text or json ({\"answer\", \"answeredBy\", \"evidence\", …}).")
    var output = "text"

    func validate() throws {
        guard ["text", "json"].contains(self.output) else { throw ValidationError("--output must be text or json") }
        guard !self.question.joined().trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError("ask a question, such as: vigil ask \"what is wrong right now?\"")
        }
        guard self.llmTimeout > 0 else { throw ValidationError("--llm-timeout must be positive") }
        guard self.llmMaxTokens > 0 else { throw ValidationError("--llm-max-tokens must be positive") }
        guard self.llmBudget >= 200 else { throw ValidationError("--llm-budget must be at least 200 characters") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let server = self.server ?? environment["VIGIL_SERVER"] ?? "http://127.0.0.1:3100"
        let briefing = try await Self.brief(from: server)
        let text = self.question.joined(separator: " ")
        var out = OutputStream()
        if self.showPrompt {
            let question = Copilot.understand(text, services: briefing.services)
            for message in Copilot.prompt(for: question, from: briefing, budget: self.llmBudget) {
                out.write("--- \(message.role)\n\(message.content)\n")
            }
            out.flush()
            return
        }
        let url = self.llmURL ?? environment["VIGIL_LLM_URL"] ?? ""
        var llm: ChatClient.Configuration?
        if !url.isEmpty && !self.noLLM {
            var configuration = ChatClient.Configuration(
                baseURL: url,
                model: self.llmModel ?? environment["VIGIL_LLM_MODEL"] ?? "",
                apiKey: self.llmAPIKey ?? environment["VIGIL_LLM_API_KEY"]
            )
            configuration.timeout = self.llmTimeout
            configuration.maxTokens = self.llmMaxTokens
            llm = configuration
        }
        let reply = await GuardedCopilot.reply(to: text, from: briefing, llm: llm, budget: self.llmBudget)
        if let failure = reply.llmError { printError("vigil ask: \(failure); answering by rules instead") }

        if self.output == "json" {
            var object: [String: Any] = [
                "question": text, "intent": reply.intent, "answer": reply.answer, "answeredBy": reply.answeredBy,
                "evidence": reply.evidence, "server": server,
            ]
            object["service"] = reply.service
            object["model"] = reply.model
            object["llmError"] = reply.llmError
            let data = try JSONSerialization.data(
                withJSONObject: object,
                options: [.sortedKeys, .withoutEscapingSlashes]
            )
            out.write(String(decoding: data, as: UTF8.self) + "\n")
            out.flush()
            return
        }
        out.write(reply.answer + "\n")
        if !reply.evidence.isEmpty {
            out.write("\nEvidence:\n")
            for line in reply.evidence { out.write("  - \(line)\n") }
        }
        if let model = reply.model {
            out.write("\nWritten by \(model) at \(url) from Vigil's facts (personal data and secrets masked first).\n")
        } else if llm == nil {
            out.write("\nAnswered by Vigil's rules; set --llm-url or VIGIL_LLM_URL to have a model write the answer.\n")
        }
        out.flush()
    }

    /// Reads what the server knows: incidents (the unresolved in full), anomalies, changes, error templates.
    static func brief(from server: String) async throws -> Briefing {
        let client = ServerClient(server: server)
        func get<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
            try await client.request(path, as: type)
        }
        var incidents = try await get("/api/v1/incidents?limit=20", as: [Briefing.IncidentFacts].self)
        for index in incidents.indices.prefix(5) where incidents[index].status != "resolved" {
            let id = ServerClient.segment(incidents[index].id)
            incidents[index] = try await get("/api/v1/incidents/\(id)", as: Briefing.IncidentFacts.self)
        }
        let anomalies = try await get("/api/v1/anomalies?limit=50", as: [Briefing.AnomalyFacts].self)
        let changes = try await get("/api/v1/changes?limit=20", as: [Briefing.ChangeFacts].self)
        let templates = try await get("/api/v1/templates?limit=1000", as: [Briefing.TemplateFacts].self)
        let topology = try await get(
            "/api/v1/topology?from=\(Int(Date().timeIntervalSince1970) - 3600)",
            as: Topology.self
        )
        return Briefing(
            collected: Date().formatted(.iso8601),
            incidents: incidents,
            anomalies: anomalies,
            changes: changes,
            errorTemplates: Briefing.TemplateFacts.mostErrors(templates),
            calls: topology.edges
        )
    }

    /// What `GET /api/v1/topology` answers, as far as the copilot reads it.
    struct Topology: Decodable {
        var edges: [Briefing.CallFacts]
    }
}
