// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Recommends CPU and memory requests for a workload from its measured usage, the way Robusta KRR's simple
/// strategy does, with the saving, the risk and how far the history can be trusted.
///
/// - **CPU**: the request is a high percentile of usage (p95 by default): the rare bursts above it borrow idle
///   cores, as a CPU request only reserves and never throttles.
/// - **Memory**: request = limit = the peak plus a buffer (15 %): memory cannot be borrowed back, so exceeding it
///   is an OOM kill.
/// - **Confidence** grows with the history covered, up to a week (a weekly cycle seen once), and falls when
///   samples are sparse.
/// - **Risk** of applying it: high when the history is under a day or memory was still rising at its end (a
///   leak would outgrow any peak); medium under a week of history or when the cut is deep (below half the
///   current request); low otherwise.
/// - **Autoscaled resources** are kept: an HPA that scales on CPU (or memory) utilisation divides usage by the
///   request, so a smaller request makes it add pods, each pod then uses less, and sizing again from that usage
///   shrinks the request further, a feedback loop (the reason Robusta KRR dropped its HPA support). Such a request
///   stays as it is unless ``Configuration/sizesAutoscaled`` is set.
public struct RightSizer: Sendable {
    /// Knobs, one set for every workload.
    public struct Configuration: Sendable, Equatable {
        /// The CPU usage percentile the request covers.
        public var cpuPercentile = 0.95
        /// Headroom above the memory peak.
        public var memoryBuffer = 0.15
        /// The smallest CPU request recommended, in cores (10 millicores).
        public var minimumCPU = 0.01
        /// The smallest memory request recommended, in bytes (32 MiB).
        public var minimumMemory = 32.0 * 1_048_576
        /// History for full confidence, in seconds (a week).
        public var fullHistorySeconds = 7.0 * 86_400
        /// Size resources an HPA scales on anyway (the HPA's target must then be set with the new request).
        public var sizesAutoscaled = false

        /// The defaults.
        public init() {}
    }

    /// How risky applying a recommendation is.
    public enum Risk: String, Sendable, Codable, Comparable {
        case low, medium, high

        public static func < (lhs: Self, rhs: Self) -> Bool {
            [Self.low, .medium, .high].firstIndex(of: lhs)! < [Self.low, .medium, .high].firstIndex(of: rhs)!
        }
    }

    /// A resource a request is made for.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case cpu, memory
    }

    /// A workload's usage: samples at times (Unix seconds), its current requests if known, and the resources a
    /// HorizontalPodAutoscaler scales it on.
    public struct Usage: Sendable, Equatable {
        public var workload: String
        public var times: [Double]
        /// Cores in use at each time (nil: not measured then).
        public var cpu: [Double?]
        /// Bytes in use at each time (nil: not measured then).
        public var memory: [Double?]
        public var cpuRequest: Double?
        public var memoryRequest: Double?
        /// The resources whose utilisation (usage over request) an HPA scales the workload on.
        public var autoscaledOn: Set<Kind> = []

        public init(
            workload: String,
            times: [Double],
            cpu: [Double?],
            memory: [Double?],
            cpuRequest: Double? = nil,
            memoryRequest: Double? = nil
        ) {
            self.workload = workload
            self.times = times
            self.cpu = cpu
            self.memory = memory
            self.cpuRequest = cpuRequest
            self.memoryRequest = memoryRequest
        }
    }

    /// One resource's recommendation.
    public struct Resource: Sendable, Equatable, Codable {
        /// The request now, if known.
        public var current: Double?
        public var recommended: Double
        /// The highest usage seen.
        public var peak: Double
        /// What the recommendation rests on, in words.
        public var basis: String
        /// An HPA scales the workload on this resource, so the request is kept (recommended = current when it is
        /// known).
        public var keptForAutoscaler = false

        /// Recommended minus current (negative: freed), if the current request is known.
        public var change: Double? { self.current.map { self.recommended - $0 } }
    }

    /// The recommendation for one workload.
    public struct Recommendation: Sendable, Equatable, Codable {
        public var workload: String
        /// Nil when no CPU sample was given.
        public var cpu: Resource?
        /// Nil when no memory sample was given.
        public var memory: Resource?
        /// How far the history can be trusted, in [0, 1].
        public var confidence: Double
        public var risk: Risk
        /// Why the risk is what it is, and anything else a person should know.
        public var notes: [String]
        /// Seconds of history and samples behind it.
        public var historySeconds: Double
        public var samples: Int
    }

    public let configuration: Configuration

    /// Creates a right-sizer.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Recommends requests for one workload.
    public func recommend(_ usage: Usage) -> Recommendation {
        let configuration = self.configuration
        var cpu = usage.cpu.compactMap { $0 }.filter { $0.isFinite && $0 >= 0 }
        let memory = usage.memory.compactMap { $0 }.filter { $0.isFinite && $0 >= 0 }
        let history = (usage.times.max() ?? 0) - (usage.times.min() ?? 0)
        let samples = max(cpu.count, memory.count)
        var notes: [String] = []

        var cpuResource: Resource?
        if !cpu.isEmpty {
            let percentile = OrderStatistics.quantile(configuration.cpuPercentile, of: &cpu)
            let percent = Int((configuration.cpuPercentile * 100).rounded())
            cpuResource = Resource(
                current: usage.cpuRequest,
                recommended: max(configuration.minimumCPU, percentile),
                peak: cpu.max()!,
                basis: "p\(percent) of \(cpu.count) samples"
            )
        }
        var memoryResource: Resource?
        var rising = false
        if let peak = memory.max() {
            memoryResource = Resource(
                current: usage.memoryRequest,
                recommended: max(configuration.minimumMemory, peak * (1 + configuration.memoryBuffer)),
                peak: peak,
                basis: "peak + \(Int((configuration.memoryBuffer * 100).rounded())) %"
            )
            rising = Self.risingAtTheEnd(memory)
        }

        for (kind, name) in [(Kind.cpu, "CPU"), (.memory, "memory")] where usage.autoscaledOn.contains(kind) {
            if configuration.sizesAutoscaled {
                notes.append(
                    "an HPA scales it on \(name): set the HPA's target for the new request, or it scales differently"
                )
                continue
            }
            func keep(_ resource: inout Resource?) {
                guard var kept = resource else { return }
                let sized = kept.recommended
                kept.recommended = kept.current ?? sized
                kept.keptForAutoscaler = true
                kept.basis = "kept for the HPA; usage alone would ask \(Self.amount(sized, kind))"
                resource = kept
            }
            if kind == .cpu { keep(&cpuResource) } else { keep(&memoryResource) }
            notes.append(
                "an HPA scales it on \(name) utilisation (usage ÷ request): the \(name) request is kept, since a smaller one "
                    + "adds pods, each then uses less, and sizing again shrinks it further (allow it with --allow-hpa)"
            )
        }
        let coverage = min(1, history / configuration.fullHistorySeconds)
        let density = min(1, Double(samples) / 100)
        let confidence = coverage * density
        var risk = Risk.low
        if history < 86_400 {
            risk = .high
            notes.append("only \(Self.duration(history)) of history: a daily peak may not be in it")
        } else if history < configuration.fullHistorySeconds {
            risk = .medium
            notes.append("\(Self.duration(history)) of history: a weekly peak may not be in it")
        }
        if rising {
            risk = .high
            notes.append("memory was still rising at the end of the history (a leak outgrows any peak)")
        }
        for (name, resource) in [("CPU", cpuResource), ("memory", memoryResource)] {
            if let resource, let current = resource.current, current > 0, resource.recommended < 0.5 * current {
                risk = max(risk, .medium)
                notes.append("\(name) falls below half the current request: apply it in steps")
            }
        }
        if samples < 100 { notes.append("only \(samples) samples") }
        return Recommendation(
            workload: usage.workload,
            cpu: cpuResource,
            memory: memoryResource,
            confidence: confidence,
            risk: risk,
            notes: notes,
            historySeconds: history,
            samples: samples
        )
    }

    /// Whether `pod` is a pod of the workload `target` names (a Deployment, StatefulSet, DaemonSet or Job, as an
    /// HPA's `scaleTargetRef` names it): the name itself, or the name followed by a StatefulSet ordinal, by a
    /// ReplicaSet hash and a pod suffix, or by a pod suffix alone.
    public static func isPod(_ pod: String, of target: String) -> Bool {
        guard pod != target else { return true }
        guard !target.isEmpty, pod.hasPrefix(target + "-") else { return false }
        let rest = pod.dropFirst(target.count + 1).split(separator: "-", omittingEmptySubsequences: false)
        func isHash(_ part: Substring, _ lengths: ClosedRange<Int>) -> Bool {
            lengths.contains(part.count) && part.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) }
        }
        switch rest.count {
        case 1: return rest[0].allSatisfy { ("0"..."9").contains($0) } || isHash(rest[0], 5...5)
        case 2: return isHash(rest[0], 5...10) && isHash(rest[1], 5...5)
        default: return false
        }
    }

    static func amount(_ value: Double, _ kind: Kind) -> String {
        kind == .cpu ? "\(Int((value * 1000).rounded()))m" : "\(Int((value / 1_048_576).rounded())) MiB"
    }

    /// Whether the last quarter of the samples sits clearly above the quarter before it (by more than 10 %).
    static func risingAtTheEnd(_ values: [Double]) -> Bool {
        guard values.count >= 8 else { return false }
        let quarter = values.count / 4
        let last = values.suffix(quarter).reduce(0, +) / Double(quarter)
        let before = values.dropLast(quarter).suffix(quarter).reduce(0, +) / Double(quarter)
        return before > 0 && last > 1.1 * before
    }

    /// "3 h", "2.5 days".
    static func duration(_ seconds: Double) -> String {
        if seconds < 120 { return "\(Int(seconds.rounded())) s" }
        if seconds < 7_200 { return "\(Int((seconds / 60).rounded())) min" }
        if seconds < 172_800 { return "\(Int((seconds / 3_600).rounded())) h" }
        return "\(Int((seconds / 86_400).rounded())) days"
    }
}
