// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Prometheus
import Synchronization
import VigilCore
import VigilIngest
import VigilRemediation
import VigilStorage

/// The routes of the one HTTP port: ingest, the REST API, the web UI, health and `/metrics`.
struct HTTPAPI {
    let pipeline: Pipeline
    let metrics: ServerMetrics
    /// At most four questions go to the model at once.
    let askGate = AskGate(limit: 4)
    /// Runs the configured runbooks (nil: none are configured).
    var remediator: Remediator? = nil

    func router() -> Router<BasicRequestContext> {
        // HEAD answers as GET would, without the body (`curl -I`, uptime checkers).
        let router = Router(context: BasicRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.post("/loki/api/v1/push") { request, _ in try await self.lokiPush(request) }
        router.post("/api/v1/write") { request, _ in try await self.remoteWrite(request) }
        router.post("/v1/logs") { request, _ in try await self.otlp(request, .logs) }
        router.post("/v1/metrics") { request, _ in try await self.otlp(request, .samples) }
        router.post("/v1/traces") { request, _ in try await self.otlp(request, .spans) }
        router.get("/api/v1/topology") { request, _ in
            let query = request.uri.queryParameters
            let to = try Self.time(query["to"].map(String.init), name: "to") ?? Clock.now()
            let from = try Self.time(query["from"].map(String.init), name: "from") ?? to.adding(seconds: -900)
            guard from < to else { throw HTTPError(.badRequest, message: "from must be before to") }
            let limit = try Self.limit(query["limit"].map(String.init), default: 1000)
            let seen = try self.pipeline.store.topology(from: from, to: to).sorted { $0.calls > $1.calls }
            let edges = Array(
                Self.edges(seen: seen, configured: self.pipeline.configuration.dependencies).prefix(limit)
            )
            var services = Set<String>()
            for edge in edges {
                services.insert(edge.caller)
                services.insert(edge.callee)
            }
            return try self.json(
                TopologyView(from: from.iso8601, to: to.iso8601, services: services.sorted(), edges: edges)
            )
        }
        router.get("/api/v1/incidents") { request, _ in
            let query = request.uri.queryParameters
            let status = query["status"].map(String.init)
            if let status, Incident.Status(rawValue: status) == nil {
                throw HTTPError(
                    .badRequest,
                    message: "status must be open, mitigated or resolved, not \"\(status.prefix(40))\""
                )
            }
            let limit = try Self.limit(query["limit"].map(String.init))
            let found = self.pipeline.incidents.incidents().filter { status == nil || $0.status.rawValue == status }
            return try self.json(found.prefix(limit).map(IncidentSummaryJSON.init))
        }
        router.get("/api/v1/incidents/{id}") { _, context in
            let id = context.parameters.get("id") ?? ""
            guard let incident = self.pipeline.incidents.incidents().first(where: { $0.id == id }) else {
                throw HTTPError(.notFound, message: "no incident \(id.prefix(40))")
            }
            return try self.json(IncidentJSON(incident))
        }
        router.post("/api/v1/alerts/alertmanager") { request, _ in try await self.alertmanager(request) }
        router.get("/api/v1/alerts") { request, _ in
            let query = request.uri.queryParameters
            let status = query["status"].map(String.init)
            if let status, Alert.Status(rawValue: status) == nil {
                throw HTTPError(.badRequest, message: "status must be firing or resolved, not \"\(status.prefix(40))\"")
            }
            let found = try self.pipeline.store.alerts(
                service: query["service"].map(String.init),
                status: status,
                limit: try Self.limit(query["limit"].map(String.init))
            )
            // Which incident each alert is a member of (the newest, should a fingerprint be in several).
            var incidentOf: [String: String] = [:]
            for incident in self.pipeline.incidents.incidents().reversed() {
                for member in incident.members where member.kind == "alert" {
                    incidentOf[String(member.fingerprint.dropFirst("alert|".count))] = incident.id
                }
            }
            return try self.json(found.map { AlertView($0, incident: incidentOf[$0.fingerprint]) })
        }
        router.post("/api/v1/changes") { request, _ in try await self.changes(request) }
        router.post("/api/v1/changes/github") { request, _ in try await self.changes(request, source: .github) }
        router.post("/api/v1/changes/kubernetes") { request, _ in
            try await self.changes(request, source: .kubernetes)
        }
        router.get("/api/v1/changes") { request, _ in
            let query = request.uri.queryParameters
            let found = try self.pipeline.store.changes(
                service: query["service"].map(String.init),
                from: try Self.time(query["from"].map(String.init), name: "from"),
                to: try Self.time(query["to"].map(String.init), name: "to"),
                limit: try Self.limit(query["limit"].map(String.init))
            )
            return try self.json(found.map(ChangeView.init))
        }
        router.get("/api/v1/stats") { _, _ in try self.json(self.stats()) }
        self.addRemediationRoutes(to: router)
        router.post("/api/v1/ask") { request, _ in try await self.ask(request) }
        router.get("/api/v1/templates") { request, _ in
            let query = request.uri.queryParameters
            let limit = try Self.limit(query["limit"].map(String.init))
            return try self.json(
                try self.pipeline.store.templates(service: query["service"].map(String.init), limit: limit)
            )
        }
        router.get("/api/v1/anomalies") { request, _ in
            let query = request.uri.queryParameters
            let found = try self.pipeline.store.anomalies(
                service: query["service"].map(String.init),
                from: try Self.time(query["from"].map(String.init), name: "from"),
                to: try Self.time(query["to"].map(String.init), name: "to"),
                limit: try Self.limit(query["limit"].map(String.init))
            )
            return try self.json(found.map(AnomalyView.init))
        }
        router.get("/api/v1/series") { request, _ in
            let query = request.uri.queryParameters
            let limit = try Self.limit(query["limit"].map(String.init), default: 10_000)
            let from = try Self.time(query["from"].map(String.init), name: "from")
            let to = try Self.time(query["to"].map(String.init), name: "to")
            if let series = query["series"].map(String.init) {
                let points = try self.pipeline.store.samples(series: series, from: from, to: to, limit: limit)
                return try self.json(SamplesView(series: series, points: points.map { [$0.0.seconds, $0.1] }))
            }
            return try self.json(
                try self.pipeline.store.series(
                    service: query["service"].map(String.init),
                    name: query["name"].map(String.init)
                )
            )
        }
        WebUI.addRoutes(to: router)
        router.get("/healthz") { _, _ in Self.text("ok\n") }
        router.get("/readyz") { _, _ in
            guard self.pipeline.ready.load(ordering: .relaxed) else {
                throw HTTPError(.serviceUnavailable, message: "the pipeline is not running yet")
            }
            return Self.text("ready\n")
        }
        router.get("/metrics") { _, _ in
            self.metrics.update(from: self.pipeline)
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4"
            return Response(
                status: .ok,
                headers: headers,
                body: .init(byteBuffer: ByteBuffer(bytes: self.metrics.registry.emitToBuffer()))
            )
        }
        return router
    }

    // MARK: - Ingest

    func lokiPush(_ request: Request) async throws -> Response {
        let started = ContinuousClock.now
        var body = try await self.body(request)
        let decodeStarted = ContinuousClock.now
        let contentType = request.headers[.contentType] ?? ""
        let batches: [LogBatch]
        if request.headers[.contentEncoding] == "gzip" && contentType.hasPrefix("application/json") {
            body = try self.inflate(body, request, .logs)
        } else if let encoding = request.headers[.contentEncoding], encoding != "identity",
            !(encoding == "snappy" && !contentType.hasPrefix("application/json"))
        {
            self.pipeline.counters.rejected(logs: 1)
            throw HTTPError(.unsupportedMediaType, message: "Content-Encoding \(encoding) is not supported")
        }
        let isJSON = contentType.hasPrefix("application/json")
        guard isJSON || contentType.isEmpty || contentType.hasPrefix("application/x-protobuf") else {
            self.pipeline.counters.rejected(logs: 1)
            throw HTTPError(
                .unsupportedMediaType,
                message: "Content-Type \(contentType) is not supported; send application/json or application/x-protobuf"
            )
        }
        do {
            batches = isJSON ? try LokiPush.decodeJSON(body) : try LokiPush.decodeProtobuf(body)
        } catch {
            self.pipeline.counters.rejected(logs: 1)
            throw HTTPError(.badRequest, message: error.message)
        }
        self.metrics.stage("decode", ContinuousClock.now - decodeStarted)
        let payload = WALPayload.logs(batches.filter { !$0.entries.isEmpty })
        if payload.count > 0 { try await self.submit(payload) }
        self.metrics.acknowledged(kind: "logs", since: started)
        return Response(status: .noContent)
    }

    /// Prometheus remote_write 1.0: snappy-compressed protobuf samples.
    func remoteWrite(_ request: Request) async throws -> Response {
        let started = ContinuousClock.now
        let body = try await self.body(request, kind: .samples)
        if let encoding = request.headers[.contentEncoding], encoding != "snappy" {
            self.pipeline.counters.rejected(samples: 1)
            throw HTTPError(.unsupportedMediaType, message: "Content-Encoding must be snappy, not \(encoding)")
        }
        let decoded: RemoteWrite.Decoded
        do {
            decoded = try RemoteWrite.decode(body, cache: self.pipeline.seriesCache)
        } catch {
            self.pipeline.counters.rejected(samples: 1)
            throw HTTPError(.badRequest, message: error.message)
        }
        self.metrics.stage("decode", ContinuousClock.now - started)
        if !decoded.points.isEmpty {
            try await self.submit(.samples(decoded.points), record: WALPayload.remoteWriteBody(body).encoded())
        }
        self.metrics.acknowledged(kind: "samples", since: started)
        return Response(status: .noContent)
    }

    /// OTLP/HTTP: protobuf or JSON by Content-Type, optionally gzip; answers an empty `Export*ServiceResponse`
    /// in the request's encoding.
    func otlp(_ request: Request, _ kind: Kind) async throws -> Response {
        let started = ContinuousClock.now
        var body = try await self.body(request, kind: kind)
        let contentType = request.headers[.contentType] ?? "application/x-protobuf"
        let isJSON = contentType.hasPrefix("application/json")
        guard isJSON || contentType.hasPrefix("application/x-protobuf") else {
            self.count(rejected: kind)
            throw HTTPError(
                .unsupportedMediaType,
                message: "Content-Type \(contentType) is not supported; send application/x-protobuf or application/json"
            )
        }
        body = try self.inflate(body, request, kind)
        let payload: WALPayload
        do {
            switch kind {
            case .logs:
                payload = .logs(
                    isJSON
                        ? try OTLP.decodeLogs(json: body, now: Clock.now())
                        : try OTLP.decodeLogs(protobuf: body, now: Clock.now())
                )
            case .samples:
                payload = .samples(isJSON ? try OTLP.decodeMetrics(json: body) : try OTLP.decodeMetrics(protobuf: body))
            default:
                payload = .spans(isJSON ? try OTLP.decodeTraces(json: body) : try OTLP.decodeTraces(protobuf: body))
            }
        } catch {
            self.count(rejected: kind)
            throw HTTPError(.badRequest, message: error.message)
        }
        self.metrics.stage("decode", ContinuousClock.now - started)
        if payload.count > 0 { try await self.submit(payload) }
        self.metrics.acknowledged(kind: kind.label, since: started)
        var headers = HTTPFields()
        headers[.contentType] = isJSON ? "application/json" : "application/x-protobuf"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: isJSON ? "{}" : "")))
    }

    /// Inflates a gzip or deflate body; identity passes through.
    func inflate(_ body: [UInt8], _ request: Request, _ kind: Kind) throws -> [UInt8] {
        guard let encoding = request.headers[.contentEncoding], encoding != "identity" else { return body }
        guard encoding == "gzip" || encoding == "deflate" else {
            self.count(rejected: kind)
            throw HTTPError(.unsupportedMediaType, message: "Content-Encoding \(encoding) is not supported; use gzip")
        }
        do {
            return try Gzip.decompress(body, maximumLength: 4 * self.pipeline.configuration.maximumBodyBytes)
        } catch {
            self.count(rejected: kind)
            let tooLarge = error.message.contains("limit")
            throw HTTPError(tooLarge ? .contentTooLarge : .badRequest, message: error.message)
        }
    }

    struct TopologyView: Encodable {
        var from: String
        var to: String
        var services: [String]
        var edges: [EdgeView]
    }

    /// One call in the service graph and where it is known from: `spans` (with the spans' figures for the range)
    /// and `configuration` (the `--dependencies` file or `dependencies:`, with no figures).
    struct EdgeView: Encodable {
        var caller: String
        var callee: String
        var seen: TopologyEdge?
        var sources: [String]

        enum CodingKeys: String, CodingKey { case caller, callee, sources }

        func encode(to encoder: any Encoder) throws {
            try self.seen?.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.caller, forKey: .caller)
            try container.encode(self.callee, forKey: .callee)
            try container.encode(self.sources, forKey: .sources)
        }
    }

    /// The edges seen in spans (busiest first), then the configured calls no span showed in the range.
    static func edges(seen: [TopologyEdge], configured: [ServerConfiguration.Dependency]) -> [EdgeView] {
        func key(_ caller: String, _ callee: String) -> String { caller + "\u{0}" + callee }
        let declared = Set(configured.map { key($0.caller, $0.callee) })
        var listed = Set(seen.map { key($0.caller, $0.callee) })
        var views = seen.map { edge in
            let both = declared.contains(key(edge.caller, edge.callee))
            return EdgeView(
                caller: edge.caller,
                callee: edge.callee,
                seen: edge,
                sources: both ? ["spans", "configuration"] : ["spans"]
            )
        }
        for dependency in configured where dependency.caller != dependency.callee {
            guard listed.insert(key(dependency.caller, dependency.callee)).inserted else { continue }
            views.append(
                EdgeView(caller: dependency.caller, callee: dependency.callee, seen: nil, sources: ["configuration"])
            )
        }
        return views
    }

    /// Alertmanager's webhook (payload version 4).
    func alertmanager(_ request: Request) async throws -> Response {
        let body = try await self.body(request, kind: .alerts)
        guard request.headers[.contentType].map({ $0.hasPrefix("application/json") }) ?? true else {
            self.pipeline.counters.rejected(alerts: 1)
            throw HTTPError(.unsupportedMediaType, message: "send the Alertmanager webhook as application/json")
        }
        let alerts: [Alert]
        do {
            alerts = try AlertmanagerWebhook.decode(body)
        } catch {
            self.pipeline.counters.rejected(alerts: 1)
            throw HTTPError(.badRequest, message: error.message)
        }
        if !alerts.isEmpty { try await self.submit(.alerts(alerts)) }
        return Response(status: .ok)
    }

    struct AlertView: Codable {
        var fingerprint: String
        var name: String
        var service: String
        var status: String
        var labels: [String: String]
        var summary: String?
        var startsAt: String
        var endsAt: String?
        /// The incident the alert is a member of, if any.
        var incident: String?

        init(_ alert: Alert, incident: String? = nil) {
            self.incident = incident
            self.fingerprint = alert.fingerprint
            self.name = alert.name
            self.service = alert.service
            self.status = alert.status.rawValue
            self.labels = Dictionary(alert.labels.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
            self.summary = alert.summary
            self.startsAt = alert.startsAt.iso8601
            self.endsAt = alert.endsAt?.iso8601
        }
    }

    enum ChangeSource { case generic, github, kubernetes }

    /// Change events: Vigil's own JSON, GitHub's `deployment_status`, or Kubernetes events (a `List`, one
    /// `Event`, or `kubectl get events -w -o json` output). With a webhook secret configured the body must be
    /// signed (`X-Hub-Signature-256: sha256=HMAC`).
    func changes(_ request: Request, source: ChangeSource = .generic) async throws -> Response {
        let body = try await self.body(request, kind: .changes)
        if let secret = self.pipeline.configuration.webhookSecret {
            let signature = request.headers[HTTPField.Name("X-Hub-Signature-256")!] ?? ""
            guard SHA256.verify(signature: signature, secret: secret, body: body) else {
                self.pipeline.counters.rejected(changes: 1)
                throw HTTPError(
                    .unauthorized,
                    message: signature.isEmpty
                        ? "X-Hub-Signature-256 is required: sha256= and the HMAC-SHA256 of the body under the webhook secret"
                        : "X-Hub-Signature-256 does not match the body"
                )
            }
        }
        guard request.headers[.contentType].map({ $0.hasPrefix("application/json") }) ?? true else {
            self.pipeline.counters.rejected(changes: 1)
            throw HTTPError(.unsupportedMediaType, message: "send change events as application/json")
        }
        let events: [ChangeEvent]
        do {
            switch source {
            case .generic: events = try ChangeEvents.decode(body, now: Clock.now())
            case .github:
                events = try ChangeWebhooks.github(
                    event: request.headers[HTTPField.Name("X-GitHub-Event")!] ?? "",
                    body: body
                )
            case .kubernetes:
                var splitter = JSONObjectSplitter()
                var found: [ChangeEvent] = []
                let objects = try splitter.feed(body)
                guard !objects.isEmpty else { throw IngestError("Kubernetes events: no JSON object in the body") }
                for object in objects {
                    let document = try JSONParser.parse(object)
                    for item in document["items"]?.array ?? [document] {
                        if let event = ChangeWebhooks.kubernetes(item) { found.append(event) }
                    }
                }
                events = found
            }
        } catch {
            self.pipeline.counters.rejected(changes: 1)
            throw HTTPError(.badRequest, message: (error as? IngestError)?.message ?? "\(error)")
        }
        if !events.isEmpty { try await self.submit(.changes(events)) }
        return try self.json(["accepted": events.count], status: .accepted)
    }

    struct ChangeView: Codable {
        var service: String
        var kind: String
        var version: String?
        var time: String
        var description: String?

        init(_ event: ChangeEvent) {
            self.service = event.service
            self.kind = event.kind.rawValue
            self.version = event.version
            self.time = event.time.iso8601
            self.description = event.description
        }
    }

    func submit(_ payload: WALPayload, record: [UInt8]? = nil) async throws {
        do {
            try await self.pipeline.submit(payload, record: record)
        } catch .overloaded {
            var headers = HTTPFields()
            headers[.retryAfter] = "1"
            throw HTTPError(.tooManyRequests, headers: headers, message: "the pipeline is full; retry after 1 s")
        } catch .unavailable(let reason) {
            throw HTTPError(.serviceUnavailable, message: "cannot persist input: \(reason)")
        }
    }

    enum Kind {
        case logs, samples, changes, alerts, spans

        var label: String {
            switch self {
            case .logs: "logs"
            case .samples: "samples"
            case .changes: "changes"
            case .alerts: "alerts"
            case .spans: "spans"
            }
        }
    }

    func count(rejected kind: Kind) {
        switch kind {
        case .logs: self.pipeline.counters.rejected(logs: 1)
        case .samples: self.pipeline.counters.rejected(samples: 1)
        case .changes: self.pipeline.counters.rejected(changes: 1)
        case .alerts: self.pipeline.counters.rejected(alerts: 1)
        case .spans: self.pipeline.counters.rejected(spans: 1)
        }
    }

    func body(_ request: Request, kind: Kind = .logs) async throws -> [UInt8] {
        let limit = self.pipeline.configuration.maximumBodyBytes
        let reject = { self.count(rejected: kind) }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            reject()
            throw HTTPError(.contentTooLarge, message: "the body is \(length) bytes; the limit is \(limit)")
        }
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            reject()
            throw HTTPError(.contentTooLarge, message: "the body exceeds the limit of \(limit) bytes")
        }
    }

    // MARK: - API

    struct StatsView: Encodable {
        struct Kind: Codable {
            var accepted: Int
            var processed: Int
            var rejected: Int
        }
        var logs: Kind
        var samples: Kind
        var spans: Kind
        var alerts: Kind
        var changes: Kind
        var inFlight: Int
        var walBytes: Int
        var ready: Bool
        /// How the correlator grouped alerts and findings into incidents.
        var incidents: Grouping

        /// The correlator's counts, and its one-line `summary` ("1,847 alerts and findings → 3 incidents …").
        struct Grouping: Encodable {
            var counts: IncidentCorrelator.Grouping
            enum Key: CodingKey { case summary }

            func encode(to encoder: any Encoder) throws {
                try self.counts.encode(to: encoder)
                var container = encoder.container(keyedBy: Key.self)
                try container.encode(self.counts.text, forKey: .summary)
            }
        }
    }

    func stats() -> StatsView {
        let counters = self.pipeline.counters.value
        func kind(_ counts: IngestCounters.Counts) -> StatsView.Kind {
            StatsView.Kind(accepted: counts.accepted, processed: counts.processed, rejected: counts.rejected)
        }
        return StatsView(
            logs: kind(counters.logs),
            samples: kind(counters.samples),
            spans: kind(counters.spans),
            alerts: kind(counters.alerts),
            changes: kind(counters.changes),
            inFlight: self.pipeline.counters.inFlight,
            walBytes: self.pipeline.wal.totalBytes,
            ready: self.pipeline.ready.load(ordering: .relaxed),
            incidents: StatsView.Grouping(counts: self.pipeline.incidents.grouping())
        )
    }

    struct AnomalyView: Codable {
        var id: String
        var kind: String
        var service: String
        var subject: String
        var time: String
        var score: Double
        var evidence: Evidence

        init(_ anomaly: Anomaly) {
            self.id = anomaly.id
            self.kind = anomaly.kind.rawValue
            self.service = anomaly.service
            self.subject = anomaly.subject
            self.time = anomaly.time.iso8601
            self.score = anomaly.score
            self.evidence = anomaly.evidence
        }
    }

    struct SamplesView: Codable {
        var series: String
        var points: [[Double]]
    }

    func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "+Inf",
            negativeInfinity: "-Inf",
            nan: "NaN"
        )
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(
            status: status,
            headers: headers,
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value)))
        )
    }

    static func text(_ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func limit(_ text: String?, default fallback: Int = 100) throws -> Int {
        guard let text else { return fallback }
        guard let value = Int(text), value > 0, value <= 100_000 else {
            throw HTTPError(
                .badRequest,
                message: "limit must be an integer from 1 to 100000, not \"\(text.prefix(40))\""
            )
        }
        return value
    }

    /// Accepts Unix seconds (`1700000000`, `1700000000.5`) or RFC 3339 (`2026-11-23T10:00:00Z`).
    static func time(_ text: String?, name: String) throws -> Timestamp? {
        guard let text else { return nil }
        if let seconds = Double(text), seconds.isFinite { return Timestamp(seconds: seconds) }
        let bytes = Array(text.utf8)
        if let parsed = TimestampParser.parse(bytes.span) { return parsed }
        throw HTTPError(
            .badRequest,
            message: "\(name) must be Unix seconds or an RFC 3339 time, not \"\(text.prefix(40))\""
        )
    }
}
