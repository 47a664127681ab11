// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// A template text used as a pattern: literal pieces separated by `<*>`, each of which matches any text.
public struct WildcardPattern: Sendable, Hashable {
    /// The literal pieces; there is one more piece than there are wildcards.
    public let pieces: [[UInt8]]

    /// Creates a pattern from a template text such as `user=<*> from <*>`.
    public init(_ template: String) {
        var pieces: [[UInt8]] = []
        var current: [UInt8] = []
        let bytes = Array(template.utf8)
        var index = 0
        while index < bytes.count {
            if index + 2 < bytes.count && bytes[index] == UInt8(ascii: "<") && bytes[index + 1] == UInt8(ascii: "*")
                && bytes[index + 2] == UInt8(ascii: ">")
            {
                pieces.append(current)
                current = []
                index += 3
            } else {
                current.append(bytes[index])
                index += 1
            }
        }
        pieces.append(current)
        self.pieces = pieces
    }

    /// Returns the text each wildcard matched in `text`, or `nil` when the text does not fit the pattern.
    ///
    /// Wildcards may match empty text; each literal piece is matched at its leftmost possible place, which finds
    /// a match whenever one exists.
    public func captures(in text: String) -> [String]? {
        let bytes = Array(text.utf8)
        guard let first = self.pieces.first, bytes.starts(with: first) else { return nil }
        if self.pieces.count == 1 { return bytes.count == first.count ? [] : nil }
        let last = self.pieces[self.pieces.count - 1]
        guard bytes.count >= first.count + last.count, bytes.suffix(last.count).elementsEqual(last) else { return nil }
        let end = bytes.count - last.count
        var captures: [String] = []
        var position = first.count
        for piece in self.pieces.dropFirst().dropLast() {
            guard let found = Self.find(piece, in: bytes, from: position, before: end) else { return nil }
            captures.append(String(decoding: bytes[position..<found], as: UTF8.self))
            position = found + piece.count
        }
        captures.append(String(decoding: bytes[position..<end], as: UTF8.self))
        return captures
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int, before end: Int) -> Int? {
        guard !needle.isEmpty else { return start }
        var index = start
        while index + needle.count <= end {
            if haystack[index] == needle[0] && haystack[index..<(index + needle.count)].elementsEqual(needle) {
                return index
            }
            index += 1
        }
        return nil
    }
}
