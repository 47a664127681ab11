// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing
import VigilCore

@Suite struct FormatLearningTests {
    /// Host and service, then the message: a header the detector alone reads as plain text.
    static func lines(_ seed: Int) -> [[UInt8]] {
        (0..<60).map { index in
            let n = index * 37 + seed * 1000
            let message = index % 2 == 0 ? "cache miss for sku \(n)" : "accepted payment \(n) in \(n % 97) ms"
            return Array("edge-0\((index + seed) % 4) svc-\(["billing", "search"][index % 2]) \(message)".utf8)
        }
    }

    @Test func theSignatureNamesTheLayoutNotTheValues() throws {
        let first = try #require(FormatLearning.signature(of: Self.lines(1)))
        #expect(first == FormatLearning.signature(of: Self.lines(7)))
        #expect(first.hasPrefix("fields:word word"))
        let timed = (0..<20).map { Array("2026-11-23T10:00:\(10 + $0)Z INFO started \($0)".utf8) }
        #expect(FormatLearning.signature(of: timed) != first)
        #expect(FormatLearning.signature(of: [Array("one line".utf8)]) == nil)
    }

    @Test(
        arguments: [
            (#"{"header_fields": 2}"#, 2), ("Sure!\n```json\n{\"header_fields\" : 3}\n```", 3),
            (#"<think>maybe 5</think>{"header_fields":4}"#, 4), ("The header has 2 fields.", nil),
            (#"{"header_fields": 0}"#, nil), (#"{"header_fields": 99}"#, nil), (#"{"header_fields": "two"}"#, nil),
            ("", nil),
        ] as [(String, Int?)]
    )
    func theAnswerIsReadOnlyFromItsJSON(answer: String, fields: Int?) {
        #expect(FormatLearning.headerFields(inAnswer: answer) == fields)
    }

    @Test func anAnswerBecomesAGrammarOnlyWhenTheSampleFitsIt() throws {
        let grammar = try FormatLearning.grammar(headerFields: 2, sample: Self.lines(1))
        #expect(grammar.summary == "word word" && grammar.fieldCount == 2)
        // Seven fields leave half the lines without a message after them ("cache miss for sku N" has five words).
        #expect(throws: FormatLearning.Rejection.doesNotFit(fields: 7, fitting: 30, lines: 60)) {
            try FormatLearning.grammar(headerFields: 7, sample: Self.lines(1))
        }
        #expect(throws: FormatLearning.Rejection.self) {
            try FormatLearning.grammar(headerFields: 0, sample: Self.lines(1))
        }
    }

    @Test func aLearnedHeaderIsUsedOnlyForTheFormatItWasLearnedFor() throws {
        let sample = Self.lines(3)
        #expect(LogFormat.detect(sample: sample) == .plain)
        let signature = try #require(FormatLearning.signature(of: sample))
        guard case .header(let grammar) = LogFormat.detect(sample: sample, learned: [signature: 2]) else {
            Issue.record("the learned header was not used")
            return
        }
        #expect(grammar.summary == "word word")
        #expect(LogFormat.detect(sample: sample, learned: ["fields:time level": 2]) == .plain)
        // A stream the detector reads on its own keeps its own format.
        let json = (0..<10).map { Array(#"{"msg": "m\#($0)", "level": "info"}"#.utf8) }
        #expect(LogFormat.detect(sample: json, learned: [signature: 2]) == .json)
        // The splitter takes learned headers: the header is split off the message.
        var splitter = LogStreamSplitter(sampleSize: 60, learnedHeaders: [signature: 2])
        var records: [LogRecord] = []
        for line in sample { records += splitter.add(line.span) }
        records += splitter.finish()
        #expect(records.first?.message.hasPrefix("cache miss") == true, "\(records.first?.message ?? "")")
    }

    @Test func thePromptIsMaskedAndBounded() {
        var sample = Self.lines(1)
        sample[0] = Array(
            "edge-01 svc-auth login for alice@example.com from 10.2.3.4 \(String(repeating: "x", count: 500))".utf8
        )
        let prompt = FormatLearning.prompt(for: sample, masker: PIIMasker())
        #expect(!prompt.contains("alice@example.com") && !prompt.contains("10.2.3.4"))
        #expect(!prompt.contains(String(repeating: "x", count: 300)))
        #expect(prompt.ranges(of: "edge-0").count == FormatLearning.promptLines)
    }
}
