// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import PropertyBased
import Testing

@testable import VigilCore

@Suite struct WildcardPatternTests {
    @Test(arguments: [
        ("user=<*> from <*>", "user=bob from 10.0.0.1", ["bob", "10.0.0.1"] as [String]?),
        ("(<*>)", "()", [""]),
        ("a <*> b <*> c", "a x b b y c", ["x", "b y"]),
        ("exact", "exact", []),
        ("exact", "exactly", nil),
        ("<*>:<*>", "host", nil),
        ("<*>", "", [""]),
    ])
    func capturesVariables(_ template: String, _ text: String, _ expected: [String]?) {
        #expect(WildcardPattern(template).captures(in: text) == expected)
    }

    /// Filling a template's wildcards and matching it again gives a match whose pieces rebuild the text.
    @Test func filledTemplatesMatchAndRebuild() async {
        let word = Gen.letterOrNumber.string(of: 0...6)
        await propertyCheck(count: 300, input: word.array(of: 1...5), word.array(of: 0...4)) { literals, values in
            let template = literals.joined(separator: "<*>")
            var text = literals[0]
            for (index, literal) in literals.dropFirst().enumerated() {
                text += (index < values.count ? values[index] : "") + literal
            }
            let pattern = WildcardPattern(template)
            let captures = pattern.captures(in: text)
            #expect(captures != nil, "\(template) vs \(text)")
            if let captures {
                var rebuilt = literals[0]
                for (capture, literal) in zip(captures, literals.dropFirst()) { rebuilt += capture + literal }
                #expect(rebuilt == text)
            }
        }
    }
}
