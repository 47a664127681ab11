// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

public import VigilCore
public import VigilStorage

#if canImport(Glibc)
import Glibc
#endif

/// Everything `vigil serve` can be told; every field has a default, so no configuration is required.
public struct ServerConfiguration: Sendable {
    /// The address to listen on (`127.0.0.1` by default: expose it deliberately).
    public var host = "127.0.0.1"
    /// The one HTTP port for ingest, API and `/metrics`.
    public var port = 3100
    /// Where the write-ahead log and (without ``postgres``) the SQLite store live.
    public var dataDirectory = "./vigil-data"
    /// Pipeline shards (one task each); by default one per core.
    public var shards = ServerConfiguration.coreCount()
    /// When accepted input reaches the disk.
    public var walSync = WriteAheadLog.SyncPolicy.always
    /// The largest request body accepted (larger: 413).
    public var maximumBodyBytes = 16 << 20
    /// Lines and samples accepted but not yet processed before new input is refused with 429.
    public var maximumInFlight = 500_000
    /// Seconds between checkpoints.
    public var checkpointSeconds = 30.0
    /// Whether to watch this machine (CPU, memory, disk, network, system log) with no other configuration.
    public var monitorHost = true
    /// Seconds between host metric samples.
    public var hostSampleSeconds = 10.0
    /// Files to follow (glob patterns), e.g. `/var/log/app/*.log`.
    public var tailPatterns: [String] = []
    /// Whether personal data and secrets are masked before template mining.
    public var masksPII = true
    /// Retention of samples and findings.
    public var retention = StoreRetention()
    /// Where to receive syslog over UDP (off unless set), e.g. `127.0.0.1:5514`.
    public var syslogUDP: Address?
    /// Where to receive syslog over TCP (off unless set).
    public var syslogTCP: Address?
    /// The shared secret of the change webhooks: when set, `X-Hub-Signature-256` (HMAC-SHA256 of the body) is
    /// required and checked.
    public var webhookSecret: String?
    /// Webhooks told when an incident opens, changes or resolves (http(s):// URLs; JSON with a Slack-style `text`).
    public var incidentWebhooks: [String] = []
    /// Where incidents page people through PagerDuty's Events API v2 (nil: they do not).
    public var pagerDuty: PagerDuty?
    /// Per-series overrides of metric detection (`series_rules`); the first rule matching a series decides.
    public var seriesRules: [SeriesRule] = []
    /// Log templates a person wrote (`log_templates`): lines they match count under them instead of a mined one.
    public var pinnedTemplates: [String] = []
    /// How alerts and findings become incidents (`incidents`): the correlator's windows and gates, and the rules
    /// that ignore a symptom or keep it as context only.
    public var correlation = IncidentCorrelator.Configuration()
    /// Service dependencies known from configuration (caller → callee), beside those traces show: they join
    /// symptoms into incidents and order root causes.
    public var dependencies: [Dependency] = []
    /// Kubernetes events to follow (`kubectl get events -w -o json` output: a FIFO, a file, or `-` for stdin).
    public var kubernetesEvents: String?
    /// A Prometheus to watch without touching it: its base URL, the PromQL queries, and how often to poll.
    public var prometheusPull: PrometheusPull?
    /// An OpenAI-compatible chat API that writes the answers of `POST /api/v1/ask` (rules answer without one).
    public var llm: LLM?
    /// Header layouts learned for log formats read as plain text, by layout signature (from the cache
    /// `vigil analyze --llm-url` writes; see ``ServerConfiguration/learnedHeaders(json:source:)``).
    public var learnedHeaders: [String: Int] = [:]
    /// Where KEDA's external scaler (gRPC, plaintext HTTP/2) listens, if anywhere.
    public var kedaAddress: Address?
    /// Guarded remediation: the runbooks and how far they may go (nil: no runbooks, nothing is remediated).
    public var remediation: Remediation?
    /// A PostgreSQL store shared by several workers (nil: the embedded SQLite store in the data directory).
    public var postgres: Postgres?

    /// Where the shared store is and which worker this server is.
    public struct Postgres: Sendable, Equatable {
        /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…]`.
        public var url: String
        /// This worker's name, unique among the workers of one database: its checkpoint and its share of the
        /// service graph are kept under it (default: the host name).
        public var worker: String
        /// Where the other workers reach this one's API, `http://HOST:PORT` (nil: this server's listening address,
        /// with the host name in place of 0.0.0.0). The leader's is where the others forward remediation calls.
        public var advertise: String?

        /// A store at `url` for the worker `worker`.
        public init(url: String, worker: String, advertise: String? = nil) {
            self.url = url
            self.worker = worker
            self.advertise = advertise
        }
    }

    /// Where the other workers reach this server's API (see ``Postgres/advertise``).
    public var advertisedAddress: String {
        if let address = self.postgres?.advertise { return address }
        let host = ["0.0.0.0", "::", ""].contains(self.host) ? Self.hostName() : self.host
        return "http://\(host.contains(":") ? "[\(host)]" : host):\(self.port)"
    }

    /// Runbooks and the guardrails the server puts around them.
    public struct Remediation: Sendable, Equatable {
        /// The runbook file (YAML; `runbooks.example.yaml`).
        public var runbooksPath: String
        /// No runbook runs above this level; the default only suggests.
        public var maximumLevel = AutomationLevel.suggest
        /// Every step is reported, none performed.
        public var isDryRun = false
        /// The bearer token `POST /api/v1/remediations/{id}/approve` and `/reject` require (nil: approvals over
        /// the API are refused).
        public var approvalToken: String?
        /// The Slack app's signing secret: with it, a run waiting for approval is posted with Approve and Reject
        /// buttons, and `POST /api/v1/slack/interactions` takes their clicks (nil: no buttons).
        public var slackSigningSecret: String?
        /// The Slack user IDs (`U…`) whose clicks count; anyone else's is refused.
        public var slackApprovers: [String] = []
        /// Longest a command or HTTP action may take.
        public var actionTimeoutSeconds = 120.0

        /// Runbooks from `runbooksPath`, at the default level (suggest).
        public init(runbooksPath: String) { self.runbooksPath = runbooksPath }
    }

    /// A PagerDuty service's Events API v2 integration.
    public struct PagerDuty: Sendable, Equatable {
        /// The integration's routing key (32 characters).
        public var routingKey: String
        /// The Events API endpoint.
        public var url = PagerDutyEvents.defaultURL

        public init(routingKey: String) { self.routingKey = routingKey }
    }

    /// The model behind `POST /api/v1/ask`.
    public struct LLM: Sendable, Equatable {
        /// The API base, up to and including `/v1`.
        public var url: String
        /// The model name; empty: the first the server lists.
        public var model = ""
        /// Sent as a bearer token when set.
        public var apiKey: String?
        /// Seconds to wait for an answer.
        public var timeoutSeconds = 60.0

        public init(url: String) { self.url = url }
    }

    /// One service calling another.
    public struct Dependency: Sendable, Equatable {
        public var caller: String
        public var callee: String

        public init(caller: String, callee: String) {
            self.caller = caller
            self.callee = callee
        }

        /// Caller–callee pairs from a parsed list, each a list of two non-empty service names.
        static func pairs(_ value: Any, source: String, key: String) throws -> [Dependency] {
            guard let list = value as? [Any] else {
                throw FileError(description: "\(source): \(key) must be a list of [caller, callee] pairs")
            }
            return try list.enumerated().map { index, item in
                guard let pair = item as? [Any], pair.count == 2, let caller = pair[0] as? String,
                    let callee = pair[1] as? String, !caller.isEmpty, !callee.isEmpty
                else {
                    throw FileError(
                        description: "\(source): \(key)[\(index)] must be [caller, callee], two service names"
                    )
                }
                return Dependency(caller: caller, callee: callee)
            }
        }
    }

    /// A `host:port` to listen on.
    public struct Address: Sendable, Equatable {
        public var host: String
        public var port: Int

        /// Parses `host:port`, `:port` (all interfaces) or `port` (loopback).
        public init?(_ text: String) {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard let last = parts.last, let port = Int(last), (0...65535).contains(port) else { return nil }
            self.port = port
            switch parts.count {
            case 1: self.host = "127.0.0.1"
            case 2: self.host = parts[0].isEmpty ? "0.0.0.0" : String(parts[0])
            default: return nil
            }
        }
    }

    /// Pull mode: PromQL queries evaluated by an existing Prometheus through `query_range`.
    public struct PrometheusPull: Sendable, Equatable {
        /// The Prometheus base URL (`http://host:port`).
        public var url: String
        /// PromQL expressions; each result series becomes a Vigil series.
        public var queries: [String]
        /// Seconds between polls (each poll asks for the range since the last one).
        public var intervalSeconds: Double = 15
        /// The `step` of each query_range call, in seconds.
        public var stepSeconds: Double = 15
        /// How much history the first poll reads (seconds before the start), so the detectors have learnt the
        /// series' normal when the first new sample comes, instead of a warm-up's worth of polls later. What the
        /// pipeline has already seen of a series (a restart) is stored again but not judged twice.
        public var backfillSeconds: Double = 3_600

        public init(url: String, queries: [String]) {
            self.url = url
            self.queries = queries
        }
    }

    /// The defaults.
    public init() {}

    /// The number of online processors.
    public static func coreCount() -> Int {
        max(1, min(64, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
    }
}
