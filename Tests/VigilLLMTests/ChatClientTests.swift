// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Glibc
import Testing
import VigilCore

@testable import VigilLLM

/// The client's checks and failures that need no model; answers from a real llama.cpp server are checked in
/// Tests/VigilCLITests/AskTests.swift.
@Suite struct ChatClientTests {
    @Test(arguments: ["localhost:11434/v1", "ftp://127.0.0.1/v1", "not a url", "http:///v1"])
    func aURLThatIsNotHTTPIsRefusedUpFront(url: String) {
        #expect(throws: ChatClient.Failure.self) {
            try ChatClient(configuration: .init(baseURL: url, model: "llama3.2"))
        }
    }

    @Test func aModelMustBeNamed() {
        #expect(throws: ChatClient.Failure.self) {
            try ChatClient(configuration: .init(baseURL: "http://127.0.0.1:11434/v1", model: ""))
        }
    }

    @Test func reasoningBlocksAreNotTheAnswer() {
        #expect(ChatClient.withoutReasoning("<think>hmm, auth?</think>Roll back auth-api.") == "Roll back auth-api.")
        #expect(ChatClient.withoutReasoning("a<think>x</think>b<think>y</think>c") == "abc")
        #expect(ChatClient.withoutReasoning("Roll back.<think>cut off mid-thought") == "Roll back.")
        #expect(ChatClient.withoutReasoning("no tags") == "no tags")
    }

    @Test func aServerThatIsNotThereIsNamedInTheFailure() async throws {
        let port = try SilentListener.unusedPort()
        let client = try ChatClient(configuration: .init(baseURL: "http://127.0.0.1:\(port)/v1", model: "m"))
        do {
            _ = try await client.complete([.init(role: "user", content: "hello")])
            Issue.record("a closed port answered")
        } catch {
            #expect(error.description.hasPrefix("cannot reach the LLM at http://127.0.0.1:\(port)/v1"), "\(error)")
        }
    }

    @Test func aServerThatNeverAnswersTimesOut() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        var configuration = ChatClient.Configuration(baseURL: "http://127.0.0.1:\(listener.port)/v1", model: "m")
        configuration.timeout = 1
        let client = try ChatClient(configuration: configuration)
        do {
            _ = try await client.complete([.init(role: "user", content: "hello")])
            Issue.record("a silent server answered")
        } catch {
            #expect(error.description.contains("did not answer within 1 s"), "\(error)")
        }
    }
}

/// A TCP port that accepts connections (the kernel's backlog does) and never answers.
struct SilentListener {
    let descriptor: Int32
    let port: Int

    init() throws {
        self.descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.port = try Self.bind(self.descriptor)
        guard listen(self.descriptor, 8) == 0 else { throw ChatClient.Failure(description: "listen failed") }
    }

    func close() { Glibc.close(self.descriptor) }

    /// A port nothing listens on (bound, then released).
    static func unusedPort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { Glibc.close(descriptor) }
        return try Self.bind(descriptor)
    }

    private static func bind(_ descriptor: Int32) throws -> Int {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else { throw ChatClient.Failure(description: "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
