// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Synchronization
import VigilCore
import VigilStorage

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The server's one ``IncidentCorrelator``: every shard hands it the findings, alerts, changes and call edges it
/// stores; the HTTP API reads incidents from it; and it notifies webhooks when an incident opens, changes or
/// resolves.
final class IncidentService: Sendable {
    private let correlator: Mutex<IncidentCorrelator>
    /// Findings, alerts and changes already taken, by key, with their data time: each is taken once, however often
    /// it arrives (a replayed log, or a shared store read back with overlap).
    private let taken = Mutex<[String: Int64]>([:])
    /// What each webhook was last told per incident: status, member count and root cause.
    private let notified = Mutex<[String: String]>([:])
    /// Incidents re-ranked with their metric evidence, by id, with the version they were ranked at.
    private let ranked = Mutex<[String: (version: String, incident: Incident)]>([:])
    let webhooks: [URL]
    /// Where incidents page people, if anywhere.
    let pagerDuty: ServerConfiguration.PagerDuty?
    /// Where the metric evidence comes from (nil: symptoms alone rank the candidates).
    let store: (any Store)?

    /// Incidents this recent (newest first) get their candidates re-ranked with metric evidence.
    static let rankedIncidents = 50
    /// Series read per incident, at most.
    static let maximumSeries = 1_000

    init(
        webhooks: [URL],
        pagerDuty: ServerConfiguration.PagerDuty? = nil,
        dependencies: [ServerConfiguration.Dependency] = [],
        correlation: IncidentCorrelator.Configuration = IncidentCorrelator.Configuration(),
        store: (any Store)? = nil
    ) {
        self.correlator = Mutex(IncidentCorrelator(configuration: correlation))
        self.webhooks = webhooks
        self.pagerDuty = pagerDuty
        self.store = store
        self.correlator.withLock { correlator in
            for dependency in dependencies { correlator.addCall(caller: dependency.caller, callee: dependency.callee) }
        }
    }

    /// Keys kept before the oldest are forgotten (a day older than the newest).
    static let maximumTaken = 200_000

    /// Takes what a shard is about to store, or what other workers stored; what was taken before is skipped.
    func observe(_ batch: StoreBatch) {
        guard !batch.anomalies.isEmpty || !batch.alerts.isEmpty || !batch.changes.isEmpty || !batch.edges.isEmpty
        else { return }
        let fresh = self.taken.withLock { taken in
            var fresh = StoreBatch()
            func isNew(_ key: String, _ time: Timestamp) -> Bool {
                taken.updateValue(time.nanoseconds, forKey: key) == nil
            }
            fresh.anomalies = batch.anomalies.filter { isNew("a|" + $0.id, $0.time) }
            fresh.alerts = batch.alerts.filter {
                isNew("l|\($0.fingerprint)|\($0.startsAt.nanoseconds)|\($0.status.rawValue)", $0.startsAt)
            }
            fresh.changes = batch.changes.filter {
                isNew("c|\($0.service)|\($0.kind.rawValue)|\($0.version ?? "")|\($0.time.nanoseconds)", $0.time)
            }
            if taken.count > Self.maximumTaken, let newest = taken.values.max() {
                taken = taken.filter { $0.value >= newest - 86_400_000_000_000 }
                if taken.count > Self.maximumTaken { taken = taken.filter { $0.value >= newest - 3_600_000_000_000 } }
            }
            return fresh
        }
        self.correlator.withLock { correlator in
            for edge in batch.edges { correlator.addCall(caller: edge.caller, callee: edge.callee) }
            for change in fresh.changes { correlator.add(change) }
            for alert in fresh.alerts { correlator.add(alert) }
            for anomaly in fresh.anomalies { correlator.add(anomaly) }
        }
    }

    /// Rebuilds the correlator from the store after a restart: the last day of findings, alerts, changes and
    /// call edges (the correlator keeps no state of its own on disk).
    func restore(from store: any Store, now: Timestamp) throws {
        let since = now.adding(seconds: -86_400)
        var batch = StoreBatch()
        batch.anomalies = try store.anomalies(service: nil, from: since, to: nil, limit: 50_000)
        batch.alerts = try store.alerts(service: nil, status: nil, limit: 50_000)
        batch.changes = try store.changes(service: nil, from: since, to: nil, limit: 10_000)
        self.correlator.withLock { correlator in
            for edge in (try? store.topology(from: since, to: now.adding(seconds: 60))) ?? [] {
                correlator.addCall(caller: edge.caller, callee: edge.callee)
            }
        }
        self.observe(batch)
    }

    /// Every incident, newest first. With a store, incidents close in time whose metric evidence names the same
    /// root cause are one.
    func incidents() -> [Incident] {
        let correlator = self.correlator.withLock { $0 }
        guard self.store != nil else { return correlator.incidents() }
        var asked: Set<String> = []
        let incidents = correlator.incidents { incident in
            asked.insert(incident.id)
            return self.withMetricEvidence(incident).rootCauses.first?.service
        }
        let ranked = incidents.enumerated().map { index, incident in
            index < Self.rankedIncidents ? self.withMetricEvidence(incident) : incident
        }
        let current = asked.union(incidents.prefix(Self.rankedIncidents).map(\.id))
        self.ranked.withLock { cache in cache = cache.filter { current.contains($0.key) } }
        return ranked
    }

    /// How many alerts and findings went into how many incidents, and how many incidents are open.
    func grouping() -> IncidentCorrelator.Grouping {
        let incidents = self.incidents()
        return self.correlator.withLock { $0.grouping(of: incidents) }
    }

    /// `incident` with its candidates re-ranked by ``RootCauseRanker`` over the stored series of its services and
    /// the services up to two calls away, from half an hour before it opened (cached per incident version). When
    /// the store cannot be read, the incident keeps its symptom ranking and the next call tries again.
    private func withMetricEvidence(_ incident: Incident) -> Incident {
        guard let store = self.store else { return incident }
        // A change event arriving late (from another worker, or a slow deploy webhook) gives the incident its trigger.
        let trigger = incident.trigger.map { "\($0.service)|\($0.kind.rawValue)|\($0.time.nanoseconds)" } ?? ""
        let version = "\(incident.updated.nanoseconds)|\(incident.members.count)|\(incident.status.rawValue)|\(trigger)"
        if let cached = self.ranked.withLock({ $0[incident.id] }), cached.version == version { return cached.incident }
        let (services, calls) = self.correlator.withLock { correlator in
            // Two calls away: a fault in a callee's callee often alerts only in the callers.
            let services = correlator.neighbourhood(of: Array(correlator.neighbourhood(of: incident.services)))
            return (services, correlator.calls(among: services))
        }
        let from = incident.opened.adding(seconds: -1_800)
        let to = incident.updated.adding(seconds: 300)
        var series: [IncidentData.Samples] = []
        do {
            for service in services.sorted() {
                for summary in try store.series(service: service, name: nil) where series.count < Self.maximumSeries {
                    let points = try store.samples(series: summary.series, from: from, to: to, limit: 5_000)
                    guard points.count >= 3 else { continue }
                    series.append(.init(service: service, metric: summary.name, points: points.map { ($0.0, $0.1) }))
                }
            }
        } catch {
            return incident
        }
        let data = IncidentData(
            aligning: series,
            services: services.sorted(),
            calls: calls.map { ($0.caller, $0.callee) }
        )
        let ranking = RootCauseRanker().rank(data, alertTime: Double(incident.opened.nanoseconds) / 1e9)
        let ranked = incident.withMetricEvidence(ranking, calls: calls)
        self.ranked.withLock { $0[incident.id] = (version, ranked) }
        return ranked
    }

    /// Posts a notification for every incident that opened, changed or resolved since the last call. Returns
    /// how many were sent; failures are reported through `onError` and retried on the next call. What was told is
    /// kept in the store; `reload` first reads it from there (on the first call, and when this worker takes the
    /// lead), so a restart or another worker's lead does not announce again what was announced.
    @discardableResult
    func notify(reload: Bool = false, onError: @Sendable (String) -> Void) async -> Int {
        guard self.notifies else { return 0 }
        if reload, let store = self.store {
            do {
                let told = try store.announcements()
                self.notified.withLock { $0.merge(told) { _, stored in stored } }
            } catch {
                // Better to announce again than to stay quiet.
                onError("reading what incidents were announced failed: \(error)")
            }
        }
        let incidents = self.incidents()
        var sent = 0
        for incident in incidents {
            let state =
                "\(incident.status.rawValue)|\(incident.members.count)|\(incident.rootCauses.first?.service ?? "")"
            let previous = self.notified.withLock { $0[incident.id] }
            guard previous != state else { continue }
            // A resolved incident nobody was told about is not news.
            if previous == nil && incident.status == .resolved {
                self.notified.withLock { $0[incident.id] = state }
                self.record(incident.id, state, onError: onError)
                continue
            }
            let event =
                previous == nil ? "opened" : incident.status == .resolved ? "resolved" : "changed"
            let body = Self.notification(incident, event: event)
            var delivered = true
            for url in self.webhooks {
                do {
                    try await Self.post(body, to: url)
                } catch {
                    delivered = false
                    onError("incident webhook \(url.absoluteString): \(error)")
                }
            }
            if let pagerDuty = self.pagerDuty,
                // An incident that reopens after it was resolved pages again.
                let event = PagerDutyEvents.event(
                    incident,
                    announcement: previous?.hasPrefix("resolved|") == true && event == "changed" ? "opened" : event,
                    routingKey: pagerDuty.routingKey
                )
            {
                do {
                    guard let url = URL(string: pagerDuty.url) else {
                        throw SimpleHTTPClient.Failure(description: "bad URL")
                    }
                    try await Self.post(event, to: url)
                } catch {
                    delivered = false
                    onError("PagerDuty (\(pagerDuty.url)): \(error)")
                }
            }
            if delivered {
                self.notified.withLock { $0[incident.id] = state }
                self.record(incident.id, state, onError: onError)
                sent += 1
            }
        }
        return sent
    }

    /// Whether anyone is told about incidents: webhooks or PagerDuty.
    var notifies: Bool { !self.webhooks.isEmpty || self.pagerDuty != nil }

    /// Keeps what an incident's announcement said in the store.
    private func record(_ incident: String, _ state: String, onError: @Sendable (String) -> Void) {
        do { try self.store?.recordAnnouncements([incident: state], at: Clock.now()) } catch {
            onError("recording the announcement of \(incident) failed: \(error)")
        }
    }

    /// The JSON a webhook receives: `text` (what Slack's incoming webhooks show), the event and the incident.
    static func notification(_ incident: Incident, event: String) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        struct Payload: Encodable {
            var text: String
            var event: String
            var incident: IncidentJSON
        }
        let text = "[\(event)] incident \(incident.id) (\(incident.status.rawValue)): \(incident.narrative)"
        let payload = Payload(text: text, event: event, incident: IncidentJSON(incident))
        return Array((try? encoder.encode(payload)) ?? Data())
    }

    /// POSTs a JSON body to an http:// or https:// URL (Slack's incoming webhooks are HTTPS), giving up after
    /// 10 s; the next round retries.
    static func post(_ body: [UInt8], to url: URL) async throws {
        guard url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw SimpleHTTPClient.Failure(
                description: "only http(s) webhook URLs are supported, got \(url.absoluteString)"
            )
        }
        var request = URLRequest(url: url, timeoutInterval: 10)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body)
        let (_, response) = try await Self.session.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            throw SimpleHTTPClient.Failure(description: "answered \(status)")
        }
    }

    /// One session for every notification (FoundationNetworking: HTTPS without another TLS library); its limits,
    /// not the request's, are the ones FoundationNetworking applies.
    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 10
        configuration.timeoutIntervalForResource = 10
        return URLSession(configuration: configuration)
    }()
}

/// An incident as the API and webhooks show it: times as ISO 8601 text.
struct IncidentJSON: Encodable {
    struct Member: Encodable {
        var fingerprint, kind, service, subject, firstSeen, lastSeen, summary: String
        var count: Int
        var score: Double
        var joinedBecause: String?
    }
    struct Moment: Encodable {
        var time, service, what: String
    }
    struct Change: Encodable {
        var service, kind, time: String
        var version, description: String?
    }

    var id, status, opened, updated, narrative: String
    var services: [String]
    var symptomCount: Int
    var members: [Member]
    var rootCauses: [Incident.Candidate]
    var trigger: Change?
    var impactChain: [String]
    var timeline: [Moment]
    var recommendation: Incident.Recommendation?

    init(_ incident: Incident) {
        self.id = incident.id
        self.status = incident.status.rawValue
        self.opened = incident.opened.iso8601
        self.updated = incident.updated.iso8601
        self.narrative = incident.narrative
        self.services = incident.services
        self.symptomCount = incident.symptomCount
        self.members = incident.members.map {
            Member(
                fingerprint: $0.fingerprint,
                kind: $0.kind,
                service: $0.service,
                subject: $0.subject,
                firstSeen: $0.firstSeen.iso8601,
                lastSeen: $0.lastSeen.iso8601,
                summary: $0.summary,
                count: $0.count,
                score: $0.score,
                joinedBecause: $0.joinedBecause
            )
        }
        self.rootCauses = incident.rootCauses
        self.trigger = incident.trigger.map {
            Change(
                service: $0.service,
                kind: $0.kind.rawValue,
                time: $0.time.iso8601,
                version: $0.version,
                description: $0.description
            )
        }
        self.impactChain = incident.impactChain
        self.timeline = incident.timeline.map { Moment(time: $0.time.iso8601, service: $0.service, what: $0.what) }
        self.recommendation = incident.recommendation
    }
}

/// An incident in the list endpoint: no members or timeline.
struct IncidentSummaryJSON: Encodable {
    var id, status, opened, updated, narrative: String
    var services: [String]
    var symptomCount: Int
    var rootCause: String?
    var confidence: Double?

    init(_ incident: Incident) {
        self.id = incident.id
        self.status = incident.status.rawValue
        self.opened = incident.opened.iso8601
        self.updated = incident.updated.iso8601
        self.narrative = incident.narrative
        self.services = incident.services
        self.symptomCount = incident.symptomCount
        self.rootCause = incident.rootCauses.first?.service
        self.confidence = incident.rootCauses.first?.confidence
    }
}
