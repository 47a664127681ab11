// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

@Suite struct MetricKindTests {
    /// Metric names decide what a move means; memory counted in bytes is still memory, not traffic.
    @Test func metricKindsFromNames() {
        typealias Kind = MetricKind
        #expect(Kind("container_memory_working_set_bytes") == .resource)
        #expect(Kind("CpuUsageRate_pct") == .resource)
        #expect(Kind("NetworkReceiveBytes") == .traffic)
        #expect(Kind("requests_Sum") == .traffic)
        #expect(Kind("PodClientLatencyP90_s") == .outbound)
        #expect(Kind("availability_Average") == .quality)
        #expect(Kind("latency_p99") == .other)
        #expect(Kind("container_fs_writes_bytes_total") == .resource)
        #expect(Kind("container_sockets") == .resource)
        #expect(Kind("container_network_receive_packets_dropped_total") == .other)
        #expect(Kind("SyscallRead") == .traffic)
        #expect(Kind("NodeCpuUsageRate_pct") == .host)
        #expect(Kind("node_memory_MemAvailable_bytes") == .host)
    }

    /// Spare capacity is not trouble: a resource that falls or a quality that rises.
    @Test func whichMovesHurt() {
        #expect(MetricKind("cpu").hurts(rising: true) && !MetricKind("cpu").hurts(rising: false))
        #expect(!MetricKind("container_memory_working_set_bytes").hurts(rising: false))
        #expect(MetricKind("node_memory_MemAvailable_bytes").hurts(rising: false))
        #expect(MetricKind("success_rate").hurts(rising: false) && !MetricKind("success_rate").hurts(rising: true))
        #expect(MetricKind("requests_Sum").hurts(rising: false) && MetricKind("requests_Sum").hurts(rising: true))
        #expect(MetricKind("lat_99").hurts(rising: false) && MetricKind("lat_99").hurts(rising: true))
    }
}
