// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// A mined log template with its statistics.
public struct Template: Sendable, Hashable {
    /// The stable ID: 16 hex digits of a hash of ``text``, the same on every run and machine.
    public let id: String
    /// The template text, `<*>` marking each variable.
    public let text: String
    /// Lines that matched it.
    public var count = 0
    /// Lines that matched it at error level or above.
    public var errorCount = 0
    /// The highest severity seen on its lines.
    public var severity = Severity.unknown
    /// The ordinal (1-based) of the first and last line that matched it.
    public var firstLine = Int.max
    /// The ordinal (1-based) of the last line that matched it.
    public var lastLine = 0
    /// The earliest timestamp seen on its lines.
    public var firstSeen: Timestamp?
    /// The latest timestamp seen on its lines.
    public var lastSeen: Timestamp?
    /// How many distinct masked shapes it covers.
    public var shapes = 0

    /// Creates an empty template for a text.
    public init(text: String) {
        self.text = text
        self.id = Self.id(for: text)
    }

    /// The stable ID of a template text.
    public static func id(for text: String) -> String {
        let hash = StableHash.of(text)
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.utf8.count) + digits
    }

    /// The pattern form of the text, to match lines or extract their parameters.
    public var pattern: WildcardPattern { WildcardPattern(self.text) }

    mutating func absorb(_ group: TemplateMiner.Group) {
        self.count += group.count
        self.errorCount += group.errorCount
        self.severity = max(self.severity, group.severity)
        self.firstLine = min(self.firstLine, group.firstOrdinal)
        self.lastLine = max(self.lastLine, group.lastOrdinal)
        if let seen = group.firstSeen, self.firstSeen.map({ seen < $0 }) ?? true { self.firstSeen = seen }
        if let seen = group.lastSeen, self.lastSeen.map({ seen > $0 }) ?? true { self.lastSeen = seen }
        self.shapes += 1
    }
}
