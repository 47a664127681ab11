// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing
import VigilCore
import VigilIngest

@Suite struct ChangeWebhooksTests {
    static let deployment = """
        {"action":"created","deployment_status":{"state":"success","created_at":"2026-11-23T14:31:45Z",
        "creator":{"login":"octocat"},"environment":"production"},"deployment":{"sha":"a1b2c3d4e5f6a7b8c9d0",
        "ref":"main","environment":"production","created_at":"2026-11-23T14:30:00Z"},
        "repository":{"name":"checkout","full_name":"shop/checkout"}}
        """

    @Test func githubDeploymentStatusBecomesADeploy() throws {
        let events = try ChangeWebhooks.github(event: "deployment_status", body: Array(Self.deployment.utf8))
        #expect(
            events == [
                ChangeEvent(
                    service: "checkout",
                    kind: .deploy,
                    version: "a1b2c3d4e5f6",
                    time: Timestamp(nanoseconds: 1_795_444_305_000_000_000),
                    description: "GitHub deployment to production: success by octocat (ref main)"
                )
            ]
        )
        let pending = Self.deployment.split(separator: "\"success\"").joined(separator: "\"in_progress\"")
        #expect(try ChangeWebhooks.github(event: "deployment_status", body: Array(pending.utf8)).isEmpty)
        #expect(try ChangeWebhooks.github(event: "ping", body: Array(#"{"zen":"x"}"#.utf8)).isEmpty)
        #expect(throws: IngestError.self) {
            try ChangeWebhooks.github(event: "deployment_status", body: Array(#"{"deployment":{}}"#.utf8))
        }
    }

    @Test func kubernetesEventsForRolloutsScalingAndRestarts() throws {
        func event(_ reason: String, _ kind: String, _ name: String) throws -> ChangeEvent? {
            let text = """
                {"apiVersion":"v1","kind":"Event","reason":"\(reason)","type":"Normal","message":"m",
                "involvedObject":{"kind":"\(kind)","name":"\(name)","namespace":"shop"},
                "lastTimestamp":"2026-11-23T14:31:45Z","metadata":{"name":"e1"}}
                """
            return ChangeWebhooks.kubernetes(try JSONParser.parse(Array(text.utf8)))
        }
        #expect(try event("ScalingReplicaSet", "Deployment", "checkout")?.kind == .deploy)
        #expect(try event("SuccessfulRescale", "HorizontalPodAutoscaler", "checkout")?.kind == .scale)
        let crash = try event("BackOff", "Pod", "checkout-7d9f8b6c5d-x2x7q")
        #expect(crash?.kind == .restart && crash?.service == "checkout")
        #expect(crash?.description == "Kubernetes BackOff on Pod/checkout-7d9f8b6c5d-x2x7q in shop: m")
        #expect(try event("OOMKilling", "Node", "node-1")?.kind == .restart)
        #expect(try event("Pulled", "Pod", "checkout-7d9f8b6c5d-x2x7q") == nil)
        // A watch envelope.
        let wrapped =
            #"{"type":"ADDED","object":{"kind":"Event","reason":"Killing","involvedObject":{"kind":"Pod","name":"api-5f6d7c8b9a-abcde"},"eventTime":"2026-11-23T14:31:45.000000Z"}}"#
        #expect(ChangeWebhooks.kubernetes(try JSONParser.parse(Array(wrapped.utf8)))?.service == "api")
    }

    @Test func splitsConcatenatedPrettyPrintedObjects() throws {
        var splitter = JSONObjectSplitter()
        let stream = "{\n  \"a\": \"}{\",\n  \"b\": [1, {\"c\": 2}]\n}\n{\"d\": \"\\\"}\"}\n{\"e\""
        var objects: [[UInt8]] = []
        for byte in stream.utf8 { objects += try splitter.feed([byte]) }
        #expect(objects.count == 2)
        #expect(try JSONParser.parse(objects[1])["d"]?.string == "\"}")
        #expect(try splitter.feed(Array(": 1}".utf8)).count == 1)
        #expect(throws: IngestError.self) {
            var fresh = JSONObjectSplitter()
            _ = try fresh.feed(Array("}".utf8))
        }
    }

    @Test func survivesMutatedWebhooks() {
        var mutation = Mutation(seed: 9)
        let seed = Array(Self.deployment.utf8)
        for _ in 0..<100_000 {
            let body = mutation.mutate(seed)
            _ = try? ChangeWebhooks.github(event: "deployment_status", body: body)
            if let document = try? JSONParser.parse(body) { _ = ChangeWebhooks.kubernetes(document) }
            var splitter = JSONObjectSplitter()
            _ = try? splitter.feed(body)
        }
    }
}

@Suite struct PrometheusQueryTests {
    @Test func decodesAMatrix() throws {
        let body = """
            {"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"__name__":"up","job":"node"},"values":[[1700000000,"1"],[1700000015.5,"0"]]},
            {"metric":{"mode":"idle"},"values":[[1700000000,"NaN"],[1700000015,"0.25"]]}]}}
            """
        let points = try PrometheusQuery.decode(Array(body.utf8), name: "cpu_idle")
        #expect(points.map(\.series.text) == ["up{job=\"node\"}", "up{job=\"node\"}", "cpu_idle{mode=\"idle\"}"])
        #expect(points.map(\.value) == [1, 0, 0.25])
        #expect(points[1].time == Timestamp(nanoseconds: 1_700_000_015_500_000_000))
        #expect {
            try PrometheusQuery.decode(
                Array(#"{"status":"error","errorType":"bad_data","error":"parse error at char 5"}"#.utf8),
                name: "x"
            )
        } throws: { error in
            (error as? IngestError)?.message == "Prometheus answered bad_data: parse error at char 5"
        }
    }

    @Test func namesQueries() {
        let named = PrometheusQuery.Named("cpu_busy = 1 - avg(rate(node_cpu_seconds_total{mode=\"idle\"}[1m]))")
        #expect(named.name == "cpu_busy")
        #expect(named.expression == "1 - avg(rate(node_cpu_seconds_total{mode=\"idle\"}[1m]))")
        #expect(PrometheusQuery.Named("rate(http_requests_total[5m])").name == "rate_http_requests_total_5m")
        #expect(PrometheusQuery.Named("up == 1").name == "up_1")
        #expect(
            PrometheusQuery.rangePath("up{a=\"b\"}", start: 10, end: 20.5, step: 15)
                == "/api/v1/query_range?query=up%7Ba%3D%22b%22%7D&start=10.000&end=20.500&step=15.000"
        )
    }

    @Test func survivesMutatedAnswers() {
        var mutation = Mutation(seed: 13)
        let seed = Array(#"{"status":"success","data":{"result":[{"metric":{"a":"b"},"values":[[1,"2"]]}]}}"#.utf8)
        let decoded = mutation.count(100_000, seeds: [seed]) { _ = try PrometheusQuery.decode($0, name: "q") }
        #expect(decoded > 0 && decoded < 100_000)
    }
}
