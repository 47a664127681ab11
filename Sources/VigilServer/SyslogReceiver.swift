// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Logging
import NIOCore
import NIOPosix
import Synchronization
import VigilCore
import VigilIngest
import VigilStorage

/// syslog over UDP (one message per datagram) and TCP (RFC 6587 octet counting or one message per line),
/// RFC 5424 and RFC 3164. Messages are gathered for up to 50 ms and handed to the pipeline in one batch.
/// Messages that arrive while 100,000 are already waiting are counted as rejected (syslog has no way to say
/// "slow down" over UDP).
final class SyslogReceiver: Sendable {
    static let maximumWaiting = 100_000

    let pipeline: Pipeline
    let logger: Logger
    private let waiting = Mutex<[(StreamKey, LogEntry)]>([])

    init(pipeline: Pipeline, logger: Logger) {
        self.pipeline = pipeline
        self.logger = logger
    }

    /// Takes one message (any thread).
    func receive(_ message: some Collection<UInt8>) {
        let decoded = SyslogMessage.decode(message, now: Clock.now())
        let accepted = self.waiting.withLock { waiting in
            guard waiting.count < Self.maximumWaiting else { return false }
            waiting.append(decoded)
            return true
        }
        if !accepted { self.pipeline.counters.rejected(logs: 1) }
    }

    /// Listens on the configured addresses until cancelled.
    func run(udp: ServerConfiguration.Address?, tcp: ServerConfiguration.Address?) async {
        var channels: [any Channel] = []
        do {
            if let udp {
                let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .channelOption(.socketOption(.so_reuseaddr), value: 1)
                    .channelOption(
                        ChannelOptions.recvAllocator,
                        value: FixedSizeRecvByteBufferAllocator(capacity: 65_536)
                    )
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(DatagramHandler(receiver: self))
                        }
                    }
                    .bind(host: udp.host, port: udp.port).get()
                channels.append(channel)
                self.logger.info("syslog: listening on udp://\(udp.host):\(channel.localAddress?.port ?? udp.port)")
            }
            if let tcp {
                let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(StreamHandler(receiver: self))
                        }
                    }
                    .bind(host: tcp.host, port: tcp.port).get()
                channels.append(channel)
                self.logger.info("syslog: listening on tcp://\(tcp.host):\(channel.localAddress?.port ?? tcp.port)")
            }
        } catch {
            self.logger.error("syslog: cannot listen: \(error)")
        }
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(50))
            await self.flush()
        }
        for channel in channels { try? await channel.close() }
        await self.flush()
    }

    /// Hands what has gathered to the pipeline, grouped by stream, waiting while the pipeline is full.
    func flush() async {
        let taken = self.waiting.withLock { waiting in
            defer { waiting = [] }
            return waiting
        }
        guard !taken.isEmpty else { return }
        var order: [StreamKey] = []
        var byStream: [StreamKey: [LogEntry]] = [:]
        for (key, entry) in taken {
            if byStream[key] == nil { order.append(key) }
            byStream[key, default: []].append(entry)
        }
        await self.pipeline.submitWaiting(.logs(order.map { LogBatch(stream: $0, entries: byStream[$0]!) }))
    }
}

/// One datagram, one message.
private final class DatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let receiver: SyslogReceiver

    init(receiver: SyslogReceiver) { self.receiver = receiver }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = self.unwrapInboundIn(data)
        self.receiver.receive(envelope.data.readableBytesView)
    }
}

/// A TCP connection: bytes gather until whole frames can be cut; a broken frame closes the connection.
private final class StreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let receiver: SyslogReceiver
    var buffer: [UInt8] = []

    init(receiver: SyslogReceiver) { self.receiver = receiver }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.buffer += self.unwrapInboundIn(data).readableBytesView
        do {
            let (messages, used) = try SyslogMessage.frames(self.buffer)
            for message in messages { self.receiver.receive(message) }
            self.buffer.removeFirst(used)
        } catch {
            self.receiver.logger.warning("syslog: closing a TCP connection: \(error.message)")
            self.receiver.pipeline.counters.rejected(logs: 1)
            self.buffer = []
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A last line without a newline is still a message.
        if !self.buffer.isEmpty, !self.buffer.allSatisfy({ $0 == 0x0A || $0 == 0x0D }) {
            self.receiver.receive(self.buffer)
        }
        self.buffer = []
        context.fireChannelInactive()
    }
}
