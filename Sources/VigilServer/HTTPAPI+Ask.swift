// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Hummingbird
import VigilCore
import VigilLLM
import VigilStorage

extension HTTPAPI {
    /// The longest question accepted, in bytes.
    static let maximumQuestionBytes = 2_000

    /// `POST /api/v1/ask` `{"question": "…"}`: answered from what this server knows, by rules or by the
    /// configured model (``GuardedCopilot``).
    func ask(_ request: Request) async throws -> Response {
        guard request.headers[.contentType].map({ $0.hasPrefix("application/json") }) ?? false else {
            throw HTTPError(.unsupportedMediaType, message: "send {\"question\": \"…\"} as application/json")
        }
        let buffer = try await request.body.collect(upTo: 16 << 10)
        struct Asked: Decodable { var question: String }
        guard let asked = try? JSONDecoder().decode(Asked.self, from: Data(buffer.readableBytesView)) else {
            throw HTTPError(.badRequest, message: "the body must be {\"question\": \"…\"}")
        }
        let question = asked.question.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !question.isEmpty, question.utf8.count <= Self.maximumQuestionBytes else {
            throw HTTPError(
                .badRequest,
                message: "the question must hold 1 to \(Self.maximumQuestionBytes) bytes, not \(question.utf8.count)"
            )
        }
        var llm: ChatClient.Configuration?
        if let settings = self.pipeline.configuration.llm {
            guard self.askGate.enter() else {
                var headers = HTTPFields()
                headers[.retryAfter] = "5"
                throw HTTPError(
                    .tooManyRequests,
                    headers: headers,
                    message: "the model is answering \(self.askGate.limit) questions already; retry after 5 s"
                )
            }
            var configuration = ChatClient.Configuration(
                baseURL: settings.url,
                model: settings.model,
                apiKey: settings.apiKey
            )
            configuration.timeout = settings.timeoutSeconds
            llm = configuration
        }
        defer { if llm != nil { self.askGate.leave() } }
        let reply = await GuardedCopilot.reply(to: question, from: try self.briefing(), llm: llm)
        return try self.json(reply)
    }

    /// What this server knows, as the copilot reads it: the newest incidents, anomalies and changes, the
    /// templates with the most errors, and the service graph (the last hour's spans and the configuration).
    func briefing() throws -> Briefing {
        let store = self.pipeline.store
        let now = Clock.now()
        let calls = Self.edges(
            seen: try store.topology(from: now.adding(seconds: -3600), to: now),
            configured: self.pipeline.configuration.dependencies
        )
        let templates = try store.templates(service: nil, limit: 1000)
            .map {
                Briefing.TemplateFacts(
                    service: $0.service,
                    text: $0.text,
                    count: $0.count,
                    errorCount: $0.errorCount,
                    lastSeen: $0.lastSeen ?? ""
                )
            }
        return Briefing(
            collected: Clock.now().iso8601,
            incidents: self.pipeline.incidents.incidents().prefix(20).map(Briefing.IncidentFacts.init),
            anomalies: try store.anomalies(service: nil, from: nil, to: nil, limit: 50).map(Briefing.AnomalyFacts.init),
            changes: try store.changes(service: nil, from: nil, to: nil, limit: 20).map(Briefing.ChangeFacts.init),
            errorTemplates: Briefing.TemplateFacts.mostErrors(templates),
            calls: calls.map { Briefing.CallFacts(caller: $0.caller, callee: $0.callee) }
        )
    }
}
