// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Glibc
import Hummingbird
public import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import UnixSignals
import VigilCore
import VigilIngest
import VigilRemediation
import VigilStorage

/// `vigil serve`: the HTTP server and the pipeline with its clocks (ticks, checkpoints, retention), host
/// monitoring and file tailing, shut down gracefully on SIGTERM or SIGINT: stop accepting, drain, checkpoint.
public struct VigilServer: Sendable {
    let configuration: ServerConfiguration
    let logger: Logger

    /// Creates a server.
    public init(configuration: ServerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs until SIGTERM or SIGINT.
    public func run() async throws {
        let started = ContinuousClock.now
        let metrics = ServerMetrics()
        let pipeline = try Pipeline(configuration: self.configuration, logger: self.logger, metrics: metrics)
        self.logger.info(
            "recovered \(VigilCore.Format.count(pipeline.recoveredRecords, "write-ahead log record")) in \(ContinuousClock.now - started)"
        )
        do {
            try await self.run(pipeline, metrics: metrics)
        } catch {
            // A start that fails once the log is open (a bad runbook file, a port in use) still closes it. Only
            // the log: the shards may never have run, and a checkpoint would wait for them forever; a pipeline
            // that did run was already shut down by the engine (closing twice is harmless).
            pipeline.wal.close()
            throw error
        }
    }

    /// Everything after the pipeline is open: remediation, the KEDA scaler, the HTTP API and the engine.
    private func run(_ pipeline: Pipeline, metrics: ServerMetrics) async throws {
        var remediator: Remediator?
        if let settings = self.configuration.remediation {
            remediator = try Self.remediator(settings, store: pipeline.store)
            self.logger.info(
                "\(VigilCore.Format.count(remediator?.runbooks.count ?? 0, "runbook")) from \(settings.runbooksPath), at most at level \(settings.maximumLevel.name)\(settings.isDryRun ? ", dry run" : "")"
            )
        }
        var scalerChannel: (any Channel)?
        if let address = self.configuration.kedaAddress {
            let scaler = ExternalScaler(store: pipeline.store, now: { Clock.now() })
            let server = GRPCServer(
                host: address.host,
                port: address.port,
                handler: { path, request in
                    let prefix = "/externalscaler.ExternalScaler/"
                    guard path.hasPrefix(prefix) else {
                        return .failure(code: ExternalScaler.unimplemented, message: "unknown service \(path)")
                    }
                    return scaler.call(String(path.dropFirst(prefix.count)), request)
                }
            )
            do {
                scalerChannel = try await server.bind()
            } catch {
                throw ServerConfiguration.FileError(
                    description: "keda_grpc \(address.host):\(address.port): cannot listen: \(error)"
                )
            }
            self.logger.info(
                "KEDA external scaler (gRPC) on \(address.host):\(scalerChannel?.localAddress?.port ?? address.port)"
            )
        }
        let api = HTTPAPI(pipeline: pipeline, metrics: metrics, remediator: remediator)
        let engine = EngineService(
            pipeline: pipeline,
            configuration: self.configuration,
            logger: self.logger,
            remediator: remediator,
            scalerChannel: scalerChannel
        )
        let host = self.configuration.host
        let port = self.configuration.port
        let logger = self.logger
        let app = Application(
            router: api.router(),
            configuration: .init(address: .hostname(host, port: port), serverName: "vigil"),
            services: [engine],
            onServerRunning: { _ in
                logger.info(
                    "vigil is listening on http://\(host):\(port) (data in \(pipeline.configuration.dataDirectory))"
                )
            },
            logger: self.logger
        )
        // A shutdown that hangs (a request or a store call that never returns) must not keep the process alive:
        // accepted data is already in the write-ahead log, so after `shutdownSeconds` the services are cancelled,
        // and a service that ignores cancellation ends the process `cancellationSeconds` later.
        var group = ServiceGroupConfiguration(
            services: [.init(service: app)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: self.logger
        )
        group.maximumGracefulShutdownDuration = .seconds(Self.shutdownSeconds)
        group.maximumCancellationDuration = .seconds(Self.cancellationSeconds)
        try await ServiceGroup(configuration: group).run()
    }

    /// How long a graceful shutdown may take before the services are cancelled …
    static let shutdownSeconds = 30
    /// … and how long cancelled services may take before the process ends regardless.
    static let cancellationSeconds = 10
}

extension VigilServer {
    /// The remediator of `settings`: its runbook file read and checked (a mistake stops the start, naming it).
    static func remediator(_ settings: ServerConfiguration.Remediation, store: any Store) throws -> Remediator {
        guard let bytes = FileManager.default.contents(atPath: settings.runbooksPath) else {
            throw RunbookFile.Failure(description: "\(settings.runbooksPath): cannot read the runbook file")
        }
        let runbooks = try RunbookFile.runbooks(
            yaml: String(decoding: bytes, as: UTF8.self),
            source: settings.runbooksPath
        )
        return try Remediator(
            runbooks: runbooks,
            policy: RemediationPolicy(maximumLevel: settings.maximumLevel, isDryRun: settings.isDryRun),
            executor: SystemExecutor(timeoutSeconds: settings.actionTimeoutSeconds),
            store: store,
            now: Clock.now()
        )
    }
}

/// The pipeline's own service: shard tasks plus the periodic jobs. On graceful shutdown (after the HTTP server
/// has stopped) it drains the log, takes a final checkpoint and stops the shards.
struct EngineService: Service {
    let pipeline: Pipeline
    let configuration: ServerConfiguration
    let logger: Logger
    let remediator: Remediator?
    /// The bound gRPC port of KEDA's external scaler, served until shutdown.
    let scalerChannel: (any Channel)?

    func run() async throws {
        self.pipeline.ready.store(true, ordering: .relaxed)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.pipeline.runWorkers() }
            let periodic = Task {
                await withTaskGroup(of: Void.self) { jobs in
                    jobs.addTask { await self.every(1) { self.pipeline.tick(Clock.now()) } }
                    if let shared = self.pipeline.store as? any SharedStore {
                        jobs.addTask { await self.followOtherWorkers(shared) }
                    }
                    if self.pipeline.incidents.notifies {
                        jobs.addTask {
                            await self.everyRoundActing { started in
                                await self.pipeline.incidents.notify(reload: started) { message in
                                    self.logger.warning("\(message)")
                                }
                            }
                        }
                    }
                    if let channel = self.scalerChannel {
                        jobs.addTask { await GRPCServer.serve(channel) }
                    }
                    if let remediator = self.remediator, !self.pipeline.incidents.webhooks.isEmpty {
                        let notifier = RemediationNotifier(
                            remediator: remediator,
                            webhooks: self.pipeline.incidents.webhooks,
                            store: self.pipeline.store,
                            slackButtons: self.pipeline.configuration.remediation?.slackSigningSecret != nil
                        )
                        jobs.addTask {
                            await self.everyRoundActing { started in
                                await notifier.notify(reload: started) { message in self.logger.warning("\(message)") }
                            }
                        }
                    }
                    if let remediator = self.remediator {
                        let pipeline = self.pipeline
                        let logger = self.logger
                        jobs.addTask {
                            await remediator.run(
                                incidents: { pipeline.incidents.incidents() },
                                acting: { pipeline.mayAct },
                                now: { Clock.now() },
                                every: .seconds(2),
                                onError: { message in logger.warning("\(message)") }
                            )
                        }
                    }
                    jobs.addTask {
                        await self.every(self.configuration.checkpointSeconds) {
                            do { try await self.pipeline.checkpoint() } catch {
                                self.logger.error("checkpoint failed: \(error)")
                            }
                        }
                    }
                    jobs.addTask {
                        await self.every(3600) {
                            do { try self.pipeline.store.applyRetention(now: Clock.now()) } catch {
                                self.logger.error("retention failed: \(error)")
                            }
                        }
                    }
                    if self.configuration.monitorHost {
                        let monitor = HostMonitor(
                            pipeline: self.pipeline,
                            sampleSeconds: self.configuration.hostSampleSeconds,
                            logger: self.logger
                        )
                        jobs.addTask { await monitor.runMetrics() }
                        jobs.addTask { await monitor.runSystemLog() }
                    }
                    if self.configuration.syslogUDP != nil || self.configuration.syslogTCP != nil {
                        let receiver = SyslogReceiver(pipeline: self.pipeline, logger: self.logger)
                        jobs.addTask {
                            await receiver.run(udp: self.configuration.syslogUDP, tcp: self.configuration.syslogTCP)
                        }
                    }
                    if let pull = self.configuration.prometheusPull {
                        let poller = PrometheusPoller(settings: pull, pipeline: self.pipeline, logger: self.logger)
                        jobs.addTask { await poller.run() }
                    }
                    if let path = self.configuration.kubernetesEvents {
                        jobs.addTask { await self.followKubernetesEvents(path) }
                    }
                    if self.configuration.tailPatterns.contains("-") {
                        jobs.addTask { await self.followStandardInput() }
                    }
                    let patterns = self.configuration.tailPatterns.filter { $0 != "-" }
                    if !patterns.isEmpty {
                        var tailer = FileTailer(patterns: patterns)
                        jobs.addTask {
                            while !Task.isCancelled {
                                let batches = tailer.poll(now: Clock.now())
                                if !batches.isEmpty { await self.pipeline.submitWaiting(.logs(batches)) }
                                try? await Task.sleep(for: .milliseconds(250))
                            }
                        }
                    }
                }
            }
            try? await gracefulShutdown()
            periodic.cancel()
            await periodic.value
            self.logger.info("shutting down: draining the pipeline and writing a checkpoint")
            await self.pipeline.shutdown()
            await group.waitForAll()
            self.logger.info("stopped cleanly")
        }
    }

    /// `--k8s-events PATH`: Kubernetes events as `kubectl get events -w -o json` writes them (a pipe, a FIFO
    /// or a file; `-` is standard input), turned into change events as they arrive.
    private func followKubernetesEvents(_ path: String) async {
        let descriptor = path == "-" ? 0 : open(path, O_RDONLY | O_NONBLOCK)
        guard descriptor >= 0 else {
            self.logger.error("--k8s-events: cannot open \(path)")
            return
        }
        var follower = LineFollower(descriptor: descriptor)
        var splitter = JSONObjectSplitter()
        while !Task.isCancelled {
            let (lines, endOfFile) = follower.readLines()
            var events: [ChangeEvent] = []
            for line in lines {
                do {
                    for object in try splitter.feed(line + [0x0A]) {
                        guard let document = try? JSONParser.parse(object) else {
                            self.pipeline.counters.rejected(changes: 1)
                            continue
                        }
                        for item in document["items"]?.array ?? [document] {
                            if let event = ChangeWebhooks.kubernetes(item) { events.append(event) }
                        }
                    }
                } catch {
                    self.logger.warning("--k8s-events: \(error.message); skipping to the next object")
                    splitter = JSONObjectSplitter()
                }
            }
            if !events.isEmpty { await self.pipeline.submitWaiting(.changes(events)) }
            if endOfFile {
                self.logger.info("--k8s-events: \(path) ended")
                return
            }
            try? await Task.sleep(for: .milliseconds(lines.isEmpty ? 200 : 1))
        }
    }

    /// `--tail -`: lines from standard input, as the stream `stdin/stdin`, until it closes.
    private func followStandardInput() async {
        var follower = LineFollower(descriptor: 0)
        let key = StreamKey(service: "stdin", source: "stdin")
        while !Task.isCancelled {
            let (lines, endOfFile) = follower.readLines()
            var all = lines
            if endOfFile, let rest = follower.takePartial() { all.append(rest) }
            if !all.isEmpty {
                let now = Clock.now()
                await self.pipeline.submitWaiting(
                    .logs([LogBatch(stream: key, entries: all.map { LogEntry(time: now, line: $0) })])
                )
            }
            if endOfFile {
                self.logger.info("standard input closed")
                return
            }
            try? await Task.sleep(for: .milliseconds(lines.isEmpty ? 200 : 1))
        }
    }

    /// With a shared store: every 2 s, takes what the other workers stored into this server's incidents, and takes
    /// or keeps the lead.
    private func followOtherWorkers(_ store: any SharedStore) async {
        let cursor = Mutex<Int64?>(nil)
        let leading = Mutex(false)
        await self.every(2) {
            var leads = false
            defer {
                self.pipeline.leadConfirmed.store(leads ? Pipeline.uptimeNanoseconds() : 0, ordering: .relaxed)
                let before = leading.withLock { state in
                    defer { state = leads }
                    return state
                }
                if before != leads {
                    self.logger.notice(
                        leads
                            ? "this worker now leads: it sends incident notifications and remediates"
                            : "this worker no longer leads"
                    )
                }
            }
            do {
                let (batch, next) = try store.written(after: cursor.withLock { $0 })
                cursor.withLock { $0 = next }
                self.pipeline.incidents.observe(batch)
                leads = try store.lead()
            } catch {
                self.logger.error("reading the other workers' findings failed: \(error)")
            }
        }
    }

    /// Runs `job` every 2 s while this server may act (with workers sharing a store, while it leads), telling it
    /// when it has just started to act: at start, and on taking the lead, when what was announced is read again.
    private func everyRoundActing(_ job: (_ started: Bool) async -> Void) async {
        let acting = Mutex(false)
        await self.every(2) {
            let mayAct = self.pipeline.mayAct
            let started = acting.withLock { state in
                defer { state = mayAct }
                return mayAct && !state
            }
            guard mayAct else { return }
            await job(started)
        }
    }

    private func every(_ seconds: Double, _ job: () async -> Void) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: .seconds(seconds)) } catch { return }
            await job()
        }
    }
}
