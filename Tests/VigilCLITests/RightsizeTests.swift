// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import VigilTestSupport

@Suite struct RightsizeTests {
    /// Eight days of checkout at 5-minute samples with its requests, and half a day of cart without a memory request.
    static func usage() -> String {
        var rows = ["timestamp,workload,cpu_cores,memory_bytes,cpu_request,memory_request"]
        for index in 0..<(8 * 288) {
            let time = 1_763_900_000 + index * 300
            rows.append("\(time),checkout,\(index % 20 == 0 ? "0.8" : "0.2"),\(400 * 1_048_576),1,2147483648")
            if index % 2 == 0 && index < 288 { rows.append("\(time),cart,0.05,,0.5,") }
        }
        return rows.joined(separator: "\n") + "\n"
    }

    @Test func reportsEachWorkloadWithItsRiskAndTheTotal() throws {
        let result = try Vigil.run(["rightsize", "-"], input: Self.usage())
        #expect(result.status == 0, "\(result.stderr)")
        // 5 % of checkout's samples are bursts to 0.8 cores: its p95 falls between 0.2 and 0.8.
        #expect(
            result.stdout.contains("checkout\n  CPU     1000m → 710m (−290m)  (p95 of 2304 samples, peak 800m)"),
            "\(result.stdout)"
        )
        #expect(result.stdout.contains("memory  2.00 GiB → 460 MiB (−1.55 GiB)  (peak + 15 %, peak 400 MiB)"))
        #expect(result.stdout.contains("cart\n  CPU     500m → 50m (−450m)"))
        #expect(result.stdout.contains("risk medium, confidence 100 %: memory falls below half the current request"))
        #expect(result.stdout.contains("risk high, confidence 14 %: only 24 h of history"))
        #expect(result.stdout.hasSuffix("In all: CPU −740m, memory −1.55 GiB against the current requests given.\n"))

        let json = try Vigil.run(["rightsize", "-", "--output", "json"], input: Self.usage())
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let workloads = report["workloads"] as? [[String: Any]] ?? []
        #expect(workloads.map { $0["workload"] as? String } == ["checkout", "cart"])
        #expect(workloads.first?["risk"] as? String == "medium")
        #expect(workloads.last?["memory"] == nil)
        #expect((report["cpuChange"] as? Double).map { abs($0 + 0.74) < 0.001 } == true)
    }

    /// The hpa column: checkout's CPU request is kept for its HPA, and --allow-hpa sizes it anyway.
    @Test func aRequestAnHPAScalesOnIsKeptUnlessAllowed() throws {
        let usage = Self.usage().replacingOccurrences(of: "memory_request\n", with: "memory_request,hpa\n")
            .replacingOccurrences(
                of: "1763900000,checkout,0.8,419430400,1,2147483648",
                with: "1763900000,checkout,0.8,419430400,1,2147483648,cpu"
            )
        #expect(usage.contains(",hpa\n") && usage.contains("2147483648,cpu\n"))
        let kept = try Vigil.run(["rightsize", "-"], input: usage)
        #expect(kept.status == 0, "\(kept.stderr)")
        #expect(
            kept.stdout.contains(
                "checkout\n  CPU     1000m kept  (kept for the HPA; usage alone would ask 710m, peak 800m)"
            ),
            "\(kept.stdout)"
        )
        #expect(kept.stdout.contains("an HPA scales it on CPU utilisation (usage ÷ request): the CPU request is kept"))
        #expect(kept.stdout.hasSuffix("In all: CPU −450m, memory −1.55 GiB against the current requests given.\n"))
        let allowed = try Vigil.run(["rightsize", "-", "--allow-hpa"], input: usage)
        #expect(allowed.stdout.contains("checkout\n  CPU     1000m → 710m (−290m)"), "\(allowed.stdout)")
        #expect(allowed.stdout.contains("an HPA scales it on CPU: set the HPA's target for the new request"))
        let json = try Vigil.run(["rightsize", "-", "--output", "json"], input: usage)
        #expect(json.stdout.contains(#""keptForAutoscaler":true"#), "\(json.stdout.prefix(600))")
        let bad = try Vigil.run(
            ["rightsize", "-"],
            input: "timestamp,workload,cpu_cores,memory_bytes,hpa\n1763900000,a,1,1,requests\n"
        )
        #expect(bad.status != 0 && bad.stderr.contains("line 2: hpa \"requests\" must name cpu, memory or cpu+memory"))
    }

    @Test(arguments: [
        ("timestamp,workload,cpu_cores\n1,a,1\n", "missing memory_bytes"),
        ("timestamp,workload,cpu_cores,memory_bytes\nyesterday,a,1,1\n", "line 2: \"yesterday\" is not a timestamp"),
        ("timestamp,workload,cpu_cores,memory_bytes\n1763900000,a,-1,1\n", "line 2: cpu_cores \"-1\""),
        ("timestamp,workload,cpu_cores,memory_bytes\n1763900000,,1,1\n", "line 2: the workload is empty"),
        ("timestamp,workload,cpu_cores,memory_bytes\n", "has no usage rows"),
    ])
    func badInputIsNamed(input: String, message: String) throws {
        let result = try Vigil.run(["rightsize", "-"], input: input)
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    /// Real usage: node_exporter's own CPU and memory as Debian's Prometheus scrapes them every second.
    @Test func readsUsageFromARealPrometheus() throws {
        // kube-state-metrics' HPA series, served as a file: node-exporter's HPA scales on CPU in monitoring, and
        // one of the same name in another namespace on memory.
        let kube = try Scratch.folder("vigil-kube")
        try Data(
            """
            kube_horizontalpodautoscaler_info{namespace="monitoring",horizontalpodautoscaler="ne",scaletargetref_kind="Deployment",scaletargetref_name="node-exporter"} 1
            kube_horizontalpodautoscaler_spec_target_metric{namespace="monitoring",horizontalpodautoscaler="ne",metric_name="cpu",metric_target_type="utilization"} 70
            kube_horizontalpodautoscaler_info{namespace="other",horizontalpodautoscaler="ne",scaletargetref_kind="Deployment",scaletargetref_name="node-exporter"} 1
            kube_horizontalpodautoscaler_spec_target_metric{namespace="other",horizontalpodautoscaler="ne",metric_name="memory",metric_target_type="utilization"} 80

            """.utf8
        ).write(to: kube.appendingPathComponent("metrics"))
        let kubePort = try ServerProcess.freePort()
        let server = try PrometheusTests.launch(
            "/usr/bin/python3",
            ["-m", "http.server", "\(kubePort)", "--bind", "127.0.0.1", "--directory", kube.path],
            log: kube.appendingPathComponent("server.log")
        )
        defer { server.terminate() }
        let stack = try PrometheusTests.startPrometheus(
            name: "vigil-rightsize",
            settings: """
                  - job_name: kube
                    static_configs: [{targets: ['127.0.0.1:\(kubePort)']}]

                """
        )
        defer { stack.stop() }
        let arguments = [
            "rightsize", "--prometheus-url", "http://127.0.0.1:\(stack.prometheusPort)", "--cpu-query",
            "rate(process_cpu_seconds_total[5s])", "--memory-query", "process_resident_memory_bytes", "--by", "job",
            "--history", "1m", "--step", "1s", "--output", "json",
        ]
        var workloads: [[String: Any]] = []
        var lastError = ""
        // Alone it takes 15 s; beside the PostgreSQL suites on two cores, a minute was once not enough.
        let deadline = Date().addingTimeInterval(150)
        while Date() < deadline {
            let result = try Vigil.run(arguments)
            lastError = result.stderr
            let report = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            workloads = report?["workloads"] as? [[String: Any]] ?? []
            if let node = workloads.first, (node["samples"] as? Int ?? 0) >= 10, node["cpu"] != nil { break }
            Thread.sleep(forTimeInterval: 1)
        }
        try #require(workloads.count == 1, "\(workloads) \(lastError)")
        let node = workloads[0]
        #expect(node["workload"] as? String == "node")
        let memory = try #require(node["memory"] as? [String: Any])
        let peak = try #require(memory["peak"] as? Double)
        // node_exporter's resident memory: megabytes, with the 15 % buffer on top.
        #expect(peak > 1_048_576 && peak < 2_147_483_648, "\(peak)")
        #expect(abs((memory["recommended"] as? Double ?? 0) - max(peak * 1.15, 32 * 1_048_576)) < 1)
        #expect((node["cpu"] as? [String: Any])?["recommended"] as? Double ?? 0 >= 0.01)
        #expect(node["risk"] as? String == "high")
        #expect((node["notes"] as? [String])?.first?.hasPrefix("only ") == true)

        // The same usage as a pod of node-exporter's Deployment in monitoring: its HPA scales on CPU, so the CPU
        // request is kept; the memory HPA of another namespace does not count.
        func asPod(_ query: String) -> String {
            #"label_replace(label_replace(\#(query), "pod", "node-exporter-7d9f8b6c5d-x2x7q", "", ""), "namespace", "monitoring", "", "")"#
        }
        let podArguments = [
            "rightsize", "--prometheus-url", "http://127.0.0.1:\(stack.prometheusPort)", "--cpu-query",
            asPod(#"rate(process_cpu_seconds_total{job="node"}[5s])"#), "--memory-query",
            asPod(#"process_resident_memory_bytes{job="node"}"#), "--history", "1m", "--step", "1s", "--output", "json",
        ]
        var pod: [String: Any] = [:]
        let podDeadline = Date().addingTimeInterval(60)
        while Date() < podDeadline {
            let result = try Vigil.run(podArguments)
            lastError = result.stderr
            let report = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            pod = (report?["workloads"] as? [[String: Any]])?.first ?? [:]
            if (pod["cpu"] as? [String: Any])?["keptForAutoscaler"] as? Bool == true { break }
            Thread.sleep(forTimeInterval: 1)
        }
        #expect(pod["workload"] as? String == "monitoring/node-exporter-7d9f8b6c5d-x2x7q", "\(pod) \(lastError)")
        #expect((pod["cpu"] as? [String: Any])?["keptForAutoscaler"] as? Bool == true, "\(pod)")
        #expect((pod["memory"] as? [String: Any])?["keptForAutoscaler"] as? Bool == false, "\(pod)")
        #expect((pod["notes"] as? [String])?.contains { $0.hasPrefix("an HPA scales it on CPU") } == true)
        // A query that fails is reported, and nothing is kept.
        let failing = try Vigil.run(podArguments + ["--hpa-query", "sum("])
        #expect(failing.status == 0 && failing.stderr.contains("the HPA query failed"), "\(failing.stderr)")
        #expect(!failing.stdout.contains(#""keptForAutoscaler":true"#))

        let wrong = try Vigil.run([
            "rightsize", "--prometheus-url", "http://127.0.0.1:\(stack.prometheusPort)",
            "--cpu-query", "rate(", "--history", "1m",
        ])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("the cpu query failed: Prometheus answered bad_data"), "\(wrong.stderr)")
        #expect(try Vigil.run(["rightsize"]).stderr.contains("give a usage CSV or --prometheus-url"))
    }
}
