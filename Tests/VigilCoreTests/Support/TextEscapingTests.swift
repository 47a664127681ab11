// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing
import VigilCore

@Suite struct TextEscapingTests {
    @Test func percentEncodingKeepsOnlyWhatItIsTold() {
        #expect(TextEscaping.percentEncoded("up{a=\"b\"} a_b-c.d~é") == "up%7Ba%3D%22b%22%7D%20a_b-c.d~%C3%A9")
        let printable = TextEscaping.percentEncoded("50% done\n") { $0 >= 0x20 && $0 <= 0x7E && $0 != 0x25 }
        #expect(printable == "50%25 done%0A")
    }

    @Test func jsonEscapingLeavesOneString() {
        #expect(TextEscaping.jsonEscaped("a\"b\\c\nd\u{01}é") == #"a\"b\\c\nd\u0001é"#)
    }
}
