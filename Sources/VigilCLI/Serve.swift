// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Foundation
import Logging
import VigilCore
import VigilServer
import VigilStorage

/// `vigil serve`: the always-on engine.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the engine: receive telemetry, watch this machine, mine templates, detect anomalies.",
        discussion: """
            With no options at all it listens on http://127.0.0.1:3100, keeps its data in ./vigil-data (SQLite \
            and a write-ahead log), and watches this machine: CPU, memory, load, disk and network from /proc every \
            10 s, and the system log (journald, /var/log/syslog, /var/log/messages or the kernel log, whichever \
            exists). Within a minute or two:

              curl -s localhost:3100/api/v1/templates     # templates of the system log
              curl -s localhost:3100/api/v1/series        # host CPU, memory, load, disk, network
              curl -s localhost:3100/api/v1/anomalies     # findings with their evidence
              curl -s localhost:3100/api/v1/stats         # accepted / processed / rejected per signal kind

            Send logs with the Loki push API (POST /loki/api/v1/push, JSON or snappy protobuf), or follow files \
            with --tail. OTLP/HTTP (POST /v1/logs, /v1/metrics, /v1/traces), Prometheus remote_write \
            (POST /api/v1/write), Alertmanager (POST /api/v1/alerts/alertmanager), change events and GitHub/CI \
            webhooks (POST /api/v1/changes, /api/v1/changes/github) arrive on the same port; syslog on the ports \
            given by --syslog-udp and --syslog-tcp. Every option can also be set in the environment: VIGIL_PORT, VIGIL_HOST, VIGIL_DATA_DIR, \
            VIGIL_SHARDS, VIGIL_WAL_SYNC, VIGIL_TAIL (comma-separated), VIGIL_NO_HOST=1, VIGIL_SYSLOG_UDP, VIGIL_SYSLOG_TCP, \
            VIGIL_WEBHOOK_SECRET (HMAC-SHA256 secret of the change webhooks), VIGIL_LLM_URL, VIGIL_LLM_MODEL, \
            VIGIL_LLM_API_KEY, VIGIL_RUNBOOKS, VIGIL_AUTOMATION_LEVEL, VIGIL_DRY_RUN=1, VIGIL_KEDA_GRPC, VIGIL_APPROVAL_TOKEN (the bearer \
            token approvals need), VIGIL_SLACK_SIGNING_SECRET (the Slack app whose Approve and Reject buttons \
            count; remediation.slack_approvers names who may click them), VIGIL_PAGERDUTY_ROUTING_KEY (incidents \
            trigger and resolve PagerDuty alerts through its Events API v2), VIGIL_POSTGRES_URL, VIGIL_WORKER, VIGIL_CONFIG; or in a YAML \
            file given by --config (vigil.example.yaml lists every setting). Flags win over the environment, the \
            environment over the file. SIGTERM or SIGINT stop it cleanly: no new requests, the pipeline drains, a checkpoint is \
            written; a shutdown still running after 30 s is cancelled, and the process ends 10 s later at the \
            latest. After a crash it restores the last checkpoint and replays the write-ahead log, so every \
            acknowledged line is processed exactly once.
            """
    )

    @Option(help: "A YAML configuration file (see vigil.example.yaml); flags and VIGIL_* variables override it.")
    var config: String?

    @Option(help: "The address to listen on.")
    var host: String?

    @Option(help: "The HTTP port for ingest, API and /metrics.")
    var port: Int?

    @Option(help: "Where the write-ahead log and (without --postgres) the SQLite store live.")
    var dataDir: String?

    @Option(help: "Pipeline shards (default: one per core).")
    var shards: Int?

    @Option(
        help:
            "When accepted input reaches the disk: always (fsync before acknowledging; default) or interval (fsync every 100 ms)."
    )
    var walSync: String?

    @Option(help: "Follow files matching this glob (repeatable), e.g. '/var/log/app/*.log'.")
    var tail: [String] = []

    @Flag(help: "Do not watch this machine's metrics and system log.")
    var noHost = false

    @Flag(help: "Do not mask personal data and secrets before template mining.")
    var noPiiMasking = false

    @Option(help: "Seconds between checkpoints.")
    var checkpointSeconds: Double?

    @Option(help: "Seconds between host metric samples.")
    var hostSampleSeconds: Double?

    @Option(help: "The largest request body accepted, in bytes (larger: 413).")
    var maxBodyBytes: Int?

    @Option(help: "Lines and samples accepted but not yet processed before new input gets 429.")
    var maxInFlight: Int?

    @Option(help: "Receive syslog (RFC 5424/3164) over UDP on HOST:PORT, e.g. 127.0.0.1:5514.")
    var syslogUdp: String?

    @Option(help: "Receive syslog over TCP on HOST:PORT (octet counting or one message per line).")
    var syslogTcp: String?

    @Option(
        help:
            "Pull mode: the Prometheus to poll with query_range (e.g. http://127.0.0.1:9090); needs --prometheus-query."
    )
    var prometheusUrl: String?

    @Option(help: "A PromQL query to poll from --prometheus-url (repeatable); each result series becomes a series.")
    var prometheusQuery: [String] = []

    @Option(help: "Seconds between Prometheus polls.")
    var prometheusInterval: Double?

    @Option(
        help: ArgumentHelp(
            "Seconds of history the first Prometheus poll reads (default 3600, 0 for none).",
            discussion:
                "The detectors learn each series' normal from it, so they judge the first new sample instead of "
                + "waiting out a warm-up of 150 polls. A restart reads it again: what the pipeline saw before is "
                + "stored, not judged twice."
        )
    )
    var prometheusBackfill: Double?

    @Option(
        help: ArgumentHelp(
            "POST incidents to this http(s):// URL when they open, change or resolve (repeatable).",
            discussion:
                "The JSON has a Slack-style `text` (a Slack incoming webhook shows it), the `event` and the `incident`."
        )
    )
    var incidentWebhook: [String] = []

    @Option(
        help: ArgumentHelp(
            "Service dependencies from a JSON file: {\"calls\": [[\"caller\", \"callee\"], …]} or a list of pairs.",
            discussion: """
                Known calls join symptoms of neighbouring services into one incident and order its root causes, \
                beside the calls that traces show. An RCA case's topology.json works as is.
                """,
            valueName: "file"
        )
    )
    var dependencies: String?

    @Option(
        help: ArgumentHelp(
            "Follow Kubernetes events: `kubectl get events -A -w -o json | vigil serve --k8s-events -` (or a FIFO).",
            discussion: "Rollouts, autoscaling, OOM kills and CrashLoopBackOff become change events."
        )
    )
    var k8sEvents: String?

    @Option(
        help: ArgumentHelp(
            "An OpenAI-compatible chat API that writes the answers of POST /api/v1/ask and the web UI's Ask page.",
            discussion: """
                Such as http://127.0.0.1:11434/v1 (Ollama) or https://api.openai.com/v1 (with VIGIL_LLM_API_KEY). \
                Without it, Vigil's rules answer. Facts are masked before they are sent.
                """
        )
    )
    var llmUrl: String?

    @Option(help: "The model --llm-url serves (default: the first it lists).")
    var llmModel: String?

    @Option(
        help: ArgumentHelp(
            "A runbook file (YAML): fixes Vigil may suggest or run for incidents (see runbooks.example.yaml).",
            discussion: "Check one first with `vigil remediate check FILE`."
        )
    )
    var runbooks: String?

    @Option(
        help: ArgumentHelp(
            "The highest automation level any runbook runs at: alert, suggest (default), approve, auto-low-risk, auto-high-risk (or 0-4).",
            discussion: """
                A runbook runs at the lower of its own level and this one, and a high-risk runbook waits for                 approval below auto-high-risk.
                """
        )
    )
    var automationLevel: String?

    @Flag(help: "Go through runbooks without performing any action: each step is reported in the audit log.")
    var dryRun = false

    @Option(
        help: ArgumentHelp(
            "Serve KEDA's external scaler (gRPC, plaintext HTTP/2) on HOST:PORT, e.g. 0.0.0.0:9095.",
            discussion: """
                A ScaledObject trigger of type external with scalerAddress set to it, and metadata series (a stored \
                series), targetValue (load per replica), and optionally horizon (15m), history (7d), mode (upper, \
                point or current), coverage (0.8), activationValue (0) and pushInterval (5s, for external-push). \
                KEDA then scales on the higher of the current value and the forecast's peak over the horizon.
                """
        )
    )
    var kedaGrpc: String?

    @Option(
        help: ArgumentHelp(
            "Keep the store in PostgreSQL instead of SQLite, shared with other workers: postgres://USER@HOST:PORT/DB.",
            discussion: """
                Add ?sslmode=disable, prefer (the default), require or verify-full. Give the password in \
                VIGIL_POSTGRES_URL rather than on the command line, where ps shows it. Each worker keeps its own \
                write-ahead log in --data-dir and its checkpoint in the database under --worker; every other table is \
                shared, so any worker's API answers for all of them. Route each stream to one worker (for example \
                with the OpenTelemetry Collector's load-balancing exporter).
                """
        )
    )
    var postgres: String?

    @Option(help: "This worker's name among those sharing --postgres (default: the host name); unique per database.")
    var worker: String?

    @Option(
        help: ArgumentHelp(
            "Where the other workers reach this one's API: http://HOST:PORT (default: --host and --port).",
            discussion: """
                For --host 0.0.0.0 the default uses the host name. The leader's address is where the other workers \
                forward remediation calls (list, show, approve, reject), so any worker answers them. In Kubernetes \
                give the pod's IP from the downward API: VIGIL_ADVERTISE=http://$(POD_IP):3100.
                """
        )
    )
    var advertise: String?

    @Option(
        help: ArgumentHelp(
            "Header layouts learned for log formats read as plain text: the cache `vigil analyze --llm-url` writes.",
            discussion: "Such as ~/.cache/vigil/log-formats.json; streams of those layouts get their header split off."
        )
    )
    var logFormats: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var configuration = ServerConfiguration()
        if let path = self.config ?? environment["VIGIL_CONFIG"] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw CLIError("cannot read the configuration file \(path)")
            }
            do { try configuration.apply(yaml: text, source: path) } catch {
                throw CLIError("\(error)")
            }
        }
        if let value = self.host ?? environment["VIGIL_HOST"] { configuration.host = value }
        if let value = try self.port ?? Self.integer(environment, "VIGIL_PORT") { configuration.port = value }
        if let value = self.dataDir ?? environment["VIGIL_DATA_DIR"] { configuration.dataDirectory = value }
        if let value = try self.shards ?? Self.integer(environment, "VIGIL_SHARDS") { configuration.shards = value }
        if let value = self.walSync ?? environment["VIGIL_WAL_SYNC"] {
            guard let policy = WriteAheadLog.SyncPolicy(rawValue: value) else {
                throw ValidationError("--wal-sync must be always or interval, not \(value)")
            }
            configuration.walSync = policy
        }
        if !self.tail.isEmpty {
            configuration.tailPatterns = self.tail
        } else if let patterns = environment["VIGIL_TAIL"] {
            configuration.tailPatterns = patterns.split(separator: ",").map(String.init)
        }
        if self.noHost || environment["VIGIL_NO_HOST"] == "1" { configuration.monitorHost = false }
        if self.noPiiMasking { configuration.masksPII = false }
        if let value = self.checkpointSeconds { configuration.checkpointSeconds = value }
        if let value = self.hostSampleSeconds { configuration.hostSampleSeconds = value }
        if let value = self.maxBodyBytes { configuration.maximumBodyBytes = value }
        if let value = self.maxInFlight { configuration.maximumInFlight = value }
        for (flag, text) in [
            ("--syslog-udp", self.syslogUdp ?? environment["VIGIL_SYSLOG_UDP"]),
            ("--syslog-tcp", self.syslogTcp ?? environment["VIGIL_SYSLOG_TCP"]),
        ] {
            guard let text else { continue }
            guard let address = ServerConfiguration.Address(text) else {
                throw ValidationError("\(flag) must be HOST:PORT or PORT, not \(text)")
            }
            if flag == "--syslog-udp" { configuration.syslogUDP = address } else { configuration.syslogTCP = address }
        }
        if let path = self.k8sEvents {
            if path == "-" && configuration.tailPatterns.contains("-") {
                throw ValidationError("--k8s-events - and --tail - cannot both read standard input")
            }
            configuration.kubernetesEvents = path
        }
        if let secret = environment["VIGIL_WEBHOOK_SECRET"] { configuration.webhookSecret = secret }
        if let url = self.llmUrl ?? environment["VIGIL_LLM_URL"], !url.isEmpty {
            configuration.llm = configuration.llm ?? .init(url: url)
            configuration.llm?.url = url
        }
        if let model = self.llmModel ?? environment["VIGIL_LLM_MODEL"] { configuration.llm?.model = model }
        if let key = environment["VIGIL_LLM_API_KEY"] { configuration.llm?.apiKey = key }
        if !self.incidentWebhook.isEmpty {
            for url in self.incidentWebhook where !url.hasPrefix("http://") && !url.hasPrefix("https://") {
                throw ValidationError("--incident-webhook \(url) must be an http:// or https:// URL")
            }
            configuration.incidentWebhooks = self.incidentWebhook
        }
        if let path = self.dependencies {
            guard let bytes = FileManager.default.contents(atPath: path) else {
                throw ValidationError("--dependencies \(path): cannot read the file")
            }
            do {
                configuration.dependencies = try ServerConfiguration.Dependency.read(json: Array(bytes), source: path)
            } catch {
                throw ValidationError("--dependencies \(error)")
            }
        }
        if let url = self.prometheusUrl {
            guard !self.prometheusQuery.isEmpty else {
                throw ValidationError("--prometheus-url needs at least one --prometheus-query")
            }
            configuration.prometheusPull = .init(url: url, queries: self.prometheusQuery)
        }
        if let seconds = self.prometheusInterval { configuration.prometheusPull?.intervalSeconds = seconds }
        if let seconds = self.prometheusBackfill { configuration.prometheusPull?.backfillSeconds = seconds }
        if let path = self.runbooks ?? environment["VIGIL_RUNBOOKS"] {
            let previous = configuration.remediation
            configuration.remediation = .init(runbooksPath: path)
            if let previous {
                configuration.remediation?.maximumLevel = previous.maximumLevel
                configuration.remediation?.isDryRun = previous.isDryRun
                configuration.remediation?.approvalToken = previous.approvalToken
                configuration.remediation?.slackSigningSecret = previous.slackSigningSecret
                configuration.remediation?.slackApprovers = previous.slackApprovers
                configuration.remediation?.actionTimeoutSeconds = previous.actionTimeoutSeconds
            }
        }
        if let text = self.automationLevel ?? environment["VIGIL_AUTOMATION_LEVEL"] {
            guard let level = AutomationLevel(name: text) else {
                throw ValidationError(
                    "--automation-level must be 0-4 or one of \(AutomationLevel.allCases.map(\.name).joined(separator: ", ")), not \(text)"
                )
            }
            guard configuration.remediation != nil else {
                throw ValidationError("--automation-level needs --runbooks (or remediation.runbooks in the file)")
            }
            configuration.remediation?.maximumLevel = level
        }
        if self.dryRun || environment["VIGIL_DRY_RUN"] == "1" {
            guard configuration.remediation != nil else {
                throw ValidationError("--dry-run needs --runbooks (or remediation.runbooks in the file)")
            }
            configuration.remediation?.isDryRun = true
        }
        if let path = self.logFormats {
            guard let bytes = FileManager.default.contents(atPath: path) else {
                throw ValidationError("--log-formats \(path): cannot read the file")
            }
            do {
                configuration.learnedHeaders = try ServerConfiguration.learnedHeaders(json: Array(bytes), source: path)
            } catch {
                throw ValidationError("--log-formats \(error)")
            }
        }
        if let text = self.kedaGrpc ?? environment["VIGIL_KEDA_GRPC"] {
            guard let address = ServerConfiguration.Address(text) else {
                throw ValidationError("--keda-grpc must be HOST:PORT, such as 0.0.0.0:9095, not \(text)")
            }
            configuration.kedaAddress = address
        }
        if let url = self.postgres ?? environment["VIGIL_POSTGRES_URL"] {
            configuration.postgres = ServerConfiguration.Postgres(
                url: url,
                worker: configuration.postgres?.worker ?? ServerConfiguration.hostName(),
                advertise: configuration.postgres?.advertise
            )
        }
        if let worker = self.worker ?? environment["VIGIL_WORKER"] {
            guard configuration.postgres != nil else { throw ValidationError("--worker needs --postgres") }
            configuration.postgres?.worker = worker
        }
        if let address = self.advertise ?? environment["VIGIL_ADVERTISE"] {
            guard configuration.postgres != nil else { throw ValidationError("--advertise needs --postgres") }
            configuration.postgres?.advertise = address
        }
        if let token = environment["VIGIL_APPROVAL_TOKEN"] { configuration.remediation?.approvalToken = token }
        if let key = environment["VIGIL_PAGERDUTY_ROUTING_KEY"] {
            let url = configuration.pagerDuty?.url
            configuration.pagerDuty = .init(routingKey: key)
            if let url { configuration.pagerDuty?.url = url }
        }
        if let secret = environment["VIGIL_SLACK_SIGNING_SECRET"] {
            configuration.remediation?.slackSigningSecret = secret
        }
        do { try configuration.validate() } catch { throw ValidationError("\(error)") }
        guard let level = Logger.Level(rawValue: self.logLevel) else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "vigil")
        try await VigilServer(configuration: configuration, logger: logger).run()
    }

    static func integer(_ environment: [String: String], _ name: String) throws -> Int? {
        guard let text = environment[name] else { return nil }
        guard let value = Int(text) else { throw ValidationError("\(name) must be an integer, not \(text)") }
        return value
    }
}
