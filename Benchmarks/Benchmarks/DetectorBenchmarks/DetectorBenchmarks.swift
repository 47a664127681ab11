// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Benchmark
import Foundation
import VigilCore

/// The 41 NAB series of ../shared/data/nab (274,491 points), as (time, value) pairs.
let series: [[(time: Timestamp, value: Double)]] = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../../../../shared/data/nab/data"
    )
    .standardized
    var result: [[(time: Timestamp, value: Double)]] = []
    let folders = (try? FileManager.default.contentsOfDirectory(atPath: root.path).sorted()) ?? []
    for folder in folders {
        let directory = root.appendingPathComponent(folder)
        for file in ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
        where file.hasSuffix(".csv") {
            guard let text = try? String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8) else {
                continue
            }
            let points = text.split(whereSeparator: \.isNewline).dropFirst().compactMap {
                line -> (time: Timestamp, value: Double)? in
                let fields = line.split(separator: ",")
                guard fields.count >= 2, let value = Double(fields[1]),
                    let time = TimestampParser.parse(Array(fields[0].utf8).span)
                else { return nil }
                return (time, value)
            }
            result.append(points)
        }
    }
    precondition(!result.isEmpty, "no NAB data under \(root.path)")
    return result
}()
let pointCount = series.reduce(0) { $0 + $1.count }

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        maxDuration: .seconds(5)
    )

    // Every point of every series through the whole ensemble (baselines, spike/dip, level shifts, flatline,
    // calibration, episodes), one new detector per series. points/s = throughput × 274,491.
    Benchmark(
        "MetricAnomalyDetector.update, 41 NAB series (274,491 points) per iteration",
        configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal, .custom("state bytes per series")])
    ) { benchmark in
        var stateBytes = 0
        for _ in benchmark.scaledIterations {
            stateBytes = 0
            for points in series {
                var detector = MetricAnomalyDetector()
                for point in points { blackHole(detector.update(time: point.time, value: point.value)) }
                stateBytes = max(stateBytes, detector.stateBytes)
            }
        }
        benchmark.measurement(.custom("state bytes per series"), stateBytes)
    }
}
