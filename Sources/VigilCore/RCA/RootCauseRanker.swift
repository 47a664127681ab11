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
    /// the other changes found is ranked too, as if its time were the alert time.
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
        return result
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

    /// How many rankings the search back from a quiet onset tries row by row, then in strides over the rest, and
    /// at most back to where a move began: a case of 1,200 one-second rows must not be ranked 600 times.
    static let quietProbes = 6

    /// The latest row in `earliest..<onset` whose ranking shows a deviation, and that ranking: the `quietProbes`
    /// rows before `onset` one by one (what came back a few rows ago), then `quietProbes` strides over the rest,
    /// halving the stride between the first row that shows one and the quiet row after it (an earlier onset
    /// judges more rows, so it shows a deviation more often).
    static func latestRow(
        from onset: Int,
        to earliest: Int,
        where ranked: (Int) -> [Candidate]
    ) -> (row: Int, candidates: [Candidate])? {
        let rest = max(0, onset - Self.quietProbes - earliest)
        let step = max(1, (rest + Self.quietProbes - 1) / Self.quietProbes)
        var quiet = onset
        var found: (row: Int, candidates: [Candidate])?
        while found == nil && quiet > earliest {
            let row = onset - quiet < Self.quietProbes ? quiet - 1 : max(earliest, quiet - step)
            let candidates = ranked(row)
            if Self.showsADeviation(candidates) { found = (row, candidates) } else { quiet = row }
        }
        guard var (row, candidates) = found else { return nil }
        while quiet - row > 1 {
            let middle = (row + quiet) / 2
            let middleCandidates = ranked(middle)
            if Self.showsADeviation(middleCandidates) {
                (row, candidates) = (middle, middleCandidates)
            } else {
                quiet = middle
            }
        }
        return (row, candidates)
    }

    /// Services that reported on at least ``stoppedCoverage`` of the rows before `onsetRow` (three or more) and
    /// on none of the ``stoppedRows`` rows after it (two, where the data ends sooner), while other services did: they stopped as the incident
    /// began (crashed, killed, evicted, cut off from their exporter), with the time of their last value. The
    /// onset's own row may hold a last value (given an alert, the onset is the row before it). Only metric
    /// columns count: logs and spans often cover part of a window. Every column holds a value per row.
    static func stoppedServices(
        _ columns: [IncidentData.Column],
        times: [Double],
        onsetRow: Int
    ) -> [String: Double] {
        let rows = times.count
        guard onsetRow >= 3, onsetRow + 2 < rows else { return [:] }
        let after = (onsetRow + 1)...min(onsetRow + Self.stoppedRows, rows - 1)
        var reportedBefore: [String: [Bool]] = [:]
        var reportedAfter: Set<String> = []
        var reportingRows = [Set<String>](repeating: [], count: after.count)
        for column in columns where !IncidentData.evidenceMetrics.contains(column.metric) {
            var before = reportedBefore[column.service] ?? [Bool](repeating: false, count: onsetRow + 1)
            for row in 0...onsetRow where column.values[row] != nil { before[row] = true }
            reportedBefore[column.service] = before
            for row in after where column.values[row] != nil {
                reportedAfter.insert(column.service)
                reportingRows[row - after.lowerBound].insert(column.service)
            }
        }
        var stopped: [String: Double] = [:]
        for (service, before) in reportedBefore where !reportedAfter.contains(service) {
            let covered = before.prefix(onsetRow).reduce(0) { $0 + ($1 ? 1 : 0) }
            guard Double(covered) >= Self.stoppedCoverage * Double(onsetRow),
                reportingRows.allSatisfy({ !$0.isEmpty }),
                let last = before.lastIndex(of: true)
            else { continue }
            stopped[service] = times[last]
        }
        return stopped
    }

    /// A service stopped when it reported on this share of the rows before the onset …
    static let stoppedCoverage = 0.8
    /// … and on none of this many rows after it (a scrape or two may fail on any day).
    static let stoppedRows = 3

    /// Whether a ranking has a root cause to name: its first candidate moved more than ``affected`` spreads, is
    /// the suspect of slowed calls (named by its callers, not by its own metrics, which time its work and not
    /// the wire), or stopped reporting at the onset.
    static func showsADeviation(_ candidates: [Candidate]) -> Bool {
        guard let root = candidates.first else { return false }
        return !root.slowedCallers.isEmpty || root.stoppedAfter != nil
            || (root.deviation > Self.affected && root.metric != nil)
    }

    /// The services of `data`, ranked from `onsetRow` on (to the last row when `judgedToEnd`, else over the
    /// incident span), most likely root cause first.
    func candidates(
        of data: IncidentData,
        columns: [IncidentData.Column],
        families: [String],
        onsetRow: Int,
        judgedToEnd: Bool,
        aloneUntil: Int
    ) -> [Candidate] {
        let rows = data.times.count
        // Score every metric against the rows before the onset, over the given alert's span after it (a found
        // onset may come early, so it is judged to the end).
        var endRow = rows
        if !judgedToEnd {
            let spanEnd = data.times[onsetRow] + self.configuration.incidentSpan
            endRow = max(
                min(rows, onsetRow + self.configuration.minimumIncidentRows),
                data.times.firstIndex { $0 > spanEnd } ?? rows
            )
        }
        var best:
            [String: (
                score: Double, metric: String, first: Double?, observed: Double, expected: Double,
                discount: Discount?, weight: Double
            )] = [:]
        /// The most deviating metric that is not traffic: what a caller may be a symptom of.
        var fault: [String: Double] = [:]
        /// The most deviating event count (error lines, failed spans).
        var events: [String: Double] = [:]
        /// How far the calls that failed without reaching a service moved (from spans).
        var unanswered: [String: Double] = [:]
        /// The most deviating client-side latency: how much slower a service's calls to others became.
        var outbound: [String: Double] = [:]
        /// The most deviating resource (CPU, memory): a saturated service explains its own slowness.
        var resource: [String: (score: Double, metric: String)] = [:]
        /// Columns share a few metric names, each classified once.
        var kinds: [String: MetricKind] = [:]
        for column in columns where kinds[column.metric] == nil { kinds[column.metric] = MetricKind(column.metric) }
        let unsettled = self.unsettledRows(columns, families: families, before: onsetRow)
        let scores = self.concurrentMap(columns.indices) { index in
            self.score(
                columns[index],
                kind: kinds[columns[index].metric]!,
                rows: onsetRow..<endRow,
                times: data.times,
                unsettled: unsettled,
                aloneUntil: aloneUntil
            )
        }
        // A host metric that moved clearly on several services at once moved for the cluster (a rollout, a
        // backup, the fault injector itself), not for one machine: it counts that many times less on each.
        var hostMoves: [String: Set<String>] = [:]
        for (column, found) in zip(columns, scores)
        where kinds[column.metric]! == .host && (found?.score ?? 0) >= self.configuration.clearDeviation {
            hostMoves[column.metric, default: []].insert(column.service)
        }
        for (column, found) in zip(columns, scores) {
            guard let (deviation, first, observed, median) = found else { continue }
            var score = deviation
            let kind = kinds[column.metric]!
            var discount: Discount?
            var weight = 1.0
            switch kind {
            case .host:
                let moves = hostMoves[column.metric]?.count ?? 0
                discount = moves > 1 ? .cluster(services: moves) : .host
                weight = self.configuration.trafficWeight / Double(max(1, moves))
            case .traffic, .outbound:
                discount = kind == .traffic ? .traffic : .clientLatency
                weight = self.configuration.trafficWeight
            default:
                fault[column.service] = max(fault[column.service] ?? 0, score)
                if kind == .resource, score > resource[column.service]?.score ?? 0 {
                    resource[column.service] = (score, column.metric)
                }
            }
            score *= weight
            if kind == .events { events[column.service] = max(events[column.service] ?? 0, score) }
            if column.metric == IncidentData.SpanMetric.unanswered { unanswered[column.service] = score }
            if kind == .outbound { outbound[column.service] = max(outbound[column.service] ?? 0, deviation) }
            if let existing = best[column.service], existing.score >= score { continue }
            best[column.service] = (
                score, column.metric, first ?? best[column.service]?.first, observed, median, discount, weight
            )
        }

        // A service that reported through the reference and stopped at the onset changed as much as a service
        // can: every caller's symptom may be its absence.
        let stopped = Self.stoppedServices(columns, times: data.times, onsetRow: onsetRow)
        for service in stopped.keys { fault[service] = .infinity }

        // A service yields to a callee that deviates about as much: it is more likely a symptom.
        var callees: [String: [String]] = [:]
        var connected: Set<String> = []
        for call in data.calls where call.caller != call.callee {
            callees[call.caller, default: []].append(call.callee)
            connected.insert(call.caller)
            connected.insert(call.callee)
        }
        // A service outside a known graph watches the whole system (an end-user SLI): what it sees, the system's
        // entry services (those no service with metrics calls) saw first, so an entry takes the SLI's deviation on
        // as its own when it is larger, and yields it to a callee that deviates like any symptom. A fault in the
        // entry itself (a bad page, an exception) may show nowhere else.
        var watcher: String?
        if !connected.isEmpty {
            for (service, found) in best where !connected.contains(service) && (fault[service] ?? 0) > 0 {
                if watcher.map({ found.score > best[$0]!.score }) ?? true { watcher = service }
            }
        }
        // Called by a service with metrics: not where users come in (a load generator or the users' browsers have
        // none).
        let called = Set(data.calls.filter { $0.caller != $0.callee && best[$0.caller] != nil }.map(\.callee))
        var candidates: [Candidate] = []
        for service in data.services {
            var own = best[service]
            var metricName = own?.metric
            if let watcher, let watched = best[watcher], let mine = own, connected.contains(service),
                !called.contains(service), watched.score > mine.score
            {
                own = watched
                metricName = "\(watcher).\(watched.metric)"
            }
            let deviation = max(0, own?.score ?? 0)
            var score = deviation
            var yielded: String?
            var slowOnItsOwn: SlowOnItsOwn?
            if deviation > 3 {
                let reachable = Self.reachable(from: service, callees)
                let ownKind = own.map { kinds[$0.metric] ?? MetricKind($0.metric) }
                let propagates = ownKind != .resource
                // Only a callee that itself fails or slows counts: traffic to it rises because of its caller.
                let explains = { (callee: String) in
                    let moved = fault[callee] ?? 0
                    return moved >= self.configuration.symptomRatio * deviation
                        || (propagates && moved >= self.configuration.clearDeviation)
                        || (ownKind == .events && (events[callee] ?? 0) >= self.configuration.clearEvents)
                        || (propagates && (unanswered[callee] ?? 0) >= self.configuration.clearEvents)
                }
                let largest = { (a: String, b: String) in (fault[a] ?? 0) < (fault[b] ?? 0) }
                // A service whose own CPU or memory moved explains its own slowness, unless a callee moved
                // clearly more (by the inverse of the symptom ratio).
                let ownResource = (resource[service]?.score ?? 0) / self.configuration.symptomRatio
                if let culprit = reachable.filter({ (fault[$0] ?? 0) > ownResource && explains($0) }).max(by: largest) {
                    score *= self.configuration.symptomPenalty
                    yielded = culprit
                } else if let own = resource[service], let spared = reachable.filter(explains).max(by: largest) {
                    slowOnItsOwn = SlowOnItsOwn(
                        callee: spared,
                        calleeSpreads: fault[spared] ?? 0,
                        metric: own.metric,
                        spreads: own.score
                    )
                }
            }
            if stopped[service] != nil { score = max(score, self.configuration.clearDeviation) }
            if !connected.isEmpty && !connected.contains(service) { score *= self.configuration.unconnectedWeight }
            candidates.append(
                Candidate(
                    service: service,
                    score: score,
                    metric: metricName,
                    deviation: deviation,
                    firstDeviation: own?.first,
                    yieldedTo: yielded,
                    slowOnItsOwn: slowOnItsOwn,
                    observed: own?.observed,
                    expected: own?.expected,
                    discount: own?.discount,
                    weight: own?.weight ?? 1
                )
            )
            candidates[candidates.count - 1].stoppedAfter = stopped[service]
        }
        // A service whose metrics exist but hold no value at all has gone silent (crashed, or lost its exporter):
        // it cannot be shown normal.
        let reporting = Set(data.columns.filter { $0.values.contains { $0 != nil } }.map(\.service))
        let silent = Set(data.columns.map(\.service)).subtracting(reporting)
        var position: [String: Int] = [:]
        for (index, candidate) in candidates.enumerated() { position[candidate.service] = index }
        // A delay on a service's network shows only in its callers' client latency: its own metrics (which time
        // its work, not the wire) stay calm. A caller whose calls slowed with no callee's own metrics to explain
        // it witnesses a slow callee, and a callee is as suspect as it explains the witnesses: the share of its
        // callers that witness it times the share of all witnesses that call it.
        var witnesses: Set<String> = []
        for (service, deviation) in outbound where deviation > Self.clearOutbound {
            let explained = (callees[service] ?? []).contains {
                let callee = fault[$0] ?? 0
                return callee >= self.configuration.symptomRatio * deviation
                    || callee >= self.configuration.clearDeviation
            }
            if !explained { witnesses.insert(service) }
        }
        if !witnesses.isEmpty {
            var callers: [String: Set<String>] = [:]
            for call in data.calls where call.caller != call.callee && best[call.caller] != nil {
                callers[call.callee, default: []].insert(call.caller)
            }
            for (callee, observers) in callers
            where best[callee] != nil || silent.contains(callee) || stopped[callee] != nil {
                let seen = observers.filter(witnesses.contains)
                guard !seen.isEmpty, let index = position[callee] else { continue }
                let slowdown = seen.reduce(0) { $0 + outbound[$1]! } / Double(seen.count)
                let suspicion =
                    Double(seen.count) / Double(observers.count) * Double(seen.count) / Double(witnesses.count)
                    * slowdown
                if suspicion > candidates[index].score {
                    candidates[index].score = suspicion + 0.01 * candidates[index].score
                    candidates[index].slowedCallers = seen.sorted()
                }
            }
            // A witness is a symptom of its most suspect callee, as of one whose own metrics moved: measured
            // against its slowdown, which the suspect explains (its score may be an SLI's it took on).
            for witness in witnesses {
                guard let index = position[witness], candidates[index].yieldedTo == nil else { continue }
                let suspects = (callees[witness] ?? []).compactMap { position[$0] }
                    .filter { candidates[$0].slowedCallers.contains(witness) }
                guard let top = suspects.max(by: { candidates[$0].score < candidates[$1].score }),
                    candidates[top].score >= self.configuration.symptomRatio * outbound[witness]!
                else { continue }
                candidates[index].score *= self.configuration.symptomPenalty
                candidates[index].yieldedTo = candidates[top].service
            }
        }
        // A leaf whose latency or errors moved, beside a sibling with callees of its own that moved at least
        // `symptomRatio` as much the same way (and does not reach it), is that sibling seen from the caller's side
        // (a load balancer, a gateway or a URL in front of it): it yields to the sibling, as a symptom to its cause.
        // An entry that took an SLI's deviation on (its metric is not its own) is no such view.
        var callersOf: [String: Set<String>] = [:]
        for call in data.calls where call.caller != call.callee {
            callersOf[call.callee, default: []].insert(call.caller)
        }
        /// Whether the service's worst metric is latency, errors or a quality (what a caller sees, not its own CPU).
        func seenByCallers(_ service: String) -> Bool {
            guard let metric = best[service]?.metric else { return false }
            let kind = kinds[metric] ?? MetricKind(metric)
            return kind == .quality || kind == .other
        }
        for (index, leaf) in candidates.enumerated()
        where leaf.yieldedTo == nil && leaf.deviation > 3 && callees[leaf.service] == nil
            && leaf.metric == best[leaf.service]?.metric
            && seenByCallers(leaf.service)
        {
            let called = (callersOf[leaf.service] ?? []).flatMap { callees[$0] ?? [] }
            let siblings = Set(called).subtracting([leaf.service])
            let mirrored = siblings.filter { sibling in
                callees[sibling] != nil && seenByCallers(sibling)
                    && (fault[sibling] ?? 0) >= self.configuration.symptomRatio * leaf.deviation
                    && !Self.reachable(from: sibling, callees).contains(leaf.service)
            }
            if let sibling = mirrored.max(by: { ((fault[$0] ?? 0), $1) < ((fault[$1] ?? 0), $0) }) {
                candidates[index].score *= self.configuration.symptomPenalty
                candidates[index].yieldedTo = sibling
                candidates[index].yieldedAsView = true
            }
        }
        // A silent callee is a suspect for a symptom that no callee with data explains (slowed calls are the
        // witnesses' story, above).
        if !silent.isEmpty {
            for candidate in candidates
            where candidate.yieldedTo == nil && candidate.deviation > Self.affected
                && !witnesses.contains(candidate.service)
            {
                guard let metric = candidate.metric?.split(separator: ".").last.map(String.init),
                    (kinds[metric] ?? MetricKind(metric)) != .resource
                else { continue }
                for callee in callees[candidate.service] ?? [] where silent.contains(callee) {
                    guard let index = position[callee] else { continue }
                    let score = candidate.score * Self.silentShare
                    if score > candidates[index].score {
                        candidates[index].score = score
                        candidates[index].silentCalleeOf = candidate.service
                    }
                }
            }
        }
        // The callee a service yielded to ranks just above it (along chains too). One that stopped takes the
        // whole symptom it explains: its absence is the symptom's story.
        var index: [String: Int] = [:]
        for (position, candidate) in candidates.enumerated() { index[candidate.service] = position }
        for candidate in candidates {
            guard let callee = candidate.yieldedTo, stopped[callee] != nil, let position = index[callee] else {
                continue
            }
            candidates[position].score = max(
                candidates[position].score,
                candidate.score / self.configuration.symptomPenalty
            )
        }
        for _ in 0..<3 {
            for candidate in candidates {
                guard let callee = candidate.yieldedTo, let position = index[callee] else { continue }
                candidates[position].score = max(candidates[position].score, candidate.score * 1.01)
            }
        }
        candidates.sort { $0.score != $1.score ? $0.score > $1.score : $0.service < $1.service }
        return candidates
    }

    /// How far `column` strays in the `judged` rows (the onset on) from its level before (see the type's notes):
    /// its score in reference spreads, before weighting by kind, with the first time it left its band, the value
    /// where it strayed most and its reference median. Nil when it has too little reference or no value after the
    /// onset. A last value on `aloneUntil` or before counts alone, as one right after the onset does.
    func score(
        _ column: IncidentData.Column,
        kind: MetricKind,
        rows judged: Range<Int>,
        times: [Double],
        unsettled: [Bool] = [],
        aloneUntil: Int = -1
    ) -> (score: Double, first: Double?, observed: Double, median: Double)? {
        let onsetRow = judged.lowerBound
        /// Whether a row before the onset belongs to the reference (not to an earlier incident).
        func settled(_ row: Int) -> Bool { row >= unsettled.count || !unsettled[row] }
        var reference: [Double] = []
        reference.reserveCapacity(onsetRow)
        for row in 0..<onsetRow where settled(row) {
            if let value = column.values[row] { reference.append(value) }
        }
        guard reference.count >= (IncidentData.evidenceMetrics.contains(column.metric) ? 1 : 2) else { return nil }
        let (median, iqr) = Self.medianAndIQR(&reference)
        var magnitude = 0.0
        for case let value? in column.values { magnitude = max(magnitude, abs(value)) }
        let floor =
            kind == .quality ? 0.1 * self.configuration.relativeScaleFloor : self.configuration.relativeScaleFloor
        var scale = max(iqr, floor * abs(median), 1e-3 * magnitude, 1e-9)
        // Counts vary at least like a Poisson count does: a service that got 44 requests where it got none
        // has not deviated by thousands of scales.
        if kind == .traffic || kind == .events || kind == .host {
            scale = max(scale, max(1, abs(median)).squareRoot())
        }
        let sign = kind == .quality ? -1.0 : 1.0
        // How far the metric already strayed before the onset: a spiky metric must go further to count. Spikiness
        // is straying again and again, so the largest earlier excursion that held `episodeRows` rows (another
        // incident in the reference window) is forgiven; spikes are not. One on the reference's first value may
        // have begun before the window did: it counts as held.
        var episodes: [(peak: Double, rows: Int)] = []
        var inEpisode = false
        var firstValue = true
        for row in 0..<onsetRow where settled(row) {
            guard let value = column.values[row] else { continue }
            let deviation = sign * (value - median) / scale
            if deviation > 3 {
                if inEpisode {
                    episodes[episodes.count - 1].peak = max(episodes[episodes.count - 1].peak, deviation)
                    episodes[episodes.count - 1].rows += 1
                } else {
                    episodes.append((deviation, firstValue ? Self.episodeRows : 1))
                }
                inEpisode = true
            } else {
                inEpisode = false
            }
            firstValue = false
        }
        let forgiven = episodes.indices.filter { episodes[$0].rows >= Self.episodeRows }.max {
            episodes[$0].peak < episodes[$1].peak
        }
        var usual = 1.0
        for (index, episode) in episodes.enumerated() where index != forgiven { usual = max(usual, episode.peak) }
        var score = -Double.infinity
        var first: Double?
        var observed = median
        // The judged rows that hold a value, and how far each strays.
        var present: [Int] = []
        var deviations: [Double] = []
        present.reserveCapacity(judged.count)
        deviations.reserveCapacity(judged.count)
        for row in judged {
            guard let value = column.values[row] else { continue }
            present.append(row)
            deviations.append(sign * (value - median) / scale)
        }
        for (position, row) in present.enumerated() {
            if first == nil && deviations[position] > 3 { first = times[row] }
            // The last value stands alone only right after the onset or by the alert.
            guard position + 1 < present.count || position <= 1 || row <= aloneUntil else { continue }
            // The least of k values in a row counts √(k/2) times: as far as the next value holds it, and surer
            // the longer it holds.
            var least = deviations[position]
            if position + 1 == present.count, least > score {
                score = least
                observed = column.values[row]!
            }
            for k in 2...4 where position + k <= present.count {
                least = min(least, deviations[position + k - 1])
                let held = least * (Double(k) / 2).squareRoot()
                if held > score {
                    score = held
                    observed = column.values[row]!
                }
            }
        }
        guard score.isFinite else { return nil }
        return (score / usual.squareRoot(), first, observed, median)
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

    /// The rows before `onsetRow` where many metrics stood far from their level before the onset at once (in
    /// twice their median absolute deviations): an earlier incident in the window, which is no reference for
    /// normal. A metric family (percentiles of one measurement) counts once per row. Empty when nothing stands
    /// out or too little would be left.
    func unsettledRows(_ columns: [IncidentData.Column], families: [String], before onsetRow: Int) -> [Bool] {
        guard onsetRow >= 8 else { return [] }
        let flagged = self.concurrentMap(columns.indices) { index -> [Bool]? in
            let column = columns[index]
            var reference = column.values[..<onsetRow].compactMap { $0 }
            guard reference.count >= 8 else { return nil }
            // The median absolute deviation, whose breakdown point is a half: an incident that held a third of
            // the reference would stretch the IQR over itself.
            let median = OrderStatistics.quantile(0.5, of: &reference)
            var distances = reference.map { abs($0 - median) }
            let scale = max(2 * OrderStatistics.quantile(0.5, of: &distances), 0.05 * abs(median), 1e-9)
            return (0..<onsetRow).map { row in
                column.values[row].map { abs($0 - median) / scale > Self.unsettledDeviation } ?? false
            }
        }
        var far: [String: [Bool]] = [:]
        for (index, rows) in flagged.enumerated() {
            guard let rows else { continue }
            let family = families[index]
            if let known = far[family] {
                far[family] = zip(known, rows).map { $0 || $1 }
            } else {
                far[family] = rows
            }
        }
        let needed = max(Self.unsettledFamilies, Int((Self.unsettledShare * Double(far.count)).rounded(.up)))
        var counts = [Int](repeating: 0, count: onsetRow)
        for rows in far.values {
            for row in 0..<onsetRow where rows[row] { counts[row] += 1 }
        }
        let unsettled = counts.map { $0 >= needed }
        // Half the reference at least stays: more than that is no earlier incident but the window's normal.
        guard unsettled.count(where: { $0 }) * 2 <= onsetRow, unsettled.contains(true) else { return [] }
        return unsettled
    }

    /// The service and the metric's name without its digits: percentiles of one measurement (latency p50, p90,
    /// p99) are one family, which moves together and witnesses once.
    static func family(of column: IncidentData.Column) -> String {
        column.service + "\u{0}" + String(column.metric.unicodeScalars.filter { !("0"..."9").contains($0) })
    }

    /// A metric this many spreads from its reference level is far from it …
    static let unsettledDeviation = 10.0
    /// … and a row where at least this many metric families, and this share of them, are far is unsettled.
    static let unsettledFamilies = 3
    static let unsettledShare = 0.2

    /// Services reachable from `start` along calls, `start` excluded.
    static func reachable(from start: String, _ callees: [String: [String]]) -> [String] {
        var seen: Set<String> = [start]
        var queue = callees[start] ?? []
        var result: [String] = []
        while let next = queue.popLast() {
            guard seen.insert(next).inserted else { continue }
            result.append(next)
            queue += callees[next] ?? []
        }
        return result.sorted()
    }

    /// A client-side latency that rose this far (in spreads) witnesses a slow callee. Client latencies are
    /// percentiles of a few calls a minute and swing widely, so a delay moves them only a few of their spreads;
    /// a witness lifts its suspect only as far as it slowed, so a faint one leads only when nothing moved more.
    static let clearOutbound = 2.0
    /// How much of a symptomatic caller's score a silent callee takes: it ranks just below the caller.
    static let silentShare = 0.9
    /// An excursion before the onset that holds this many rows is an earlier incident, not spikiness.
    static let episodeRows = 3

    /// Another row where at least this many metrics changed together (with its neighbours) is worth naming …
    static let otherChangeVotes = 2
    /// … when it lies at least this many rows from the onset and from every other one named.
    static let separateRows = 5

    /// Robust z-scores are clipped here before the change-point search, so one metric's huge move counts like any
    /// clear move and the onset is where many metrics change together.
    static let clip = 4.0
    /// A metric votes for its change point when its CUSUM statistic there reaches this (in squared robust
    /// spreads; a series without any change rarely passes 5) …
    static let clearChange = 20.0
    /// … and its median after the change lies this many of its spreads before the change away: a slow drift of
    /// a spread over many hours is significant, but it is not an incident.
    static let largeChange = 1.5
    /// … and at least this many of its values stand from the change on: a move on the last one or two rows of the
    /// window is where something may begin, not a level it has been seen to hold (the next incident starting as
    /// the window closes must not outvote the one the window was taken for).
    static let heldRows = 3

    /// Whether `values` after `split` sit far from where they were before, in the before part's own spread.
    static func isLarge(_ values: [Double?], splitAt split: Int) -> Bool {
        var before = values[..<split].compactMap { $0 }
        var after = values[split...].compactMap { $0 }
        guard before.count >= 2, !after.isEmpty else { return false }
        let (median, iqr) = Self.medianAndIQR(&before)
        let spread = max(iqr, 0.05 * abs(median), 1e-9)
        return abs(OrderStatistics.quantile(0.5, of: &after) - median) / spread >= Self.largeChange
    }

    /// Where most metrics change: each robustly standardised, clipped metric's CUSUM change point is a vote when
    /// the change is clear, and the row whose neighbourhood (±1 row) holds the most votes wins, the later on a
    /// tie. With no vote, the maximum over split points of the summed squared CUSUM statistics. Given a `window`,
    /// only splits inside it count, and with no vote there is no answer. `others` are the next rows by votes
    /// (at least `otherChangeVotes` in their neighbourhood), each `separateRows` from the winner and each other.
    func changePoint(
        _ columns: [IncidentData.Column],
        rows: Int,
        within window: Range<Int>?
    ) -> (row: Int?, others: [(row: Int, votes: Int)]) {
        let changes = self.concurrentMap(columns.indices) { Self.change(of: columns[$0], within: window) }
        var total = [Double](repeating: 0, count: rows)
        var votes = [Int](repeating: 0, count: rows)
        /// One vote per family of a service's metrics (names equal but for their digits: latency p50, p90, p99)
        /// and row: percentiles of one measurement move together and are one witness.
        var voted: Set<String> = []
        for (column, change) in zip(columns, changes) {
            guard let change else { continue }
            for (row, statistic) in zip(change.rows, change.statistics) { total[row] += statistic }
            if let split = change.clearSplit {
                if voted.insert("\(Self.family(of: column))\u{0}\(split)").inserted {
                    votes[split] += 1
                }
            }
        }
        if votes.contains(where: { $0 > 0 }) {
            let near = (0..<rows).map { row in
                (row > 0 ? votes[row - 1] : 0) + votes[row] + (row + 1 < rows ? votes[row + 1] : 0)
            }
            // Most votes nearby first, then most on the row itself, then the later row.
            let ranked = (1..<rows).sorted { (near[$0], votes[$0], $0) > (near[$1], votes[$1], $1) }
            let bestRow = ranked[0]
            var others: [(row: Int, votes: Int)] = []
            for row in ranked.dropFirst() where near[row] >= Self.otherChangeVotes && others.count < 3 {
                guard ([bestRow] + others.map(\.row)).allSatisfy({ abs($0 - row) >= Self.separateRows }) else {
                    continue
                }
                others.append((row, near[row]))
            }
            return (window.map { min(max(bestRow, $0.lowerBound), $0.upperBound - 1) } ?? bestRow, others)
        }
        if window != nil { return (nil, []) }
        var bestRow = rows / 2
        var bestValue = -1.0
        for split in 1..<rows where total[split] > bestValue {
            bestValue = total[split]
            bestRow = split
        }
        return (bestRow, [])
    }

    /// One metric's CUSUM statistic at each split over its values present (robustly standardised and clipped),
    /// for the rows in `window`, and the row of its strongest split when that change is clear, large and held.
    /// Nil for a metric with fewer than three values.
    static func change(
        of column: IncidentData.Column,
        within window: Range<Int>?
    ) -> (rows: [Int], statistics: [Double], clearSplit: Int?)? {
        var finite = column.values.compactMap { $0 }
        guard finite.count >= 3 else { return nil }
        let (median, iqr) = Self.medianAndIQR(&finite)
        let scale = max(iqr, 0.05 * abs(median), 1e-9)
        // The split runs over the values present; a change across a stretch of missing rows (logs that cover
        // a minute before the incident and the minutes after it) belongs to the first row that shows it.
        var z: [Double] = []
        var present: [Int] = []
        z.reserveCapacity(finite.count)
        present.reserveCapacity(finite.count)
        for (row, value) in column.values.enumerated() {
            guard let value else { continue }
            z.append(min(Self.clip, max(-Self.clip, (value - median) / scale)))
            present.append(row)
        }
        let sum = z.reduce(0, +)
        let n = Double(z.count)
        var prefix = 0.0
        var strongest = 0.0
        var strongestSplit = 0
        var valuesFromStrongest = 0
        var rows: [Int] = []
        var statistics: [Double] = []
        rows.reserveCapacity(z.count)
        statistics.reserveCapacity(z.count)
        for split in 1..<z.count {
            prefix += z[split - 1]
            guard window?.contains(present[split]) ?? true else { continue }
            let k = Double(split)
            let difference = prefix - k / n * sum
            let statistic = difference * difference / (k * (n - k) / n)
            rows.append(present[split])
            statistics.append(statistic)
            if statistic > strongest {
                strongest = statistic
                strongestSplit = present[split]
                valuesFromStrongest = z.count - split
            }
        }
        let clear =
            valuesFromStrongest >= Self.heldRows && strongest >= Self.clearChange
            && Self.isLarge(column.values, splitAt: strongestSplit)
        return (rows, statistics, clear ? strongestSplit : nil)
    }

    /// The median and interquartile range of `values` (not empty), which are reordered.
    static func medianAndIQR(_ values: inout [Double]) -> (median: Double, iqr: Double) {
        let (lower, median, upper) = OrderStatistics.quartiles(of: &values)
        return (median, upper - lower)
    }
}
