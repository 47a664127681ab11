// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import RealModule

/// Ranks the services of an incident by how likely each is its root cause, from metrics alone (and the call
/// graph when known), deterministically.
///
/// 0. **Counters.** A cumulative counter (`http_requests_total`) is read as its rate: see
///    ``IncidentData/readCountersAsRates()``.
/// 1. **Onset.** Given an alert time, the rows before the one holding it are the reference: a row stands for an
///    interval, and exporters label intervals by their start or by their end, so the row before the alert time
///    may already hold the fault; a clear change found (as below) from `alertLead` before the alert on is the
///    onset when it comes first, as alerts come late, and with no clear change there the lead's rows are judged
///    rather than taken as normal (a fault of a few rows is over when a late alert comes), as long as half the
///    reference stays. Otherwise (no alert time) the onset is found in the data: every metric is
///    standardised robustly and finds its own CUSUM change point over the values present (a change across missing rows
///    belongs to the first row that shows it); a metric whose change is clear (significant and large)
///    votes for its row (percentiles of one measurement, p50 to p99, are one vote), and the rows where most votes
///    fall (a row and its two neighbours) start the incident.
///    A fault moves many metrics at once and far, while a slow swing moves each of them a little at a different
///    row, however large it is in total. With no clear change anywhere, the row that best splits all metrics
///    together is taken. Other rows where several metrics changed together (another incident in the window,
///    perhaps) are named, so a person can give one's time as the alert time. Either way, an onset from which
///    nothing moves more than ``affected`` spreads gives way to the latest row before it from which something
///    does (a burst that came back casts no vote; an alert may come long after it), keeping half the reference.
/// 2. **Deviation.** Each metric is scored against its own reference (BARO's robust scorer): how far its
///    values after the onset go from the reference median, in reference IQRs (given an alert time, up to
///    `incidentSpan` after the onset: a window may hold a later incident, which is not this one's story). Rows
///    where a fifth of all metric families stood ten spreads off at once (an earlier incident) are no reference
///    for normal and are left out of it. The deviation is signed: a rise counts for ordinary metrics, a drop
///    for success-rate and availability metrics, because in a resource fault the culprit's CPU rises while its
///    neighbours' falls. The scale has a floor, so a metric that was constant before (availability at 100 %)
///    still counts when it moves. A deviation counts only as far as the metric's next value present holds it
///    too: a one-row spike is noise more often than a fault; and a move that holds longer is surer, the least of
///    three or four values in a row counting √(k/2) times (the standard error of a mean of k). The last value
///    stands alone only right after the onset or up to the alert's row (the row before the alert may still be
///    normal), as nothing can confirm it yet; later, a move only at the end is a spike like any other. A metric
///    that strayed before the onset must go further: its score is divided by the root of its earlier excursions'
///    peak, except the largest one that held three rows (an earlier incident in the reference, not spikiness);
///    one on the reference's first value counts as held, as it may have begun before the window did.
/// 3. **Service.** A service scores as its most deviating metric. Traffic, client-side latency and host
///    metrics count `trafficWeight` as much, and a host metric that moved clearly on several services at once
///    (the cluster's, not one machine's) counts that many times less again. A service whose metrics hold no
///    value at all has gone silent (crashed, or lost its exporter) and cannot be shown normal: it ranks just
///    below a caller whose latency or errors rose (not its CPU or memory) with no callee with data to explain
///    them. One that reported all along and stopped at the onset (crashed, killed, evicted, cut off) changed as
///    much as a service can: every caller's symptom may be its absence, so they yield to it, and it takes the
///    largest symptom it explains (at least ``Configuration/clearDeviation``). A delay on a service's network
///    shows only in its callers' client-side latency: a caller whose client
///    latency rose with no callee's own metrics to explain it witnesses a slow callee, and each callee is as
///    suspect as it explains the witnesses: the share of its callers that witness it, times the share of all
///    witnesses that call it, times their mean slowdown. A witness lifts no silent callee by the rule before
///    (its slow calls are this rule's story), and yields to its most suspect callee as to one whose own metrics
///    moved, when the suspect scores at least `symptomRatio` of the witness's slowdown.
/// 4. **Call graph.** A service whose callee deviates about as much is more likely a symptom than the cause
///    (faults travel up the call graph): it yields to that callee, which then ranks above it. So does a service
///    whose worst metric is latency or errors when a callee deviates clearly, however much less: an overloaded
///    table moves its own latency by tens of spreads and its callers' by hundreds. A service whose worst metric
///    counts errors yields to a callee whose errors clearly rose too, as a caller that retries logs each failure
///    several times. A CPU or memory rise is the
///    service's own and yields only to a callee that deviates about as much. A service whose CPU or memory moved
///    as well as its latency (a saturated frontend) is slow on its own account: it yields to no callee that
///    moved less than its resources did over `symptomRatio`. A leaf (no callees known) whose
///    latency, errors or quality moved yields the same way to a sibling (called by one of its callers) that has
///    callees, does not reach it, and moved at least `symptomRatio` as much in latency, errors or quality: the
///    leaf is most likely that sibling seen from the caller's side, through a load balancer, a gateway or a URL
///    that the graph shows as a service of its own. When a graph is known, a service outside it (an end-user
///    SLI that watches the whole system) explains nobody's symptoms and keeps only part of its score; the
///    graph's entry services (no service with metrics calls them) take its deviation on as their own, as they
///    saw it first, and yield it to a deviating callee like any symptom.
/// 5. **Confidence.** Each candidate's confidence is its share of the evidence: its score to the power
///    ``confidenceExponent``, over the sum of all candidates' (see ``withConfidence(_:)``).
public struct RootCauseRanker: Sendable {
    /// Tuning knobs, one set for every system.
    public struct Configuration: Sendable {
        /// The scale never counts as smaller than this share of the reference median's magnitude.
        public var relativeScaleFloor = 0.05
        /// A callee deviating at least this share of its caller's score makes the caller yield.
        public var symptomRatio = 0.5
        /// How much a caller that yields keeps of its score.
        public var symptomPenalty = 0.5
        /// How much a traffic metric's deviation counts (load moves with users more often than it breaks things).
        public var trafficWeight = 0.3
        /// How much a service outside a known call graph keeps of its score.
        public var unconnectedWeight = 0.1
        /// A callee deviating at least this much (in spreads) explains its callers' latency and errors.
        public var clearDeviation = 20.0
        /// How long (seconds) before a given alert time a clear change may have started the incident.
        public var alertLead = 300.0
        /// With a given alert time, how long (seconds) after the onset the incident is judged: what starts later is
        /// another incident's story (a window may hold several). Never fewer than `minimumIncidentRows` rows.
        public var incidentSpan = 1800.0
        /// The fewest rows after the onset that are judged, however coarse the data.
        public var minimumIncidentRows = 4
        /// A callee whose error events (error log lines, failed spans) rose at least this much (in spreads of a
        /// count) explains its callers' errors however many they log: errors pass up the call graph, and a
        /// caller that retries logs each failure several times.
        public var clearEvents = 3.0

        /// The defaults.
        public init() {}
    }

    /// One ranked service.
    public struct Candidate: Sendable, Equatable {
        /// The service.
        public var service: String
        /// The score (deviations in reference IQRs, after the call-graph adjustment).
        public var score: Double
        /// The metric that deviated most.
        public var metric: String?
        /// Its score before the call-graph adjustment.
        public var deviation: Double
        /// The first time after the onset the service left its reference band, if it did.
        public var firstDeviation: Double?
        /// The deviating callee this service yielded to, if any, or the sibling it is a view of (below).
        public var yieldedTo: String?
        /// Whether ``yieldedTo`` is no callee but a sibling this leaf is most likely a view of, from their common
        /// caller's side (a load balancer or URL in front of it).
        public var yieldedAsView = false
        /// The callers whose calls to this service slowed while no callee's own metrics moved (see the notes).
        public var slowedCallers: [String] = []
        /// For a silent service (its metrics hold no value at all): the caller whose symptom it may explain.
        public var silentCalleeOf: String?
        /// For a service that reported through the reference and stopped at the onset (crashed, killed, evicted
        /// or cut off): the time of its last value before it.
        public var stoppedAfter: Double?
        /// The callee this service would have yielded to, had its own CPU or memory not moved at least half as far
        /// as that callee: it is slow on its own account.
        public var slowOnItsOwn: SlowOnItsOwn?
        /// The metric's value where it deviated most, and its level before the onset (the reference median).
        public var observed: Double?
        public var expected: Double?
        /// Why the metric's move counts less than a service's own CPU, memory, latency or errors, if it does …
        public var discount: Discount?
        /// … and the share of it that counts in ``deviation`` (1 when it counts fully).
        public var weight = 1.0
        /// Set when this service was moved up to ``hedgePlace`` as the root cause of another change in the window,
        /// the one it names: see ``rank(_:alertTime:)``. Its score and confidence stay those of this ranking.
        public var otherChange: Change?

        /// How likely this service is the root cause, from 0 to 1: its share of the evidence (see
        /// ``withConfidence(_:)``). The candidates' confidences add up to 1, or are all 0 when nothing moved.
        public var confidence = 0.0

        /// How far the metric moved, in reference spreads, before its ``weight``.
        public var spreads: Double { self.weight > 0 ? self.deviation / self.weight : self.deviation }
    }

    /// The power of the scores whose shares are the confidences: a score counts as its 1.5th power, so a few
    /// services that moved a little each take less from one that moved far than their plain sum would. Of the
    /// exponents 1.25, 1.5, 1.75 and 2, 1.5 gave the best-calibrated confidences on the 174 labelled cases
    /// (mean gap between the confidence of the first three candidates and how often they were the root cause:
    /// 0.025 with the onset found, 0.029 with it given, when it was chosen; 0.026 and 0.033 with the ranking
    /// rules added since).
    static let confidenceExponent = 1.5

    /// `candidates` with their ``Candidate/confidence``: each score to the ``confidenceExponent``th power, over the
    /// sum of all of them (a tempered share of the evidence). When no score is above 0, every confidence is 0:
    /// nothing points anywhere.
    static func withConfidence(_ candidates: [Candidate]) -> [Candidate] {
        let weights = candidates.map { Double.pow(max(0, $0.score), Self.confidenceExponent) }
        let total = weights.reduce(0, +)
        var result = candidates
        for index in result.indices {
            result[index].confidence = total > 0 ? weights[index] / total : 0
        }
        return result
    }

    /// A service's own resource that moved far enough that the callee it would otherwise be a symptom of (which
    /// moved less than twice as far) does not explain it.
    public struct SlowOnItsOwn: Sendable, Equatable {
        /// The callee that moved clearly, and how far its most deviating metric moved, in reference spreads.
        public var callee: String
        public var calleeSpreads: Double
        /// The service's most deviating resource (CPU, memory) and how far it moved, in reference spreads.
        public var metric: String
        public var spreads: Double
    }

    /// Why a metric's move counts less than a service's own.
    public enum Discount: Sendable, Equatable {
        /// Requests, bytes, system calls: load moves with users and with every other service's trouble.
        case traffic
        /// What the service sees of the services it calls: a rise points at a callee.
        case clientLatency
        /// The machine the service runs on, shared with whatever else runs there.
        case host
        /// A host metric that moved clearly on this many services at once: the cluster's, not one machine's.
        case cluster(services: Int)
    }

    /// A time where many metrics changed together: an incident's onset, perhaps.
    public struct Change: Sendable, Equatable {
        /// The row's time (Unix seconds).
        public var time: Double
        /// How many metrics (percentiles of one measurement counted once) changed at it or a row beside it.
        public var metrics: Int
        /// The first candidate, and its confidence, when this time is given as the alert time: whom this other
        /// incident points at. Nil when nothing moved from there.
        public var rootCause: String?
        public var confidence = 0.0
    }

    /// Why the onset is where it is.
    public enum OnsetBasis: String, Sendable, Equatable {
        /// No alert time: the row where most metrics changed together.
        case changeInData = "change_in_data"
        /// The row before the alert's (a row stands for an interval, labelled by its start or its end).
        case rowBeforeAlert = "row_before_alert"
        /// A clear change in the lead before the alert, which came late.
        case changeBeforeAlert = "change_before_alert"
        /// No clear change in the lead before the alert: the lead's rows are judged, not taken as normal.
        case leadBeforeAlert = "lead_before_alert"
    }

    /// The ranking and how it was reached.
    public struct Result: Sendable {
        /// The incident onset used (Unix seconds).
        public var onset: Double
        /// Why the onset is where it is.
        public var onsetBasis: OnsetBasis
        /// Whether the onset was found in the data rather than given.
        public var onsetDetected: Bool { self.onsetBasis == .changeInData }
        /// Services, most likely root cause first.
        public var candidates: [Candidate]
        /// With a found onset, other times where many metrics changed together (other incidents in the window,
        /// perhaps: an alert time at one explains it), most metrics first.
        public var otherChanges: [Change] = []
        /// The onset first taken (by ``onsetBasis``) when nothing moved clearly from there (more than
        /// ``affected`` spreads): ``onset`` is then the latest row before it from which something did.
        public var quietOnset: Double?
    }

    /// Runs `body` for every index below `count`, perhaps at the same time on several cores.
    public typealias ForEach = @Sendable (_ count: Int, _ body: @Sendable (Int) -> Void) -> Void

    public let configuration: Configuration
    /// How the work on each metric is spread: `DispatchQueue.concurrentPerform` in the CLI, one after another by
    /// default (the core itself starts no threads). A case may hold a thousand metrics.
    public let forEach: ForEach

    /// Creates a ranker.
    public init(
        configuration: Configuration = Configuration(),
        forEach: @escaping ForEach = { count, body in for index in 0..<count { body(index) } }
    ) {
        self.configuration = configuration
        self.forEach = forEach
    }

    /// Ranks the services of `data`; `alertTime` is when the incident was noticed, if known. With none, each of
    /// the other changes found is ranked too, as if its time were the alert time, and the ranking hedges on
    /// them (``hedgingOnOtherChanges(_:)``).
    public func rank(_ data: IncidentData, alertTime: Double? = nil) -> Result {
        var data = data
        data.readCountersAsRates()
        var result = self.rankOne(data, alertTime: alertTime)
        for index in result.otherChanges.indices {
            let other = self.rankOne(data, alertTime: result.otherChanges[index].time)
            if let first = other.candidates.first, first.confidence > 0 {
                result.otherChanges[index].rootCause = first.service
                result.otherChanges[index].confidence = first.confidence
            }
        }
        return Self.hedgingOnOtherChanges(result)
    }

    /// The confidence from which a first candidate stands out: on the 174 labelled cases, a first candidate at
    /// 80 % or more was the root cause 98 times in 100, one below it 6 to 7 times in 10.
    public static let standsOut = 0.8

    /// The place (counted from 1) that the clear root cause of another change takes in a ranking whose own
    /// first candidate does not stand out: below the two this onset names first.
    public static let hedgePlace = 3

    /// `result` with the root cause of another change in the window moved up to ``hedgePlace``, when the
    /// onset found names no candidate that ``standsOut`` and that change names one that does. A found onset
    /// is a guess among the window's changes, and a window often holds several incidents; a reader weighing
    /// the first three should then see the one clear culprit the window holds. The candidate says which change
    /// it stands for (``Candidate/otherChange``); nothing moves when the onset names a clear root cause, or
    /// when that service already ranks among the first ``hedgePlace``.
    static func hedgingOnOtherChanges(_ result: Result) -> Result {
        guard let first = result.candidates.first, first.confidence < Self.standsOut else { return result }
        let clear = result.otherChanges.filter { $0.rootCause != nil && $0.confidence >= Self.standsOut }
        guard
            let other = clear.max(by: { ($0.confidence, $0.metrics) < ($1.confidence, $1.metrics) }),
            let index = result.candidates.firstIndex(where: { $0.service == other.rootCause }),
            index >= Self.hedgePlace
        else { return result }
        var hedged = result
        var candidate = hedged.candidates.remove(at: index)
        candidate.otherChange = other
        hedged.candidates.insert(candidate, at: Self.hedgePlace - 1)
        return hedged
    }

    /// The ranking of ``rank(_:alertTime:)``, without ranking the other changes, of `data` whose counters already
    /// read as rates.
    func rankOne(_ data: IncidentData, alertTime: Double?) -> Result {
        let rows = data.times.count
        let columns = data.columns.filter { $0.values.count == rows && $0.values.count(where: { $0 != nil }) >= 2 }
        guard rows >= 3, !columns.isEmpty else {
            return Result(
                onset: data.times.first ?? 0,
                onsetBasis: alertTime == nil ? .changeInData : .rowBeforeAlert,
                candidates: data.services.map {
                    Candidate(service: $0, score: 0, metric: nil, deviation: 0, firstDeviation: nil, yieldedTo: nil)
                }
            )
        }
        var onsetRow: Int
        var onsetBasis = OnsetBasis.changeInData
        var otherChanges: [Change] = []
        /// A last value on this row or before stands alone (nothing can confirm it yet): the alert's row.
        var aloneUntil = -1
        if let alertTime {
            let alertRow = data.times.firstIndex { $0 >= alertTime } ?? rows - 1
            aloneUntil = alertRow
            onsetRow = min(max(1, alertRow - 1), rows - 1)
            onsetBasis = .rowBeforeAlert
            // An alert comes late as often as not: where the data changes clearly, from a little before the alert
            // on, is the onset if it comes first. With no clear change there (a fault of a few rows is over before
            // the alert), the incident may have begun anywhere in the lead: its rows are judged, not taken as
            // normal, as long as half the reference stays.
            let lead = data.times.firstIndex { $0 >= alertTime - self.configuration.alertLead } ?? onsetRow
            if lead < onsetRow {
                if let change = self.changePoint(columns, rows: rows, within: max(1, lead)..<rows).row {
                    if change < onsetRow {
                        onsetRow = change
                        onsetBasis = .changeBeforeAlert
                    }
                } else if max(1, lead, onsetRow / 2) < onsetRow {
                    onsetRow = max(1, lead, onsetRow / 2)
                    onsetBasis = .leadBeforeAlert
                }
            }
        } else {
            let found = self.changePoint(columns, rows: rows, within: nil)
            onsetRow = found.row ?? rows / 2
            otherChanges = found.others.map { Change(time: data.times[$0.row], metrics: $0.votes) }
        }

        let families = columns.map(Self.family)
        let ranked = { (row: Int) in
            self.candidates(
                of: data,
                columns: columns,
                families: families,
                onsetRow: row,
                judgedToEnd: alertTime == nil,
                aloneUntil: aloneUntil
            )
        }
        var candidates = ranked(onsetRow)
        // An onset after which nothing moved clearly is no incident's: a few metrics stepped a little together
        // while the incident itself was a burst of rows that came back, or an alert came well after it. The
        // incident began at the latest row before it from which something did move (back to where that move
        // began: while its service deviates more from the row before), as long as half the reference stays.
        var quietOnset: Double?
        if !Self.showsADeviation(candidates) {
            let earliest = max(1, onsetRow / 2)
            if let (moved, movedCandidates) = Self.latestRow(from: onsetRow, to: earliest, where: ranked) {
                quietOnset = data.times[onsetRow]
                onsetRow = moved
                candidates = movedCandidates
                for _ in 0..<Self.quietProbes where onsetRow > earliest {
                    let earlier = ranked(onsetRow - 1)
                    guard let root = candidates.first, let before = earlier.first, before.service == root.service,
                        before.deviation > root.deviation
                    else { break }
                    onsetRow -= 1
                    candidates = earlier
                }
            }
        }
        return Result(
            onset: data.times[onsetRow],
            onsetBasis: onsetBasis,
            candidates: Self.withConfidence(candidates),
            otherChanges: otherChanges,
            quietOnset: quietOnset
        )
    }

    /// Whether a ranking has a root cause to name: its first candidate moved more than ``affected`` spreads, is
    /// the suspect of slowed calls (named by its callers, not by its own metrics, which time its work and not
    /// the wire), or stopped reporting at the onset.
    static func showsADeviation(_ candidates: [Candidate]) -> Bool {
        guard let root = candidates.first else { return false }
        return !root.slowedCallers.isEmpty || root.stoppedAfter != nil
            || (root.deviation > Self.affected && root.metric != nil)
    }

    /// `transform` of every index of `indices`, in order, computed through ``forEach``.
    func concurrentMap<T>(_ indices: Range<Int>, _ transform: (Int) -> T?) -> [T?] {
        let results = UnsafeMutableBufferPointer<T?>.allocate(capacity: indices.count)
        results.initialize(repeating: nil)
        defer {
            results.deinitialize()
            results.deallocate()
        }
        withoutActuallyEscaping(transform) { transform in
            // Each index is written by one job only, and all are done when `forEach` returns.
            let shared = SharedWork(results: results, transform: transform)
            self.forEach(indices.count) { offset in
                shared.results[offset] = shared.transform(indices.lowerBound + offset)
            }
        }
        return Array(results)
    }

    /// What the jobs of ``concurrentMap(_:_:)`` share: each writes its own index.
    private struct SharedWork<T>: @unchecked Sendable {
        let results: UnsafeMutableBufferPointer<T?>
        let transform: (Int) -> T?
    }
}
