// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

extension RootCauseRankerTests {
    /// A machine's CPU rises with whatever runs on it: the service whose own CPU rose outranks the neighbours
    /// whose node CPU rose more.
    @Test func aNodeMetricCountsLessThanTheServicesOwn() {
        let data = IncidentData(
            times: Self.times,
            columns: [
                .init(service: "frontend", metric: "CpuUsageRate_pct", values: Self.series(20, 80, noise: 4)),
                .init(service: "frontend", metric: "NodeCpuUsageRate_pct", values: Self.series(5, 6)),
                .init(service: "cart", metric: "CpuUsageRate_pct", values: Self.series(8, 8)),
                .init(service: "cart", metric: "NodeCpuUsageRate_pct", values: Self.series(9, 75)),
            ]
        )
        let result = RootCauseRanker().rank(data, alertTime: Self.times[80])
        #expect(result.candidates.map(\.service) == ["frontend", "cart"])
        #expect(RootCauseRanker.explain(result, of: data).action.contains("Scale frontend"))
    }

    /// A host metric that moved on every machine at once moved for the cluster: it counts that many times less,
    /// and the one service whose own latency rose comes first. The same move on one machine alone still leads.
    @Test func aHostMetricMovingEverywhereIsTheClusters() {
        func data(movedHosts: Int, latency: Double = 0.25) -> IncidentData {
            var columns: [IncidentData.Column] = ["a", "b", "c"].enumerated().map { index, service in
                let moved = index < movedHosts
                return .init(
                    service: service,
                    metric: "NodeNetworkReceiveBytes",
                    values: Self.series(1000, moved ? 4000 : 1000, noise: 20)
                )
            }
            columns.append(.init(service: "d", metric: "latency_p90", values: Self.series(0.1, latency, noise: 0.01)))
            return IncidentData(times: Self.times, columns: columns)
        }
        let shared = RootCauseRanker().rank(data(movedHosts: 3), alertTime: Self.times[80])
        #expect(shared.candidates.map(\.service) == ["d", "a", "b", "c"])
        let alone = RootCauseRanker().rank(data(movedHosts: 1), alertTime: Self.times[80])
        #expect(alone.candidates.map(\.service).prefix(2) == ["a", "d"])
        // Each shared move counts a third of the lone one, and each says why.
        let lone = alone.candidates[0].score
        #expect(abs(shared.candidates[1].score - lone / 3) < 1e-9 * lone)
        #expect(shared.candidates[1].discount == .cluster(services: 3))
        #expect(alone.candidates[0].discount == .host)
        #expect(abs(alone.candidates[0].spreads - shared.candidates[1].spreads) < 1e-9 * lone, "the move itself")
        #expect(alone.candidates[0].discountNote == "counted at 0.3 as its machine's, shared with its neighbours")
        #expect(shared.candidates[0].discount == nil && shared.candidates[0].weight == 1)
        // The same column twice (one service, one machine) is no cluster.
        var twice = data(movedHosts: 1)
        twice.columns.append(twice.columns[0])
        #expect(RootCauseRanker().rank(twice, alertTime: Self.times[80]).candidates[0].discount == .host)
        // With nothing else moving, the first thing to try is finding what moved them all.
        let only = RootCauseRanker().rank(data(movedHosts: 3, latency: 0.1), alertTime: Self.times[80])
        let explanation = RootCauseRanker.explain(only, of: data(movedHosts: 3, latency: 0.1))
        #expect(explanation.action.hasPrefix("Find what moved NodeNetworkReceiveBytes on the machines of 3 services"))
        #expect(explanation.reason.contains("as it did on 2 other services at the same time"), "\(explanation.reason)")
    }

    /// A caller whose latency follows its callee's yields to the callee; the onset is found without a hint.
    @Test func theCallGraphAndTheOnset() {
        let data = IncidentData(
            times: Self.times,
            columns: [
                .init(service: "frontend", metric: "lat_90", values: Self.series(50, 300, from: 70)),
                .init(service: "db", metric: "lat_90", values: Self.series(5, 20, from: 70, noise: 0.05)),
                .init(
                    service: "frontend",
                    metric: "requests_Sum",
                    values: Self.series(1000, 1500, from: 70, noise: 20)
                ),
            ],
            services: ["frontend", "db", "cache"],
            calls: [("frontend", "db"), ("frontend", "cache")]
        )
        let result = RootCauseRanker().rank(data)
        #expect(result.onsetDetected)
        #expect(result.onset == Self.times[70])
        #expect(result.candidates.first?.service == "db")
        #expect(result.candidates.first { $0.service == "frontend" }?.yieldedTo == "db")
        #expect(result.candidates.map(\.service).sorted() == ["cache", "db", "frontend"])
    }

    /// A load balancer in front of a service shows in the graph as a leaf of its own, called beside the service,
    /// and its availability (what the caller sees) falls further than the service's: it is the service seen from
    /// the caller's side, and yields to it. A database the service calls is no such view: it stays the cause.
    @Test func aLeafThatMirrorsASiblingWithCalleesYieldsToIt() {
        func data(balancer: Double, search: Double, searchCPU: Double = 30) -> IncidentData {
            IncidentData(
                times: Self.times,
                columns: [
                    .init(service: "balancer", metric: "availability", values: Self.series(100, balancer)),
                    .init(service: "search", metric: "availability", values: Self.series(100, search)),
                    .init(service: "search", metric: "cpu", values: Self.series(30, searchCPU)),
                    .init(service: "site", metric: "latency", values: Self.series(50, 50, noise: 5)),
                    .init(service: "table", metric: "latency", values: Self.series(10, 10)),
                ],
                calls: [("site", "balancer"), ("site", "search"), ("search", "table")]
            )
        }
        let errors = RootCauseRanker().rank(data(balancer: 60, search: 75), alertTime: Self.times[80])
        #expect(errors.candidates.prefix(2).map(\.service) == ["search", "balancer"])
        #expect(errors.candidates[1].yieldedTo == "search" && errors.candidates[1].yieldedAsView)
        // The sibling moved too little, or only in its own CPU: the leaf stays first.
        let alone = RootCauseRanker().rank(data(balancer: 60, search: 98), alertTime: Self.times[80])
        #expect(alone.candidates.first?.service == "balancer" && alone.candidates[0].yieldedTo == nil)
        let busy = RootCauseRanker().rank(data(balancer: 60, search: 100, searchCPU: 90), alertTime: Self.times[80])
        #expect(busy.candidates.first { $0.service == "balancer" }?.yieldedTo == nil)

        // A database below the service is reached by it: a view of nothing, it stays the cause.
        let table = IncidentData(
            times: Self.times,
            columns: [
                .init(service: "search", metric: "availability", values: Self.series(100, 80)),
                .init(service: "table", metric: "availability", values: Self.series(100, 60)),
                .init(service: "site", metric: "latency", values: Self.series(50, 50, noise: 5)),
            ],
            calls: [("site", "search"), ("search", "table"), ("site", "table")]
        )
        let ranked = RootCauseRanker().rank(table, alertTime: Self.times[80])
        #expect(ranked.candidates.first?.service == "table" && ranked.candidates[0].yieldedTo == nil)
    }

    /// A window may hold a later incident: given an alert time, what starts more than `incidentSpan` after the onset
    /// is not this incident's story, however large; within the span it still counts.
    @Test func aLaterIncidentInTheWindowIsNotThisOnesStory() {
        let data = IncidentData(
            times: Self.times,
            columns: [
                .init(service: "carts", metric: "cpu", values: Self.series(20, 40, from: 40)),
                .init(service: "orders", metric: "cpu", values: Self.series(10, 95, from: 75)),
            ]
        )
        let result = RootCauseRanker().rank(data, alertTime: Self.times[40])
        #expect(result.candidates.map(\.service) == ["carts", "orders"])
        #expect(result.candidates[1].score == 0, "orders moved 35 minutes after the onset")
        var wide = RootCauseRanker.Configuration()
        wide.incidentSpan = 3600
        #expect(
            RootCauseRanker(configuration: wide).rank(data, alertTime: Self.times[40]).candidates[0].service == "orders"
        )
    }

    /// When a call graph is known, a service outside it (an end-user SLI) cannot have caused its neighbours'
    /// symptoms and ranks after a connected service that deviates a little less.
    @Test func aServiceOutsideTheCallGraphRanksLower() {
        let data = IncidentData(
            times: Self.times,
            columns: [
                .init(service: "shop-sli", metric: "SuccessRate_pct", values: Self.series(100, 97.5, noise: 0)),
                .init(service: "catalog", metric: "cpu", values: Self.series(10, 12, noise: 0.5)),
            ],
            services: ["frontend", "catalog", "shop-sli"],
            calls: [("frontend", "catalog")]
        )
        let result = RootCauseRanker().rank(data, alertTime: Self.times[80])
        #expect(result.candidates.map(\.service).prefix(2) == ["catalog", "shop-sli"])
        var unweighted = RootCauseRanker.Configuration()
        unweighted.unconnectedWeight = 1
        let plain = RootCauseRanker(configuration: unweighted).rank(data, alertTime: Self.times[80])
        func sli(_ result: RootCauseRanker.Result) -> Double {
            result.candidates.first { $0.service == "shop-sli" }!.score
        }
        #expect(sli(plain) > 5 * sli(result))
    }

    /// A fault in the entry service itself (a bad page) may show only in the end-user SLI that watches the
    /// system from outside the graph: the entry takes the SLI's deviation on as its own and ranks first, and
    /// yields it to a callee that deviates clearly, like any symptom.
    @Test func theEntryServiceTakesOnWhatTheSLIWatchingItSees() {
        func data(catalogLatency: [Double?]) -> IncidentData {
            IncidentData(
                times: Self.times,
                columns: [
                    .init(service: "shop-sli", metric: "SuccessRate_pct", values: Self.series(100, 60, noise: 0)),
                    .init(service: "frontend", metric: "cpu", values: Self.series(20, 20)),
                    .init(service: "catalog", metric: "latency_p90", values: catalogLatency),
                ],
                services: ["loadgen", "frontend", "catalog", "shop-sli"],
                calls: [("loadgen", "frontend"), ("frontend", "catalog")]
            )
        }
        let entry = RootCauseRanker().rank(data(catalogLatency: Self.series(30, 30)), alertTime: Self.times[80])
        #expect(entry.candidates.map(\.service).prefix(2) == ["frontend", "shop-sli"])
        #expect(entry.candidates[0].metric == "shop-sli.SuccessRate_pct")
        #expect(entry.candidates[0].score > 50)
        // The load generator calls the entry but has no metrics of its own to stand for it.
        #expect(entry.candidates.first { $0.service == "loadgen" }?.score == 0)

        let callee = RootCauseRanker().rank(data(catalogLatency: Self.series(30, 90)), alertTime: Self.times[80])
        #expect(callee.candidates.map(\.service).prefix(2) == ["catalog", "frontend"])
        #expect(callee.candidates[1].yieldedTo == "catalog")
    }

    /// An overloaded table moves its own latency by tens of spreads and its caller's by hundreds: the caller's
    /// latency is the table's doing, and the table ranks first. A caller whose CPU rose is its own fault, however
    /// clearly a callee moved too.
    @Test func aClearlyDeviatingCalleeExplainsItsCallersLatencyButNotItsCPU() {
        func data(_ callerMetric: String) -> IncidentData {
            IncidentData(
                times: Self.times,
                columns: [
                    .init(service: "search", metric: callerMetric, values: Self.series(10, 910, noise: 2)),
                    .init(service: "table", metric: "latency_p99", values: Self.series(10, 70, noise: 2)),
                ],
                calls: [("search", "table")]
            )
        }
        let latency = RootCauseRanker().rank(data("latency_p99"), alertTime: Self.times[80])
        #expect(latency.candidates.map(\.service) == ["table", "search"])
        #expect(latency.candidates[1].yieldedTo == "table")
        let cpu = RootCauseRanker().rank(data("cpu"), alertTime: Self.times[80])
        #expect(cpu.candidates.map(\.service) == ["search", "table"])
    }

    /// A frontend whose CPU saturated is slow on its own account: its latency does not make it a symptom of a
    /// callee that moved clearly but less than its CPU did. A callee that moved more than twice as much still
    /// takes the latency.
    @Test func aCallerWhoseCPUMovedKeepsItsLatencyUnlessACalleeMovedFarMore() {
        func ranked(calleeFaulty: Double) -> RootCauseRanker.Result {
            let data = IncidentData(
                times: Self.times,
                columns: [
                    .init(service: "frontend", metric: "cpu", values: Self.series(15, 45, noise: 1)),
                    .init(service: "frontend", metric: "latency_p90", values: Self.series(10, 610, noise: 2)),
                    .init(service: "ads", metric: "latency_p99", values: Self.series(10, calleeFaulty, noise: 2)),
                ],
                calls: [("frontend", "ads")]
            )
            return RootCauseRanker().rank(data, alertTime: Self.times[80])
        }
        let saturated = ranked(calleeFaulty: 50)
        #expect(saturated.candidates.map(\.service) == ["frontend", "ads"])
        #expect(saturated.candidates[0].yieldedTo == nil)
        let own = saturated.candidates[0].slowOnItsOwn
        #expect(own?.callee == "ads" && own?.metric == "cpu")
        #expect((own?.spreads ?? 0) * 2 > (own?.calleeSpreads ?? .infinity))
        let callee = ranked(calleeFaulty: 410)
        #expect(callee.candidates.map(\.service) == ["ads", "frontend"])
        #expect(callee.candidates[1].yieldedTo == "ads" && callee.candidates[1].slowOnItsOwn == nil)
    }

    /// A callee whose metrics hold no value at all (crashed, or lost its exporter) cannot be shown normal: when
    /// its caller's errors rose and no callee with data explains them, it ranks just below the caller, ahead of
    /// callees that stayed normal and of a callee that was never monitored. A caller whose CPU rose lifts nobody.
    @Test func aSilentCalleeRanksJustBelowACallerWithUnexplainedErrors() {
        func data(_ callerMetric: String) -> IncidentData {
            IncidentData(
                times: Self.times,
                columns: [
                    .init(service: "web", metric: callerMetric, values: Self.series(1, 30)),
                    .init(service: "web", metric: "cpu", values: Self.series(40, 40)),
                    .init(service: "api", metric: "latency_p99", values: Self.series(10, 10)),
                    .init(service: "api", metric: "cpu", values: Self.series(30, 31)),
                    .init(service: "ads", metric: "latency_p99", values: Array(repeating: nil, count: 120)),
                    .init(service: "ads", metric: "cpu", values: Array(repeating: nil, count: 120)),
                ],
                services: ["web", "api", "ads", "redis"],
                calls: [("web", "api"), ("web", "ads"), ("web", "redis")]
            )
        }
        let errors = RootCauseRanker().rank(data("errors"), alertTime: Self.times[80])
        #expect(errors.candidates.prefix(2).map(\.service) == ["web", "ads"])
        #expect(errors.candidates[1].silentCalleeOf == "web")
        #expect(errors.candidates[1].score < errors.candidates[0].score)
        let cpu = RootCauseRanker().rank(data("cpu_seconds"), alertTime: Self.times[80])
        #expect(cpu.candidates.first?.service == "web")
        #expect(cpu.candidates.allSatisfy { $0.silentCalleeOf == nil })
        #expect(cpu.candidates.first { $0.service == "ads" }?.score == 0)
    }

    /// A callee that reported all along and stops at the onset (a crashed or killed pod) changed as much as a
    /// service can: its callers' errors are its absence, so they yield to it and it ranks first, with the time of
    /// its last value, and the first action says to check it is running. A stop on one row (a failed scrape), a
    /// service that reported only now and then, and every service stopping at once (the monitoring's gap) are
    /// no such stop.
    @Test func aCalleeThatStopsReportingAtTheOnsetRanksAboveItsCallers() {
        func data(_ payment: (Int) -> Double?, everyone: Bool = false) -> IncidentData {
            let present = { (values: [Double?]) in
                everyone ? values.enumerated().map { $0.offset >= 80 && $0.offset < 83 ? nil : $0.element } : values
            }
            return IncidentData(
                times: Self.times,
                columns: [
                    .init(service: "web", metric: "errors", values: present(Self.series(1, 20))),
                    .init(service: "web", metric: "cpu", values: present(Self.series(40, 40))),
                    .init(service: "orders", metric: "errors", values: present(Self.series(1, 30))),
                    .init(service: "orders", metric: "cpu", values: present(Self.series(30, 30))),
                    .init(service: "payment", metric: "cpu", values: (0..<120).map(payment)),
                    .init(service: "payment", metric: "memory", values: (0..<120).map(payment)),
                ],
                services: ["web", "orders", "payment"],
                calls: [("web", "orders"), ("orders", "payment")]
            )
        }
        func ranked(_ payment: (Int) -> Double?, everyone: Bool = false) -> RootCauseRanker.Result {
            RootCauseRanker().rank(data(payment, everyone: everyone), alertTime: Self.times[80])
        }
        let pod = data { $0 < 80 ? 25 + Double($0 % 3) : nil }
        let killed = RootCauseRanker().rank(pod, alertTime: Self.times[80])
        #expect(killed.candidates.map(\.service) == ["payment", "orders", "web"])
        #expect(killed.candidates[0].stoppedAfter == Self.times[79])
        #expect(killed.candidates[1].yieldedTo == "payment")
        #expect(killed.candidates[0].confidence > 0.5)
        let explanation = RootCauseRanker.explain(killed, of: pod)
        #expect(explanation.action.hasPrefix("Check whether payment is still running"), "\(explanation.action)")
        #expect(explanation.impactChain == ["payment", "orders", "web"])
        // Restarted after three rows: still a stop at the onset.
        let restarted = ranked { $0 < 80 || $0 >= 83 ? 25 + Double($0 % 3) : nil }
        #expect(restarted.candidates.first?.service == "payment")
        // The window ends two rows after the onset (an alert near its end): two silent rows are enough there.
        var short = pod
        short.times = Array(short.times.prefix(83))
        for index in short.columns.indices {
            short.columns[index].values = Array(short.columns[index].values.prefix(83))
        }
        let ending = RootCauseRanker().rank(short, alertTime: Self.times[80])
        #expect(ending.candidates.first?.service == "payment")
        #expect(ending.candidates.first?.stoppedAfter == Self.times[79])

        let missedScrape = ranked { $0 == 80 ? nil : 25 + Double($0 % 3) }
        let sparse = ranked { $0 < 80 && $0 % 2 == 0 ? 25 + Double($0 % 3) : nil }
        let gap = ranked({ $0 < 80 || $0 >= 83 ? 25 + Double($0 % 3) : nil }, everyone: true)
        for result in [missedScrape, sparse, gap] {
            #expect(result.candidates.first?.service == "orders")
            #expect(result.candidates.allSatisfy { $0.stoppedAfter == nil })
        }
    }

    /// A delay on a service's network shows only in its callers' client latency. The callee that every slowed
    /// caller calls is the suspect: a callee only some of its callers find slow, or that explains only some of
    /// the slowed callers, ranks lower, and so does a silent callee that a slowed caller alone calls (the slow
    /// calls are the witnesses' story, not a silent service's). A witness whose own latency rose with its calls
    /// is a symptom of its suspect and ranks below it. When a callee's own latency rose, that explains its
    /// callers, and nobody is suspected for slowed calls alone.
    @Test func theCalleeThatAllSlowedCallersShareIsSuspected() {
        func data(sharedLatency: [Double?]) -> IncidentData {
            IncidentData(
                times: Self.times,
                columns: [
                    .init(service: "a", metric: "client_latency_p90", values: Self.series(10, 40)),
                    .init(service: "a", metric: "server_latency_p90", values: Self.series(20, 90)),
                    .init(service: "b", metric: "client_latency_p90", values: Self.series(10, 40)),
                    .init(service: "c", metric: "client_latency_p90", values: Self.series(10, 10)),
                    .init(service: "shared", metric: "server_latency_p90", values: sharedLatency),
                    .init(service: "left", metric: "server_latency_p90", values: Self.series(5, 5)),
                    .init(service: "right", metric: "server_latency_p90", values: Self.series(5, 5)),
                    .init(service: "solo", metric: "server_latency_p90", values: Self.series(5, 5)),
                    .init(service: "quiet", metric: "server_latency_p90", values: Array(repeating: nil, count: 120)),
                ],
                calls: [
                    ("a", "shared"), ("b", "shared"), ("a", "left"), ("c", "left"), ("b", "right"), ("c", "right"),
                    ("a", "solo"), ("a", "quiet"),
                ]
            )
        }
        let calm = RootCauseRanker().rank(data(sharedLatency: Self.series(5, 5)), alertTime: Self.times[80])
        #expect(calm.candidates.prefix(2).map(\.service) == ["shared", "a"])
        #expect(calm.candidates[1].yieldedTo == "shared")
        let shared = calm.candidates[0]
        #expect(shared.slowedCallers == ["a", "b"])
        for service in ["left", "solo", "quiet"] {
            let other = calm.candidates.first { $0.service == service }!
            #expect(other.slowedCallers == ["a"], "\(service)")
            #expect(other.score < 0.6 * shared.score, "\(service)")
        }
        let slow = RootCauseRanker().rank(data(sharedLatency: Self.series(5, 50)), alertTime: Self.times[80])
        #expect(slow.candidates.first?.service == "shared")
        #expect(slow.candidates.allSatisfy { $0.slowedCallers.isEmpty })
    }

    /// A delay moves noisy client latencies only a few spreads: two callers whose calls to one callee slowed by 3
    /// spreads each, with no callee's own metrics moving, still name it, above a CPU that moved 2 spreads.
    @Test func aFaintSlowdownSharedByTheCallersStillNamesTheirCallee() {
        func data(slowedTo latency: Double) -> IncidentData {
            IncidentData(
                times: Self.times,
                columns: [
                    .init(service: "a", metric: "client_latency_p90", values: Self.series(10, latency)),
                    .init(service: "b", metric: "client_latency_p90", values: Self.series(10, latency)),
                    .init(service: "shared", metric: "server_latency_p90", values: Self.series(5, 5)),
                    .init(service: "c", metric: "client_latency_p90", values: Self.series(10, 10)),
                    .init(service: "busy", metric: "cpu", values: Self.series(20, 22)),
                ],
                calls: [("a", "shared"), ("b", "shared"), ("c", "busy")]
            )
        }
        let faint = RootCauseRanker().rank(data(slowedTo: 11.5), alertTime: Self.times[80])
        #expect(faint.candidates.first?.service == "shared")
        #expect(faint.candidates.first?.slowedCallers == ["a", "b"])
        #expect(faint.candidates.first { $0.service == "busy" }.map { $0.deviation > 1 && $0.deviation < 3 } == true)
        // A spread and a half is the swing of any client latency: no witness.
        let noise = RootCauseRanker().rank(data(slowedTo: 10.75), alertTime: Self.times[80])
        #expect(noise.candidates.first?.service == "busy")
        #expect(noise.candidates.allSatisfy { $0.slowedCallers.isEmpty })
    }

    /// An entry that took an end-user SLI's large latency on as its own, and whose calls slowed, is a symptom of
    /// the callee its slowdown points at: the suspect is weighed against the entry's slowdown, not the SLI's.
    @Test func anEntryHoldingAnSLIsLatencyYieldsToTheCalleeItsSlowCallsPointAt() {
        let data = IncidentData(
            times: Self.times,
            columns: [
                .init(service: "users", metric: "latency_p50", values: Self.series(10, 400)),
                .init(service: "front", metric: "client_latency_p90", values: Self.series(10, 40)),
                .init(service: "mid", metric: "client_latency_p90", values: Self.series(10, 40)),
                .init(service: "x", metric: "server_latency_p90", values: Self.series(5, 5)),
                .init(service: "y", metric: "server_latency_p90", values: Self.series(5, 5)),
            ],
            calls: [("front", "mid"), ("front", "x"), ("mid", "x"), ("front", "y")]
        )
        let result = RootCauseRanker().rank(data, alertTime: Self.times[80])
        #expect(result.candidates.first?.service == "x")
        #expect(result.candidates.first { $0.service == "front" }?.yieldedTo == "x")
    }
}
