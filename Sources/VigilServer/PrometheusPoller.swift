// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Dispatch
import Foundation
import Logging
import VigilCore
import VigilIngest
import VigilStorage

/// Pull mode: polls an existing Prometheus with `query_range` for each configured query, asking each time for
/// the range since the last poll, and feeds the samples into the pipeline like remote-written ones. The first poll
/// reads `backfillSeconds` of history, so the detectors start warm.
struct PrometheusPoller {
    let settings: ServerConfiguration.PrometheusPull
    let pipeline: Pipeline
    let logger: Logger

    /// Prometheus answers at most 11,000 points per series, so a longer range is asked for in parts of this many
    /// steps.
    static let stepsPerRequest = 10_000.0
    /// Samples go to the pipeline in batches of at most this many (an hour of history of many series is one
    /// answer).
    static let samplesPerBatch = 10_000

    func run() async {
        guard let (host, port) = SimpleHTTPClient.hostAndPort(self.settings.url) else {
            self.logger.error("prometheus_pull: cannot read the URL \(self.settings.url)")
            return
        }
        let queries = self.settings.queries.map(PrometheusQuery.Named.init)
        let step = self.settings.stepSeconds
        let history = max(self.settings.backfillSeconds, self.settings.intervalSeconds)
        // Aligned to the step so consecutive polls continue the same grid.
        var from = ((Date().timeIntervalSince1970 - history) / step).rounded(.down) * step
        self.logger.info(
            "prometheus_pull: polling \(queries.count) quer(ies) from \(self.settings.url), first reading \(Int(history)) s of history"
        )
        while !Task.isCancelled {
            let to = (Date().timeIntervalSince1970 / step).rounded(.down) * step
            while to >= from && !Task.isCancelled {
                let end = min(to, from + (Self.stepsPerRequest - 1) * step)
                for query in queries {
                    let path = PrometheusQuery.rangePath(query.expression, start: from, end: end, step: step)
                    let answer = await SimpleHTTPClient.send(host: host, port: port, "GET", path)
                    do {
                        let response = try answer.get()
                        let points = try PrometheusQuery.decode(response.body, name: query.name)
                        for start in stride(from: 0, to: points.count, by: Self.samplesPerBatch) {
                            let batch = points[start..<min(points.count, start + Self.samplesPerBatch)]
                            await self.pipeline.submitWaiting(.samples(Array(batch)))
                        }
                    } catch {
                        self.logger.warning("prometheus_pull: \(query.expression): \(error)")
                    }
                }
                from = end + step
            }
            try? await Task.sleep(for: .seconds(self.settings.intervalSeconds))
        }
    }
}
