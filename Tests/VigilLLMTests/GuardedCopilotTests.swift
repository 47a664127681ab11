// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing
import VigilCore
import VigilLLM

/// The guarded answer is never worse than the rules: without a model, and when the model cannot be reached or
/// never answers, the rules answer and the reason is kept. (A real model answering is in
/// Tests/VigilCLITests/AskTests.swift.)
@Suite struct GuardedCopilotTests {
    static let briefing = Briefing(
        collected: "2026-11-23T14:40:00Z",
        changes: [.init(service: "auth-api", kind: "deploy", time: "2026-11-23T14:29:45Z", version: "v2.4.1")]
    )

    @Test func withoutAModelTheRulesAnswer() async {
        let reply = await GuardedCopilot.reply(to: "what changed in auth-api?", from: Self.briefing, llm: nil)
        #expect(reply.answeredBy == "rules" && reply.model == nil && reply.llmError == nil)
        #expect(reply.intent == "changes" && reply.service == "auth-api")
        #expect(
            reply.answer
                == "1 change recorded for auth-api; the latest: deploy v2.4.1 of auth-api at 2026-11-23T14:29:45Z."
        )
        #expect(reply.evidence == ["change: deploy v2.4.1 of auth-api at 2026-11-23T14:29:45Z"])
    }

    @Test func aModelThatIsNotThereLeavesTheRulesAnswerAndSaysWhy() async throws {
        let port = try SilentListener.unusedPort()
        let rules = await GuardedCopilot.reply(to: "what changed?", from: Self.briefing, llm: nil)
        // No model named: it is looked up first, and that fails too.
        for model in ["m", ""] {
            let configuration = ChatClient.Configuration(baseURL: "http://127.0.0.1:\(port)/v1", model: model)
            let reply = await GuardedCopilot.reply(to: "what changed?", from: Self.briefing, llm: configuration)
            #expect(reply.answeredBy == "rules" && reply.answer == rules.answer && reply.evidence == rules.evidence)
            #expect(
                reply.llmError?.hasPrefix("cannot reach the LLM at http://127.0.0.1:\(port)/v1") == true,
                "\(reply)"
            )
        }
    }

    @Test func aModelThatNeverAnswersTimesOutToTheRules() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        var configuration = ChatClient.Configuration(baseURL: "http://127.0.0.1:\(listener.port)/v1", model: "m")
        configuration.timeout = 1
        let reply = await GuardedCopilot.reply(to: "what changed?", from: Self.briefing, llm: configuration)
        #expect(reply.answeredBy == "rules")
        #expect(reply.llmError?.contains("did not answer within 1 s") == true, "\(reply)")
    }
}
