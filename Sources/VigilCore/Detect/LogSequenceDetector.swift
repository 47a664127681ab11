// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Learns which log event follows which inside a session (a trace, a request, a process) and reports an order
/// never seen before once the model has seen enough to be sure it is new.
///
/// DeepLog's insight, kept small: a workflow writes its events in a few fixed orders, so an event is followed by
/// one of a handful of others. Each session remembers its last event; every step (previous → next) is counted.
/// A step never seen is surprising only when the previous event has been followed often by few different events:
/// the chance that its next follower is a new one, estimated as PPM compression's escape (method C: distinct
/// followers / (steps + distinct followers)), must be at most ``Configuration/maximumNoveltyChance``. An event
/// with one follower must have been followed about a hundred times, one with three followers three hundred.
/// Interleaved or free-form streams have many followers per event, so that chance stays high and they never
/// alert; a strict workflow alerts on its first step out of line. The new follower must be an established event itself (a never-seen event is the new-template
/// detector's story, not an order).
///
/// Sessions named by a request or trace ID are *bounded*: they start and end, and both count as steps (an
/// order that used to go on to "payment authorised" and now ends after "order created" is a step to the end).
/// A session ends when it has been idle for ``Configuration/sessionIdleSeconds``. Sessions named by a process or
/// thread, or a whole stream, are *continuous*: only the steps between their events count.
///
/// Memory is bounded: at most ``Configuration/maximumSessions`` open sessions (the longest idle are dropped
/// without ending, and for one idle time after that no new session counts its start, since it may be one of
/// them) and ``Configuration/maximumSteps`` distinct steps; a stream with more distinct steps than
/// that has no fixed order, and the detector stops judging it. Time comes with the events.
public struct LogSequenceDetector: Sendable {
    /// Knobs, one set for every stream.
    public struct Configuration: Sendable, Equatable {
        /// How often an event must have been followed before a new follower is judged.
        public var minimumFollowers = 100
        /// The largest estimated chance of a new follower at which a new one still surprises.
        public var maximumNoveltyChance = 0.01
        /// How often the new follower must have been seen itself (as a follower, or ending sessions).
        public var minimumEventCount = 10
        /// A bounded session idle this long has ended.
        public var sessionIdleSeconds: Int64 = 300
        /// Open sessions kept at most.
        public var maximumSessions = 10_000
        /// Distinct steps kept at most; beyond them the stream has no fixed order and nothing is judged.
        public var maximumSteps = 4096

        /// The defaults.
        public init() {}
    }

    /// One position in a session: its start, an event (a template's number), or its end.
    public enum Step: Hashable, Sendable, Comparable {
        case start
        case event(UInt32)
        case end

        var code: UInt32 {
            switch self {
            case .start: Self.startCode
            case .event(let event): min(event, Self.endCode - 1)
            case .end: Self.endCode
            }
        }

        init(code: UInt32) {
            self = code == Self.startCode ? .start : code == Self.endCode ? .end : .event(code)
        }

        static let startCode = UInt32.max
        static let endCode = UInt32.max - 1
    }

    /// How a session is named: one that starts and ends (a trace or request ID), or one that goes on (a process,
    /// a thread, the whole stream).
    public enum SessionKind: Sendable, Hashable {
        case bounded
        case continuous
    }

    /// A step never seen before, with what the previous event is usually followed by.
    public struct Surprise: Sendable, Equatable {
        /// The event before.
        public var previous: Step
        /// The event after it that was never seen there.
        public var next: Step
        /// The session it happened in (the hash the caller gave).
        public var session: UInt64
        /// When (the next event's time, or when the session was found idle for an end).
        public var time: Timestamp
        /// How often `previous` had been followed before.
        public var followers: Int
        /// Its usual followers, most frequent first (three at most), with their counts.
        public var usual: [Follower]
        /// The estimated chance that a follower of `previous` is new (see the type's notes).
        public var noveltyChance: Double
    }

    /// One usual follower and how often it followed.
    public struct Follower: Sendable, Equatable {
        public var step: Step
        public var count: Int
    }

    public let configuration: Configuration
    /// Counts of each step, keyed by previous << 32 | next.
    private var steps: [UInt64: Int32] = [:]
    /// Per previous event: how often it was followed, and by how many different events.
    private var followed: [UInt32: (total: Int32, distinct: Int32)] = [:]
    /// How often each event was seen as a follower.
    private var seen: [UInt32: Int32] = [:]
    /// Open sessions: the last event, when it came, and whether the session ends.
    private var sessions: [UInt64: (last: UInt32, time: Int64, kind: SessionKind)] = [:]
    /// Until this time (nanoseconds), a bounded session seen for the first time may be one whose start was
    /// forgotten (``forgetSessions(now:)``, or too many open at once): it opens without a step from its start.
    private var forgottenUntil = Int64.min

    /// Creates a detector that has seen nothing.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Distinct steps learnt so far.
    public var stepCount: Int { self.steps.count }
    /// Sessions open now.
    public var openSessions: Int { self.sessions.count }

    /// Takes `event` of `session` at `time`; returns the surprise when the step to it was never seen and should
    /// have been (see the type's notes). The step is learnt either way.
    public mutating func observe(
        event: UInt32,
        session: UInt64,
        kind: SessionKind,
        time: Timestamp
    ) -> Surprise? {
        let next = Step.event(event).code
        let previous: UInt32
        if let open = self.sessions[session] {
            previous = open.last
        } else if kind == .bounded && time.nanoseconds >= self.forgottenUntil {
            previous = Step.startCode
        } else {
            self.open(session, last: next, time: time.nanoseconds, kind: kind)
            self.seen[next, default: 0] += 1
            return nil
        }
        self.sessions[session] = (next, time.nanoseconds, kind)
        let surprise = self.step(from: previous, to: next, session: session, time: time)
        if self.sessions.count > self.configuration.maximumSessions { self.trim(now: time.nanoseconds) }
        return surprise
    }

    /// Ends every bounded session idle for ``Configuration/sessionIdleSeconds`` at `now` (a step to the end, which
    /// may surprise) and forgets idle continuous ones.
    public mutating func expire(now: Timestamp) -> [Surprise] {
        let idleFor = self.configuration.sessionIdleSeconds.multipliedReportingOverflow(by: 1_000_000_000)
        let cutoff = now.nanoseconds.subtractingReportingOverflow(idleFor.partialValue)
        guard !idleFor.overflow, !cutoff.overflow else { return [] }
        var idle: [(session: UInt64, last: UInt32, time: Int64, kind: SessionKind)] = []
        for (session, open) in self.sessions where open.time <= cutoff.partialValue {
            idle.append((session, open.last, open.time, open.kind))
        }
        // Sessions end in the order they went quiet, so the same input always gives the same findings.
        idle.sort { ($0.time, $0.session) < ($1.time, $1.session) }
        var surprises: [Surprise] = []
        for session in idle {
            self.sessions[session.session] = nil
            guard session.kind == .bounded else { continue }
            // No overflow: the session's time is at most the cutoff, `idleFor` below `now`.
            let ended = Timestamp(nanoseconds: session.time + idleFor.partialValue)
            if let surprise = self.step(from: session.last, to: Step.endCode, session: session.session, time: ended) {
                surprises.append(surprise)
            }
        }
        return surprises
    }

    /// Judges and learns one step.
    private mutating func step(from previous: UInt32, to next: UInt32, session: UInt64, time: Timestamp) -> Surprise? {
        let key = UInt64(previous) << 32 | UInt64(next)
        let count = self.steps[key]
        let stats = self.followed[previous] ?? (0, 0)
        var surprise: Surprise?
        if count == nil {
            guard self.steps.count < self.configuration.maximumSteps else { return nil }
            let chance = Double(stats.distinct) / (Double(stats.total) + Double(stats.distinct))
            if Int(stats.total) >= self.configuration.minimumFollowers,
                chance <= self.configuration.maximumNoveltyChance,
                Int(self.seen[next] ?? 0) >= self.configuration.minimumEventCount
            {
                surprise = Surprise(
                    previous: Step(code: previous),
                    next: Step(code: next),
                    session: session,
                    time: time,
                    followers: Int(stats.total),
                    usual: self.usualFollowers(of: previous),
                    noveltyChance: chance
                )
            }
        }
        let updated = (count ?? 0) &+ 1
        self.steps[key] = updated
        self.followed[previous] = (stats.total &+ 1, stats.distinct + (count == nil ? 1 : 0))
        self.seen[next, default: 0] &+= 1
        return surprise
    }

    /// The three most frequent followers of `previous`.
    private func usualFollowers(of previous: UInt32) -> [Follower] {
        var followers: [Follower] = []
        for (key, count) in self.steps where UInt32(truncatingIfNeeded: key >> 32) == previous {
            followers.append(Follower(step: Step(code: UInt32(truncatingIfNeeded: key)), count: Int(count)))
        }
        followers.sort { $0.count != $1.count ? $0.count > $1.count : $0.step < $1.step }
        return Array(followers.prefix(3))
    }

    private mutating func open(_ session: UInt64, last: UInt32, time: Int64, kind: SessionKind) {
        self.sessions[session] = (last, time, kind)
        if self.sessions.count > self.configuration.maximumSessions { self.trim(now: time) }
    }

    /// Drops every open session without ending it, for a caller that missed some of their events: their next
    /// events open them again without a step from their start or from the event before the gap.
    public mutating func forgetSessions(now: Timestamp) {
        self.sessions.removeAll(keepingCapacity: true)
        self.forgetStarts(now: now.nanoseconds)
    }

    /// Drops the longest idle half of the open sessions, without ending them (they were not seen to end).
    private mutating func trim(now: Int64) {
        let times = self.sessions.values.map(\.time).sorted()
        let cutoff = times[times.count / 2]
        self.sessions = self.sessions.filter { $0.value.time > cutoff }
        self.forgetStarts(now: now)
    }

    /// Sessions dropped at `now` may go on for up to the idle time: until then, no new session counts its start.
    private mutating func forgetStarts(now: Int64) {
        let idle = self.configuration.sessionIdleSeconds.multipliedReportingOverflow(by: 1_000_000_000)
        let until = now.addingReportingOverflow(idle.partialValue)
        self.forgottenUntil = idle.overflow || until.overflow ? Int64.max : until.partialValue
    }
}

extension LogSequenceDetector {
    /// The session a record belongs to, from its fields: a trace, request, correlation or session ID names a
    /// bounded one; a process or thread a continuous one; with neither, the whole stream is one continuous
    /// session (hash 0). The field's name comes back too, for the evidence.
    public static func session(of fields: [String: String]) -> (hash: UInt64, kind: SessionKind, field: String?) {
        // One hash lookup per field; of several session fields the first in the lists below wins,
        // whatever order the dictionary gives them in (it differs between processes).
        var best: (rank: Int, name: String, value: String)?
        for (name, value) in fields where !value.isEmpty && name.utf8.count <= Self.longestSessionField {
            guard let rank = Self.sessionFieldRanks[name], rank < best?.rank ?? Int.max else { continue }
            best = (rank, name, value)
        }
        guard let best else { return (0, .continuous, nil) }
        let kind: SessionKind = best.rank < Self.boundedSessionFields.count ? .bounded : .continuous
        return (SignatureHash.of(best.value), kind, best.name)
    }

    /// Fields that name a session that starts and ends, best first.
    static let boundedSessionFields = [
        "trace_id", "traceId", "traceid", "trace.id", "TraceId", "request_id", "requestId", "requestid", "req_id",
        "reqId", "request.id", "x_request_id", "correlation_id", "correlationId", "session_id", "sessionId",
        "transaction_id", "transactionId", "txid",
    ]
    /// Fields that name a session that goes on, best first; any bounded one beats them.
    static let continuousSessionFields = ["pid", "tid", "thread", "thread_id", "threadId", "process"]
    /// Every session field, best first: a field's rank is its place here.
    static let sessionFields = boundedSessionFields + continuousSessionFields
    static let sessionFieldRanks = Dictionary(
        uniqueKeysWithValues: sessionFields.enumerated().map { ($0.element, $0.offset) }
    )
    static let longestSessionField = sessionFieldRanks.keys.map(\.utf8.count).max() ?? 0
}

extension TemplateMiner {
    /// A step as a person reads it: a template's text, or the session's start or end.
    func text(of step: LogSequenceDetector.Step) -> String {
        switch step {
        case .start: "(session start)"
        case .end: "(session end)"
        case .event(let number): self.templateText(number: Int(number)) ?? "(template \(number))"
        }
    }
}
