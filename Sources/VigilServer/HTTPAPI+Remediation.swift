// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import HTTPTypes
import Hummingbird
import Synchronization
import VigilCore
import VigilIngest
import VigilRemediation
import VigilStorage

extension HTTPAPI {
    /// The remediation routes: runs, approval and rejection (bearer token), and the audit log.
    func addRemediationRoutes(to router: Router<BasicRequestContext>) {
        router.get("/api/v1/remediations") { request, _ in
            if let forwarded = try await self.forwardToLeader(request) { return forwarded }
            let query = request.uri.queryParameters
            let state = query["state"].map(String.init)
            if let state, RemediationRun.State(rawValue: state) == nil {
                throw HTTPError(.badRequest, message: "state must be a run state such as awaiting_approval")
            }
            let limit = try Self.limit(query["limit"].map(String.init))
            let runs = await self.remediator?.runs(limit: 1_000) ?? []
            return try self.json(
                runs.filter { state == nil || $0.state.rawValue == state }.prefix(limit).map(RemediationRunJSON.init)
            )
        }
        router.get("/api/v1/remediations/{id}") { request, context in
            if let forwarded = try await self.forwardToLeader(request) { return forwarded }
            let id = context.parameters.get("id") ?? ""
            guard let run = await self.remediator?.run(id) else {
                throw HTTPError(.notFound, message: "no remediation run \(id.prefix(40))")
            }
            return try self.json(RemediationRunJSON(run))
        }
        router.post("/api/v1/remediations/{id}/approve") { request, context in
            if let forwarded = try await self.forwardToLeader(request) { return forwarded }
            return try await self.decide(request, id: context.parameters.get("id") ?? "", approve: true)
        }
        router.post("/api/v1/remediations/{id}/reject") { request, context in
            if let forwarded = try await self.forwardToLeader(request) { return forwarded }
            return try await self.decide(request, id: context.parameters.get("id") ?? "", approve: false)
        }
        router.post("/api/v1/slack/interactions") { request, _ in
            if let forwarded = try await self.forwardToLeader(request) { return forwarded }
            return try await self.slackClick(request)
        }
        router.get("/api/v1/audit") { request, _ in
            let query = request.uri.queryParameters
            let records = try self.pipeline.store.audit(
                run: query["run"].map(String.init),
                limit: try Self.limit(query["limit"].map(String.init))
            )
            return try self.json(records.map(AuditRecordJSON.init))
        }
    }

    /// `POST …/approve` or `…/reject` with `{"by": "alice", "reason": "…"}` and `Authorization: Bearer TOKEN`.
    func decide(_ request: Request, id: String, approve: Bool) async throws -> Response {
        guard let remediator = self.remediator else {
            throw HTTPError(.notFound, message: "no runbooks are configured (vigil serve --runbooks FILE)")
        }
        guard let token = self.pipeline.configuration.remediation?.approvalToken else {
            throw HTTPError(
                .forbidden,
                message: "approvals over the API need a token: set remediation.approval_token or VIGIL_APPROVAL_TOKEN"
            )
        }
        let given = request.headers[.authorization].flatMap { header in
            header.hasPrefix("Bearer ") ? String(header.dropFirst(7)) : nil
        }
        guard let given, SHA256.constantTimeEqual(Array(given.utf8), Array(token.utf8)) else {
            var headers = HTTPFields()
            headers[.wwwAuthenticate] = "Bearer"
            throw HTTPError(.unauthorized, headers: headers, message: "a valid Authorization: Bearer token is needed")
        }
        guard request.headers[.contentType].map({ $0.hasPrefix("application/json") }) ?? false else {
            throw HTTPError(.unsupportedMediaType, message: "send {\"by\": \"your name\"} as application/json")
        }
        let buffer = try await request.body.collect(upTo: 16 << 10)
        struct Decision: Decodable {
            var by: String
            var reason: String?
        }
        guard let decision = try? JSONDecoder().decode(Decision.self, from: Data(buffer.readableBytesView)),
            decision.by.utf8.count <= 200, (decision.reason?.utf8.count ?? 0) <= 2_000
        else {
            throw HTTPError(
                .badRequest,
                message: "the body must be {\"by\": \"your name\", \"reason\": \"…\"} (name ≤ 200 bytes, reason ≤ 2000)"
            )
        }
        return try await self.decide(remediator, id, approve: approve, by: decision.by, reason: decision.reason ?? "")
    }

    /// Approves or rejects run `id` for a decider already checked; the run as it now is, or the 4xx that says why
    /// not.
    func decide(
        _ remediator: Remediator,
        _ id: String,
        approve: Bool,
        by: String,
        reason: String
    ) async throws
        -> Response
    {
        let run: RemediationRun
        do throws(RemediationError) {
            run =
                approve
                ? try await remediator.approve(id, by: by, now: Clock.now())
                : try await remediator.reject(id, by: by, reason: reason, now: Clock.now())
        } catch {
            switch error {
            case .unknownRun: throw HTTPError(.notFound, message: error.description)
            case .notAwaitingApproval: throw HTTPError(.conflict, message: error.description)
            case .anonymous: throw HTTPError(.badRequest, message: error.description)
            }
        }
        return try self.json(RemediationRunJSON(run))
    }

    /// A click on the Approve or Reject button of a Slack message (Slack's interactivity request URL): signed with
    /// the app's signing secret, by a user named in `remediation.slack_approvers`. The approver is recorded as
    /// "name (Slack ID)".
    func slackClick(_ request: Request) async throws -> Response {
        guard let remediator = self.remediator else {
            throw HTTPError(.notFound, message: "no runbooks are configured (vigil serve --runbooks FILE)")
        }
        guard let settings = self.pipeline.configuration.remediation, let secret = settings.slackSigningSecret else {
            throw HTTPError(
                .notFound,
                message:
                    "Slack approvals are off: set remediation.slack_signing_secret (or VIGIL_SLACK_SIGNING_SECRET) and remediation.slack_approvers"
            )
        }
        let body = Array(try await request.body.collect(upTo: Self.slackBodyLimit).readableBytesView)
        do throws(SlackInteraction.Refusal) {
            try SlackInteraction.verify(
                body: body,
                timestamp: request.headers[Self.slackTimestamp],
                signature: request.headers[Self.slackSignature],
                secret: secret,
                now: Clock.now().seconds
            )
        } catch {
            throw HTTPError(.unauthorized, message: error.description)
        }
        let click: SlackInteraction
        do throws(IngestError) { click = try SlackInteraction.parse(form: body) } catch {
            throw HTTPError(.badRequest, message: error.message)
        }
        let approve = click.actionID == RemediationNotifier.approveAction
        guard approve || click.actionID == RemediationNotifier.rejectAction else {
            throw HTTPError(
                .badRequest,
                message:
                    "unknown action \(click.actionID.prefix(60)): Vigil's buttons are vigil_approve and vigil_reject"
            )
        }
        guard settings.slackApprovers.contains(click.userID) else {
            throw HTTPError(
                .forbidden,
                message: "Slack user \(click.userID.prefix(64)) is not in remediation.slack_approvers"
            )
        }
        let by = "\(click.userName.prefix(100)) (Slack \(click.userID.prefix(64)))"
        return try await self.decide(
            remediator,
            click.value,
            approve: approve,
            by: by,
            reason: "rejected with the Slack button"
        )
    }

    static let slackTimestamp = HTTPField.Name("X-Slack-Request-Timestamp")!
    static let slackSignature = HTTPField.Name("X-Slack-Signature")!
    /// Slack's interaction payloads carry the whole message clicked on; Vigil's are a few KiB.
    static let slackBodyLimit = 256 << 10
}

extension HTTPAPI {
    /// Names the worker a request was forwarded by, so a request is forwarded once.
    static let forwardedBy = HTTPField.Name("Vigil-Forwarded-By")!

    /// Remediation runs live on the worker that leads: on any other worker sharing its store, the request goes to
    /// the leader's advertised address and its answer comes back as it is. Nil on the leader and on a lone server.
    func forwardToLeader(_ request: Request) async throws -> Response? {
        guard !self.pipeline.mayAct, let store = self.pipeline.store as? any SharedStore else { return nil }
        let here = self.pipeline.configuration.postgres?.worker ?? "?"
        if let from = request.headers[Self.forwardedBy] {
            throw HTTPError(
                .serviceUnavailable,
                message:
                    "worker \(here) got this from \(from.prefix(128)) as the leader but does not lead: the lead is moving; try again in a few seconds"
            )
        }
        let leader: (worker: String, address: String)?
        do { leader = try store.leader() } catch {
            throw HTTPError(.serviceUnavailable, message: "cannot ask the database which worker leads: \(error)")
        }
        guard let leader else {
            throw HTTPError(
                .serviceUnavailable,
                message: "no worker leads at the moment (one takes the lead within seconds); try again shortly"
            )
        }
        guard let (host, port) = SimpleHTTPClient.hostAndPort(leader.address) else {
            throw HTTPError(
                .badGateway,
                message:
                    "the leading worker \(leader.worker) advertises \(leader.address), which is not http://HOST:PORT (set its --advertise)"
            )
        }
        let body = try await request.body.collect(upTo: Self.slackBodyLimit)
        var headers = [(Self.forwardedBy.canonicalName, here)]
        for name in [HTTPField.Name.authorization, .contentType, Self.slackTimestamp, Self.slackSignature] {
            if let value = request.headers[name] { headers.append((name.canonicalName, value)) }
        }
        let answer = await SimpleHTTPClient.send(
            host: host,
            port: port,
            request.method.rawValue,
            request.uri.string,
            headers: headers,
            body: Array(body.readableBytesView),
            timeoutSeconds: 30
        )
        switch answer {
        case .success(let response):
            var fields = HTTPFields()
            fields[.contentType] = response.header("content-type") ?? "application/json"
            if let challenge = response.header("www-authenticate") { fields[.wwwAuthenticate] = challenge }
            return Response(
                status: HTTPResponse.Status(code: response.status),
                headers: fields,
                body: .init(byteBuffer: ByteBuffer(bytes: response.body))
            )
        case .failure(let error):
            throw HTTPError(
                .badGateway,
                message:
                    "this worker does not lead, and the leader \(leader.worker) did not answer at \(leader.address) (its --advertise): \(error)"
            )
        }
    }
}

/// A remediation run as the API shows it (and `vigil remediate` reads it).
public struct RemediationRunJSON: Codable, Sendable {
    public struct Step: Codable, Sendable {
        public var name, action: String
    }
    public struct Entry: Codable, Sendable {
        public var time, state, actor, what: String
    }

    public var id, incident, runbook, service, state, mode, level, risk, created: String
    public var dryRun: Bool
    public var approvedBy: String?
    public var steps: [Step]
    public var verify, rollback: String?
    public var reasons: [String]
    public var entries: [Entry]

    init(_ run: RemediationRun) {
        self.id = run.id
        self.incident = run.plan.incident
        self.runbook = run.plan.runbook
        self.service = run.plan.service
        self.state = run.state.rawValue
        self.mode = run.plan.mode.rawValue
        self.level = run.plan.level.name
        self.risk = run.plan.risk.rawValue
        self.created = run.created.iso8601
        self.dryRun = run.plan.isDryRun
        self.approvedBy = run.approvedBy
        self.steps = run.plan.steps.map { Step(name: $0.name, action: $0.action.summary) }
        self.verify = run.plan.verify?.summary
        self.rollback = run.plan.rollback?.summary
        self.reasons = run.plan.reasons
        self.entries = run.entries.map {
            Entry(time: $0.time.iso8601, state: $0.state.rawValue, actor: $0.actor, what: $0.what)
        }
    }
}

/// An audit record as the API shows it (and `vigil remediate audit` reads it).
public struct AuditRecordJSON: Codable, Sendable {
    public var time, run, incident, runbook, service, state, actor, what: String

    init(_ record: AuditRecord) {
        self.time = record.time.iso8601
        self.run = record.run
        self.incident = record.incident
        self.runbook = record.runbook
        self.service = record.service
        self.state = record.state
        self.actor = record.actor
        self.what = record.what
    }
}
