// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

public import VigilCore

/// A question answered the way `vigil ask` and `POST /api/v1/ask` answer it: by Vigil's rules, or by a model
/// through ``ChatClient`` when one is configured, never worse than the rules. The model gets the masked, bounded
/// prompt; its answer is used only if it names a service or incident of the facts; any failure falls back to the
/// rules and is reported.
public enum GuardedCopilot {
    /// An answer with how it came about.
    public struct Reply: Sendable, Equatable, Encodable {
        public var question: String
        /// What the question asks for (``Copilot/Intent``).
        public var intent: String
        /// The service it names, if any.
        public var service: String?
        public var answer: String
        /// `rules` or `llm`.
        public var answeredBy: String
        /// The model that wrote the answer.
        public var model: String?
        /// The facts the rules cite, one line each.
        public var evidence: [String]
        /// Why the model's answer was not used.
        public var llmError: String?
    }

    /// Answers `text` from `briefing`; `llm` nil answers by rules. A configuration without a model asks for the
    /// first model the server lists.
    public static func reply(
        to text: String,
        from briefing: Briefing,
        llm: ChatClient.Configuration?,
        budget: Int = 6000
    )
        async -> Reply
    {
        let question = Copilot.understand(text, services: briefing.services)
        let rules = Copilot.answer(question, from: briefing)
        var reply = Reply(
            question: text,
            intent: question.intent.rawValue,
            service: question.service,
            answer: rules.text,
            answeredBy: "rules",
            evidence: rules.evidence
        )
        guard var configuration = llm else { return reply }
        do {
            if configuration.model.isEmpty {
                let listed = try await ChatClient.models(
                    baseURL: configuration.baseURL,
                    apiKey: configuration.apiKey,
                    timeout: min(configuration.timeout, 10)
                )
                guard let first = listed.first else {
                    throw ChatClient.Failure(
                        description: "no model named, and \(configuration.baseURL)/models lists none"
                    )
                }
                configuration.model = first
            }
            let prompt = Copilot.prompt(for: question, from: briefing, budget: budget)
            let completion = try await ChatClient(configuration: configuration).complete(prompt)
            guard Copilot.isGrounded(completion.text, in: briefing) else {
                throw ChatClient.Failure(
                    description:
                        "\(completion.model)'s answer named no service or incident of the facts: \"\(completion.text.prefix(120))\""
                )
            }
            reply.answer = completion.text
            if completion.finishReason == "length" { reply.answer += " … (cut at \(configuration.maxTokens) tokens)" }
            reply.answeredBy = "llm"
            reply.model = completion.model
        } catch {
            reply.llmError = "\(error)"
        }
        return reply
    }
}
