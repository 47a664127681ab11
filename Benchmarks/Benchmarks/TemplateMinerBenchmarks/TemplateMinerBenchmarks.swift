// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Benchmark
import Foundation
import VigilCore

/// The messages of every Loghub-2k system in ../shared/data/logs, headers split off by Vigil's own format
/// detection, interleaved round-robin so one miner sees all formats at once.
let interleavedMessages: [[UInt8]] = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../../../../shared/data/logs/loghub2k"
    )
    .standardized
    let systems = (try? FileManager.default.contentsOfDirectory(atPath: root.path).sorted()) ?? []
    var perSystem: [[[UInt8]]] = []
    for system in systems {
        let file = root.appendingPathComponent("\(system)/\(system)_2k.log")
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { continue }
        var splitter = LogStreamSplitter()
        var messages: [[UInt8]] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let bytes = Array(line.utf8)
            messages += splitter.add(bytes.span).map { Array($0.message.utf8) }
        }
        messages += splitter.finish().map { Array($0.message.utf8) }
        perSystem.append(messages)
    }
    var interleaved: [[UInt8]] = []
    for index in 0..<(perSystem.map(\.count).max() ?? 0) {
        for messages in perSystem where index < messages.count { interleaved.append(messages[index]) }
    }
    precondition(!interleaved.isEmpty, "no Loghub data under \(root.path)")
    return interleaved
}()

/// Mines `count` lines cycling through `messages`; a function of its own so the miner is a plain `inout`
/// value, not a closure-captured box with dynamic exclusivity checks.
@inline(never)
func mine(_ messages: [[UInt8]], count: Int, into miner: inout TemplateMiner) {
    var index = 0
    for _ in 0..<count {
        let message = messages[index]
        blackHole(miner.add(message.span))
        index += 1
        if index == messages.count { index = 0 }
    }
}

/// One step for the sequence detector: a record's session and its event (its group in one miner per system),
/// as `vigil serve` gives them.
struct SequenceStep: Sendable {
    var session: UInt64
    var kind: LogSequenceDetector.SessionKind
    var event: UInt32
}

/// Every Loghub-2k record as a sequence step, systems one after another; sessions come from the records' own
/// fields (`pid`, `thread`), so most streams are continuous sessions per process.
let loghubSteps: [SequenceStep] = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../../../../shared/data/logs/loghub2k"
    )
    .standardized
    var steps: [SequenceStep] = []
    for system in (try? FileManager.default.contentsOfDirectory(atPath: root.path).sorted()) ?? [] {
        let file = root.appendingPathComponent("\(system)/\(system)_2k.log")
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { continue }
        var splitter = LogStreamSplitter()
        var miner = TemplateMiner()
        var records: [LogRecord] = []
        for line in text.split(separator: "\n") { records += splitter.add(Array(line.utf8).span) }
        records += splitter.finish()
        for record in records {
            let session = LogSequenceDetector.session(of: record.fields)
            steps.append(.init(session: session.hash, kind: session.kind, event: miner.add(record.message).serial))
        }
    }
    precondition(!steps.isEmpty, "no Loghub data under \(root.path)")
    return steps
}()

/// Requests by ID one after another, each writing the same five events: a strict workflow with starts and ends.
let requestSteps: [SequenceStep] = (0..<2_000).flatMap { request -> [SequenceStep] in
    (0..<UInt32(5)).map { SequenceStep(session: UInt64(request), kind: .bounded, event: $0) }
}

/// Feeds `steps` one second apart from `clock`, ending idle sessions every 1,000 steps, as the shard does per
/// minute; a function of its own so the detector is a plain `inout` value.
@inline(never)
func observe(_ steps: [SequenceStep], into detector: inout LogSequenceDetector, clock: inout Int64) {
    for (index, step) in steps.enumerated() {
        clock += 1_000_000_000
        let time = Timestamp(nanoseconds: clock)
        blackHole(detector.observe(event: step.event, session: step.session, kind: step.kind, time: time))
        if index % 1_000 == 999 { blackHole(detector.expire(now: time)) }
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        maxDuration: .seconds(5)
    )

    // One iteration mines the whole interleaved stream (20,000 lines) with a miner that has seen it once
    // (steady state); lines/s = throughput × 20,000, allocations per line = malloc total / 20,000.
    Benchmark(
        "TemplateMiner.add, warm, 20k interleaved Loghub lines per iteration",
        configuration: .init(scalingFactor: .one)
    ) { benchmark in
        let messages = interleavedMessages
        var miner = TemplateMiner()
        mine(messages, count: messages.count, into: &miner)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            mine(messages, count: messages.count, into: &miner)
        }
    }

    // One iteration mines the whole stream with a fresh miner: learning (new shapes, partitioning) included.
    Benchmark(
        "TemplateMiner.add, cold, 20k interleaved Loghub lines per iteration",
        configuration: .init(scalingFactor: .one)
    ) { benchmark in
        let messages = interleavedMessages
        for _ in benchmark.scaledIterations {
            var miner = TemplateMiner()
            mine(messages, count: messages.count, into: &miner)
            blackHole(miner.groupCount)
        }
    }

    // The sequence detector, warm (every step learnt once): steps/s = throughput × the step count.
    for (name, steps) in [("Loghub-2k records (20k)", loghubSteps), ("2,000 requests of 5 steps (10k)", requestSteps)] {
        Benchmark(
            "LogSequenceDetector.observe, warm, \(name) per iteration",
            configuration: .init(scalingFactor: .one)
        ) { benchmark in
            var detector = LogSequenceDetector()
            var clock: Int64 = 0
            observe(steps, into: &detector, clock: &clock)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { observe(steps, into: &detector, clock: &clock) }
        }
    }

    // One iteration masks the whole stream.
    Benchmark(
        "VariableMasker.mask, 20k interleaved Loghub lines per iteration",
        configuration: .init(scalingFactor: .one)
    ) { benchmark in
        let messages = interleavedMessages
        let masker = VariableMasker()
        var output: [UInt8] = []
        output.reserveCapacity(1 << 16)
        for _ in benchmark.scaledIterations {
            for message in messages {
                output.removeAll(keepingCapacity: true)
                blackHole(masker.mask(message.span, into: &output))
            }
        }
    }
}
