// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

public import VigilCore
public import VigilStorage

/// Runs what the core's remediation policy decides, and nothing more: it plans a run for each open incident a
/// runbook fits, holds the runs waiting for approval, performs the actions a run asks for through an
/// ``ActionExecutor``, and writes every step to the audit log.
public actor Remediator {
    public nonisolated let runbooks: [Runbook]
    public nonisolated let policy: RemediationPolicy
    let executor: any ActionExecutor
    let store: (any Store)?

    private var runs: [String: RemediationRun] = [:]
    /// Run IDs, oldest first.
    private var order: [String] = []
    /// Actions runs asked for that nobody has performed yet.
    private var pending: [(run: String, instruction: RemediationRun.Instruction)] = []
    /// Runs that acted or waited to, for the rate limit and the cool-down (restored from the audit log).
    private var history: [RemediationPolicy.PastRun] = []
    /// `incident|service` pairs that already have a run (restored from the audit log).
    private var planned: Set<String> = []
    /// Per run, how many of its entries are in the audit log.
    private var written: [String: Int] = [:]

    /// Runs kept in memory; the audit log keeps them all.
    static let keptRuns = 1_000

    /// A remediator; with a store, the guardrails' history is read back from its audit log, runs waiting for
    /// approval are taken back, and runs the last process left in the middle of an action are recorded as failed,
    /// for a person to check (see ``catchUp(now:)``). A store shared by workers holds the leader's runs too: those
    /// are left for ``catchUp(now:)`` on taking the lead.
    public init(
        runbooks: [Runbook],
        policy: RemediationPolicy,
        executor: any ActionExecutor,
        store: (any Store)?,
        now: Timestamp
    ) throws {
        self.runbooks = runbooks
        self.policy = policy
        self.executor = executor
        self.store = store
        guard let store, !(store is any SharedStore) else { return }
        let found = try Self.readBack(store, holding: [:], now: now)
        self.planned = found.planned
        self.history = found.history
        try store.appendAudit(found.failed)
        for run in found.taken {
            self.runs[run.id] = run
            self.order.append(run.id)
            self.written[run.id] = run.entries.count
        }
    }

    /// Reads the guardrails' history back from the store's audit log, which workers sharing a store share: what
    /// was planned and what acted, so no incident gets a second run and the rate limits count every run. Saved runs
    /// waiting for approval that this remediator does not hold are taken back, to be approved here, and its own
    /// waiting runs that were decided elsewhere meanwhile are dropped. Other runs the log shows unfinished were left
    /// in the middle of an action by a server that stopped, or by a worker that led before this one: they are
    /// recorded as failed, for a person to check. Call it on taking the lead.
    public func catchUp(now: Timestamp) throws {
        guard let store = self.store else { return }
        let found = try Self.readBack(store, holding: self.runs, now: now)
        self.planned.formUnion(found.planned)
        let key = { (run: RemediationPolicy.PastRun) in "\(run.runbook)|\(run.service)|\(run.started.nanoseconds)" }
        let known = Set(self.history.map(key))
        self.history += found.history.filter { !known.contains(key($0)) }
        try store.appendAudit(found.failed)
        // A run this remediator held waiting, and wrote, that the store no longer shows waiting was decided by the
        // worker that led meanwhile: its copy here is stale, and approving it would run it twice.
        for (id, run) in self.runs
        where run.state == .awaitingApproval && !found.waiting.contains(id) && self.written[id] == run.entries.count {
            self.runs[id] = nil
            self.written[id] = nil
            self.order.removeAll { $0 == id }
        }
        for run in found.taken {
            self.runs[run.id] = run
            self.order.append(run.id)
            self.written[run.id] = run.entries.count
        }
    }

    /// What a store holds of remediation: the saved runs waiting for approval, those not in `held` apart; what the
    /// audit log says was planned and acted; and failure records for the runs it shows unfinished that are neither
    /// held nor waiting.
    private static func readBack(
        _ store: any Store,
        holding held: [String: RemediationRun],
        now: Timestamp
    ) throws -> (
        waiting: Set<String>,
        taken: [RemediationRun],
        planned: Set<String>,
        history: [RemediationPolicy.PastRun],
        failed: [AuditRecord]
    ) {
        let saved = try store.savedRuns(in: .awaitingApproval)
        let waiting = Set(saved.map(\.id))
        var planned: Set<String> = []
        var latest: [String: AuditRecord] = [:]
        var started: [String: AuditRecord] = [:]
        for record in try store.audit(run: nil, limit: 100_000).reversed() {
            planned.insert("\(record.incident)|\(record.service)")
            latest[record.run] = record
            if started[record.run] == nil && ["awaiting_approval", "running"].contains(record.state) {
                started[record.run] = record
            }
        }
        let history = started.values.map {
            RemediationPolicy.PastRun(runbook: $0.runbook, service: $0.service, started: $0.time)
        }
        let unfinished = latest.values.filter {
            held[$0.run] == nil && !waiting.contains($0.run)
                && (RemediationRun.State(rawValue: $0.state).map { !$0.isFinal } ?? false)
        }
        let failed = unfinished.sorted { $0.run < $1.run }.map {
            var record = $0
            record.time = now
            record.state = RemediationRun.State.failed.rawValue
            record.actor = "vigil"
            record.what =
                "the server running it stopped, or lost the lead, while the run was \($0.state): a person must check what it left"
            return record
        }
        return (waiting, saved.filter { held[$0.id] == nil }, planned, history, failed)
    }

    // MARK: - Planning and approval

    /// Plans and starts a run for every open incident that a runbook fits and that has no run for its root cause
    /// yet. Unattended runs queue their first action; the rest wait or are only shown.
    public func consider(_ incidents: [Incident], now: Timestamp) {
        guard !self.runbooks.isEmpty else { return }
        for incident in incidents.reversed() where incident.status == .open {
            guard let root = incident.rootCauses.first?.service, !self.planned.contains("\(incident.id)|\(root)"),
                let plan = self.policy.plan(for: incident, runbooks: self.runbooks, history: self.history, now: now)
            else { continue }
            self.planned.insert("\(incident.id)|\(root)")
            let id = "run-" + Template.id(for: "\(incident.id)|\(plan.runbook)|\(root)")
            var run = RemediationRun(id: id, plan: plan, at: now)
            let instruction = run.start(at: now)
            if plan.mode == .awaitApproval || plan.mode == .runUnattended {
                self.history.append(.init(runbook: plan.runbook, service: root, started: now))
            }
            self.runs[id] = run
            self.order.append(id)
            self.queue(id, instruction)
        }
        if self.order.count > Self.keptRuns {
            for id in self.order.prefix(self.order.count - Self.keptRuns) where self.runs[id]?.isFinished ?? true {
                self.runs[id] = nil
                self.written[id] = nil
            }
            self.order.removeAll { self.runs[$0] == nil }
        }
    }

    /// Approves a run waiting for approval; its first step is queued.
    public func approve(_ id: String, by person: String, now: Timestamp) throws(RemediationError) -> RemediationRun {
        try self.decide(id, .approved(by: person), person: person, now: now)
    }

    /// Rejects a run waiting for approval.
    public func reject(
        _ id: String,
        by person: String,
        reason: String,
        now: Timestamp
    ) throws(RemediationError) -> RemediationRun {
        try self.decide(id, .rejected(by: person, reason: reason), person: person, now: now)
    }

    private func decide(
        _ id: String,
        _ event: RemediationRun.Event,
        person: String,
        now: Timestamp
    ) throws(RemediationError) -> RemediationRun {
        guard person.contains(where: { !$0.isWhitespace }) else { throw .anonymous }
        guard var run = self.runs[id] else { throw .unknownRun(id) }
        guard run.state == .awaitingApproval else { throw .notAwaitingApproval(id, run.state) }
        let instruction = run.handle(event, at: now)
        self.runs[id] = run
        self.queue(id, instruction)
        return run
    }

    /// Runs, newest first.
    public func runs(limit: Int = 100) -> [RemediationRun] {
        self.order.suffix(limit).reversed().compactMap { self.runs[$0] }
    }

    /// One run.
    public func run(_ id: String) -> RemediationRun? { self.runs[id] }

    // MARK: - Acting

    /// Considers the incidents every `interval`, performs the actions runs ask for (each in its own child task, so
    /// a slow check never holds up another run), and writes the audit log. Returns when cancelled.
    /// `acting` says whether this server may act (with workers sharing a store, whether it leads): when it starts to
    /// act again, the remediator first catches up with the audit log the others wrote.
    public func run(
        incidents: @escaping @Sendable () -> [Incident],
        acting: @escaping @Sendable () -> Bool = { true },
        now: @escaping @Sendable () -> Timestamp,
        every interval: Duration = .seconds(1),
        onError: @escaping @Sendable (String) -> Void
    ) async {
        // The initialiser caught up already, unless other workers share the store.
        var caughtUp = !(self.store is any SharedStore)
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                if !acting() {
                    caughtUp = false
                } else if !caughtUp {
                    do {
                        try self.catchUp(now: now())
                        caughtUp = true
                    } catch {
                        onError("reading the audit log on taking the lead failed (will retry): \(error)")
                    }
                }
                self.consider(caughtUp && acting() ? incidents() : [], now: now())
                for (id, first) in self.takePending() {
                    // One child task carries a run from this action to its last, without waiting for a tick.
                    group.addTask {
                        var instruction = first
                        while instruction != .none && !Task.isCancelled {
                            let result = await self.perform(instruction)
                            instruction = await self.finish(id, result, now: now())
                        }
                    }
                }
                if let failure = self.flushAudit() { onError(failure) }
                try? await Task.sleep(for: interval)
            }
            group.cancelAll()
        }
        if let failure = self.flushAudit() { onError(failure) }
    }

    /// Performs one instruction: a dry-run step is reported, not performed; a check waits its delay first.
    nonisolated func perform(_ instruction: RemediationRun.Instruction) async -> ActionResult {
        switch instruction {
        case .none:
            return ActionResult(succeeded: true, detail: "nothing to do")
        case .execute(let action, let isDryRun):
            if isDryRun { return ActionResult(succeeded: true, detail: "dry run: \(action.summary) not performed") }
            return await self.executor.perform(action)
        case .verify(let action, let delay):
            try? await Task.sleep(for: .seconds(delay))
            return await self.executor.perform(action)
        case .rollBack(let action):
            return await self.executor.perform(action)
        }
    }

    /// Hands a finished action's result to its run and returns what the run asks for next.
    func finish(_ id: String, _ result: ActionResult, now: Timestamp) -> RemediationRun.Instruction {
        guard var run = self.runs[id] else { return .none }
        let next = run.handle(.finished(succeeded: result.succeeded, detail: result.detail), at: now)
        self.runs[id] = run
        _ = self.flushAudit()
        return next
    }

    func takePending() -> [(run: String, instruction: RemediationRun.Instruction)] {
        defer { self.pending.removeAll() }
        return self.pending
    }

    private func queue(_ id: String, _ instruction: RemediationRun.Instruction) {
        if instruction != .none { self.pending.append((id, instruction)) }
    }

    /// Writes the entries not yet in the audit log; a failure leaves them for the next call and is returned.
    @discardableResult
    func flushAudit() -> String? {
        guard let store = self.store else { return nil }
        var records: [AuditRecord] = []
        var counts: [String: Int] = [:]
        for id in self.order {
            guard let run = self.runs[id] else { continue }
            let done = self.written[id] ?? 0
            guard run.entries.count > done else { continue }
            counts[id] = run.entries.count
            records += run.entries[done...].map {
                AuditRecord(
                    time: $0.time,
                    run: id,
                    incident: run.plan.incident,
                    runbook: run.plan.runbook,
                    service: run.plan.service,
                    state: $0.state.rawValue,
                    actor: $0.actor,
                    what: $0.what
                )
            }
        }
        guard !records.isEmpty else { return nil }
        do {
            // The runs first: saving one again changes nothing, and the audit log is appended once.
            try store.saveRuns(counts.keys.sorted().compactMap { self.runs[$0] })
            try store.appendAudit(records)
            self.written.merge(counts) { $1 }
            return nil
        } catch {
            return "remediation audit log: \(error) (kept, retried)"
        }
    }
}

/// An approval or rejection that cannot be taken.
public enum RemediationError: Error, Equatable, CustomStringConvertible {
    case unknownRun(String)
    case notAwaitingApproval(String, RemediationRun.State)
    case anonymous

    public var description: String {
        switch self {
        case .unknownRun(let id): "no remediation run \(id)"
        case .notAwaitingApproval(let id, let state): "run \(id) is \(state.rawValue), not awaiting approval"
        case .anonymous: "say who approves or rejects (by): the audit log names a person"
        }
    }
}
