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
