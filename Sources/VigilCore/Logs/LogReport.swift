// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// What `vigil analyze` found in a log: volumes, templates worth reading, and how activity moved over time.
public struct LogReport: Sendable, Codable, Equatable {
    /// A template with the numbers a reader needs to judge it.
    public struct TemplateLine: Sendable, Codable, Equatable {
        /// Stable template ID.
        public var id: String
        /// The template text (`<*>` marks variables).
        public var template: String
        /// Records that matched it.
        public var count: Int
        /// Records at error level or above.
        public var errors: Int
        /// The highest level seen.
        public var severity: String
        /// The first record (1-based) that matched it.
        public var firstRecord: Int
        /// When it first appeared, if the log has timestamps (ISO 8601).
        public var firstSeen: String?
        /// When it last appeared.
        public var lastSeen: String?
    }

    /// Record counts over time, in equal buckets.
    public struct Timeline: Sendable, Codable, Equatable {
        /// `"time"` when buckets are time spans, `"records"` when the log has no timestamps.
        public var axis: String
        /// The width of one bucket: seconds for time, records for positions.
        public var bucketWidth: Double
        /// Start of the first bucket (ISO 8601) for a time axis.
        public var start: String?
        /// Records per bucket.
        public var counts: [Int]
        /// Error records per bucket.
        public var errors: [Int]
    }

    /// Consecutive buckets with far more records (or error records) than usual.
    public struct Burst: Sendable, Codable, Equatable {
        /// `"records"` for a burst of all records, `"errors"` for a burst of error records.
        public var kind: String
        /// Index of its first bucket in ``Timeline/counts``.
        public var bucket: Int
        /// How many consecutive buckets it spans.
        public var buckets: Int
        /// When it starts (ISO 8601).
        public var start: String?
        /// When it ends (ISO 8601).
        public var end: String?
        /// Records (or error records) in it.
        public var count: Int
        /// The most records (or error records) in one of its buckets.
        public var peak: Int
        /// The usual (median) count per bucket.
        public var typical: Double
        /// The template contributing most records to it.
        public var topTemplate: String?
    }

    /// A stretch without any record, much longer than the usual gap.
    public struct Silence: Sendable, Codable, Equatable {
        /// The last record before it (ISO 8601).
        public var from: String
        /// The first record after it (ISO 8601).
        public var to: String
        /// Its length in seconds.
        public var seconds: Double
        /// The usual gap between records, in seconds: the median gap between records that do not share a
        /// timestamp.
        public var typicalGapSeconds: Double
    }

    /// The detected format of each stream read (`text header [time time level component:]`).
    public var formats: [String]
    /// Input lines read.
    public var lines: Int
    /// Records after multi-line joining.
    public var records: Int
    /// Records whose lines carried no readable timestamp.
    public var recordsWithoutTime: Int
    /// Distinct templates.
    public var templateCount: Int
    /// First and last timestamp seen (ISO 8601).
    public var timeRange: [String]?
    /// Records at error level or above.
    public var errorRecords: Int
    /// Records at warning level.
    public var warningRecords: Int
    /// Errors per minute over the whole time range.
    public var errorsPerMinute: Double?
    /// The busiest minute for errors.
    public var peakErrorsPerMinute: Int?
    /// The most frequent templates.
    public var topTemplates: [TemplateLine]
    /// Templates with error-level records, most errors first.
    public var errorTemplates: [TemplateLine]
    /// Templates with warning-level records.
    public var warningTemplates: [TemplateLine]
    /// The rarest templates.
    public var rareTemplates: [TemplateLine]
    /// Templates first seen in the last quarter of the input.
    public var lateTemplates: [TemplateLine]
    /// Error templates first seen after the first fifth of the input: new failure modes.
    public var newErrorTemplates: [TemplateLine]
    /// Activity over time.
    public var timeline: Timeline
    /// Buckets with unusually many records.
    public var bursts: [Burst]
    /// Unusually long gaps.
    public var silences: [Silence]
    /// Steps between templates never seen in their session before (see ``LogSequenceDetector``).
    public var sequenceAnomalies: [SequenceStep]

    /// A template followed, in one session, by one that never followed it before (or a session that ended or
    /// started where none did).
    public struct SequenceStep: Sendable, Codable, Equatable {
        /// The template before, or `(session start)`.
        public var previous: String
        /// The template after, or `(session end)`.
        public var next: String
        /// The input line of the record after (of the last record, for an end).
        public var line: Int
        /// When (ISO 8601), if the records carry times.
        public var time: String?
        /// The field that names the session (`request_id`, `pid`); none when the whole stream is one.
        public var session: String?
        /// How often the template before had been followed.
        public var followers: Int
        /// What usually followed it, most often first.
        public var usual: [Follower]

        /// One usual follower.
        public struct Follower: Sendable, Codable, Equatable {
            public var template: String
            public var count: Int
        }
    }
}
