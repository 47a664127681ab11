// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// The header layout of a text log, learned from a sample of its lines: which leading fields form the header,
/// what kind each holds, and where the message starts.
///
/// Nothing here knows a particular system. Learning looks at the kinds of the leading fields across the
/// sample (number, time, level, bracket, `component:`, separator, word) and keeps the columns whose kind is the
/// same on nearly every line. The header then ends, in order of preference, after the first consistent
/// `component:` column (unless words of the message lie between it and a level or bracket before it: a sample
/// of one message repeated agrees on its words too), after the last consistent level or bracket column, or after
/// the last consistent number or time column, and takes any separators (`-`, `|`) that follow.
public struct HeaderGrammar: Sendable, Hashable {
    /// The kind of each header column, in order.
    let kinds: [HeaderField.Kind]

    /// How many leading fields form the header.
    public var fieldCount: Int { self.kinds.count }

    /// A short description such as `time time level component:`.
    public var summary: String {
        self.kinds.map { kind in
            switch kind {
            case .number: "number"
            case .time: "time"
            case .level: "level"
            case .bracket: "[bracket]"
            case .terminator: "component:"
            case .separator: "-"
            case .address: "address"
            case .word: "word"
            case .quoted: "\"quoted"
            }
        }.joined(separator: " ")
    }

    /// Share of sample lines that must agree on a column's kind for it to belong to the header.
    static let agreement = 0.85
    /// The most header columns considered.
    static let maximumColumns = 14
    /// This many plain words between a level or bracket column and a `component:` column make the colon the
    /// message's own.
    static let messageWords = 2

    /// Learns a grammar from sample lines, or returns `nil` when the lines share no header.
    public static func learn(from sample: [[UInt8]]) -> HeaderGrammar? {
        // Indented lines are continuations (stack frames); they never carry the header.
        let lines = sample.filter { !$0.isEmpty && !ByteClass.isSpace($0[0]) }
        guard !lines.isEmpty else { return nil }
        let fieldsPerLine = lines.map { HeaderField.split($0.span, limit: maximumColumns + 1) }
        if let grammar = self.learn(fieldsPerLine) { return grammar }
        // Streams with many unindented continuation lines (`Caused by:`, exception names): learn from the lines
        // that open like most lines do, when those are a fair share of the sample.
        var openings: [HeaderField.Kind: Int] = [:]
        for fields in fieldsPerLine { if let first = fields.first { openings[first.kind, default: 0] += 1 } }
        guard
            // `Exception: message` lines open with a component-like word: headers open with a time, number, level…
            let (kind, count) = openings.filter({ $0.key.isStructural && $0.key != .terminator })
                .max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key.rawValue > $1.key.rawValue }),
            count >= 2, Double(count) >= 0.3 * Double(lines.count), count < lines.count
        else { return nil }
        return self.learn(fieldsPerLine.filter { $0.first?.kind == kind })
    }

    private static func learn(_ fieldsPerLine: [[HeaderField]]) -> HeaderGrammar? {
        let lines = fieldsPerLine
        var consistent: [HeaderField.Kind] = []
        for column in 0..<maximumColumns {
            var tally: [HeaderField.Kind: Int] = [:]
            var separators = 0
            for fields in fieldsPerLine where column < fields.count - 1 {
                // A header column must be followed by more text: the message.
                // Separators and words vote together: `-` and `KERNDTLB` share a free-text column.
                let kind = fields[column].kind
                tally[kind == .separator ? .word : kind, default: 0] += 1
                if kind == .separator { separators += 1 }
            }
            // A bracket that holds a level on some lines (`[Warning]`, `[Server]`) is one bracket column.
            if let levels = tally[.level], let brackets = tally[.bracket],
                Double(max(levels, brackets)) < agreement * Double(lines.count)
            {
                tally[.bracket] = levels + brackets
                tally[.level] = nil
            }
            guard
                let (kind, votes) = tally.filter({ $0.key != .quoted }).max(by: {
                    $0.value != $1.value ? $0.value < $1.value : $0.key.rawValue > $1.key.rawValue
                }),
                Double(votes) >= agreement * Double(lines.count)
            else { break }
            consistent.append(
                kind == .word && Double(separators) >= agreement * Double(lines.count) ? .separator : kind
            )
        }
        guard var end = Self.headerEnd(consistent) else { return nil }
        // `[time] program - message`, `time | host | message`: a separator shortly after the header closes it.
        if let separator = consistent[end...].prefix(4).lastIndex(of: .separator),
            consistent[end..<separator].allSatisfy({ $0 == .word || $0 == .separator })
        {
            end = separator + 1
        }
        while end < consistent.count && consistent[end] == .separator { end += 1 }
        return HeaderGrammar(kinds: Array(consistent[..<end]))
    }

    private static func headerEnd(_ kinds: [HeaderField.Kind]) -> Int? {
        if let terminator = kinds.firstIndex(of: .terminator) {
            // A header names its component at once, or after a word or two (a host, a thread), never after
            // words that follow its level or bracket: `[exec-1] Login request of username: bob` on every line of
            // a sample is a message repeated, and its colon is the message's own. A number there is the message's
            // too (`ERROR payment 42 declined: card expired`).
            let marked = kinds[..<terminator].lastIndex { $0 == .level || $0 == .bracket }
            let wordsAfterMarked =
                marked.map { kinds[($0 + 1)..<terminator].count { $0 == .word || $0 == .number } } ?? 0
            if wordsAfterMarked < Self.messageWords { return terminator + 1 }
        }
        if let marked = kinds.lastIndex(where: { $0 == .level || $0 == .bracket }) { return marked + 1 }
        // Numbers and times only count while they lead the line: later ones are likely message values. A line
        // that opens with a plain word (`job 12 finished in 3 ms`) has no such header.
        guard let first = kinds.first, first != .word, first != .quoted else { return nil }
        var end = 0
        for (index, kind) in kinds.enumerated() {
            if kind == .number || kind == .time || kind == .address {
                end = index + 1
            } else if kind == .word && index > end + 2 {
                break
            }
        }
        return end > 0 ? end : nil
    }

    /// Splits one line by the grammar, or returns `nil` when the line does not fit it (a continuation line, or a
    /// line of another format).
    ///
    /// - Returns: The header fields and the byte offset where the message starts.
    func split(_ line: Span<UInt8>) -> (fields: [HeaderField], messageStart: Int)? {
        let fields = HeaderField.split(line, limit: self.kinds.count)
        guard fields.count == self.kinds.count else { return nil }
        for (field, expected) in zip(fields, self.kinds) where !Self.compatible(field.kind, expected) {
            return nil
        }
        var start = fields.last.map(\.end) ?? 0
        while start < line.count && ByteClass.isSpace(line[start]) { start += 1 }
        return (fields, start)
    }

    /// Whether a field of kind `actual` may stand in a column learned as `expected`.
    private static func compatible(_ actual: HeaderField.Kind, _ expected: HeaderField.Kind) -> Bool {
        if actual == expected { return true }
        switch expected {
        case .word, .separator:
            // Free-text columns (host names, alert labels) take anything but a component marker.
            return actual != .terminator || expected == .word
        case .quoted:
            return true
        case .number:
            return actual == .time
        case .time:
            return actual == .number
        case .bracket:
            return actual == .level || actual == .time
        case .level, .terminator, .address:
            return false
        }
    }
}
