// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing
import VigilIngest

@Suite struct SlackInteractionTests {
    /// A button click as Slack sends it, with the signature Python's `hmac` module computes for it (an
    /// implementation independent of ours): `v0=` + HMAC-SHA256(secret, "v0:1531420618:" + body).
    static let body = Array(
        ("payload=%7B%22type%22%3A%22block_actions%22%2C%22user%22%3A%7B%22id%22%3A%22U0ALICE%22%2C%22username%22"
            + "%3A%22alice%22%2C%22team_id%22%3A%22T1%22%7D%2C%22actions%22%3A%5B%7B%22type%22%3A%22button%22%2C"
            + "%22action_id%22%3A%22vigil_approve%22%2C%22block_id%22%3A%22vigil%22%2C%22value%22%3A%22run-42%22%7D"
            + "%5D%2C%22response_url%22%3A%22https%3A%2F%2Fhooks.slack.com%2Factions%2FT1%2F1%2Fx%22%7D").utf8
    )
    static let secret = "8f742231b10e8888abcd99yyyzzz85a5"
    static let signature = "v0=543f8514d3e72ac5686b7b917e1564f4367802a6fd14f6124cc568f79a5b0215"
    static let timestamp = "1531420618"

    @Test func aSignedClickIsVerifiedAndReadsAsTheUserAndButton() throws {
        try SlackInteraction.verify(
            body: Self.body,
            timestamp: Self.timestamp,
            signature: Self.signature,
            secret: Self.secret,
            now: 1_531_420_618 + 20
        )
        let click = try SlackInteraction.parse(form: Self.body)
        #expect(
            click == SlackInteraction(userID: "U0ALICE", userName: "alice", actionID: "vigil_approve", value: "run-42")
        )
    }

    @Test func aForgedStaleOrUnsignedRequestIsRefused() {
        let now = 1_531_420_618.0
        func refusal(
            body: [UInt8] = Self.body,
            timestamp: String? = Self.timestamp,
            signature: String? = Self.signature,
            secret: String = Self.secret,
            now: Double = now
        ) -> SlackInteraction.Refusal? {
            do {
                try SlackInteraction.verify(
                    body: body,
                    timestamp: timestamp,
                    signature: signature,
                    secret: secret,
                    now: now
                )
                return nil
            } catch { return error }
        }
        #expect(refusal() == nil)
        // One byte of the body changed: the run ID, say.
        var tampered = Self.body
        tampered[tampered.count - 60] ^= 1
        #expect(refusal(body: tampered) == .forged)
        #expect(refusal(secret: "another-secret-of-the-same-size") == .forged)
        // The same body and signature replayed under another timestamp.
        #expect(refusal(timestamp: "1531420619", now: now + 1) == .forged)
        #expect(refusal(now: now + 301) == .stale(seconds: 301))
        #expect(refusal(now: now - 400) == .stale(seconds: -400))
        #expect(refusal(timestamp: nil) == .unsigned)
        #expect(refusal(signature: nil) == .unsigned)
        #expect(refusal(signature: String(Self.signature.dropFirst(3))) == .unsigned)
        #expect(refusal(timestamp: "soon") == .unsigned)
        #expect(SlackInteraction.Refusal.stale(seconds: 301).description.contains("301 s"))
    }

    @Test func malformedPayloadsAreNamedNotGuessed() {
        func message(_ form: String) -> String? {
            do {
                _ = try SlackInteraction.parse(form: Array(form.utf8))
                return nil
            } catch { return error.message }
        }
        #expect(message("text=hello")?.contains("no payload field") == true)
        #expect(message("payload=%7Bnot+json") != nil)
        #expect(message(#"payload={"type":"view_submission"}"#)?.contains("only block_actions") == true)
        #expect(
            message(#"payload={"type":"block_actions","actions":[{"action_id":"a"}]}"#)?.contains("user.id") == true
        )
        #expect(
            message(#"payload={"type":"block_actions","user":{"id":"U1"},"actions":[]}"#)?.contains("action_id") == true
        )
        // Form decoding: + is a space, %XX a byte, a broken escape is kept.
        let click = try? SlackInteraction.parse(
            form: Array(
                #"team=T1&payload={"type":"block_actions","user":{"id":"U1","name":"Bob+Smith%21"},"actions":[{"action_id":"x","value":"100%"}]}"#
                    .utf8
            )
        )
        #expect(click == SlackInteraction(userID: "U1", userName: "Bob Smith!", actionID: "x", value: "100%"))
    }
}
