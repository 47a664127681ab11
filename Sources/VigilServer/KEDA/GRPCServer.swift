// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import VigilCore

/// A small gRPC server for unary and server-streaming calls over plaintext HTTP/2 (h2c with prior knowledge, as KEDA's external scaler
/// client speaks by default): one request message in, one response message or a status out. Requests are bounded,
/// compressed messages are refused, and a method it does not know answers UNIMPLEMENTED.
struct GRPCServer: Sendable {
    /// Answers a call: the method (`/package.Service/Method`) and the request message.
    typealias Handler = @Sendable (_ path: String, _ request: [UInt8]) async -> ExternalScaler.Answer

    let host: String
    let port: Int
    let handler: Handler
    /// The largest request message accepted.
    static let maximumMessageBytes = 1 << 20

    /// Binds the port; the channel serves until ``serve(_:)`` is cancelled.
    func bind() async throws -> any Channel {
        let handler = self.handler
        return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.configureHTTP2Pipeline(mode: .server) { stream in
                    stream.eventLoop.makeCompletedFuture {
                        try stream.pipeline.syncOperations.addHandlers([
                            HTTP2FramePayloadToHTTP1ServerCodec(), GRPCCallHandler(handler: handler),
                        ])
                    }
                }.map { _ in () }
            }
            .bind(host: self.host, port: self.port)
            .get()
    }

    /// Serves on a bound channel until the task is cancelled, then closes it.
    static func serve(_ channel: any Channel) async {
        await withTaskCancellationHandler {
            try? await channel.closeFuture.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }
}

/// One HTTP/2 stream: collects the request, calls the handler, writes the response and the status trailers.
final class GRPCCallHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let handler: GRPCServer.Handler
    private var path = ""
    private var refusal: (code: Int, message: String)?
    private var body = ByteBuffer()
    /// The task feeding a server-streaming answer, cancelled when the stream closes.
    private var streaming: Task<Void, Never>?

    init(handler: @escaping GRPCServer.Handler) {
        self.handler = handler
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.path = head.uri
            let type = head.headers.first(name: "content-type") ?? ""
            if head.method != .POST || !type.hasPrefix("application/grpc") {
                self.refusal = (12, "only gRPC (POST, application/grpc) is served here")
            }
        case .body(var buffer):
            if self.body.readableBytes + buffer.readableBytes > GRPCServer.maximumMessageBytes + 5 {
                self.refusal = (8, "the request is larger than \(GRPCServer.maximumMessageBytes) bytes")
                self.body.clear()
            } else if self.refusal == nil {
                self.body.writeBuffer(&buffer)
            }
        case .end:
            self.respond(context: context)
        }
    }

    private func respond(context: ChannelHandlerContext) {
        if let refusal = self.refusal {
            self.finish(context: context, message: nil, code: refusal.code, text: refusal.message)
            return
        }
        // One length-prefixed message: a compression flag, a 4-byte length, the bytes.
        guard let flag = self.body.readInteger(as: UInt8.self), let length = self.body.readInteger(as: UInt32.self),
            Int(length) == self.body.readableBytes, let request = self.body.readBytes(length: Int(length))
        else {
            self.finish(context: context, message: nil, code: 13, text: "expected one length-prefixed gRPC message")
            return
        }
        guard flag == 0 else {
            self.finish(context: context, message: nil, code: 12, text: "compressed messages are not supported")
            return
        }
        let path = self.path
        let handler = self.handler
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.makeFutureWithTask { await handler(path, request) }.whenComplete { result in
            let (this, context) = bound.value
            switch result {
            case .success(.message(let bytes)): this.finish(context: context, message: bytes, code: 0, text: nil)
            case .success(.stream(let messages)): this.stream(messages, context: context)
            case .success(.failure(let code, let message)):
                this.finish(context: context, message: nil, code: code, text: message)
            case .failure(let error): this.finish(context: context, message: nil, code: 13, text: "\(error)")
            }
        }
    }

    /// A server-streaming answer: the headers now, each message as it comes, the trailers when the stream ends; the
    /// stream is cancelled when the client goes away.
    private func stream(_ messages: AsyncStream<[UInt8]>, context: ChannelHandlerContext) {
        context.writeAndFlush(self.wrapOutboundOut(.head(Self.responseHead)), promise: nil)
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        self.streaming = Self.feed(messages, loop: loop, bound: bound)
    }

    /// Writes each message of `messages` on the stream's event loop, then the trailers.
    private static func feed(
        _ messages: AsyncStream<[UInt8]>,
        loop: any EventLoop,
        bound: NIOLoopBound<(GRPCCallHandler, ChannelHandlerContext)>
    ) -> Task<Void, Never> {
        Task {
            for await message in messages {
                loop.execute {
                    let (this, context) = bound.value
                    context.writeAndFlush(
                        this.wrapOutboundOut(.body(.byteBuffer(Self.frame(message, context)))),
                        promise: nil
                    )
                }
            }
            loop.execute {
                let (this, context) = bound.value
                var trailers = HTTPHeaders()
                trailers.add(name: "grpc-status", value: "0")
                context.writeAndFlush(this.wrapOutboundOut(.end(trailers)), promise: nil)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.streaming?.cancel()
        self.streaming = nil
        context.fireChannelInactive()
    }

    static let responseHead: HTTPResponseHead = {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/grpc")
        return HTTPResponseHead(version: .http2, status: .ok, headers: headers)
    }()

    /// One length-prefixed message.
    static func frame(_ message: [UInt8], _ context: ChannelHandlerContext) -> ByteBuffer {
        var frame = context.channel.allocator.buffer(capacity: message.count + 5)
        frame.writeInteger(UInt8(0))
        frame.writeInteger(UInt32(message.count))
        frame.writeBytes(message)
        return frame
    }

    /// Writes the response headers, the message if any, and the trailers with the status.
    private func finish(context: ChannelHandlerContext, message: [UInt8]?, code: Int, text: String?) {
        context.write(self.wrapOutboundOut(.head(Self.responseHead)), promise: nil)
        if let message {
            context.write(self.wrapOutboundOut(.body(.byteBuffer(Self.frame(message, context)))), promise: nil)
        }
        var trailers = HTTPHeaders()
        trailers.add(name: "grpc-status", value: String(code))
        // `grpc-message` is percent-encoded: printable ASCII except `%` stays.
        if let text {
            let message = TextEscaping.percentEncoded(text) { $0 >= 0x20 && $0 <= 0x7E && $0 != 0x25 }
            trailers.add(name: "grpc-message", value: message)
        }
        context.writeAndFlush(self.wrapOutboundOut(.end(trailers)), promise: nil)
    }
}
