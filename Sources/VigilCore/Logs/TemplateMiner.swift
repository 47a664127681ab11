// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Mines log templates online, one line at a time, deterministically and in bounded memory.
///
/// Each line is masked (``VariableMasker``) and its masked shape looked up in a hash table: the common case
/// costs one pass over the bytes and no allocation. A shape seen for the first time becomes a *group* in a
/// bucket of groups with the same token count and first token. A bucket's groups are partitioned into
/// templates column by column, the way an engineer reads them: a column whose few values look like constants
/// (`opened`/`closed`, `NEW`/`ASSIGNED`) splits the bucket, while a column with many values, or values that
/// share a `key=` prefix, becomes a variable. Templates that differ only in how many tokens a variable spans
/// (`name <*> <*>` and `name <*>`) collapse into one, so multi-token variables do not fragment an event.
///
/// Online, a new shape that fits a learned template joins it at once; one that fits none keeps its own text
/// as template until its bucket has grown by half and is partitioned again, which keeps learning amortised
/// O(1) per shape. ``consolidate()`` re-partitions whatever changed, so after it every line's template
/// reflects everything seen: call it before reporting, or periodically on a stream.
///
/// Unlike Drain, the consolidated result depends only on the set of shapes seen, not their order: replaying a
/// stream adds no group and no template, and a template's ID is a hash of its text, stable across runs.
public struct TemplateMiner: Sendable {
    /// Tuning knobs; the defaults are what every evaluation uses.
    public struct Configuration: Sendable {
        /// The most distinct line shapes kept; past it the rarest tenth is evicted.
        public var maximumGroups: Int
        /// A column with at most this many distinct constant-looking values separates templates.
        public var splitThreshold: Int
        /// How variables are recognised inside tokens.
        public var masker: VariableMasker
        /// Templates a person wrote (`card declined for order <*> <*>`): a line shape one of them matches, `<*>`
        /// taking any run of text (a variable or words), belongs to the first that does, whatever the mining
        /// would have made of it, and never teaches the mining anything. Its ID is the hash of its text, as for
        /// mined templates, so it is the same on every server and after every restart.
        public var pinnedTemplates: [String] = []

        /// Creates a configuration.
        public init(maximumGroups: Int = 100_000, splitThreshold: Int = 3, masker: VariableMasker = VariableMasker()) {
            self.maximumGroups = max(16, maximumGroups)
            self.splitThreshold = splitThreshold
            self.masker = masker
        }
    }

    /// Identifies the masked shape a line had; valid until that shape is evicted.
    public struct GroupID: Hashable, Sendable {
        /// The group's serial number, unique for the life of the miner.
        public let serial: UInt32
    }

    struct Group {
        var serial: UInt32
        var signature: [UInt8]
        var tokens: [String]
        var bucket: Int
        var count: Int
        var errorCount: Int
        var firstOrdinal: Int
        var lastOrdinal: Int
        var firstSeen: Timestamp?
        var lastSeen: Timestamp?
        var severity: Severity
        var template: Int
    }

    /// Shapes that match a pinned template belong to no bucket.
    static let pinnedBucket = -1

    /// Buckets hold the shapes of one token count and first token (`""` when the first token is a variable).
    struct BucketKey: Hashable {
        var tokenCount: Int
        var firstToken: String
    }

    struct Bucket {
        var members: [Int] = []
        var templates: [(tokens: [String], template: Int, patterns: [WildcardPattern?])] = []
        var hasUnpartitionedMembers = false
        /// Shapes added since the last partition that fit none of its templates.
        var novelSincePartition = 0
        /// Members at the last partition; re-partitioning waits until the bucket has grown by half, so the
        /// cost of learning stays amortised O(1) per new shape.
        var membersAtPartition = 0
    }

    public let configuration: Configuration
    var groups: [Group] = []
    var slotByHash = HashSlotTable()
    var slotByCollidingSignature: [[UInt8]: Int] = [:]
    var slotBySerial: [UInt32: Int] = [:]
    var buckets: [Bucket] = []
    var bucketByKey: [BucketKey: Int] = [:]
    /// First tokens whose buckets were re-partitioned since the last ``consolidate()``.
    var firstTokensToAbsorb = Set<String>()
    /// Buckets of every token count that share a first token, for variables that span several tokens.
    var bucketsByFirstToken: [String: [Int]] = [:]
    var templateTexts: [String] = []
    var templateByText: [String: Int] = [:]
    /// The pinned templates, compiled, with their template indices.
    var pins: [(pattern: WildcardPattern, template: Int)] = []
    var nextSerial: UInt32 = 0
    var scratch: [UInt8] = []
    /// How many lines have been added.
    public internal(set) var lineCount = 0

    /// Creates an empty miner.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.scratch.reserveCapacity(1024)
        for text in configuration.pinnedTemplates {
            let normalized = Self.normalizePinned(text)
            guard !normalized.isEmpty, !self.pins.contains(where: { self.templateTexts[$0.template] == normalized })
            else { continue }
            self.pins.append((WildcardPattern(normalized), self.registerTemplate(normalized)))
        }
    }

    /// What is wrong with a pinned template a person wrote, or nil when nothing is: it needs words of its own, or
    /// it would take every line.
    public static func problem(withPinned text: String) -> String? {
        let literal = Self.normalizePinned(text).replacing(Self.wildcard, with: "").filter { $0 != " " }
        return literal.isEmpty ? "a pinned template needs some text besides <*> (it would take every line)" : nil
    }

    /// A pinned template as shapes are written: tokens separated by single spaces.
    public static func normalizePinned(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
    }

    /// The number of distinct line shapes currently held.
    public var groupCount: Int { self.groups.count }

    // MARK: - Adding lines

    /// Adds one message and returns the group it belongs to.
    ///
    /// - Parameters:
    ///   - message: The message bytes, header already removed.
    ///   - severity: The record's level, tracked per template.
    ///   - time: When the record happened, if known.
    /// - Returns: The line's group; ask ``template(of:)`` for its template.
    /// - Complexity: O(length of the message) when its shape was seen before.
    @discardableResult
    public mutating func add(_ message: Span<UInt8>, severity: Severity = .unknown, time: Timestamp? = nil) -> GroupID {
        self.lineCount += 1
        self.scratch.removeAll(keepingCapacity: true)
        let tokenCount = self.configuration.masker.mask(message, into: &self.scratch)
        let key = SignatureHash.of(self.scratch)
        let slot: Int
        if let existing = self.slotByHash.slot(for: key),
            ByteEquality.equal(self.groups[existing].signature, self.scratch)
        {
            slot = existing
        } else if let existing = self.slotByCollidingSignature[self.scratch] {
            slot = existing
        } else {
            slot = self.insertGroup(hash: key, tokenCount: tokenCount)
        }
        self.record(slot: slot, severity: severity, time: time)
        let serial = self.groups[slot].serial
        if self.groups.count > self.configuration.maximumGroups {
            self.evictRarest()
        }
        return GroupID(serial: serial)
    }

    /// Adds one message given as a string.
    @discardableResult
    public mutating func add(_ message: String, severity: Severity = .unknown, time: Timestamp? = nil) -> GroupID {
        var copy = message
        return copy.withUTF8 { buffer in
            self.add(Span(_unsafeElements: buffer), severity: severity, time: time)
        }
    }

    private mutating func record(slot: Int, severity: Severity, time: Timestamp?) {
        self.groups[slot].count += 1
        if severity.isError { self.groups[slot].errorCount += 1 }
        if severity > self.groups[slot].severity { self.groups[slot].severity = severity }
        self.groups[slot].lastOrdinal = self.lineCount
        if let time {
            if self.groups[slot].firstSeen.map({ time < $0 }) ?? true { self.groups[slot].firstSeen = time }
            if self.groups[slot].lastSeen.map({ time > $0 }) ?? true { self.groups[slot].lastSeen = time }
        }
    }

    mutating func insertGroup(hash: UInt64, tokenCount: Int) -> Int {
        if !self.pins.isEmpty {
            let shape = String(decoding: self.scratch, as: UTF8.self)
            if let pin = self.pins.first(where: { $0.pattern.captures(in: shape) != nil }) {
                return self.appendGroup(hash: hash, tokens: [], bucket: Self.pinnedBucket, template: pin.template)
            }
        }
        let tokens: [String] =
            tokenCount == 0
            ? []
            : self.scratch.split(separator: 0x20, omittingEmptySubsequences: true).map {
                String(decoding: $0, as: UTF8.self)
            }
        let first = tokens.first.map { $0 == Self.wildcard ? "" : $0 } ?? ""
        let bucketKey = BucketKey(tokenCount: tokens.count, firstToken: first)
        let bucket: Int
        if let existing = self.bucketByKey[bucketKey] {
            bucket = existing
        } else {
            bucket = self.buckets.count
            self.buckets.append(Bucket())
            self.bucketByKey[bucketKey] = bucket
            self.bucketsByFirstToken[first, default: []].append(bucket)
        }
        let slot = self.appendGroup(hash: hash, tokens: tokens, bucket: bucket, template: -1)
        self.buckets[bucket].members.append(slot)
        if let known = self.buckets[bucket].templates.first(where: {
            Self.matches($0.patterns, template: $0.tokens, tokens: tokens)
        }
        ) {
            // The shape fits a template already learned: no need to re-partition now.
            self.groups[slot].template = known.template
            self.buckets[bucket].hasUnpartitionedMembers = true
        } else if self.buckets[bucket].novelSincePartition + 1 >= max(2, self.buckets[bucket].membersAtPartition / 2) {
            self.partition(bucket: bucket)
            // Merging across token counts looks at every bucket of this first token: leave it to consolidate().
            self.firstTokensToAbsorb.insert(first)
        } else {
            // A new shape: its own text is its template until the bucket is partitioned again.
            self.groups[slot].template = self.registerTemplate(Self.collapse(tokens))
            self.buckets[bucket].novelSincePartition += 1
            self.buckets[bucket].hasUnpartitionedMembers = true
        }
        return slot
    }

    /// Appends a group for the shape in `scratch` and indexes it by hash and serial.
    private mutating func appendGroup(hash: UInt64, tokens: [String], bucket: Int, template: Int) -> Int {
        let slot = self.groups.count
        self.groups.append(
            Group(
                serial: self.nextSerial,
                signature: self.scratch,
                tokens: tokens,
                bucket: bucket,
                count: 0,
                errorCount: 0,
                firstOrdinal: self.lineCount,
                lastOrdinal: self.lineCount,
                firstSeen: nil,
                lastSeen: nil,
                severity: .unknown,
                template: template
            )
        )
        self.slotBySerial[self.nextSerial] = slot
        self.nextSerial &+= 1
        if self.slotByHash.slot(for: hash) == nil {
            self.slotByHash.set(slot, for: hash)
        } else {
            self.slotByCollidingSignature[self.scratch] = slot
        }
        return slot
    }

    // MARK: - Reading templates

    /// Returns the current template of a group, or `nil` if the group was evicted.
    public func template(of group: GroupID) -> Template? {
        guard let slot = self.slotBySerial[group.serial] else { return nil }
        return self.makeTemplate(index: self.groups[slot].template)
    }

    /// The number of a group's current template (the same for every group that shares it), or `nil` if the group
    /// was evicted.
    func templateNumber(of group: GroupID) -> Int? {
        self.slotBySerial[group.serial].map { self.groups[$0].template }
    }

    /// The text of template number `number` (see ``templateNumber(of:)``).
    func templateText(number: Int) -> String? {
        self.templateTexts.indices.contains(number) ? self.templateTexts[number] : nil
    }

    /// Returns the current template text of a group (`<*>` marks variables), or `nil` if it was evicted.
    public func templateText(of group: GroupID) -> String? {
        guard let slot = self.slotBySerial[group.serial] else { return nil }
        return self.templateTexts[self.groups[slot].template]
    }

    /// Re-partitions every bucket that gained shapes since it was last partitioned, so each line's template
    /// reflects everything seen. Batch callers (``vigil parse``) call this once at the end.
    public mutating func consolidate() {
        var touched = self.firstTokensToAbsorb
        self.firstTokensToAbsorb.removeAll()
        for bucket in self.buckets.indices where self.buckets[bucket].hasUnpartitionedMembers {
            self.partition(bucket: bucket)
            if let first = self.groups[self.buckets[bucket].members[0]].tokens.first {
                touched.insert(first == Self.wildcard ? "" : first)
            }
        }
        for first in touched.sorted() { self.absorbIntoWiderTemplates(firstToken: first) }
    }

    /// Returns every live template with its statistics, most frequent first (ties by first appearance).
    public func templates() -> [Template] {
        var stats: [Int: Template] = [:]
        for group in self.groups {
            if var existing = stats[group.template] {
                existing.absorb(group)
                stats[group.template] = existing
            } else if var fresh = self.makeTemplate(index: group.template, statistics: false) {
                fresh.absorb(group)
                stats[group.template] = fresh
            }
        }
        return stats.values.sorted {
            $0.count != $1.count ? $0.count > $1.count : $0.firstLine < $1.firstLine
        }
    }

    private func makeTemplate(index: Int, statistics: Bool = true) -> Template? {
        guard index >= 0 && index < self.templateTexts.count else { return nil }
        var template = Template(text: self.templateTexts[index])
        if statistics {
            for group in self.groups where group.template == index { template.absorb(group) }
        }
        return template
    }
}

extension TemplateMiner {
    static let wildcard = "<*>"

    /// Rebuilds every index after groups were dropped; templates keep their indices.
    mutating func rebuildIndexes(with kept: [Group]) {
        self.groups = kept
        self.slotByHash.removeAll()
        self.slotByCollidingSignature.removeAll()
        self.slotBySerial.removeAll(keepingCapacity: true)
        for bucket in self.buckets.indices { self.buckets[bucket].members.removeAll() }
        for (slot, group) in kept.enumerated() {
            let hash = SignatureHash.of(group.signature)
            if self.slotByHash.slot(for: hash) == nil {
                self.slotByHash.set(slot, for: hash)
            } else {
                self.slotByCollidingSignature[group.signature] = slot
            }
            self.slotBySerial[group.serial] = slot
            if group.bucket != Self.pinnedBucket { self.buckets[group.bucket].members.append(slot) }
        }
    }
}
