// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

extension TemplateMiner {
    /// Everything a miner learned, as plain values: enough to rebuild it after a restart.
    ///
    /// The consolidated templates depend only on the set of shapes, so a miner restored from a snapshot and
    /// consolidated has the same templates, with the same IDs, as the miner the snapshot was taken from.
    public struct Snapshot: Sendable, Codable, Equatable {
        /// Every live shape, in the order it was first seen.
        public var shapes: [Shape]
        /// How many lines the miner had taken.
        public var lineCount: Int
    }

    /// One masked line shape and its statistics.
    public struct Shape: Sendable, Codable, Equatable {
        /// The masked line, variables written `<*>`.
        public var signature: String
        /// Lines of this shape.
        public var count: Int
        /// Lines of this shape at error level or above.
        public var errorCount: Int
        /// The highest severity seen.
        public var severity: Severity
        /// Ordinals of the first and last line of this shape.
        public var firstLine: Int
        /// Ordinal of the last line of this shape.
        public var lastLine: Int
        /// Earliest timestamp seen.
        public var firstSeen: Timestamp?
        /// Latest timestamp seen.
        public var lastSeen: Timestamp?
    }

    /// The miner's state as plain values.
    public func snapshot() -> Snapshot {
        let shapes = self.groups.sorted { $0.serial < $1.serial }.map { group in
            Shape(
                signature: String(decoding: group.signature, as: UTF8.self),
                count: group.count,
                errorCount: group.errorCount,
                severity: group.severity,
                firstLine: group.firstOrdinal,
                lastLine: group.lastOrdinal,
                firstSeen: group.firstSeen,
                lastSeen: group.lastSeen
            )
        }
        return Snapshot(shapes: shapes, lineCount: self.lineCount)
    }

    /// Rebuilds a miner from a snapshot and consolidates it.
    public init(restoring snapshot: Snapshot, configuration: Configuration = Configuration()) {
        self.init(configuration: configuration)
        for shape in snapshot.shapes {
            self.scratch = Array(shape.signature.utf8)
            let tokenCount = self.scratch.split(separator: 0x20, omittingEmptySubsequences: true).count
            let hash = SignatureHash.of(self.scratch)
            if self.slotByHash.slot(for: hash).map({ ByteEquality.equal(self.groups[$0].signature, self.scratch) })
                ?? false || self.slotByCollidingSignature[self.scratch] != nil
            {
                continue  // A duplicate shape in a damaged snapshot: keep the first.
            }
            self.lineCount = shape.firstLine
            let slot = self.insertGroup(hash: hash, tokenCount: tokenCount)
            self.groups[slot].count = shape.count
            self.groups[slot].errorCount = shape.errorCount
            self.groups[slot].severity = shape.severity
            self.groups[slot].firstOrdinal = shape.firstLine
            self.groups[slot].lastOrdinal = shape.lastLine
            self.groups[slot].firstSeen = shape.firstSeen
            self.groups[slot].lastSeen = shape.lastSeen
        }
        self.lineCount = snapshot.lineCount
        self.scratch.removeAll(keepingCapacity: true)
        self.consolidate()
    }
}
