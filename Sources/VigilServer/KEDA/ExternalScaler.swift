// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Synchronization
import VigilCore
import VigilIngest
import VigilStorage

/// KEDA's external scaler (`externalscaler.ExternalScaler`), answered from a stored series and its forecast: a
/// ScaledObject names a series in its trigger metadata, and KEDA scales on the load ``ScalingAdvisor`` says to size
/// for. The calls are unary; the transport is ``GRPCServer``.
final class ExternalScaler: Sendable {
    /// What a call answers: a message, a stream of messages (until the client cancels), or a gRPC status code and
    /// message.
    enum Answer: Sendable {
        case message([UInt8])
        case stream(AsyncStream<[UInt8]>)
        case failure(code: Int, message: String)
    }

    /// gRPC status codes used here.
    static let invalidArgument = 3
    static let notFound = 5
    static let unimplemented = 12
    static let unavailable = 14

    /// One trigger's settings, from its `metadata`.
    struct Trigger: Equatable {
        /// The stored series, as `GET /api/v1/series` spells it.
        var series: String
        /// The load one replica handles.
        var targetValue: Double
        /// Above this the workload is active (scaled up from zero).
        var activationValue = 0.0
        var advisor = ScalingAdvisor.Configuration()
        /// How much history the forecast reads.
        var historySeconds = 7 * 86_400.0
        /// Report the current value only, no forecast.
        var isReactive = false
        /// How often `StreamIsActive` re-checks (it sends only changes).
        var pushSeconds = 5.0

        /// The metric name KEDA gives the HPA: stable per series.
        var metricName: String { "vigil-" + Template.id(for: self.series).prefix(12) }

        static let keys: Set<String> = [
            "series", "targetValue", "activationValue", "horizon", "history", "mode", "coverage", "pushInterval",
        ]

        init(series: String, targetValue: Double) {
            self.series = series
            self.targetValue = targetValue
        }

        /// The trigger of `metadata`, or the mistake in it.
        init(_ metadata: [String: String]) throws(ScalerError) {
            for key in metadata.keys.sorted() where !Self.keys.contains(key) {
                throw ScalerError("unknown metadata key \(key); known: \(Self.keys.sorted().joined(separator: ", "))")
            }
            guard let series = metadata["series"], !series.isEmpty else {
                throw ScalerError(
                    "metadata needs series: a stored series such as requests_per_second{service=\"checkout\"}"
                )
            }
            guard let text = metadata["targetValue"], let target = Double(text), target > 0, target.isFinite else {
                throw ScalerError("metadata needs targetValue: the load one replica handles, a number above 0")
            }
            self.init(series: series, targetValue: target)
            if let text = metadata["activationValue"] {
                guard let value = Double(text), value.isFinite else {
                    throw ScalerError("activationValue must be a number, not \(text)")
                }
                self.activationValue = value
            }
            if let text = metadata["horizon"] {
                guard let seconds = DurationText.seconds(in: text) else {
                    throw ScalerError("horizon must be a duration such as 15m, not \(text)")
                }
                self.advisor.horizonSeconds = seconds
            }
            if let text = metadata["history"] {
                guard let seconds = DurationText.seconds(in: text), seconds >= 3_600 else {
                    throw ScalerError("history must be a duration of at least 1h, such as 7d, not \(text)")
                }
                self.historySeconds = seconds
            }
            if let text = metadata["coverage"] {
                guard let coverage = Double(text), coverage > 0, coverage < 1 else {
                    throw ScalerError("coverage must be between 0 and 1, such as 0.8, not \(text)")
                }
                self.advisor.coverage = coverage
            }
            if let text = metadata["pushInterval"] {
                guard let seconds = DurationText.seconds(in: text), seconds >= 1 else {
                    throw ScalerError("pushInterval must be a duration of at least 1s, such as 5s, not \(text)")
                }
                self.pushSeconds = seconds
            }
            switch metadata["mode"] ?? "upper" {
            case "upper": self.advisor.sizesForUpperBound = true
            case "point": self.advisor.sizesForUpperBound = false
            case "current": self.isReactive = true
            case let other: throw ScalerError("mode must be upper, point or current, not \(other)")
            }
        }
    }

    struct ScalerError: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    let store: any Store
    let now: @Sendable () -> Timestamp
    /// Advice per trigger for a few seconds: KEDA asks IsActive and GetMetrics of every ScaledObject each poll.
    private let cache = Mutex<[String: (time: Timestamp, advice: ScalingAdvisor.Advice)]>([:])
    /// How long an advice is reused.
    static let cacheSeconds = 10.0
    /// Points a forecast reads at most; longer histories are averaged into buckets first.
    static let maximumPoints = 3_000

    init(store: any Store, now: @escaping @Sendable () -> Timestamp) {
        self.store = store
        self.now = now
    }

    /// Answers one unary call: `method` is the last part of the gRPC path.
    func call(_ method: String, _ request: [UInt8]) -> Answer {
        do {
            switch method {
            case "IsActive":
                let reference = try Self.decode { () throws(IngestError) in
                    try ExternalScalerMessages.scaledObjectRef(request[...])
                }
                let trigger = try Trigger(reference.scalerMetadata)
                let advice = try self.advice(for: trigger)
                return .message(ExternalScalerMessages.isActiveResponse(advice.value > trigger.activationValue))
            case "GetMetricSpec":
                let reference = try Self.decode { () throws(IngestError) in
                    try ExternalScalerMessages.scaledObjectRef(request[...])
                }
                let trigger = try Trigger(reference.scalerMetadata)
                return .message(
                    ExternalScalerMessages.metricSpecResponse([
                        .init(name: trigger.metricName, value: trigger.targetValue)
                    ])
                )
            case "GetMetrics":
                let (reference, _) = try Self.decode { () throws(IngestError) in
                    try ExternalScalerMessages.metricsRequest(request[...])
                }
                let trigger = try Trigger(reference.scalerMetadata)
                let advice = try self.advice(for: trigger)
                return .message(
                    ExternalScalerMessages.metricsResponse([.init(name: trigger.metricName, value: advice.value)])
                )
            case "StreamIsActive":
                let reference = try Self.decode { () throws(IngestError) in
                    try ExternalScalerMessages.scaledObjectRef(request[...])
                }
                let trigger = try Trigger(reference.scalerMetadata)
                // An unknown series fails the call now rather than streaming nothing.
                _ = try self.advice(for: trigger)
                return .stream(self.activity(of: trigger))
            default:
                return .failure(
                    code: Self.unimplemented,
                    message: "externalscaler.ExternalScaler/\(method) is not implemented"
                )
            }
        } catch let error as ScalerError {
            return .failure(code: Self.invalidArgument, message: error.message)
        } catch let error as NotFound {
            return .failure(code: Self.notFound, message: error.message)
        } catch {
            return .failure(code: Self.unavailable, message: "the store cannot be read: \(error)")
        }
    }

    /// `StreamIsActive`'s messages: the state now, then each change, checked every `pushSeconds` until the client
    /// cancels (a store that cannot be read sends nothing until it can).
    func activity(of trigger: Trigger) -> AsyncStream<[UInt8]> {
        AsyncStream { continuation in
            let task = Task {
                var last: Bool?
                while !Task.isCancelled {
                    if let advice = try? self.advice(for: trigger) {
                        let isActive = advice.value > trigger.activationValue
                        if isActive != last {
                            continuation.yield(ExternalScalerMessages.isActiveResponse(isActive))
                            last = isActive
                        }
                    }
                    try? await Task.sleep(for: .seconds(trigger.pushSeconds))
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    struct NotFound: Error {
        let message: String
    }

    static func decode<T>(_ body: () throws(IngestError) -> T) throws(ScalerError) -> T {
        do { return try body() } catch { throw ScalerError("the request is not a valid message: \(error)") }
    }

    /// The advice for `trigger`, from its series' stored history (cached briefly).
    func advice(for trigger: Trigger) throws -> ScalingAdvisor.Advice {
        let now = self.now()
        let key =
            "\(trigger.series)|\(trigger.advisor.horizonSeconds)|\(trigger.advisor.coverage)|\(trigger.advisor.sizesForUpperBound)|\(trigger.historySeconds)|\(trigger.isReactive)"
        if let cached = self.cache.withLock({ $0[key] }), cached.time > now.adding(seconds: -Self.cacheSeconds) {
            return cached.advice
        }
        let samples = try self.store.samples(
            series: trigger.series,
            from: now.adding(seconds: -trigger.historySeconds),
            to: nil,
            limit: 200_000
        )
        guard !samples.isEmpty else {
            throw NotFound(
                message:
                    "no samples of \(trigger.series) in the last \(Int(trigger.historySeconds)) s; GET /api/v1/series lists the stored series"
            )
        }
        var configuration = trigger.advisor
        if trigger.isReactive { configuration.minimumPoints = Int.max }
        let (times, values) = Self.bucketed(samples, maximum: Self.maximumPoints)
        guard let advice = ScalingAdvisor(configuration: configuration).advise(times: times, values: values) else {
            throw NotFound(message: "\(trigger.series) has no finite value")
        }
        self.cache.withLock { cache in
            cache = cache.filter { $0.value.time > now.adding(seconds: -Self.cacheSeconds) }
            cache[key] = (now, advice)
        }
        return advice
    }

    /// At most `maximum` points: consecutive samples averaged in equal buckets, each at its last sample's time.
    static func bucketed(_ samples: [(Timestamp, Double)], maximum: Int) -> (times: [Double], values: [Double]) {
        let size = max(1, (samples.count + maximum - 1) / maximum)
        var times: [Double] = []
        var values: [Double] = []
        times.reserveCapacity(samples.count / size + 1)
        values.reserveCapacity(samples.count / size + 1)
        var start = 0
        // Buckets end at the newest sample, so the latest value stays exact when size is 1 and recent when not.
        let first = samples.count % size
        if first > 0 {
            times.append(samples[first - 1].0.seconds)
            values.append(samples[0..<first].reduce(0) { $0 + $1.1 } / Double(first))
            start = first
        }
        while start < samples.count {
            let end = start + size
            times.append(samples[end - 1].0.seconds)
            values.append(samples[start..<end].reduce(0) { $0 + $1.1 } / Double(size))
            start = end
        }
        return (times, values)
    }
}
