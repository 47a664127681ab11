// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
public import VigilCore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A client of an OpenAI-compatible chat API (`POST {base}/chat/completions`): Ollama (`http://127.0.0.1:11434/v1`),
/// llama.cpp's server, vLLM, LocalAI, OpenAI itself (HTTPS).
///
/// It sends what it is given: callers pass text already masked (``Copilot/prompt(for:from:masker:budget:)``
/// masks). Every call is bounded: a timeout, a cap on tokens asked for and on the bytes read back. Failures are
/// ``ChatClient/Failure`` values saying what to fix, never a crash.
public struct ChatClient: Sendable {
    /// Where and how to ask.
    public struct Configuration: Sendable, Equatable {
        /// The API base, up to and including `/v1`.
        public var baseURL: String
        /// The model name the server knows (`llama3.2`, `gpt-4o-mini`, the alias of a llama.cpp server).
        public var model: String
        /// Sent as `Authorization: Bearer …` when set.
        public var apiKey: String?
        /// Seconds before the request is abandoned.
        public var timeout: Double = 60
        /// The longest answer asked for, in tokens.
        public var maxTokens: Int = 400
        /// 0: the same facts give the same answer, as far as the server allows.
        public var temperature: Double = 0

        /// Creates a configuration.
        public init(baseURL: String, model: String, apiKey: String? = nil) {
            self.baseURL = baseURL
            self.model = model
            self.apiKey = apiKey
        }
    }

    /// What went wrong, in words a person can act on.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String

        public init(description: String) { self.description = description }
    }

    /// A completed answer.
    public struct Completion: Sendable, Equatable {
        /// The answer's text, trimmed, with any `<think>…</think>` reasoning removed.
        public var text: String
        /// The model that answered, as the server names it.
        public var model: String
        /// Why generation stopped (`stop`, `length`, …), if the server said.
        public var finishReason: String?
        /// Tokens in the prompt and in the answer, if the server counted them.
        public var promptTokens: Int?
        public var completionTokens: Int?
    }

    /// The most bytes of an answer read (a chat answer of a few hundred tokens is a few KiB).
    static let maximumResponseBytes = 1 << 20

    public let configuration: Configuration

    /// Creates a client; the URL is checked here, so a typo fails before any question is asked.
    public init(configuration: Configuration) throws {
        guard let url = URL(string: configuration.baseURL), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", url.host != nil
        else {
            throw Failure(
                description:
                    "the LLM URL \"\(configuration.baseURL)\" is not an http(s) URL; give the API base, such as http://127.0.0.1:11434/v1"
            )
        }
        guard !configuration.model.isEmpty else { throw Failure(description: "no LLM model named") }
        self.configuration = configuration
    }

    /// Asks for one answer to `messages`.
    public func complete(_ messages: [Copilot.Message]) async throws(Failure) -> Completion {
        let configuration = self.configuration
        let endpoint = configuration.baseURL.hasSuffix("/") ? configuration.baseURL : configuration.baseURL + "/"
        let url = URL(string: endpoint + "chat/completions")!
        var request = URLRequest(url: url, timeoutInterval: configuration.timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let key = configuration.apiKey, !key.isEmpty {
            request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        }
        let body = RequestBody(
            model: configuration.model,
            messages: messages,
            max_tokens: configuration.maxTokens,
            temperature: configuration.temperature,
            stream: false
        )
        do {
            request.httpBody = try JSONEncoder().encode(body)
        } catch {
            throw Failure(description: "cannot encode the request: \(error)")
        }
        let session = Self.session(timeout: configuration.timeout)
        defer { session.finishTasksAndInvalidate() }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch let error as URLError where error.code == .timedOut {
            throw Failure(
                description:
                    "the LLM at \(configuration.baseURL) did not answer within \(Self.seconds(configuration.timeout))"
            )
        } catch {
            throw Failure(description: "cannot reach the LLM at \(configuration.baseURL): \(Self.reason(error))")
        }
        guard data.count <= Self.maximumResponseBytes else {
            throw Failure(
                description: "the LLM's answer is \(data.count) bytes, over the limit of \(Self.maximumResponseBytes)"
            )
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            let detail =
                (try? JSONDecoder().decode(ErrorBody.self, from: data))?.error.message
                ?? String(decoding: data.prefix(300), as: UTF8.self)
            let hint =
                status == 401 || status == 403
                ? " (check the API key: --llm-api-key or VIGIL_LLM_API_KEY)"
                : status == 404 ? " (check the URL ends in /v1 and the model \"\(configuration.model)\" exists)" : ""
            throw Failure(
                description:
                    "the LLM answered HTTP \(status): \(detail.trimmingCharacters(in: .whitespacesAndNewlines))\(hint)"
            )
        }
        let decoded: ResponseBody
        do {
            decoded = try JSONDecoder().decode(ResponseBody.self, from: data)
        } catch {
            throw Failure(
                description:
                    "the LLM's answer is not an OpenAI chat completion: \(String(decoding: data.prefix(200), as: UTF8.self))"
            )
        }
        guard let choice = decoded.choices.first, let content = choice.message.content else {
            throw Failure(description: "the LLM's answer holds no message")
        }
        let text = Self.withoutReasoning(content).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw Failure(description: "the LLM answered with empty text") }
        return Completion(
            text: text,
            model: decoded.model ?? configuration.model,
            finishReason: choice.finish_reason,
            promptTokens: decoded.usage?.prompt_tokens,
            completionTokens: decoded.usage?.completion_tokens
        )
    }

    /// The models the server lists (`GET {base}/models`), in its order: the first is the one to ask when none
    /// is named (a llama.cpp server lists the one it serves).
    public static func models(
        baseURL: String,
        apiKey: String? = nil,
        timeout: Double = 10
    ) async throws(Failure)
        -> [String]
    {
        let base = baseURL.hasSuffix("/") ? baseURL : baseURL + "/"
        guard let url = URL(string: base + "models"), url.host != nil else {
            throw Failure(description: "the LLM URL \"\(baseURL)\" is not an http(s) URL")
        }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        if let apiKey, !apiKey.isEmpty { request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization") }
        struct Listing: Decodable {
            struct Model: Decodable { var id: String }
            var data: [Model]
        }
        let session = Self.session(timeout: timeout)
        defer { session.finishTasksAndInvalidate() }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            throw Failure(description: "cannot reach the LLM at \(baseURL): \(Self.reason(error))")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200,
            let listing = try? JSONDecoder().decode(Listing.self, from: data.prefix(Self.maximumResponseBytes))
        else {
            throw Failure(description: "\(base)models answered HTTP \(status) without a model list; name the model")
        }
        return listing.data.map(\.id)
    }

    /// A session that gives up after `timeout` seconds (FoundationNetworking reads the session's limits, not the
    /// request's), and keeps no cookies or cache.
    static func session(timeout: Double) -> URLSession {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        return URLSession(configuration: configuration)
    }

    /// Text without the `<think>…</think>` blocks reasoning models put before their answer.
    static func withoutReasoning(_ text: String) -> String {
        var result = text
        while let open = result.range(of: "<think>") {
            guard let close = result.range(of: "</think>", range: open.upperBound..<result.endIndex) else {
                // Cut off while thinking: nothing after it is an answer.
                result.removeSubrange(open.lowerBound..<result.endIndex)
                break
            }
            result.removeSubrange(open.lowerBound..<close.upperBound)
        }
        return result
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? URLError {
            switch error.code {
            case .cannotConnectToHost: return "connection refused (is the server running?)"
            case .cannotFindHost: return "unknown host"
            case .secureConnectionFailed, .serverCertificateUntrusted:
                return "TLS failed (\(error.localizedDescription))"
            default: return error.localizedDescription
            }
        }
        return "\(error)"
    }

    // The wire format (OpenAI's field names).
    private struct RequestBody: Encodable {
        var model: String
        var messages: [Copilot.Message]
        var max_tokens: Int
        var temperature: Double
        var stream: Bool
    }

    private struct ResponseBody: Decodable {
        struct Choice: Decodable {
            struct Message: Decodable { var content: String? }
            var message: Message
            var finish_reason: String?
        }
        struct Usage: Decodable {
            var prompt_tokens: Int?
            var completion_tokens: Int?
        }
        var model: String?
        var choices: [Choice]
        var usage: Usage?
    }

    private struct ErrorBody: Decodable {
        struct Detail: Decodable { var message: String }
        var error: Detail
    }
}
