// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

extension IncidentData {
    /// One span of an incident's traces, as a case's spans.jsonl holds it. Its trace, span and parent IDs are
    /// kept as 64-bit fingerprints: a case may hold a million spans, and only their links matter.
    public struct CaseSpan: Sendable, Equatable {
        /// The fingerprint of the trace and span IDs.
        public var id: UInt64
        /// The parent's fingerprint, nil for a root (the parent may also be missing from the data).
        public var parent: UInt64?
        public var service: String
        /// Start, in Unix seconds.
        public var start: Double
        public var seconds: Double
        /// Whether the span failed; nil when unknown.
        public var isError: Bool?
        /// The ``SignatureHash`` of the operation's name (`POST /pay`), nil when unknown: a failed call that never
        /// reached its callee is known by the callee its operation reaches in other traces.
        public var operation: UInt64?

        /// Creates a span.
        public init(
            traceID: String,
            spanID: String,
            parentID: String?,
            service: String,
            start: Double,
            seconds: Double,
            isError: Bool?,
            operation: String? = nil
        ) {
            self.init(
                traceHash: SignatureHash.of(traceID),
                spanHash: SignatureHash.of(spanID),
                parentHash: parentID.map(SignatureHash.of),
                service: service,
                start: start,
                seconds: seconds,
                isError: isError,
                operationHash: operation.map(SignatureHash.of)
            )
        }

        /// Creates a span from the ``SignatureHash`` of its trace, span and parent IDs' UTF-8 bytes, which a
        /// reader can take straight from a file's bytes without making strings of them.
        public init(
            traceHash: UInt64,
            spanHash: UInt64,
            parentHash: UInt64?,
            service: String,
            start: Double,
            seconds: Double,
            isError: Bool?,
            operationHash: UInt64? = nil
        ) {
            self.id = Self.fingerprint(traceHash, spanHash)
            self.parent = parentHash.map { Self.fingerprint(traceHash, $0) }
            self.service = service
            self.start = start
            self.seconds = seconds
            self.isError = isError
            self.operation = operationHash
        }

        /// The fingerprint of a span from the hashes of its trace and span IDs (each hashed with its length, which
        /// keeps "ab"+"c" apart from "a"+"bc").
        static func fingerprint(_ traceHash: UInt64, _ spanHash: UInt64) -> UInt64 {
            withUnsafeBytes(of: (traceHash, spanHash)) { SignatureHash.of($0) }
        }
    }

    /// The metric names the span evidence uses, one column per service that has spans.
    public enum SpanMetric {
        /// 90th percentile of the requests a service served (root spans, and spans whose parent is another
        /// service's or missing), in seconds.
        public static let latency = "span_latency_p90"
        /// 90th percentile of a span's own time: its duration less its direct children's.
        public static let selfTime = "span_self_time_p90"
        /// Median time the messages a service sent spent on the way, over every call it made or served: its
        /// requests (the callee's span starts this long after the caller's) and its responses (the caller's span
        /// ends this long after the callee's). A delay on a service's network slows what it sends, so it shows
        /// here on that service alone, while its neighbours' latency rises and their own sends stay fast; the
        /// median keeps one slow neighbour from moving it.
        public static let network = "span_network_p50"
        /// How many of a service's spans failed on their own: flagged as errors with no failed child, so the
        /// failure started there rather than passing up from a callee (a caller of a failing service fails too).
        /// A count, so that it compares with error log lines (two failures in three requests are not thousands
        /// of spreads away from none). A service whose spans never say has no such column.
        public static let errors = "span_errors"
        /// How many of the calls to a service failed without reaching it: a caller's span (inside its own work,
        /// as a client span is) that failed with no child at all, whose operation reaches this service in other
        /// traces (a killed pod, a lost packet, a refused connection). They count here, not as the caller's own
        /// failures, and their time is none of the caller's own. Spans that name no operation give none.
        public static let unanswered = "span_unanswered_calls"
    }

    /// Adds what spans show, per service and row: latency, own time, network time and errors as columns,
    /// and every caller → callee pair the parent links reveal as a call. Rows no span started in stay missing
    /// (spans may cover only part of the window); so do a service's timings in rows without spans of its own,
    /// where its failed spans count 0.
    public mutating func addSpans(_ spans: [CaseSpan]) {
        self.addSpans(chunks: [spans])
    }

    /// ``addSpans(_:)`` of the spans of `chunks` in order (a file's chunks, not copied into one array).
    public mutating func addSpans(chunks: [[CaseSpan]]) {
        let count = chunks.reduce(0) { $0 + $1.count }
        guard count > 0, !self.times.isEmpty else { return }
        // Services become numbers, so the million-span passes hash no strings (span IDs are fingerprints already).
        // A name is looked up by the hash of its bytes and checked in full (a reader shares one string per
        // name, so the check is mostly a pointer comparison).
        var serviceNumbers = HashSlotTable(capacity: 64)
        var serviceNames: [String] = []
        var serviceOf = [Int](repeating: 0, count: count)
        // What the passes below need of each span, side by side in arrays.
        var startTimes = [Double](repeating: 0, count: count)
        var durations = [Double](repeating: 0, count: count)
        /// 1 failed, 0 did not, -1 unknown.
        var failures = [Int8](repeating: -1, count: count)
        var parentIDs = [UInt64?](repeating: nil, count: count)
        var ids = [UInt64](repeating: 0, count: count)
        var operations = [UInt64?](repeating: nil, count: count)
        var position = -1
        for chunk in chunks {
            for span in chunk {
                position += 1
                startTimes[position] = span.start
                durations[position] = span.seconds
                if let failed = span.isError { failures[position] = failed ? 1 : 0 }
                parentIDs[position] = span.parent
                operations[position] = span.operation
                let service = span.service
                var hash = SignatureHash.of(service)
                // Equal hashes of different names (never seen in practice) probe on with a changed key.
                while let number = serviceNumbers.slot(for: hash), serviceNames[number] != service { hash &+= 1 }
                if let number = serviceNumbers.slot(for: hash) {
                    serviceOf[position] = number
                } else {
                    serviceOf[position] = serviceNames.count
                    serviceNumbers.set(serviceNames.count, for: hash)
                    serviceNames.append(service)
                }
                ids[position] = span.id
            }
        }
        // Each span's parent: the last span with its ID (a span that names itself has none).
        var parents = PartitionedLookup.positions(of: parentIDs, in: ids)
        parentIDs = []
        ids = []
        var childSeconds = [Double](repeating: 0, count: count)
        var failedChild = [Bool](repeating: false, count: count)
        var hasChild = [Bool](repeating: false, count: count)
        /// The service each operation's calls reach (a service's operation, by ``operationKey``), or -1 when they
        /// reach several.
        var reachedBy: [UInt64: Int] = [:]
        for position in 0..<count {
            let parent = parents[position]
            guard parent >= 0 else { continue }
            guard parent != position else {
                parents[position] = -1
                continue
            }
            childSeconds[parent] += durations[position]
            hasChild[parent] = true
            if failures[position] == 1 { failedChild[parent] = true }
            if let operation = operations[parent], serviceOf[parent] != serviceOf[position] {
                let key = Self.operationKey(operation, serviceOf[parent])
                let callee = serviceOf[position]
                if let known = reachedBy[key], known != callee { reachedBy[key] = -1 } else { reachedBy[key] = callee }
            }
        }

        let rows = self.times.count
        let metrics = [(SpanMetric.latency, 0.9), (SpanMetric.selfTime, 0.9), (SpanMetric.network, 0.5)]
        var covered = [Bool](repeating: false, count: rows)
        /// Every sample as (series × rows + row, value), a series being a (service, metric): sorted into one
        /// bucket per series and row after, not appended to a million small arrays.
        var samples: [(bucket: Int, value: Double)] = []
        samples.reserveCapacity(count * 3)
        var errors = [[Double]?](repeating: nil, count: serviceNames.count)
        var unanswered = [[Double]?](repeating: nil, count: serviceNames.count)
        var calls = Set(self.calls.map { CallKey(caller: $0.caller, callee: $0.callee) })
        var seenCalls: Set<Int> = []
        func note(_ metric: Int, _ service: Int, _ row: Int, _ value: Double) {
            samples.append(((service * metrics.count + metric) * rows + row, value))
        }
        var lastRow = 0
        for position in 0..<count {
            let start = startTimes[position]
            let seconds = durations[position]
            // Spans come about in time order: the row of the one before is the first guess.
            guard let row = self.row(at: start, near: lastRow) else { continue }
            lastRow = row
            covered[row] = true
            let service = serviceOf[position]
            let parentPosition = parents[position]
            let parentService = parentPosition >= 0 ? serviceOf[parentPosition] : -1
            if parentPosition >= 0, parentService != service {
                if seenCalls.insert(parentService * serviceNames.count + service).inserted {
                    let call = CallKey(caller: serviceNames[parentService], callee: serviceNames[service])
                    if calls.insert(call).inserted { self.calls.append((caller: call.caller, callee: call.callee)) }
                }
                let parentStart = startTimes[parentPosition]
                note(2, parentService, row, max(0, start - parentStart))
                note(2, service, row, max(0, parentStart + durations[parentPosition] - start - seconds))
            }
            if parentService != service { note(0, service, row, seconds) }
            // A failed call that never reached its callee: the callee's failure, and no time of the caller's own.
            // Only a span inside its service's work (its parent is the service's own) is such a call: a request
            // the service served that failed before it called anyone is its own failure (a code fault).
            var lostCallee: Int?
            if failures[position] == 1 && !hasChild[position] && parentService == service,
                let operation = operations[position],
                let callee = reachedBy[Self.operationKey(operation, service)], callee >= 0
            {
                lostCallee = callee
            }
            if lostCallee == nil { note(1, service, row, max(0, seconds - childSeconds[position])) }
            if failures[position] >= 0 {
                if errors[service] == nil { errors[service] = [Double](repeating: 0, count: rows) }
                if let callee = lostCallee {
                    if unanswered[callee] == nil { unanswered[callee] = [Double](repeating: 0, count: rows) }
                    unanswered[callee]![row] += 1
                } else {
                    errors[service]![row] += failures[position] == 1 && !failedChild[position] ? 1 : 0
                }
            }
        }

        // Counting sort: where each bucket starts, then every value in its bucket (in the order noted).
        var starts = [Int](repeating: 0, count: serviceNames.count * metrics.count * rows + 1)
        for sample in samples { starts[sample.bucket + 1] += 1 }
        for bucket in 1..<starts.count { starts[bucket] += starts[bucket - 1] }
        var sorted = [Double](repeating: 0, count: samples.count)
        var next = starts
        for sample in samples {
            sorted[next[sample.bucket]] = sample.value
            next[sample.bucket] += 1
        }
        samples = []
        let byName = serviceNames.indices.sorted { serviceNames[$0] < serviceNames[$1] }
        var bucketValues: [Double] = []
        for service in byName {
            for (metric, (name, quantile)) in metrics.enumerated() {
                let first = (service * metrics.count + metric) * rows
                guard starts[first + rows] > starts[first] else { continue }
                self.note(service: serviceNames[service])
                let values = (0..<rows).map { row -> Double? in
                    let range = starts[first + row]..<starts[first + row + 1]
                    guard covered[row], !range.isEmpty else { return nil }
                    bucketValues.removeAll(keepingCapacity: true)
                    bucketValues.append(contentsOf: sorted[range])
                    return OrderStatistics.quantile(quantile, of: &bucketValues)
                }
                self.columns.append(Column(service: serviceNames[service], metric: name, values: values))
            }
        }
        for (metric, counts) in [(SpanMetric.errors, errors), (SpanMetric.unanswered, unanswered)] {
            for service in byName {
                guard let counts = counts[service] else { continue }
                self.note(service: serviceNames[service])
                let values = counts.enumerated().map { row, count in covered[row] ? count : nil }
                self.columns.append(Column(service: serviceNames[service], metric: metric, values: values))
            }
        }
    }

    /// One key per service and operation name.
    private static func operationKey(_ operation: UInt64, _ service: Int) -> UInt64 {
        operation ^ ((UInt64(service) &+ 1) &* 0x9E37_79B9_7F4A_7C15)
    }

    /// The row an event at `time` falls in: the last row starting at or before it. Nil before the first row or
    /// more than a step after the last one.
    func row(at time: Double) -> Int? {
        guard let first = self.times.first, let last = self.times.last, time >= first else { return nil }
        let step = self.times.count > 1 ? (last - first) / Double(self.times.count - 1) : 1
        guard time < last + step else { return nil }
        var low = 0
        var high = self.times.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if self.times[middle] <= time { low = middle } else { high = middle - 1 }
        }
        return low
    }

    /// ``row(at:)``, trying `guess` and the row after it first.
    @inline(__always)
    func row(at time: Double, near guess: Int) -> Int? {
        let times = self.times
        if guess < times.count && times[guess] <= time {
            if guess + 1 < times.count {
                if time < times[guess + 1] { return guess }
                if guess + 2 < times.count && times[guess + 1] <= time && time < times[guess + 2] { return guess + 1 }
            }
        }
        return self.row(at: time)
    }

    /// Adds a service to the known ones if it is new.
    mutating func note(service: String) {
        if !self.services.contains(service) { self.services.append(service) }
    }

    private struct CallKey: Hashable {
        var caller: String
        var callee: String
    }
}
