// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Learning a header layout from a language model's answer, for a stream that ``LogFormat/detect(sample:learned:)``
/// reads as plain text: the model is asked once per format (named by ``signature(of:)``), its answer (how many
/// leading fields form the header) is checked against the sample, and what passes becomes a deterministic
/// ``HeaderGrammar`` that reads every later line of that format with no model at all.
public enum FormatLearning {
    /// Sample lines shown to the model, at most.
    public static let promptLines = 8
    /// Bytes of each sample line shown, at most.
    public static let promptLineBytes = 240
    /// Fields considered for a signature.
    static let signatureFields = 6

    /// A name for the layout of `sample` that stays the same across files of one format: the kinds of the leading
    /// fields most lines share (`word word number word`), or nil when the lines share none.
    public static func signature(of sample: [[UInt8]]) -> String? {
        let lines = sample.filter { !$0.isEmpty && !ByteClass.isSpace($0[0]) }
        guard lines.count >= 2 else { return nil }
        var shapes: [[HeaderField.Kind]: Int] = [:]
        for line in lines {
            let kinds = HeaderField.split(line.span, limit: Self.signatureFields).map(\.kind)
            shapes[kinds, default: 0] += 1
        }
        // The longest common prefix of the kinds that a large majority of lines share.
        var prefix: [HeaderField.Kind] = []
        for column in 0..<Self.signatureFields {
            var tally: [HeaderField.Kind: Int] = [:]
            for (kinds, count) in shapes where column < kinds.count { tally[kinds[column], default: 0] += count }
            guard let (kind, votes) = tally.max(by: { $0.value < $1.value }),
                Double(votes) >= HeaderGrammar.agreement * Double(lines.count)
            else { break }
            prefix.append(kind)
        }
        guard prefix.count >= 2 else { return nil }
        return "fields:" + prefix.map { HeaderGrammar(kinds: [$0]).summary }.joined(separator: " ")
    }

    /// The system message: what the model is and how it answers.
    public static let instructions = """
        You read log files. You answer with one JSON object and nothing else, such as {"header_fields": 2}.
        """

    /// The question for the model: the sample's first lines, masked by `masker`, and the answer format.
    public static func prompt(for sample: [[UInt8]], masker: PIIMasker) -> String {
        let lines = sample.filter { line in line.contains { !ByteClass.isSpace($0) } }.prefix(Self.promptLines)
        let shown = lines.map { line -> String in
            let text = String(decoding: line.prefix(Self.promptLineBytes), as: UTF8.self)
            return masker.mask(text)
        }
        return """
            These are the first lines of a log file. Each line starts with a header (fields such as a time, a host, \
            a process, a level or a component) followed by the free-text message. Fields are separated by spaces.

            \(shown.joined(separator: "\n"))

            How many space-separated fields at the start of each line form the header, before the message begins? \
            Answer with JSON only, such as {"header_fields": 3}.
            """
    }

    /// The header field count in a model's answer: the first `"header_fields": N` (prose, code fences and
    /// `<think>` blocks around it are ignored); nil when there is none or it is out of range.
    public static func headerFields(inAnswer answer: String) -> Int? {
        let bytes = Array(answer.utf8)
        let key = Array("\"header_fields\"".utf8)
        guard bytes.count >= key.count else { return nil }
        var index = 0
        while index + key.count <= bytes.count {
            if bytes[index..<index + key.count].elementsEqual(key) {
                var cursor = index + key.count
                while cursor < bytes.count && (ByteClass.isSpace(bytes[cursor]) || bytes[cursor] == UInt8(ascii: ":")) {
                    cursor += 1
                }
                var value = 0
                var digits = 0
                while cursor < bytes.count, bytes[cursor] >= 0x30, bytes[cursor] <= 0x39, digits < 3 {
                    value = value * 10 + Int(bytes[cursor] - 0x30)
                    digits += 1
                    cursor += 1
                }
                guard digits > 0, (1...HeaderGrammar.maximumColumns).contains(value) else { return nil }
                return value
            }
            index += 1
        }
        return nil
    }

    /// Why an answer was not used.
    public enum Rejection: Error, Equatable, CustomStringConvertible {
        /// The answer holds no usable `header_fields`.
        case unreadable(String)
        /// Too few sample lines have that many fields and a message after them.
        case doesNotFit(fields: Int, fitting: Int, lines: Int)

        public var description: String {
            switch self {
            case .unreadable(let answer):
                "the answer holds no \"header_fields\" from 1 to \(HeaderGrammar.maximumColumns): \(answer.prefix(120))"
            case .doesNotFit(let fields, let fitting, let lines):
                "a header of \(Format.count(fields, "field")) fits \(fitting) of \(lines) sample lines (at least \(Int(HeaderGrammar.agreement * 100)) % must have it and a message after it)"
            }
        }
    }

    /// The grammar of a header of `fields` fields, each column of the kind most sample lines hold there, checked:
    /// nearly every sample line must have that many fields of those kinds and a message after them.
    public static func grammar(headerFields fields: Int, sample: [[UInt8]]) throws(Rejection) -> HeaderGrammar {
        let lines = sample.filter { !$0.isEmpty && !ByteClass.isSpace($0[0]) }
        guard (1...HeaderGrammar.maximumColumns).contains(fields), !lines.isEmpty else {
            throw .doesNotFit(fields: fields, fitting: 0, lines: lines.count)
        }
        let split = lines.map { HeaderField.split($0.span, limit: fields + 1) }
        var kinds: [HeaderField.Kind] = []
        for column in 0..<fields {
            var tally: [HeaderField.Kind: Int] = [:]
            for line in split where column < line.count { tally[line[column].kind, default: 0] += 1 }
            // Ties go to the free-text kind, which accepts the most.
            let kind =
                tally.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key != .word }).map(\.key) ?? .word
            kinds.append(kind)
        }
        let grammar = HeaderGrammar(kinds: kinds)
        // A line fits when the grammar splits it and a message follows the header.
        let fitting = zip(lines, split).count { line, fieldsOfLine in
            fieldsOfLine.count > fields && grammar.split(line.span) != nil
        }
        guard Double(fitting) >= HeaderGrammar.agreement * Double(lines.count) else {
            throw .doesNotFit(fields: fields, fitting: fitting, lines: lines.count)
        }
        return grammar
    }
}
