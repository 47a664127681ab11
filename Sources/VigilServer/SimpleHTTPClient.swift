// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Dispatch
import Glibc

/// A blocking HTTP/1.1 client over one keep-alive TCP connection: enough for the load generator and tests,
/// with no dependency and no hidden buffering (each call is one request and its whole response).
public final class SimpleHTTPClient {
    /// A response.
    public struct Response: Sendable {
        /// The status code.
        public var status: Int
        /// Header fields, names lower-cased.
        public var headers: [String: String]
        /// The body.
        public var body: [UInt8]

        /// The body as text.
        public var text: String { String(decoding: self.body, as: UTF8.self) }

        /// A header field's value, whatever the case of `name`.
        public func header(_ name: String) -> String? { self.headers[name.lowercased()] }
    }

    /// A connection or protocol failure.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong.
        public let description: String
    }

    private let host: String
    private let port: Int
    private let timeoutSeconds: Int?
    private var descriptor: Int32 = -1
    private var buffer: [UInt8] = []

    /// Creates a client for `host:port` (an address or a name); it connects on first use. With a timeout, a
    /// connection, send or read that stalls that long fails.
    public init(host: String = "127.0.0.1", port: Int, timeoutSeconds: Int? = nil) {
        self.host = host
        self.port = port
        self.timeoutSeconds = timeoutSeconds
    }

    /// The host and port of an `http://HOST[:PORT][/…]` URL (`[…]` around an IPv6 address); nil for anything else.
    public static func hostAndPort(_ url: String) -> (host: String, port: Int)? {
        guard url.hasPrefix("http://") else { return nil }
        let authority = url.dropFirst(7).prefix { $0 != "/" && $0 != "?" }
        var host: Substring
        var rest: Substring
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            rest = authority[authority.index(after: close)...]
        } else {
            host = authority.prefix { $0 != ":" }
            rest = authority.dropFirst(host.count)
        }
        guard !host.isEmpty, !host.contains("@") else { return nil }
        var port = 80
        if !rest.isEmpty {
            guard rest.hasPrefix(":"), let number = Int(rest.dropFirst()), (1...65535).contains(number) else {
                return nil
            }
            port = number
        }
        return (host == "localhost" ? "127.0.0.1" : String(host), port)
    }

    /// Sends one request on a new connection, off the cooperative pool (the client blocks).
    public static func send(
        host: String,
        port: Int,
        _ method: String,
        _ path: String,
        headers: [(String, String)] = [],
        body: [UInt8] = [],
        timeoutSeconds: Int? = nil
    ) async -> Result<Response, any Error> {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    returning: Result {
                        try SimpleHTTPClient(host: host, port: port, timeoutSeconds: timeoutSeconds).request(
                            method,
                            path,
                            headers: headers,
                            body: body
                        )
                    }
                )
            }
        }
    }

    deinit { if self.descriptor >= 0 { close(self.descriptor) } }

    /// Sends one request and reads its response; reconnects once if the server closed the connection.
    public func request(
        _ method: String,
        _ path: String,
        headers: [(String, String)] = [],
        body: [UInt8] = []
    ) throws -> Response {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(self.host):\(self.port)\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        let request = Array(head.utf8) + body
        for attempt in 0..<2 {
            do {
                if self.descriptor < 0 { try self.connect() }
                try self.send(request)
                return try self.readResponse(to: method)
            } catch let failure as Failure {
                self.disconnect()
                if attempt == 1 { throw failure }
            }
        }
        throw Failure(description: "unreachable")
    }

    private func connect() throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(self.host, String(self.port), &hints, &found)
        guard status == 0, let first = found else {
            throw Failure(description: "cannot resolve \(self.host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(first) }
        var failure = "connect to \(self.host):\(self.port): no address"
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let entry = next {
            next = entry.pointee.ai_next
            let socket = Glibc.socket(entry.pointee.ai_family, entry.pointee.ai_socktype, entry.pointee.ai_protocol)
            guard socket >= 0 else { continue }
            if let seconds = self.timeoutSeconds {
                var limit = timeval(tv_sec: seconds, tv_usec: 0)
                for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
                    setsockopt(socket, SOL_SOCKET, option, &limit, socklen_t(MemoryLayout<timeval>.size))
                }
            }
            guard Glibc.connect(socket, entry.pointee.ai_addr, entry.pointee.ai_addrlen) == 0 else {
                failure = "connect to \(self.host):\(self.port): \(String(cString: strerror(errno)))"
                close(socket)
                continue
            }
            var one: Int32 = 1
            setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            self.descriptor = socket
            self.buffer.removeAll()
            return
        }
        throw Failure(description: failure)
    }

    private func disconnect() {
        if self.descriptor >= 0 { close(self.descriptor) }
        self.descriptor = -1
        self.buffer.removeAll()
    }

    private func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(self.descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "send: errno \(errno)")
            }
            offset += sent
        }
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(self.descriptor, $0.baseAddress, $0.count, 0) }
        if count < 0 && errno == EINTR { return }
        if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
            throw Failure(description: "no answer from \(self.host):\(self.port) within \(self.timeoutSeconds ?? 0) s")
        }
        guard count > 0 else { throw Failure(description: "connection closed") }
        self.buffer += chunk[0..<count]
    }

    /// Reads one response; one to HEAD, and a 204 or 304, has no body whatever its Content-Length says.
    private func readResponse(to method: String) throws -> Response {
        let separator: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        while headerEnd == nil {
            if let found = Self.find(separator, in: self.buffer) { headerEnd = found } else { try self.fill() }
        }
        let head = String(decoding: self.buffer[0..<headerEnd!], as: UTF8.self)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw Failure(description: "bad status line")
        }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingPrefix(" ").description
        }
        self.buffer.removeFirst(headerEnd! + 4)
        var body: [UInt8] = []
        if method == "HEAD" || status == 204 || status == 304 {
            // No body follows.
        } else if headers["transfer-encoding"]?.lowercased() == "chunked" {
            while true {
                var lineEnd: Int?
                while lineEnd == nil {
                    if let found = Self.find([13, 10], in: self.buffer) { lineEnd = found } else { try self.fill() }
                }
                let sizeText = String(decoding: self.buffer[0..<lineEnd!], as: UTF8.self)
                guard let size = Int(sizeText.split(separator: ";")[0], radix: 16) else {
                    throw Failure(description: "bad chunk size")
                }
                self.buffer.removeFirst(lineEnd! + 2)
                while self.buffer.count < size + 2 { try self.fill() }
                body += self.buffer[0..<size]
                self.buffer.removeFirst(size + 2)
                if size == 0 { break }
            }
        } else {
            let length = Int(headers["content-length"] ?? "0") ?? 0
            while self.buffer.count < length { try self.fill() }
            body = Array(self.buffer[0..<length])
            self.buffer.removeFirst(length)
        }
        if headers["connection"]?.lowercased() == "close" { self.disconnect() }
        return Response(status: status, headers: headers, body: body)
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for index in 0...(haystack.count - needle.count) where haystack[index] == needle[0] {
            if Array(haystack[index..<index + needle.count]) == needle { return index }
        }
        return nil
    }
}
