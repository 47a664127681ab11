// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import VigilCore
import VigilServer
import VigilStorage

@Suite struct ServerConfigurationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func theExampleFileHoldsTheDefaults() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("vigil.example.yaml"), encoding: .utf8)
        var configuration = ServerConfiguration()
        try configuration.apply(yaml: text, source: "vigil.example.yaml")
        let defaults = ServerConfiguration()
        #expect(configuration.port == defaults.port)
        #expect(configuration.host == defaults.host)
        #expect(configuration.dataDirectory == defaults.dataDirectory)
        #expect(configuration.walSync == defaults.walSync)
        #expect(configuration.maximumBodyBytes == defaults.maximumBodyBytes)
        #expect(configuration.maximumInFlight == defaults.maximumInFlight)
        #expect(configuration.checkpointSeconds == defaults.checkpointSeconds)
        #expect(configuration.hostSampleSeconds == defaults.hostSampleSeconds)
        #expect(configuration.retention.sampleSeconds == defaults.retention.sampleSeconds)
        #expect(configuration.tailPatterns.isEmpty && configuration.monitorHost && configuration.masksPII)
        try configuration.validate()
    }

    @Test func settingsApply() throws {
        var configuration = ServerConfiguration()
        try configuration.apply(
            yaml: """
                port: 9000
                wal_sync: interval
                tail: ["/var/log/app/*.log"]
                host_monitoring: {enabled: false, sample_seconds: 5}
                retention: {samples_days: 1.5}
                incident_webhooks: ["http://127.0.0.1:8080/vigil"]
                dependencies: [[checkout, payment], [checkout, "auth api"]]
                """,
            source: "test"
        )
        #expect(configuration.port == 9000)
        #expect(configuration.walSync == .interval)
        #expect(configuration.tailPatterns == ["/var/log/app/*.log"])
        #expect(!configuration.monitorHost && configuration.hostSampleSeconds == 5)
        #expect(configuration.retention.sampleSeconds == 129_600)
        #expect(configuration.incidentWebhooks == ["http://127.0.0.1:8080/vigil"])
        #expect(
            configuration.dependencies == [
                .init(caller: "checkout", callee: "payment"), .init(caller: "checkout", callee: "auth api"),
            ]
        )
    }

    /// The commented block of `vigil.example.yaml` that starts with `# key:`, uncommented.
    static func exampleBlock(_ key: String) throws -> String {
        let text = try String(contentsOf: Self.root.appendingPathComponent("vigil.example.yaml"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.hasPrefix("# \(key):") })
        return lines[start...].prefix { $0 == lines[start] || $0.hasPrefix("#   ") }
            .map { String($0.dropFirst(2)) }.joined(separator: "\n")
    }

    /// The example file's `series_rules`, uncommented, read as the rules they describe.
    @Test func seriesRulesReadAsWritten() throws {
        var configuration = ServerConfiguration()
        try configuration.apply(yaml: try Self.exampleBlock("series_rules"), source: "vigil.example.yaml")
        #expect(
            configuration.seriesRules == [
                SeriesRule(match: ["service": "synthetic-*"], mute: true),
                SeriesRule(
                    match: ["__name__": "http_request_duration_seconds*", "service": "long-poll"],
                    alertThreshold: 0.95
                ),
                SeriesRule(match: ["service": "queue-*"], minimumSeconds: 120),
            ]
        )
    }

    /// The example file's `prometheus_pull`, uncommented, holds the defaults; a backfill beyond a month, or below 0,
    /// is refused by name.
    @Test func prometheusPullReadsAsWritten() throws {
        var configuration = ServerConfiguration()
        try configuration.apply(yaml: try Self.exampleBlock("prometheus_pull"), source: "vigil.example.yaml")
        let pull = try #require(configuration.prometheusPull)
        let defaults = ServerConfiguration.PrometheusPull(url: pull.url, queries: pull.queries)
        #expect(pull == defaults)
        #expect(pull.backfillSeconds == 3_600 && pull.queries.count == 2)
        try configuration.validate()
        for seconds in ["-1", "2678401"] {
            var wrong = ServerConfiguration()
            try wrong.apply(
                yaml: "prometheus_pull: {url: \"http://127.0.0.1:9090\", queries: [up], backfill_seconds: \(seconds)}",
                source: "test"
            )
            #expect(wrong.prometheusPull?.backfillSeconds == Double(seconds))
            #expect(throws: ServerConfiguration.FileError.self) { try wrong.validate() }
        }
    }

    @Test func incidentRulesReadAsWritten() throws {
        var configuration = ServerConfiguration()
        try configuration.apply(yaml: try Self.exampleBlock("incidents"), source: "vigil.example.yaml")
        var expected = IncidentCorrelator.Configuration()
        expected.symptomRules = [
            SymptomRule(match: ["alertname": "Watchdog"], action: .ignore),
            SymptomRule(match: ["severity": "info"], action: .contextOnly),
            SymptomRule(match: ["kind": "silence", "service": "batch-*"], action: .contextOnly),
        ]
        #expect(configuration.correlation == expected, "the example spells out the defaults and three rules")
    }

    /// Refusals are among `mistakesAreNamed`'s cases.
    @Test func logTemplatesAreListsOfTemplatesWithWordsOfTheirOwn() throws {
        var configuration = ServerConfiguration()
        try configuration.apply(
            yaml: "log_templates: [\"card declined <*>\", \"user <*> logged in\"]",
            source: "v.yaml"
        )
        #expect(configuration.pinnedTemplates == ["card declined <*>", "user <*> logged in"])
    }

    @Test func dependencyFilesAreReadLikeRCATopologies() throws {
        let topology = #"{"services": ["a", "b", "c"], "calls": [["a", "b"], ["b", "c"]], "version": 2}"#
        #expect(
            try ServerConfiguration.Dependency.read(json: Array(topology.utf8), source: "t.json") == [
                .init(caller: "a", callee: "b"), .init(caller: "b", callee: "c"),
            ]
        )
        #expect(
            try ServerConfiguration.Dependency.read(json: Array(#"[["x", "y"]]"#.utf8), source: "t.json").count == 1
        )
        #expect { try ServerConfiguration.Dependency.read(json: Array("{".utf8), source: "t.json") } throws: {
            "\($0)".contains("t.json: not valid JSON")
        }
        #expect {
            try ServerConfiguration.Dependency.read(json: Array(#"{"calls": [["a"]]}"#.utf8), source: "t.json")
        } throws: {
            "\($0)".contains("calls[0] must be [caller, callee]")
        }
    }

    @Test(arguments: [
        ("prot: 9000", "unknown setting \"prot\""),
        ("incident_webhooks: [ftp://hooks.example.com/x]", "incident_webhooks must be a list of http(s):// URLs"),
        ("port: high", "port must be an integer"),
        ("wal_sync: sometimes", "wal_sync must be always or interval"),
        ("host_monitoring: {enable: true}", "host_monitoring.enable"),
        ("tail: /var/log/x.log", "tail must be a list"),
        ("- 1\n- 2", "mapping of settings"),
        ("port: [", "not valid YAML"),
        ("dependencies: [[a, b], [c]]", "dependencies[1] must be [caller, callee]"),
        ("dependencies: a -> b", "dependencies must be a list of [caller, callee] pairs"),
        ("llm: http://127.0.0.1:11434/v1", "llm must be a mapping"),
        ("llm: {url: 127.0.0.1:11434}", "llm.url must be an http(s) URL"),
        ("llm: {url: http://x/v1, modle: a}", "unknown setting \"llm.modle\""),
        // Yams's own loader crashes on a mapping used as a key.
        ("webhook_secret: {{secret}}", "a key must be plain text (line 1)"),
        ("? [a, b]\n: c", "a key must be plain text"),
        ("postgres: postgres://vigil@db/vigil", "postgres must be a mapping (url, worker, advertise)"),
        ("postgres: {worker: a}", "postgres.url is required"),
        ("postgres: {url: x, name: a}", "unknown setting \"postgres.name\""),
        (
            "log_formats: /nonexistent/log-formats.json",
            "log_formats /nonexistent/log-formats.json: cannot read the file"
        ),
        ("incidents: {join_window: soon}", "incidents.join_window must be a duration such as 5m"),
        ("incidents: {min_alerts: 0}", "incidents.min_alerts must be a whole number from 1"),
        ("incidents: {mitigate_after: 1h, resolve_after: 10m}", "incidents.resolve_after (10 min) must not be shorter"),
        ("incidents: {rules: [{match: {severity: info}}]}", "incidents.rules[0] must do exactly one thing"),
        ("incidents: {rules: [{match: {a: b}, ignore: true, context_only: true}]}", "must do exactly one thing"),
        ("incidents: {rules: [{match: x, ignore: true}]}", "incidents.rules[0].match must be a mapping"),
        ("incidents: {rules: [{match: {}, mute: true}]}", "unknown setting \"incidents.rules[0].mute\""),
        ("incidents: {grouping: 5}", "unknown setting \"incidents.grouping\""),
        ("log_templates: card declined <*>", "log_templates must be a list of templates"),
        ("log_templates: [\"<*>  <*>\"]", "log_templates[0] \"<*>  <*>\": a pinned template needs some text"),
    ])
    func mistakesAreNamed(yaml: String, message: String) {
        var configuration = ServerConfiguration()
        #expect {
            try configuration.apply(yaml: yaml, source: "test")
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func slackWebhooksAreHTTPS() throws {
        var configuration = ServerConfiguration()
        try configuration.apply(yaml: "incident_webhooks: [https://hooks.slack.com/services/T0/B0/x]", source: "test")
        #expect(configuration.incidentWebhooks == ["https://hooks.slack.com/services/T0/B0/x"])
    }

    @Test func theModelBehindAskIsConfigured() throws {
        var configuration = ServerConfiguration()
        #expect(configuration.llm == nil)
        try configuration.apply(
            yaml: "llm: {url: 'http://127.0.0.1:11434/v1', model: llama3.2, api_key: k, timeout_seconds: 20}",
            source: "test"
        )
        var expected = ServerConfiguration.LLM(url: "http://127.0.0.1:11434/v1")
        expected.model = "llama3.2"
        expected.apiKey = "k"
        expected.timeoutSeconds = 20
        #expect(configuration.llm == expected)
    }

    @Test func aSharedPostgresStoreIsConfigured() throws {
        var configuration = ServerConfiguration()
        #expect(configuration.postgres == nil)
        try configuration.apply(
            yaml: "postgres: {url: 'postgres://vigil@db:5432/vigil', worker: vigil-a}",
            source: "test"
        )
        #expect(
            configuration.postgres
                == ServerConfiguration.Postgres(url: "postgres://vigil@db:5432/vigil", worker: "vigil-a")
        )
        try configuration.validate()
        try configuration.apply(yaml: "postgres: {url: 'postgres://vigil@db/vigil'}", source: "test")
        #expect(configuration.postgres?.worker == ServerConfiguration.hostName())
        try configuration.apply(yaml: "postgres: {url: 'postgres://db/vigil'}", source: "test")
        #expect { try configuration.validate() } throws: {
            "\($0)".contains("postgres.url: the PostgreSQL URL names no user")
        }
    }

    /// The address the other workers forward to: given, or this server's own (the host name for all interfaces).
    @Test func theAdvertisedAddress() throws {
        var configuration = ServerConfiguration()
        configuration.port = 8080
        #expect(configuration.advertisedAddress == "http://127.0.0.1:8080")
        configuration.host = "0.0.0.0"
        #expect(configuration.advertisedAddress == "http://\(ServerConfiguration.hostName()):8080")
        configuration.host = "fd00::7"
        #expect(configuration.advertisedAddress == "http://[fd00::7]:8080")
        try configuration.apply(
            yaml: "postgres: {url: 'postgres://vigil@db/vigil', advertise: 'http://10.1.2.3:3100'}",
            source: "test"
        )
        #expect(configuration.advertisedAddress == "http://10.1.2.3:3100")
        try configuration.validate()
        for wrong in ["https://10.1.2.3:3100", "10.1.2.3:3100", "http://:3100", "http://a:99999"] {
            configuration.postgres?.advertise = wrong
            #expect { try configuration.validate() } throws: {
                "\($0)".contains("postgres.advertise must be http://HOST:PORT")
            }
        }
    }

    @Test func hostAndPortOfAnHTTPURL() {
        #expect(SimpleHTTPClient.hostAndPort("http://vigil-a:3100/api")! == ("vigil-a", 3100))
        #expect(SimpleHTTPClient.hostAndPort("http://localhost")! == ("127.0.0.1", 80))
        #expect(SimpleHTTPClient.hostAndPort("http://[::1]:9090")! == ("::1", 9090))
        for wrong in ["https://a:1", "http://", "http://a:b", "http://a:0", "http://user@a:1", "http://[::1"] {
            #expect(SimpleHTTPClient.hostAndPort(wrong) == nil, "\(wrong)")
        }
    }

    @Test func outOfRangeValuesAreRefused() throws {
        var configuration = ServerConfiguration()
        try configuration.apply(yaml: "port: 70000", source: "test")
        #expect(throws: ServerConfiguration.FileError.self) { try configuration.validate() }
    }
}
