// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import PropertyBased
import Testing

@testable import VigilCore

@Suite struct PIIMaskerTests {
    let masker = PIIMasker()

    @Test(arguments: [
        ("mail bob.smith+ops@example.co.uk now", "mail <email> now"),
        ("from 10.1.2.3 and 192.168.0.254:8080", "from <ip> and <ip>:8080"),
        ("client fe80::1ff:fe23:4567:890a said hi", "client <ip> said hi"),
        ("card 4111 1111 1111 1111 charged", "card <card> charged"),
        ("card 4111-1111-1111-1111 charged", "card <card> charged"),
        ("order 4111111111111112 shipped", "order 4111111111111112 shipped"),
        ("Authorization: Bearer abcdef0123456789xyz", "Authorization: Bearer <secret>"),
        ("sent Bearer abcdef0123456789xyz upstream", "sent Bearer <token> upstream"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlX2hlcmU ok", "jwt <jwt> ok"),
        ("key AKIAIOSFODNN7EXAMPLE used", "key <aws-key> used"),
        ("token sk-proj4bc9d8e7f6a5b4c3d2e1 leaked", "token <api-key> leaked"),
        ("login user=alice password=hunter2 ok", "login user=alice password=<secret> ok"),
        (#"{"api_key": "s3cr3t-value", "n": 1}"#, #"{"api_key": "<secret>", "n": 1}"#),
        ("version 1.2.3.4.5 build", "version 1.2.3.4.5 build"),
        ("at 12:30:45 nothing", "at 12:30:45 nothing"),
    ])
    func masksKnownSecrets(_ input: String, _ expected: String) {
        #expect(self.masker.mask(input) == expected)
    }

    @Test func ruleSetIsConfigurable() {
        let emailsOnly = PIIMasker(kinds: [.email])
        #expect(emailsOnly.mask("a@b.io from 10.0.0.1") == "<email> from 10.0.0.1")
        let custom = PIIMasker(secretKeys: ["pin"])
        #expect(custom.mask("pin=1234 password=x") == "pin=<secret> password=x")
    }

    /// Generated lines that embed secrets: none survives, and masking twice changes nothing.
    @Test func noGeneratedSecretSurvivesAndMaskingIsIdempotent() async {
        let secrets = Gen.oneOf(
            Gen.int(in: 1...254).map { "10.0.\($0).\(255 - $0)" },
            Gen.letter.string(of: 3...10).map { "\($0.lowercased())@corp.example.com" },
            Gen.letterOrNumber.string(of: 8...20).map { "password=\($0)" },
            Gen.letterOrNumber.string(of: 20...30).map { "Bearer \($0)" },
            Gen.always("4012888888881881"),
            Gen.always("5555 5555 5555 4444")
        )
        let filler = Gen.letter.string(of: 1...8)
        await propertyCheck(count: 400, input: secrets, filler.array(of: 0...4), filler.array(of: 0...4)) {
            secret,
            before,
            after in
            let line = (before + [secret] + after).joined(separator: " ")
            let masked = self.masker.mask(line)
            let value = secret.split(separator: " ").last.map(String.init) ?? secret
            let secretPart = value.split(separator: "=").last.map(String.init) ?? value
            #expect(!masked.contains(secretPart), "\(secretPart) survived in \(masked)")
            #expect(self.masker.mask(masked) == masked)
        }
    }

    /// Values glued together: an address whose local part reaches back into an IP already masked trapped
    /// (`scripts/fuzz`, target log-lines). No byte is masked twice or copied twice: without the placeholders,
    /// the output is what is left of the input, in order.
    @Test func valuesGluedTogetherAreMaskedOnce() async {
        #expect(self.masker.mask("10.0.0.1.x@example.com") == "<ip><email>")
        #expect(self.masker.mask("password=ab.cd@example.com next") == "password=<secret> next")
        let pieces = Gen.oneOf(
            Gen.always("10.0.0.1"),
            Gen.always("@"),
            Gen.always("."),
            Gen.always("x"),
            Gen.always("example.com"),
            Gen.always("password="),
            Gen.always("Bearer "),
            Gen.always("4111111111111111"),
            Gen.always("::1"),
            Gen.always("AKIAIOSFODNN7EXAMPLE")
        )
        await propertyCheck(count: 2_000, input: pieces.array(of: 1...12)) { pieces in
            let line = pieces.joined()
            var rest = self.masker.mask(line)
            for kind in PIIMasker.Kind.allCases { rest = rest.replacing(kind.placeholder, with: "") }
            var remaining = Substring(line)
            for character in rest {
                guard let found = remaining.firstIndex(of: character) else {
                    Issue.record("\(line) → \(self.masker.mask(line)) has bytes the line does not have there")
                    return
                }
                remaining = remaining[remaining.index(after: found)...]
            }
        }
    }

    @Test func leavesCleanTextUntouchedWithoutCopying() {
        let bytes = Array("nothing to see here: 42 items in 3 boxes".utf8)
        #expect(self.masker.mask(bytes) == nil)
    }
}
