// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

// MARK: - Partitioning a bucket into templates

extension TemplateMiner {
    /// Rebuilds the templates of one bucket from all of its groups.
    mutating func partition(bucket: Int) {
        let members = self.buckets[bucket].members
        guard let width = members.first.map({ self.groups[$0].tokens.count }) else {
            self.buckets[bucket].templates = []
            return
        }
        var parts: [[Int]] = []
        self.split(members, width: width, into: &parts)
        var templates: [(tokens: [String], template: Int, patterns: [WildcardPattern?])] = []
        for part in parts {
            var merged: [String] = []
            merged.reserveCapacity(width)
            for column in 0..<width {
                var values = Set<String>()
                for slot in part { values.insert(self.groups[slot].tokens[column]) }
                merged.append(Self.mergeToken(values))
            }
            let index = self.registerTemplate(Self.collapse(merged))
            for slot in part { self.groups[slot].template = index }
            templates.append(
                (merged, index, merged.map { Self.hasWildcard($0) && $0 != Self.wildcard ? WildcardPattern($0) : nil })
            )
        }
        self.buckets[bucket].templates = templates
        self.buckets[bucket].hasUnpartitionedMembers = false
        self.buckets[bucket].novelSincePartition = 0
        self.buckets[bucket].membersAtPartition = members.count
    }

    /// Splits `slots` on the most constant-looking column, recursively, appending the final parts.
    private func split(_ slots: [Int], width: Int, into parts: inout [[Int]]) {
        var columns: [(distinct: Int, column: Int, values: Set<String>)] = []
        for column in 0..<width {
            var values = Set<String>()
            for slot in slots {
                values.insert(self.groups[slot].tokens[column])
                if values.count > self.configuration.splitThreshold { break }
            }
            if values.count > 1 { columns.append((values.count, column, values)) }
        }
        columns.sort { $0.distinct != $1.distinct ? $0.distinct < $1.distinct : $0.column < $1.column }
        for candidate in columns
        where candidate.distinct <= self.configuration.splitThreshold && !Self.looksVariable(candidate.values) {
            var byValue: [String: [Int]] = [:]
            for slot in slots { byValue[self.groups[slot].tokens[candidate.column], default: []].append(slot) }
            for value in byValue.keys.sorted() {
                self.split(byValue[value]!, width: width, into: &parts)
            }
            return
        }
        parts.append(slots)
    }

    mutating func registerTemplate(_ text: String) -> Int {
        if let index = self.templateByText[text] { return index }
        let index = self.templateTexts.count
        self.templateTexts.append(text)
        self.templateByText[text] = index
        return index
    }

    // MARK: - Variables spanning several tokens

    /// Moves the groups of narrow templates into a template of another token count whose `<*>` absorbs the
    /// extra tokens (`name <*>` takes `name a b`), so a variable of varying width does not fragment its event.
    ///
    /// A template only absorbs another when it covers more shapes and at least half of the absorbed template's
    /// tokens are its constants, which keeps short generic templates (`session <*>`) from swallowing events.
    mutating func absorbIntoWiderTemplates(firstToken: String) {
        guard let bucketList = self.bucketsByFirstToken[firstToken], bucketList.count > 1 else { return }
        var candidates: [(tokens: [String], template: Int, shapes: Int, constants: Int)] = []
        for bucket in bucketList {
            for entry in self.buckets[bucket].templates {
                let shapes = self.buckets[bucket].members.count(where: { self.groups[$0].template == entry.template })
                guard shapes > 0 else { continue }
                let collapsed = Self.collapse(entry.tokens).split(separator: " ").map(String.init)
                candidates.append(
                    (collapsed, entry.template, shapes, collapsed.count(where: { !Self.hasWildcard($0) }))
                )
            }
        }
        guard candidates.count > 1, candidates.count <= 512 else { return }
        var target: [Int: Int] = [:]
        for narrow in candidates {
            var best: (template: Int, shapes: Int)?
            for wide in candidates
            where wide.template != narrow.template && wide.shapes > narrow.shapes
                && wide.tokens.count != narrow.tokens.count && wide.tokens.contains(Self.wildcard)
                && 2 * wide.constants >= narrow.tokens.count
            {
                if wide.shapes > (best?.shapes ?? 0) && Self.spans(wide.tokens, narrow.tokens) {
                    best = (wide.template, wide.shapes)
                }
            }
            if let best { target[narrow.template] = best.template }
        }
        guard !target.isEmpty else { return }
        for bucket in bucketList {
            for slot in self.buckets[bucket].members {
                if let moved = target[self.groups[slot].template] { self.groups[slot].template = moved }
            }
        }
    }

    /// Whether `pattern` matches `tokens` when each standalone `<*>` may take one or more whole tokens.
    static func spans(_ pattern: [String], _ tokens: [String]) -> Bool {
        guard pattern.count <= 64, tokens.count <= 128 else { return false }
        func match(_ p: Int, _ t: Int) -> Bool {
            if p == pattern.count { return t == tokens.count }
            if t == tokens.count { return false }
            if pattern[p] == wildcard {
                var next = t + 1
                while next <= tokens.count {
                    if match(p + 1, next) { return true }
                    next += 1
                }
                return false
            }
            guard
                pattern[p] == tokens[t]
                    || (hasWildcard(pattern[p]) && WildcardPattern(pattern[p]).captures(in: tokens[t]) != nil)
            else {
                return false
            }
            return match(p + 1, t + 1)
        }
        return match(0, 0)
    }

    // MARK: - Token rules

    /// Merges the distinct values a column takes into one template token.
    ///
    /// Values of one shape (`uid=0`, `uid=1000`) keep their shared parts (`uid=<*>`); values of different shapes
    /// keep only their common punctuation (`ws=null,`, `ws=WorkSource{10113},` → `ws=<*>,`).
    static func mergeToken(_ values: Set<String>) -> String {
        if values.count == 1 { return values.first! }
        let split = values.map(Self.segments)
        let skeleton = split[0].skeleton
        if split.allSatisfy({ $0.skeleton == skeleton }) {
            var result = ""
            for index in split[0].segments.indices {
                let first = split[0].segments[index]
                result += split.allSatisfy({ $0.segments[index] == first }) ? first : wildcard
                if index < skeleton.count { result.unicodeScalars.append(skeleton[index]) }
            }
            return result
        }
        let texts = values.map { Array($0.utf8) }
        var prefix = commonPrefixLength(texts)
        while prefix > 0 && !ByteClass.isSegmentDelimiter(texts[0][prefix - 1]) { prefix -= 1 }
        var suffix = commonSuffixLength(texts)
        while suffix > 0 && !ByteClass.isSegmentDelimiter(texts[0][texts[0].count - suffix]) { suffix -= 1 }
        var head = Array(texts[0][..<prefix])
        var tail = Array(texts[0][(texts[0].count - suffix)...])
        if head.count >= 3 && head.suffix(3).elementsEqual(VariableMasker.wildcard) { head.removeLast(3) }
        if tail.count >= 3 && tail.prefix(3).elementsEqual(VariableMasker.wildcard) { tail.removeFirst(3) }
        return String(decoding: head + VariableMasker.wildcard + tail, as: UTF8.self)
    }

    /// Whether a column's values are clearly one variable even though there are few of them: a value already
    /// masked, or values of one shape that differ only after a `key=` / `key:` prefix.
    static func looksVariable(_ values: Set<String>) -> Bool {
        if values.contains(where: hasWildcard) { return true }
        var skeleton: [Unicode.Scalar]?
        var key: String?
        for value in values {
            let split = Self.segments(value)
            guard let delimiter = split.skeleton.first, delimiter == "=" || delimiter == ":" else { return false }
            if skeleton == nil {
                skeleton = split.skeleton
                key = split.segments[0]
            } else if skeleton! != split.skeleton || key! != split.segments[0] {
                return false
            }
        }
        return true
    }

    /// Splits a token at its segment delimiters (not `<` or `>`, which belong to `<*>`).
    static func segments(_ token: String) -> (skeleton: [Unicode.Scalar], segments: [String]) {
        var skeleton: [Unicode.Scalar] = []
        var segments: [String] = []
        var current = ""
        for scalar in token.unicodeScalars {
            if scalar.isASCII && scalar != "<" && scalar != ">" && ByteClass.isSegmentDelimiter(UInt8(scalar.value)) {
                segments.append(current)
                current = ""
                skeleton.append(scalar)
            } else {
                current.unicodeScalars.append(scalar)
            }
        }
        segments.append(current)
        return (skeleton, segments)
    }

    /// Joins tokens with single spaces, writing variables separated only by spaces as one `<*>`
    /// (`at <*> <*> <*>:<*>` → `at <*>:<*>`), the convention of the Loghub 2.0 labels: a date or a name split
    /// over several tokens is one variable.
    static func collapse(_ tokens: [String]) -> String {
        var bytes: [UInt8] = []
        for token in tokens {
            if !bytes.isEmpty { bytes.append(0x20) }
            bytes.append(contentsOf: token.utf8)
        }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            // Drop " <*>" after a `<*>` that was just written.
            if result.count >= 3 && result.suffix(3).elementsEqual(VariableMasker.wildcard)
                && index + 4 <= bytes.count && bytes[index] == 0x20
                && bytes[(index + 1)..<(index + 4)].elementsEqual(VariableMasker.wildcard)
            {
                index += 4
                continue
            }
            result.append(bytes[index])
            index += 1
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// Whether a token contains `<*>` (a byte scan: `String.contains(String)` goes through the regex engine).
    static func hasWildcard(_ token: String) -> Bool {
        var utf8 = token.utf8.makeIterator()
        var state = 0
        while let byte = utf8.next() {
            switch (state, byte) {
            case (_, UInt8(ascii: "<")): state = 1
            case (1, UInt8(ascii: "*")): state = 2
            case (2, UInt8(ascii: ">")): return true
            default: state = 0
            }
        }
        return false
    }

    /// Whether a line's masked tokens fit a template's tokens position by position; `patterns` holds the compiled
    /// form of each template token that has a `<*>` inside it (`uid=<*>`).
    static func matches(_ patterns: [WildcardPattern?], template: [String], tokens: [String]) -> Bool {
        guard template.count == tokens.count else { return false }
        for index in template.indices where template[index] != tokens[index] && template[index] != wildcard {
            guard let pattern = patterns[index], pattern.captures(in: tokens[index]) != nil else { return false }
        }
        return true
    }

    private static func commonPrefixLength(_ texts: [[UInt8]]) -> Int {
        var length = texts.map(\.count).min() ?? 0
        for text in texts.dropFirst() {
            var index = 0
            while index < length && text[index] == texts[0][index] { index += 1 }
            length = index
        }
        return length
    }

    private static func commonSuffixLength(_ texts: [[UInt8]]) -> Int {
        var length = texts.map(\.count).min() ?? 0
        let first = texts[0]
        for text in texts.dropFirst() {
            var index = 0
            while index < length && text[text.count - 1 - index] == first[first.count - 1 - index] { index += 1 }
            length = index
        }
        return length
    }

    // MARK: - Bounded memory

    /// Drops the rarest tenth of the groups (fewest lines, then least recently seen).
    mutating func evictRarest() {
        let dropCount = max(1, self.groups.count / 10)
        let victims = Set(
            self.groups.indices.sorted {
                let a = self.groups[$0]
                let b = self.groups[$1]
                return a.count != b.count ? a.count < b.count : a.lastOrdinal < b.lastOrdinal
            }.prefix(dropCount)
        )
        var kept: [Group] = []
        kept.reserveCapacity(self.groups.count - dropCount)
        for index in self.groups.indices where !victims.contains(index) { kept.append(self.groups[index]) }
        self.rebuildIndexes(with: kept)
    }
}
