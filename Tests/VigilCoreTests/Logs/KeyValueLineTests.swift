// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

@Suite struct KeyValueLineTests {
    private func json(_ text: String) -> [String]? {
        let bytes = Array(text.utf8)
        return KeyValueLine.json(bytes.span).map { $0.map { "\($0.key)=\($0.value)" } }
    }

    private func logfmt(_ text: String) -> [String]? {
        let bytes = Array(text.utf8)
        return KeyValueLine.logfmt(bytes.span).map { $0.map { "\($0.key)=\($0.value)" } }
    }

    @Test func readsJSONObjectsWithEscapesAndNesting() {
        #expect(
            json(#"{"a":"x\"y\n","b":42,"c":{"d":[1,2]},"e":true,"f":null}"#)
                == ["a=x\"y\n", "b=42", #"c={"d":[1,2]}"#, "e=true", "f=null"]
        )
        #expect(json(#"{"u":"caf\u00e9"}"#) == ["u=café"])
        #expect(json("{}") == [])
    }

    @Test(arguments: [#"{"a":"#, #"{"a" 1}"#, "[1,2]", "not json", #"{"a":"unterminated}"#, #"{"a":{"b":1}"#])
    func rejectsMalformedJSON(_ text: String) {
        #expect(json(text) == nil)
    }

    @Test func readsLogfmtWithQuotedValues() {
        #expect(logfmt(#"level=info msg="disk full" free=0"#) == ["level=info", "msg=disk full", "free=0"])
        #expect(logfmt("just some words") == nil)
        #expect(logfmt("a=1") == nil, "one pair is not enough to call a line logfmt")
    }
}
