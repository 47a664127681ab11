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
        scalingFactor: .kilo,
        maxDuration: .seconds(5)
    )

    // One scaled iteration mines one line; the miner has already seen the stream once (steady state).
    Benchmark("TemplateMiner.add, warm, interleaved Loghub lines") { benchmark in
        let messages = interleavedMessages
        var miner = TemplateMiner()
        for message in messages { miner.add(message.span) }
        benchmark.startMeasurement()
        mine(messages, count: benchmark.scaledIterations.count, into: &miner)
    }

    // One scaled iteration mines one line of a fresh stream: learning (new shapes, partitioning) included.
    Benchmark("TemplateMiner.add, cold, interleaved Loghub lines") { benchmark in
        let messages = interleavedMessages
        var miner = TemplateMiner()
        benchmark.startMeasurement()
        var index = 0
        for _ in benchmark.scaledIterations {
            let message = messages[index]
            blackHole(miner.add(message.span))
            index += 1
            if index == messages.count {
                index = 0
                benchmark.stopMeasurement()
                miner = TemplateMiner()
                benchmark.startMeasurement()
            }
        }
    }

    Benchmark("VariableMasker.mask, interleaved Loghub lines") { benchmark in
        let messages = interleavedMessages
        let masker = VariableMasker()
        var output: [UInt8] = []
        output.reserveCapacity(4096)
        benchmark.startMeasurement()
        var index = 0
        for _ in benchmark.scaledIterations {
            output.removeAll(keepingCapacity: true)
            let message = messages[index]
            blackHole(masker.mask(message.span, into: &output))
            index += 1
            if index == messages.count { index = 0 }
        }
    }
}
