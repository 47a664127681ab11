// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Foundation
import VigilCore
import VigilIngest

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `vigil rightsize`: CPU and memory requests from measured usage, with the saving, the risk and the confidence.
struct Rightsize: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rightsize",
        abstract: "Recommend CPU and memory requests per workload from its measured usage (as Robusta KRR does).",
        discussion: """
            FILE is a CSV with the header timestamp,workload,cpu_cores,memory_bytes and, optionally, \
            cpu_request and memory_request (the requests now, in cores and bytes; the last value given per \
            workload counts) and hpa (the resources a HorizontalPodAutoscaler scales the workload on: cpu, \
            memory or cpu+memory, on any of its rows). An empty cell is a missing sample. Export it from \
            Prometheus, for example rate(container_cpu_usage_seconds_total[5m]) and \
            container_memory_working_set_bytes per container.

            CPU: the request covers the p95 of usage (--cpu-percentile); bursts above it borrow idle cores. \
            Memory: request = limit = the peak plus 15 % (--memory-buffer), as memory cannot be borrowed back. \
            Confidence grows with the history covered, up to a week. Risk is high under a day of history or when \
            memory still rises at its end, medium under a week or when a request falls below half of today's.

            With --prometheus-url, usage comes from that Prometheus instead, over --history at --step: \
            --cpu-query (cores) and --memory-query (bytes), one workload per combination of the --by labels. \
            The defaults read cAdvisor's container series as Kubernetes exposes them. --hpa-query finds the \
            HPAs (kube-state-metrics' series by default): a pod of an HPA's scale target, in its namespace, is \
            autoscaled on the resources the HPA's metrics name.

            A request an HPA scales on is kept: the HPA divides usage by it, so a smaller request adds pods, \
            each then uses less, and sizing again shrinks it further. --allow-hpa sizes it anyway (then set the \
            HPA's target for the new request).

            Examples:
              vigil rightsize usage.csv
              vigil rightsize --prometheus-url http://127.0.0.1:9090 --history 14d
              vigil rightsize usage.csv --output json | jq '.workloads[] | select(.risk == "low")'
            """
    )

    @Argument(help: "The usage CSV (- for standard input); not with --prometheus-url.")
    var file: String?

    @Option(help: "Read usage from this Prometheus (http://host:port) instead of a file.")
    var prometheusUrl: String?

    @Option(help: "PromQL giving CPU use in cores.")
    var cpuQuery =
        #"sum by (namespace, pod, container) (rate(container_cpu_usage_seconds_total{container!=""}[5m]))"#

    @Option(help: "PromQL giving memory use in bytes.")
    var memoryQuery = #"sum by (namespace, pod, container) (container_memory_working_set_bytes{container!=""})"#

    @Option(help: "The labels that name a workload, comma-separated.")
    var by = "namespace,pod,container"

    @Option(help: "How much history to read from Prometheus (1h, 7d, 14d).")
    var history = "7d"

    @Option(help: "The query_range step (30s, 5m).")
    var step = "5m"

    @Option(help: "The CPU usage percentile the request covers, in (0, 1].")
    var cpuPercentile = 0.95

    @Option(help: "Headroom above the memory peak, as a share (0.15 = 15 %).")
    var memoryBuffer = 0.15

    @Option(
        help:
            "PromQL (instant) naming each HPA's scale target (scaletargetref_name, namespace) and the resource it scales on (metric_name cpu or memory)."
    )
    var hpaQuery =
        #"kube_horizontalpodautoscaler_spec_target_metric{metric_name=~"cpu|memory"} * on (namespace, horizontalpodautoscaler) group_left (scaletargetref_name) kube_horizontalpodautoscaler_info"#

    @Flag(help: "Size requests an HPA scales on too (by default they are kept).")
    var allowHpa = false

    @Option(help: "text or json.")
    var output = "text"

    func validate() throws {
        guard (self.file == nil) != (self.prometheusUrl == nil) else {
            throw ValidationError("give a usage CSV or --prometheus-url, one of the two")
        }
        for (name, text) in [("--history", self.history), ("--step", self.step)] where Forecast.seconds(text) == nil {
            throw ValidationError("\(name) \(text) is not a duration like 30s, 5m, 2h or 7d")
        }
        guard ["text", "json"].contains(self.output) else { throw ValidationError("--output must be text or json") }
        guard self.cpuPercentile > 0 && self.cpuPercentile <= 1 else {
            throw ValidationError("--cpu-percentile must be in (0, 1], got \(self.cpuPercentile)")
        }
        guard self.memoryBuffer >= 0 && self.memoryBuffer <= 10 else {
            throw ValidationError("--memory-buffer must be from 0 to 10, got \(self.memoryBuffer)")
        }
    }

    func run() async throws {
        let usages: [RightSizer.Usage]
        if let url = self.prometheusUrl {
            usages = try await self.query(url)
        } else {
            usages = try Self.read(self.file ?? "-")
        }
        var configuration = RightSizer.Configuration()
        configuration.cpuPercentile = self.cpuPercentile
        configuration.memoryBuffer = self.memoryBuffer
        configuration.sizesAutoscaled = self.allowHpa
        let sizer = RightSizer(configuration: configuration)
        let recommendations = usages.map(sizer.recommend)
        let freedCPU = recommendations.compactMap { $0.cpu?.change }.reduce(0, +)
        let freedMemory = recommendations.compactMap { $0.memory?.change }.reduce(0, +)
        var out = OutputStream()
        if self.output == "json" {
            struct Report: Encodable {
                var workloads: [RightSizer.Recommendation]
                var cpuChange: Double
                var memoryChange: Double
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let data = try encoder.encode(
                Report(workloads: recommendations, cpuChange: freedCPU, memoryChange: freedMemory)
            )
            out.write(String(decoding: data, as: UTF8.self) + "\n")
            out.flush()
            return
        }
        for recommendation in recommendations {
            out.write("\(recommendation.workload)\n")
            if let cpu = recommendation.cpu {
                out.write("  CPU     \(Self.change(cpu, Self.cores))  (\(cpu.basis), peak \(Self.cores(cpu.peak)))\n")
            }
            if let memory = recommendation.memory {
                out.write(
                    "  memory  \(Self.change(memory, Self.bytes))  (\(memory.basis), peak \(Self.bytes(memory.peak)))\n"
                )
            }
            out.write(
                "  risk \(recommendation.risk.rawValue), confidence \(Int((recommendation.confidence * 100).rounded())) %"
            )
            out.write(recommendation.notes.isEmpty ? "\n" : ": " + recommendation.notes.joined(separator: "; ") + "\n")
        }
        out.write(
            "\nIn all: CPU \(Self.signed(freedCPU, Self.cores)), memory \(Self.signed(freedMemory, Self.bytes)) "
                + "against the current requests given.\n"
        )
        out.flush()
    }

    static func change(_ resource: RightSizer.Resource, _ format: (Double) -> String) -> String {
        if resource.keptForAutoscaler {
            return resource.current.map { "\(format($0)) kept" } ?? "request kept (not given)"
        }
        guard let current = resource.current else { return "request \(format(resource.recommended))" }
        return
            "\(format(current)) → \(format(resource.recommended)) (\(Self.signed(resource.recommended - current, format)))"
    }

    static func signed(_ value: Double, _ format: (Double) -> String) -> String {
        value < 0 ? "−" + format(-value) : "+" + format(value)
    }

    static func cores(_ value: Double) -> String { "\(Int((value * 1000).rounded()))m" }

    static func bytes(_ value: Double) -> String {
        value >= 1_073_741_824
            ? String(format: "%.2f GiB", value / 1_073_741_824) : "\(Int((value / 1_048_576).rounded())) MiB"
    }

    /// Reads usage from Prometheus: both queries over the history, one workload per combination of the `--by`
    /// labels (or the whole series when it has none of them).
    func query(_ base: String) async throws -> [RightSizer.Usage] {
        let end = Date().timeIntervalSince1970.rounded(.down)
        let start = end - Forecast.seconds(self.history)!
        let step = Forecast.seconds(self.step)!
        let names = self.by.split(separator: ",").map { $0.trimmingCharacters() }.filter { !$0.isEmpty }
        var order: [String] = []
        var samples: [String: [Double: (cpu: Double?, memory: Double?)]] = [:]
        var labels: [String: SeriesKey] = [:]
        for (kind, expression) in [("cpu", self.cpuQuery), ("memory", self.memoryQuery)] {
            let path = PrometheusQuery.rangePath(expression, start: start, end: end, step: step)
            guard let url = URL(string: base.hasSuffix("/") ? String(base.dropLast()) + path : base + path),
                url.host != nil
            else {
                throw ValidationError("--prometheus-url \(base) is not a URL like http://127.0.0.1:9090")
            }
            let body: Data
            do {
                (body, _) = try await URLSession.shared.data(for: URLRequest(url: url, timeoutInterval: 60))
            } catch {
                throw CLIError("cannot reach Prometheus at \(base): \(error.localizedDescription)")
            }
            let points: [MetricPoint]
            do {
                points = try PrometheusQuery.decode(Array(body), name: kind)
            } catch {
                throw CLIError("the \(kind) query failed: \(error.message)")
            }
            for point in points {
                let values = names.compactMap { point.series.label($0) }
                let workload = values.isEmpty ? point.series.text : values.joined(separator: "/")
                if samples[workload] == nil {
                    order.append(workload)
                    samples[workload] = [:]
                    labels[workload] = point.series
                }
                let time = point.time.seconds
                if kind == "cpu" {
                    samples[workload]![time, default: (nil, nil)].cpu = point.value
                } else {
                    samples[workload]![time, default: (nil, nil)].memory = point.value
                }
            }
        }
        guard !order.isEmpty else {
            throw CLIError("Prometheus at \(base) has no samples for either query in the last \(self.history)")
        }
        let autoscalers = await self.autoscalers(base)
        return order.map { workload in
            let rows = samples[workload]!.sorted { $0.key < $1.key }
            var usage = RightSizer.Usage(
                workload: workload,
                times: rows.map(\.key),
                cpu: rows.map(\.value.cpu),
                memory: rows.map(\.value.memory)
            )
            usage.autoscaledOn = Self.autoscaled(labels[workload]!, by: autoscalers)
            return usage
        }
    }

    /// The HPAs `--hpa-query` finds: namespace, scale target and resource. A query that fails is reported on
    /// standard error and counts as none (a cluster without kube-state-metrics).
    func autoscalers(_ base: String) async -> [(namespace: String?, target: String, kind: RightSizer.Kind)] {
        let path = "/api/v1/query?query=\(TextEscaping.percentEncoded(self.hpaQuery))"
        do {
            guard let url = URL(string: base.hasSuffix("/") ? String(base.dropLast()) + path : base + path) else {
                return []
            }
            let (body, _) = try await URLSession.shared.data(for: URLRequest(url: url, timeoutInterval: 60))
            return try PrometheusQuery.decode(Array(body), name: "hpa").compactMap { point in
                guard let target = point.series.label("scaletargetref_name"),
                    let kind = point.series.label("metric_name").flatMap(RightSizer.Kind.init(rawValue:))
                else { return nil }
                return (point.series.label("namespace"), target, kind)
            }
        } catch {
            FileHandle.standardError.write(
                Data("vigil rightsize: the HPA query failed (\(error)); no request is kept for an autoscaler\n".utf8)
            )
            return []
        }
    }

    /// The resources HPAs scale a workload on: an HPA in its namespace whose scale target owns its pod (or is
    /// named by its deployment, statefulset or workload label).
    static func autoscaled(
        _ series: SeriesKey,
        by autoscalers: [(namespace: String?, target: String, kind: RightSizer.Kind)]
    ) -> Set<RightSizer.Kind> {
        var kinds: Set<RightSizer.Kind> = []
        for autoscaler in autoscalers {
            if let namespace = autoscaler.namespace, let own = series.label("namespace"), own != namespace { continue }
            let owned =
                series.label("pod").map { RightSizer.isPod($0, of: autoscaler.target) } ?? false
                || ["deployment", "statefulset", "workload"].contains { series.label($0) == autoscaler.target }
            if owned { kinds.insert(autoscaler.kind) }
        }
        return kinds
    }

    /// Reads the CSV into one usage per workload, in order of first appearance; a bad row is an error naming its line.
    /// Cells are read as byte ranges (a usage file holds a row per workload and minute: millions of them).
    static func read(_ path: String) throws -> [RightSizer.Usage] {
        var reader = try LineReader(path: path)
        /// The columns read, by their header names; the first four are required.
        enum Column: Int, CaseIterable {
            case timestamp, workload, cpuCores, memoryBytes, cpuRequest, memoryRequest, hpa

            /// Its name in the header.
            var name: String {
                ["timestamp", "workload", "cpu_cores", "memory_bytes", "cpu_request", "memory_request", "hpa"][
                    self.rawValue
                ]
            }
        }
        // Where the header put each column (looked up once, not per row).
        var at: [Int?] = []
        var usages: [RightSizer.Usage] = []
        var slot: [String: Int] = [:]
        var cells: [Range<Int>] = []
        try reader.forEachLine { line, number, _ in
            try line.withUnsafeBufferPointer { line in
                try CSVReader.withCells(of: line, &cells) { bytes, cells in
                    func text(_ column: Int?) -> String? {
                        guard let column, column < cells.count, !cells[column].isEmpty else { return nil }
                        return String(decoding: bytes[cells[column]], as: UTF8.self)
                    }
                    if number == 1 {
                        var columns: [String: Int] = [:]
                        for index in cells.indices { columns[text(index)?.lowercased() ?? ""] = index }
                        at = Column.allCases.map { columns[$0.name] }
                        let missing = Column.allCases.prefix(4).map(\.name).filter { columns[$0] == nil }
                        if !missing.isEmpty {
                            throw CLIError(
                                "line 1: the header needs timestamp,workload,cpu_cores,memory_bytes; missing \(missing.joined(separator: ", "))"
                            )
                        }
                        return
                    }
                    if cells.allSatisfy(\.isEmpty) { return }
                    /// A non-negative amount, nil for an empty cell.
                    func amount(_ wanted: Column) throws -> Double? {
                        guard let column = at[wanted.rawValue], column < cells.count, !cells[column].isEmpty else {
                            return nil
                        }
                        let cell = UnsafeBufferPointer(rebasing: bytes[cells[column]])
                        guard let value = DecimalNumber.value(cell), value.isFinite, value >= 0 else {
                            throw CLIError(
                                "line \(number): \(wanted.name) \"\(text(column) ?? "")\" is not a non-negative number"
                            )
                        }
                        return value
                    }
                    let timeColumn = at[Column.timestamp.rawValue]!
                    guard timeColumn < cells.count, !cells[timeColumn].isEmpty,
                        let time = TimestampParser.parse(UnsafeBufferPointer(rebasing: bytes[cells[timeColumn]]).span)
                    else {
                        throw CLIError("line \(number): \"\(text(timeColumn) ?? "")\" is not a timestamp")
                    }
                    guard let workload = text(at[Column.workload.rawValue]) else {
                        throw CLIError("line \(number): the workload is empty")
                    }
                    let cpu = try amount(.cpuCores)
                    let memory = try amount(.memoryBytes)
                    let cpuRequest = try amount(.cpuRequest)
                    let memoryRequest = try amount(.memoryRequest)
                    let index: Int
                    if let known = slot[workload] {
                        index = known
                    } else {
                        index = usages.count
                        slot[workload] = index
                        usages.append(RightSizer.Usage(workload: workload, times: [], cpu: [], memory: []))
                    }
                    usages[index].times.append(time.seconds)
                    usages[index].cpu.append(cpu)
                    usages[index].memory.append(memory)
                    if let cpuRequest { usages[index].cpuRequest = cpuRequest }
                    if let memoryRequest { usages[index].memoryRequest = memoryRequest }
                    if let hpa = text(at[Column.hpa.rawValue]) {
                        for name in hpa.split(whereSeparator: { $0 == "+" || $0 == " " || $0 == ";" }) {
                            guard let kind = RightSizer.Kind(rawValue: name.lowercased()) else {
                                throw CLIError("line \(number): hpa \"\(hpa)\" must name cpu, memory or cpu+memory")
                            }
                            usages[index].autoscaledOn.insert(kind)
                        }
                    }
                }
            }
        }
        guard !usages.isEmpty else { throw CLIError("\(path) has no usage rows under its header") }
        return usages
    }
}

extension Substring {
    /// The text without leading and trailing spaces, tabs and carriage returns.
    fileprivate func trimmingCharacters() -> String {
        String(
            self.drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed().drop(while: {
                $0 == " " || $0 == "\t" || $0 == "\r"
            }).reversed()
        )
    }
}
