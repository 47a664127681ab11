// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Dispatch
import Foundation
import Logging
import VigilCore
import VigilIngest
import VigilStorage

/// Pull mode: polls an existing Prometheus with `query_range` for each configured query, asking each time for
/// the range since the last poll, and feeds the samples into the pipeline like remote-written ones.
struct PrometheusPoller {
    let settings: ServerConfiguration.PrometheusPull
    let pipeline: Pipeline
    let logger: Logger

    func run() async {
        guard let (host, port) = SimpleHTTPClient.hostAndPort(self.settings.url) else {
            self.logger.error("prometheus_pull: cannot read the URL \(self.settings.url)")
            return
        }
        let queries = self.settings.queries.map(PrometheusQuery.Named.init)
        let step = self.settings.stepSeconds
        var from = Date().timeIntervalSince1970 - self.settings.intervalSeconds
        self.logger.info("prometheus_pull: polling \(queries.count) quer(ies) from \(self.settings.url)")
        while !Task.isCancelled {
            // Align to the step so consecutive polls continue the same grid.
            let to = (Date().timeIntervalSince1970 / step).rounded(.down) * step
            if to >= from {
                for query in queries {
                    let path = PrometheusQuery.rangePath(query.expression, start: from, end: to, step: step)
                    let answer = await SimpleHTTPClient.send(host: host, port: port, "GET", path)
                    do {
                        let response = try answer.get()
                        let points = try PrometheusQuery.decode(response.body, name: query.name)
                        if !points.isEmpty { await self.pipeline.submitWaiting(.samples(points)) }
                    } catch {
                        self.logger.warning("prometheus_pull: \(query.expression): \(error)")
                    }
                }
                from = to + step
            }
            try? await Task.sleep(for: .seconds(self.settings.intervalSeconds))
        }
    }
}
