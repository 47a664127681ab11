// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing
import VigilCore

@Suite struct CopilotTests {
    /// A deploy of auth-api broke it, and user-service and checkout after it; payment only logs errors.
    static let briefing = Briefing(
        collected: "2026-11-23T14:40:00Z",
        incidents: [
            Briefing.IncidentFacts(
                id: "4aa221a32d690df9",
                status: "open",
                opened: "2026-11-23T14:31:45Z",
                narrative: "Root cause auth-api (confidence 62 %), triggered by the deploy of auth-api (v2.4.1).",
                services: ["auth-api", "user-service", "checkout"],
                symptomCount: 41,
                rootCauses: [
                    .init(
                        service: "auth-api",
                        confidence: 0.62,
                        reasons: ["first to deviate", "deploy v2.4.1 120 s before"]
                    ),
                    .init(service: "user-service", confidence: 0.2, reasons: ["deviated 4 s after the first symptom"]),
                ],
                trigger: .init(service: "auth-api", kind: "deploy", time: "2026-11-23T14:29:45Z", version: "v2.4.1"),
                impactChain: ["auth-api", "user-service", "checkout"],
                recommendation: .init(
                    action: "Roll back the deploy v2.4.1 of auth-api",
                    reason: "it degraded right after"
                )
            )
        ],
        anomalies: [
            .init(
                kind: "metric_deviation",
                service: "checkout",
                subject: "latency_p99{service=\"checkout\"}",
                time: "2026-11-23T14:31:53Z",
                score: 0.97,
                evidence: .init(observed: 2.4, expected: 0.2, summary: "checkout p99 latency was 2.4 s against 0.2 s")
            ),
            .init(
                kind: "new_error_template",
                service: "payment",
                subject: "t1",
                time: "2026-11-23T14:20:00Z",
                score: 0.6,
                evidence: .init(summary: "new error template in payment: card declined for <email>")
            ),
        ],
        changes: [
            .init(service: "auth-api", kind: "deploy", time: "2026-11-23T14:29:45Z", version: "v2.4.1"),
            .init(service: "payment", kind: "config", time: "2026-11-23T09:00:00Z", description: "pool size 20"),
        ],
        errorTemplates: [
            .init(
                service: "payment",
                text: "charge <*> failed: card declined",
                count: 90,
                errorCount: 12,
                lastSeen: "2026-11-23T14:38:00Z"
            )
        ]
    )

    @Test(
        arguments: [
            ("What is wrong right now?", Copilot.Intent.status, nil),
            ("why is checkout slow?", .cause, "checkout"),
            ("Is Checkout down", .cause, "checkout"),
            ("what is the root cause", .cause, nil),
            ("what changed before auth-api broke?", .changes, "auth-api"),
            ("any deploys today?", .changes, nil),
            ("show me payment errors", .errors, "payment"),
            ("what should I do first?", .action, nil),
            ("how do we roll back checkout", .action, "checkout"),
            ("anything odd with cpu?", .anomalies, nil),
            ("checkout?", .anomalies, "checkout"),
        ] as [(String, Copilot.Intent, String?)]
    )
    func understandsWhatIsAsked(question: String, intent: Copilot.Intent, service: String?) {
        let understood = Copilot.understand(question, services: Self.briefing.services)
        #expect(understood.intent == intent, "\(question)")
        #expect(understood.service == service, "\(question)")
    }

    @Test func namesTheLongestServiceAsAWholeWord() {
        let services = ["checkout", "checkout-api", "api"]
        #expect(Copilot.understand("why is Checkout-API slow?", services: services).service == "checkout-api")
        #expect(Copilot.understand("why is checkoutx slow?", services: services).service == nil)
        #expect(Copilot.understand("is the api up.", services: services).service == "api")
    }

    @Test func aSymptomIsToldItsRootCauseTriggerAndFirstAction() {
        let question = Copilot.understand("why is checkout failing?", services: Self.briefing.services)
        let answer = Copilot.answer(question, from: Self.briefing)
        #expect(answer.text.hasPrefix("checkout is affected, but most likely as a symptom"), "\(answer.text)")
        #expect(answer.text.contains("points at auth-api (confidence 62 %)"))
        #expect(answer.text.contains("Impact chain: auth-api → user-service → checkout."))
        #expect(answer.text.contains("Triggered by deploy v2.4.1 of auth-api at 2026-11-23T14:29:45Z."))
        #expect(answer.text.contains("Try first: Roll back the deploy v2.4.1 of auth-api."))
        #expect(answer.evidence.first?.hasPrefix("incident [4aa221a32d690df9]") == true)
        #expect(answer.evidence.contains("change: deploy v2.4.1 of auth-api at 2026-11-23T14:29:45Z"))
    }

    @Test func theRootCauseIsNamedAsSuch() {
        let answer = Copilot.answer(
            Copilot.understand("why is auth-api failing", services: Self.briefing.services),
            from: Self.briefing
        )
        #expect(
            answer.text.hasPrefix(
                "The most likely root cause is auth-api (confidence 62 %), in incident [4aa221a32d690df9]: first to deviate"
            )
        )
    }

    @Test func aServiceWithoutIncidentGetsItsAnomaliesOrAPlainNo() {
        let services = Self.briefing.services + ["inventory"]
        let payment = Copilot.answer(Copilot.understand("why is payment slow", services: services), from: Self.briefing)
        #expect(payment.text.hasPrefix("No incident involves payment yet. Its latest anomalies: new error template"))
        let inventory = Copilot.answer(
            Copilot.understand("why is inventory slow", services: services),
            from: Self.briefing
        )
        #expect(inventory.text.hasPrefix("No incident involves inventory, and Vigil has no anomaly for it"))
        #expect(inventory.evidence.isEmpty)
    }

    /// A service outside every incident that calls into one is told so, through the calls that lead there: the
    /// nearest incident first, its root cause named as such.
    @Test func aCallerOutsideEveryIncidentIsPointedAtTheIncidentItCalls() {
        var briefing = Self.briefing
        briefing.calls = [
            .init(caller: "storefront", callee: "frontend"),
            .init(caller: "frontend", callee: "checkout"),
            .init(caller: "gateway", callee: "auth-api"),
            .init(caller: "reports", callee: "archive"),
        ]
        func ask(_ question: String) -> Copilot.Answer {
            Copilot.answer(Copilot.understand(question, services: briefing.services), from: briefing)
        }
        let frontend = ask("why is frontend slow?")
        #expect(
            frontend.text.hasPrefix(
                "No incident involves frontend itself, but it calls checkout, which incident [4aa221a32d690df9] holds; "
                    + "it points at auth-api (confidence 62 %): first to deviate"
            ),
            "\(frontend.text)"
        )
        #expect(frontend.text.contains("Try first: Roll back the deploy v2.4.1 of auth-api."))
        #expect(frontend.evidence.first?.hasPrefix("incident [4aa221a32d690df9]") == true)
        #expect(frontend.evidence.contains("calls: frontend → checkout (the service graph)"), "\(frontend.evidence)")
        let storefront = ask("why is storefront failing")
        #expect(
            storefront.text.hasPrefix(
                "No incident involves storefront itself, but it calls checkout (through frontend)"
            ),
            "\(storefront.text)"
        )
        #expect(storefront.evidence.contains("calls: storefront → frontend → checkout (the service graph)"))
        let gateway = ask("why is gateway slow")
        #expect(
            gateway.text.hasPrefix(
                "No incident involves gateway itself, but it calls auth-api, the most likely root cause of incident "
                    + "[4aa221a32d690df9] (confidence 62 %)"
            ),
            "\(gateway.text)"
        )
        let reports = ask("why is reports slow")
        #expect(reports.text.hasPrefix("No incident involves reports, and Vigil has no anomaly for it"))
        // A resolved incident is nobody's trouble now.
        briefing.incidents[0].status = "resolved"
        #expect(!ask("why is gateway slow").text.contains("calls auth-api"))
    }

    /// A CPU or memory that fell is spare capacity: it explains no trouble, and the answer says so.
    @Test func spareCapacityExplainsNoTrouble() {
        var briefing = Self.briefing
        briefing.anomalies.append(
            .init(
                kind: "metric_deviation",
                service: "search",
                subject: "mem{service=\"search\"}",
                time: "2026-11-23T14:35:00Z",
                score: 0.8,
                evidence: .init(observed: 124, expected: 165, summary: "mem shifted down")
            )
        )
        let answer = Copilot.answer(
            Copilot.understand("why is search slow", services: briefing.services),
            from: briefing
        )
        #expect(
            answer.text.hasPrefix("No incident involves search, and its only anomalies are spare capacity"),
            "\(answer.text)"
        )
        #expect(answer.evidence.count == 1)
    }

    @Test func statusListsOpenIncidentsOrTheStrongestAnomaly() {
        let open = Copilot.answer(Copilot.understand("status?", services: []), from: Self.briefing)
        #expect(open.text.hasPrefix("1 open incident:\n- [4aa221a32d690df9] Root cause auth-api"))
        var quiet = Self.briefing
        quiet.incidents[0].status = "resolved"
        let calm = Copilot.answer(Copilot.understand("status?", services: []), from: quiet)
        #expect(calm.text.hasPrefix("No open incidents. The latest, [4aa221a32d690df9], is resolved"))
        #expect(calm.text.contains("2 recent anomalies; the strongest: checkout p99 latency was 2.4 s"))
    }

    @Test func changesSayWhichTriggeredAnIncident() {
        let answer = Copilot.answer(Copilot.understand("what changed?", services: []), from: Self.briefing)
        #expect(
            answer.text.contains(
                "deploy v2.4.1 of auth-api at 2026-11-23T14:29:45Z (it triggered incident [4aa221a32d690df9])"
            )
        )
        #expect(answer.text.contains("config of payment at 2026-11-23T09:00:00Z (pool size 20)"))
        #expect(!answer.text.contains("(pool size 20) (it triggered"))
    }

    @Test func errorsAndActionsComeFromTheirFacts() {
        let errors = Copilot.answer(
            Copilot.understand("payment errors", services: Self.briefing.services),
            from: Self.briefing
        )
        #expect(errors.text.contains("12 × \"charge <*> failed: card declined\" (payment)"))
        #expect(errors.text.hasPrefix("New error templates in payment's logs"))
        let action = Copilot.answer(Copilot.understand("what should I do?", services: []), from: Self.briefing)
        #expect(action.text == "[4aa221a32d690df9] Roll back the deploy v2.4.1 of auth-api: it degraded right after.")
        let none = Copilot.answer(
            Copilot.understand("how to fix payment", services: Self.briefing.services),
            from: Self.briefing
        )
        #expect(none.text == "No open incident involving payment calls for an action.")
    }

    @Test func thePromptIsMaskedBoundedAndMostRelevantFirst() throws {
        var briefing = Self.briefing
        briefing.errorTemplates.append(
            .init(
                service: "auth-api",
                text: "login failed for jane.doe@example.com from 10.1.2.3",
                count: 3,
                errorCount: 3,
                lastSeen: "2026-11-23T14:32:00Z"
            )
        )
        let question = Copilot.understand("why can't bob@example.com log in to auth-api?", services: briefing.services)
        let messages = Copilot.prompt(for: question, from: briefing)
        #expect(messages.map(\.role) == ["system", "user"])
        let user = messages[1].content
        for secret in ["jane.doe@example.com", "10.1.2.3", "bob@example.com"] {
            #expect(!user.contains(secret), "\(secret) leaked")
        }
        #expect(user.contains("login failed for <email> from <ip>"))
        #expect(user.hasSuffix("Question: why can't <email> log in to auth-api?"))
        // The incident the question is about comes first.
        let facts = user.split(separator: "\n").filter { $0.hasPrefix("- ") }
        #expect(facts.first?.hasPrefix("- incident [4aa221a32d690df9]") == true)

        let small = Copilot.prompt(for: question, from: briefing, budget: 300)[1].content
        let kept = small.split(separator: "\n").filter { $0.hasPrefix("- ") }
        #expect(kept.reduce(0) { $0 + $1.count + 1 } <= 300)
        #expect(small.contains("more facts left out for length"))
        #expect(kept.first?.hasPrefix("- incident [4aa221a32d690df9]") == true)
    }

    @Test func aModelAnswerMustNameSomethingFromTheFacts() {
        #expect(Copilot.isGrounded("Roll back auth-api now.", in: Self.briefing))
        #expect(Copilot.isGrounded("See [4aa221a32d690df9].", in: Self.briefing))
        #expect(!Copilot.isGrounded("A server-side code issue, probably the database.", in: Self.briefing))
        #expect(!Copilot.isGrounded("auth-apis are hard", in: Self.briefing))
        #expect(Copilot.isGrounded("Nothing is known yet.", in: Briefing(collected: "now")))
    }
}
