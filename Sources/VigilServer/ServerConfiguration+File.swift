// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import VigilCore
import VigilStorage
import VigilStoragePostgres

extension ServerConfiguration {
    /// A configuration file was not usable; the message names the key and what is wrong.
    public struct FileError: Error, CustomStringConvertible {
        /// What is wrong.
        public let description: String
    }

    /// The keys a configuration file may hold (see `vigil.example.yaml`).
    static let fileKeys: Set<String> = [
        "host", "port", "data_dir", "shards", "wal_sync", "max_body_bytes", "max_in_flight", "checkpoint_seconds",
        "host_monitoring", "tail", "pii_masking", "retention", "syslog", "webhook_secret", "prometheus_pull",
        "incident_webhooks", "dependencies", "llm", "remediation", "keda_grpc", "log_formats", "postgres",
        "series_rules", "pagerduty", "incidents", "log_templates",
    ]

    /// Applies a YAML configuration file on top of this configuration. Unknown keys are errors, so a typo does not
    /// silently fall back to a default.
    public mutating func apply(yaml text: String, source: String) throws {
        let loaded: Any?
        do { loaded = try YAMLText.load(text) } catch { throw FileError(description: "\(source): \(error)") }
        guard let root = loaded as? [String: Any] else {
            if loaded == nil { return }  // an empty file changes nothing
            throw FileError(description: "\(source): expected a mapping of settings at the top level")
        }
        for key in root.keys.sorted() where !Self.fileKeys.contains(key) {
            throw FileError(
                description:
                    "\(source): unknown setting \"\(key)\"; known: \(Self.fileKeys.sorted().joined(separator: ", "))"
            )
        }
        func value<T>(_ key: String, _ type: T.Type, in map: [String: Any] = root, path: String? = nil) throws -> T? {
            guard let raw = map[key] else { return nil }
            if T.self == Double.self, let integer = raw as? Int { return Double(integer) as? T }
            guard let typed = raw as? T else {
                throw FileError(description: "\(source): \(path ?? key) must be \(Self.describe(T.self)), not \(raw)")
            }
            return typed
        }
        if let host = try value("host", String.self) { self.host = host }
        if let port = try value("port", Int.self) { self.port = port }
        if let directory = try value("data_dir", String.self) { self.dataDirectory = directory }
        if let shards = try value("shards", Int.self) { self.shards = shards }
        if let sync = try value("wal_sync", String.self) {
            guard let policy = WriteAheadLog.SyncPolicy(rawValue: sync) else {
                throw FileError(description: "\(source): wal_sync must be always or interval, not \(sync)")
            }
            self.walSync = policy
        }
        if let bytes = try value("max_body_bytes", Int.self) { self.maximumBodyBytes = bytes }
        if let count = try value("max_in_flight", Int.self) { self.maximumInFlight = count }
        if let seconds = try value("checkpoint_seconds", Double.self) { self.checkpointSeconds = seconds }
        if let masking = try value("pii_masking", Bool.self) { self.masksPII = masking }
        if let tail = root["tail"] {
            guard let patterns = tail as? [String] else {
                throw FileError(description: "\(source): tail must be a list of glob patterns")
            }
            self.tailPatterns = patterns
        }
        if let pagerDuty = root["pagerduty"] {
            guard let map = pagerDuty as? [String: Any] else {
                throw FileError(description: "\(source): pagerduty must be a mapping (routing_key, url)")
            }
            for key in map.keys.sorted() where !["routing_key", "url"].contains(key) {
                throw FileError(description: "\(source): unknown setting \"pagerduty.\(key)\"")
            }
            guard let key = try value("routing_key", String.self, in: map, path: "pagerduty.routing_key") else {
                throw FileError(
                    description: "\(source): pagerduty needs routing_key, the integration key of a PagerDuty service"
                )
            }
            var settings = PagerDuty(routingKey: key)
            if let url = try value("url", String.self, in: map, path: "pagerduty.url") { settings.url = url }
            self.pagerDuty = settings
        }
        if let templates = root["log_templates"] {
            guard let texts = templates as? [String] else {
                throw FileError(
                    description:
                        "\(source): log_templates must be a list of templates such as \"card declined for order <*>\""
                )
            }
            for (index, text) in texts.enumerated() {
                if let problem = TemplateMiner.problem(withPinned: text) {
                    throw FileError(description: "\(source): log_templates[\(index)] \"\(text)\": \(problem)")
                }
            }
            guard texts.count <= 1_000 else {
                throw FileError(description: "\(source): log_templates holds \(texts.count) templates; at most 1,000")
            }
            self.pinnedTemplates = texts
        }
        if let incidents = root["incidents"] {
            self.correlation = try Self.parseIncidents(incidents, source: source)
        }
        if let rules = root["series_rules"] {
            self.seriesRules = try Self.parseSeriesRules(rules, source: source)
        }
        if let host = root["host_monitoring"] {
            guard let map = host as? [String: Any] else {
                throw FileError(description: "\(source): host_monitoring must be a mapping (enabled, sample_seconds)")
            }
            for key in map.keys.sorted() where !["enabled", "sample_seconds"].contains(key) {
                throw FileError(description: "\(source): unknown setting \"host_monitoring.\(key)\"")
            }
            if let enabled = try value("enabled", Bool.self, in: map, path: "host_monitoring.enabled") {
                self.monitorHost = enabled
            }
            if let seconds = try value("sample_seconds", Double.self, in: map, path: "host_monitoring.sample_seconds") {
                self.hostSampleSeconds = seconds
            }
        }
        if let syslog = root["syslog"] {
            guard let map = syslog as? [String: Any] else {
                throw FileError(description: "\(source): syslog must be a mapping (udp, tcp)")
            }
            for key in map.keys.sorted() where !["udp", "tcp"].contains(key) {
                throw FileError(description: "\(source): unknown setting \"syslog.\(key)\"")
            }
            for key in ["udp", "tcp"] {
                guard let text = try value(key, String.self, in: map, path: "syslog.\(key)") else { continue }
                guard let address = Address(text) else {
                    throw FileError(description: "\(source): syslog.\(key) must be host:port, not \(text)")
                }
                if key == "udp" { self.syslogUDP = address } else { self.syslogTCP = address }
            }
        }
        if let path = try value("log_formats", String.self) {
            guard let bytes = FileManager.default.contents(atPath: path) else {
                throw FileError(description: "\(source): log_formats \(path): cannot read the file")
            }
            self.learnedHeaders = try Self.learnedHeaders(json: Array(bytes), source: path)
        }
        if let text = try value("keda_grpc", String.self) {
            guard let address = Address(text) else {
                throw FileError(description: "\(source): keda_grpc must be host:port, not \(text)")
            }
            self.kedaAddress = address
        }
        if let postgres = root["postgres"] {
            guard let map = postgres as? [String: Any] else {
                throw FileError(description: "\(source): postgres must be a mapping (url, worker, advertise)")
            }
            for key in map.keys.sorted() where !["url", "worker", "advertise"].contains(key) {
                throw FileError(description: "\(source): unknown setting \"postgres.\(key)\"")
            }
            guard let url = try value("url", String.self, in: map, path: "postgres.url") else {
                throw FileError(
                    description: "\(source): postgres.url is required, such as postgres://vigil@db:5432/vigil"
                )
            }
            let worker = try value("worker", String.self, in: map, path: "postgres.worker")
            self.postgres = Postgres(
                url: url,
                worker: worker ?? Self.hostName(),
                advertise: try value("advertise", String.self, in: map, path: "postgres.advertise")
            )
        }
        if let secret = try value("webhook_secret", String.self) { self.webhookSecret = secret }
        if let hooks = root["incident_webhooks"] {
            guard let urls = hooks as? [String],
                urls.allSatisfy({ $0.hasPrefix("http://") || $0.hasPrefix("https://") })
            else {
                throw FileError(description: "\(source): incident_webhooks must be a list of http(s):// URLs")
            }
            self.incidentWebhooks = urls
        }
        if let dependencies = root["dependencies"] {
            self.dependencies = try Dependency.pairs(dependencies, source: source, key: "dependencies")
        }
        if let llm = root["llm"] {
            guard let map = llm as? [String: Any] else {
                throw FileError(description: "\(source): llm must be a mapping (url, model, api_key, timeout_seconds)")
            }
            for key in map.keys.sorted() where !["url", "model", "api_key", "timeout_seconds"].contains(key) {
                throw FileError(description: "\(source): unknown setting \"llm.\(key)\"")
            }
            guard let url = try value("url", String.self, in: map, path: "llm.url"), url.hasPrefix("http") else {
                throw FileError(
                    description: "\(source): llm.url must be an http(s) URL, such as http://127.0.0.1:11434/v1"
                )
            }
            var settings = LLM(url: url)
            if let model = try value("model", String.self, in: map, path: "llm.model") { settings.model = model }
            settings.apiKey = try value("api_key", String.self, in: map, path: "llm.api_key")
            if let seconds = try value("timeout_seconds", Double.self, in: map, path: "llm.timeout_seconds") {
                settings.timeoutSeconds = seconds
            }
            self.llm = settings
        }
        if let remediation = root["remediation"] {
            let keys = [
                "runbooks", "level", "dry_run", "approval_token", "action_timeout", "slack_signing_secret",
                "slack_approvers",
            ]
            guard let map = remediation as? [String: Any] else {
                throw FileError(
                    description: "\(source): remediation must be a mapping (\(keys.joined(separator: ", ")))"
                )
            }
            for key in map.keys.sorted() where !keys.contains(key) {
                throw FileError(description: "\(source): unknown setting \"remediation.\(key)\"")
            }
            guard let path = try value("runbooks", String.self, in: map, path: "remediation.runbooks") else {
                throw FileError(description: "\(source): remediation needs runbooks, the path of a runbook file")
            }
            var settings = Remediation(runbooksPath: path)
            if let raw = map["level"] {
                guard let level = AutomationLevel(name: "\(raw)") else {
                    throw FileError(
                        description:
                            "\(source): remediation.level must be 0-4 or one of \(AutomationLevel.allCases.map(\.name).joined(separator: ", ")), not \(raw)"
                    )
                }
                settings.maximumLevel = level
            }
            if let dryRun = try value("dry_run", Bool.self, in: map, path: "remediation.dry_run") {
                settings.isDryRun = dryRun
            }
            settings.approvalToken = try value(
                "approval_token",
                String.self,
                in: map,
                path: "remediation.approval_token"
            )
            settings.slackSigningSecret = try value(
                "slack_signing_secret",
                String.self,
                in: map,
                path: "remediation.slack_signing_secret"
            )
            if let raw = map["slack_approvers"] {
                guard let list = raw as? [Any] else {
                    throw FileError(
                        description:
                            "\(source): remediation.slack_approvers must be a list of Slack user IDs such as [U024BE7LH]"
                    )
                }
                settings.slackApprovers = list.map { "\($0)" }
            }
            if let raw = map["action_timeout"] {
                guard
                    let seconds = (raw as? Int).map(Double.init) ?? (raw as? String).flatMap(DurationText.seconds(in:))
                else {
                    throw FileError(
                        description: "\(source): remediation.action_timeout must be a duration such as 2m, not \(raw)"
                    )
                }
                settings.actionTimeoutSeconds = seconds
            }
            self.remediation = settings
        }
        if let pull = root["prometheus_pull"] {
            let keys = ["url", "queries", "interval_seconds", "step_seconds", "backfill_seconds"]
            guard let map = pull as? [String: Any] else {
                throw FileError(
                    description: "\(source): prometheus_pull must be a mapping (\(keys.joined(separator: ", ")))"
                )
            }
            for key in map.keys.sorted() where !keys.contains(key) {
                throw FileError(description: "\(source): unknown setting \"prometheus_pull.\(key)\"")
            }
            guard let url = try value("url", String.self, in: map, path: "prometheus_pull.url"),
                let queries = map["queries"] as? [String], !queries.isEmpty
            else {
                throw FileError(description: "\(source): prometheus_pull needs url and a list of queries")
            }
            var settings = PrometheusPull(url: url, queries: queries)
            if let seconds = try value(
                "interval_seconds",
                Double.self,
                in: map,
                path: "prometheus_pull.interval_seconds"
            ) {
                settings.intervalSeconds = seconds
            }
            if let seconds = try value("step_seconds", Double.self, in: map, path: "prometheus_pull.step_seconds") {
                settings.stepSeconds = seconds
            }
            if let seconds = try value(
                "backfill_seconds",
                Double.self,
                in: map,
                path: "prometheus_pull.backfill_seconds"
            ) {
                settings.backfillSeconds = seconds
            }
            self.prometheusPull = settings
        }
        if let retention = root["retention"] {
            guard let map = retention as? [String: Any] else {
                throw FileError(description: "\(source): retention must be a mapping (samples_days, anomalies_days)")
            }
            for key in map.keys.sorted() where !["samples_days", "anomalies_days"].contains(key) {
                throw FileError(description: "\(source): unknown setting \"retention.\(key)\"")
            }
            if let days = try value("samples_days", Double.self, in: map, path: "retention.samples_days") {
                self.retention.sampleSeconds = Int64(days * 86_400)
            }
            if let days = try value("anomalies_days", Double.self, in: map, path: "retention.anomalies_days") {
                self.retention.anomalySeconds = Int64(days * 86_400)
            }
        }
    }

    /// Checks every value is in range; the message says which and why.
    public func validate() throws {
        func fail(_ text: String) throws { throw FileError(description: text) }
        if !(1...65535).contains(self.port) { try fail("port must be 1–65535, not \(self.port)") }
        if !(1...64).contains(self.shards) { try fail("shards must be 1–64, not \(self.shards)") }
        if self.maximumBodyBytes < 1024 { try fail("max_body_bytes must be at least 1024") }
        if let pull = self.prometheusPull {
            if !(pull.url.hasPrefix("http://")) {
                try fail("prometheus_pull.url must start with http://, not \(pull.url)")
            }
            if pull.intervalSeconds < 1 { try fail("prometheus_pull.interval_seconds must be at least 1") }
            if pull.stepSeconds < 1 { try fail("prometheus_pull.step_seconds must be at least 1") }
            if !(0...(31 * 86_400)).contains(pull.backfillSeconds) {
                try fail("prometheus_pull.backfill_seconds must be 0–2678400 (31 days), not \(pull.backfillSeconds)")
            }
        }
        if let pagerDuty = self.pagerDuty {
            if pagerDuty.routingKey.isEmpty || pagerDuty.routingKey.utf8.count > 64
                || !pagerDuty.routingKey.utf8.allSatisfy({
                    $0 < 128 && (0x30...0x39 ~= $0 || 0x41...0x5A ~= $0 || 0x61...0x7A ~= $0)
                })
            {
                try fail("pagerduty.routing_key must be a PagerDuty integration key (letters and digits, 32 of them)")
            }
            if !(pagerDuty.url.hasPrefix("https://") || pagerDuty.url.hasPrefix("http://"))
                || URL(string: pagerDuty.url)?.host == nil
            {
                try fail("pagerduty.url must be an http(s) URL, not \(pagerDuty.url)")
            }
        }
        if let remediation = self.remediation {
            if remediation.actionTimeoutSeconds < 1 { try fail("remediation.action_timeout must be at least 1 s") }
            if let token = remediation.approvalToken, token.utf8.count < 16 {
                try fail("remediation.approval_token must hold at least 16 characters")
            }
            if remediation.slackSigningSecret != nil && remediation.slackApprovers.isEmpty {
                try fail(
                    "remediation.slack_signing_secret needs remediation.slack_approvers, the Slack user IDs (U…) whose clicks approve"
                )
            }
            if remediation.slackSigningSecret == nil && !remediation.slackApprovers.isEmpty {
                try fail(
                    "remediation.slack_approvers needs remediation.slack_signing_secret (or VIGIL_SLACK_SIGNING_SECRET), the Slack app's signing secret"
                )
            }
            if let secret = remediation.slackSigningSecret, secret.utf8.count < 16 {
                try fail("remediation.slack_signing_secret must hold at least 16 characters (Slack's has 32)")
            }
            for id in remediation.slackApprovers
            where id.isEmpty || id.utf8.count > 64
                || !id.utf8.allSatisfy({ $0 < 128 && (0x30...0x39 ~= $0 || 0x41...0x5A ~= $0 || 0x61...0x7A ~= $0) })
            {
                try fail(
                    "remediation.slack_approvers: \(id.prefix(80)) is not a Slack user ID (letters and digits, such as U024BE7LH)"
                )
            }
        }
        if let postgres = self.postgres {
            do { _ = try PostgresSettings(url: postgres.url) } catch { try fail("postgres.url: \(error)") }
            if postgres.worker.isEmpty || postgres.worker.utf8.count > 128 {
                try fail("postgres.worker must be a name of 1–128 characters")
            }
            if let address = postgres.advertise, SimpleHTTPClient.hostAndPort(address) == nil {
                try fail(
                    "postgres.advertise must be http://HOST:PORT, where the other workers reach this one's API, not \(address)"
                )
            }
        }
        if self.maximumInFlight < 1 { try fail("max_in_flight must be at least 1") }
        if self.checkpointSeconds < 1 { try fail("checkpoint_seconds must be at least 1") }
        if self.hostSampleSeconds < 1 { try fail("host_monitoring.sample_seconds must be at least 1") }
        if self.retention.sampleSeconds < 3600 || self.retention.anomalySeconds < 3600 {
            try fail("retention must keep at least an hour")
        }
    }

    /// This machine's name, the default worker name.
    public static func hostName() -> String {
        let name = ProcessInfo.processInfo.hostName
        return name.isEmpty ? "vigil" : name
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        default: "a string"
        }
    }
}

extension ServerConfiguration {
    /// Reads the learned-format cache `vigil analyze --llm-url` writes: `{"signature": {"headerFields": N, …}}`.
    public static func learnedHeaders(json data: [UInt8], source: String) throws -> [String: Int] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any] else {
            throw FileError(description: "\(source): not a learned-format cache (a JSON object of formats)")
        }
        var headers: [String: Int] = [:]
        for (signature, entry) in object {
            guard let fields = (entry as? [String: Any])?["headerFields"] as? Int, (1...14).contains(fields) else {
                throw FileError(description: "\(source): \(signature) needs headerFields, a number from 1 to 14")
            }
            headers[signature] = fields
        }
        return headers
    }
}

extension ServerConfiguration {
    /// `series_rules`: a list of `{match: {label: glob}, mute, alert_threshold, min_duration}`, each doing
    /// something, every key known.
    static func parseSeriesRules(_ raw: Any, source: String) throws -> [SeriesRule] {
        let rules = try Self.ruleMappings(
            raw,
            source: source,
            name: "series_rules",
            keys: ["match", "mute", "alert_threshold", "min_duration"],
            example: "{match: {service: \"batch-*\"}, mute: true}",
            matchHelp: "label names (or __name__) to globs, such as {service: \"api-*\"}; {} matches every series"
        )
        return try rules.map { path, map, match in
            var rule = SeriesRule(match: match)
            if let mute = map["mute"] {
                guard let flag = mute as? Bool else {
                    throw FileError(description: "\(source): \(path).mute must be true or false, not \(mute)")
                }
                rule.mute = flag
            }
            if let threshold = map["alert_threshold"] {
                guard let number = (threshold as? Double) ?? (threshold as? Int).map(Double.init), number > 0,
                    number <= 1
                else {
                    throw FileError(
                        description: "\(source): \(path).alert_threshold must be a score in (0, 1], not \(threshold)"
                    )
                }
                rule.alertThreshold = number
            }
            if let duration = map["min_duration"] {
                guard
                    let seconds = (duration as? Int).map(Double.init)
                        ?? (duration as? String).flatMap(DurationText.seconds(in:)),
                    seconds >= 0
                else {
                    throw FileError(
                        description: "\(source): \(path).min_duration must be a duration such as 5m, not \(duration)"
                    )
                }
                rule.minimumSeconds = seconds
            }
            guard rule.mute || rule.alertThreshold != nil || rule.minimumSeconds != nil else {
                throw FileError(
                    description: "\(source): \(path) does nothing: give it mute, alert_threshold or min_duration"
                )
            }
            return rule
        }
    }
}

extension ServerConfiguration {
    /// `incidents`: the correlator's windows (`join_window`, `mitigate_after`, `resolve_after`), its gates
    /// (`min_services`, `min_symptoms`, `min_alerts`) and `rules`, a list of `{match: {field: glob}, ignore: true}`
    /// or `{match: …, context_only: true}`.
    static func parseIncidents(_ raw: Any, source: String) throws -> IncidentCorrelator.Configuration {
        let keys = [
            "join_window", "mitigate_after", "resolve_after", "min_services", "min_symptoms", "min_alerts", "rules",
        ]
        guard let map = raw as? [String: Any] else {
            throw FileError(description: "\(source): incidents must be a mapping (\(keys.joined(separator: ", ")))")
        }
        for key in map.keys.sorted() where !keys.contains(key) {
            throw FileError(
                description: "\(source): unknown setting \"incidents.\(key)\"; known: \(keys.joined(separator: ", "))"
            )
        }
        var configuration = IncidentCorrelator.Configuration()
        func duration(_ key: String) throws -> Double? {
            guard let value = map[key] else { return nil }
            guard
                let seconds = (value as? Int).map(Double.init) ?? (value as? String).flatMap(DurationText.seconds(in:)),
                seconds > 0
            else {
                throw FileError(description: "\(source): incidents.\(key) must be a duration such as 5m, not \(value)")
            }
            return seconds
        }
        func count(_ key: String) throws -> Int? {
            guard let value = map[key] else { return nil }
            guard let number = value as? Int, number >= 1 else {
                throw FileError(description: "\(source): incidents.\(key) must be a whole number from 1, not \(value)")
            }
            return number
        }
        if let seconds = try duration("join_window") { configuration.joinWindow = seconds }
        if let seconds = try duration("mitigate_after") { configuration.mitigateAfter = seconds }
        if let seconds = try duration("resolve_after") { configuration.resolveAfter = seconds }
        guard configuration.resolveAfter >= configuration.mitigateAfter else {
            throw FileError(
                description:
                    "\(source): incidents.resolve_after (\(DurationText.describe(configuration.resolveAfter))) must not be shorter than mitigate_after (\(DurationText.describe(configuration.mitigateAfter)))"
            )
        }
        if let number = try count("min_services") { configuration.minimumServices = number }
        if let number = try count("min_symptoms") { configuration.minimumSymptoms = number }
        if let number = try count("min_alerts") { configuration.minimumAlerts = number }
        if let rules = map["rules"] { configuration.symptomRules = try Self.parseSymptomRules(rules, source: source) }
        return configuration
    }

    /// `incidents.rules`: each matches fields with globs and does exactly one thing.
    static func parseSymptomRules(_ raw: Any, source: String) throws -> [SymptomRule] {
        let actions = SymptomRule.Action.allCases.map(\.rawValue)
        let rules = try Self.ruleMappings(
            raw,
            source: source,
            name: "incidents.rules",
            keys: ["match"] + actions,
            example: "{match: {alertname: Watchdog}, ignore: true}",
            matchHelp: "fields (kind, service, subject, alertname or an alert label) to globs, such as {severity: info}"
        )
        return try rules.map { path, map, match in
            var chosen: [SymptomRule.Action] = []
            for action in SymptomRule.Action.allCases {
                guard let flag = map[action.rawValue] else { continue }
                guard let on = flag as? Bool else {
                    throw FileError(
                        description: "\(source): \(path).\(action.rawValue) must be true or false, not \(flag)"
                    )
                }
                if on { chosen.append(action) }
            }
            guard chosen.count == 1, let action = chosen.first else {
                throw FileError(
                    description:
                        "\(source): \(path) must do exactly one thing: \(actions.map { "\($0): true" }.joined(separator: " or "))"
                )
            }
            return SymptomRule(match: match, action: action)
        }
    }

    /// The entries of a rule list (`series_rules`, `incidents.rules`): each a mapping of known `keys` with a
    /// `match` mapping (values read as text), with its path for messages (`series_rules[2]`).
    static func ruleMappings(
        _ raw: Any,
        source: String,
        name: String,
        keys: [String],
        example: String,
        matchHelp: String
    ) throws -> [(path: String, map: [String: Any], match: [String: String])] {
        guard let list = raw as? [Any] else {
            throw FileError(description: "\(source): \(name) must be a list of rules such as \(example)")
        }
        return try list.enumerated().map { index, item in
            let path = "\(name)[\(index)]"
            guard let map = item as? [String: Any] else {
                throw FileError(description: "\(source): \(path) must be a mapping (\(keys.joined(separator: ", ")))")
            }
            for key in map.keys.sorted() where !keys.contains(key) {
                throw FileError(
                    description: "\(source): unknown setting \"\(path).\(key)\"; known: \(keys.joined(separator: ", "))"
                )
            }
            guard let match = map["match"] as? [String: Any] else {
                throw FileError(description: "\(source): \(path).match must be a mapping of \(matchHelp)")
            }
            return (path, map, match.mapValues { "\($0)" })
        }
    }
}

extension ServerConfiguration.Dependency {
    /// Reads a dependency file: JSON, either `{"calls": [["caller", "callee"], …]}` (the `topology.json` of
    /// an RCA case; other keys are ignored) or a bare list of pairs.
    public static func read(json data: [UInt8], source: String) throws -> [Self] {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(data))
        } catch {
            throw ServerConfiguration.FileError(description: "\(source): not valid JSON: \(error.localizedDescription)")
        }
        let calls = (object as? [String: Any]).map { $0["calls"] ?? [] } ?? object
        return try Self.pairs(calls, source: source, key: "calls")
    }
}
