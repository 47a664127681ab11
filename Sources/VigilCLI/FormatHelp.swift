// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Foundation
import VigilCore
import VigilLLM

/// The language-model fallback of the format detector for `vigil analyze` and `vigil parse`: a file whose lines
/// Vigil reads as plain text gets its header layout from a model, asked once per format; the answer, checked
/// against the file, is kept in a cache and read from there ever after (``FormatLearning``).
struct FormatHelpOptions: ParsableArguments {
    @Option(
        name: .customLong("llm-url"),
        help: ArgumentHelp(
            "An OpenAI-compatible chat API asked for the header of a log Vigil reads as plain text (VIGIL_LLM_URL).",
            discussion: """
                Asked once per format: the answer, checked against the file, is cached (--format-cache) and used \
                with no model from then on. Lines are masked (personal data, secrets) before they are sent. Only \
                files, not standard input.
                """
        )
    )
    var llmURL: String?

    @Option(help: "The model to ask (VIGIL_LLM_MODEL; default: the first the API lists).")
    var llmModel: String?

    @Option(help: "The learned-format cache (default: $XDG_CACHE_HOME/vigil/log-formats.json, else ~/.cache/…).")
    var formatCache: String?

    /// One learned format as the cache keeps it.
    struct Learned: Codable, Equatable {
        var headerFields: Int
        var model: String
        var learnedAt: String
        /// The first sample line, masked: what the format looks like.
        var example: String
    }

    var cachePath: String {
        if let path = self.formatCache { return path }
        let environment = ProcessInfo.processInfo.environment
        let base =
            environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSTemporaryDirectory()) + "/.cache"
        return base + "/vigil/log-formats.json"
    }

    /// The cached formats (empty when there is no cache yet).
    func cached() throws -> [String: Learned] {
        guard let data = FileManager.default.contents(atPath: self.cachePath) else { return [:] }
        do {
            return try JSONDecoder().decode([String: Learned].self, from: data)
        } catch {
            throw CLIError(
                "\(self.cachePath) is not a learned-format cache (\(error.localizedDescription)); remove it or name another with --format-cache"
            )
        }
    }

    /// The header layouts to read `path` with: every cached one, and one learned now when the file reads as plain
    /// text, its format is not cached, and a model is configured. What happens is said on standard error.
    func learnedHeaders(for path: String, command: String) async throws -> [String: Int] {
        var cache = try self.cached()
        let environment = ProcessInfo.processInfo.environment
        let url = self.llmURL ?? environment["VIGIL_LLM_URL"] ?? ""
        guard !url.isEmpty, path != "-" else { return cache.mapValues(\.headerFields) }
        let sample = try Self.sample(of: path, lines: 200)
        guard LogFormat.detect(sample: sample) == .plain, let signature = FormatLearning.signature(of: sample),
            cache[signature] == nil
        else { return cache.mapValues(\.headerFields) }

        var model = self.llmModel ?? environment["VIGIL_LLM_MODEL"] ?? ""
        let key = environment["VIGIL_LLM_API_KEY"]
        let masker = PIIMasker()
        do {
            if model.isEmpty {
                guard let first = try await ChatClient.models(baseURL: url, apiKey: key).first else {
                    throw ChatClient.Failure(description: "\(url) lists no model; name one with --llm-model")
                }
                model = first
            }
            var configuration = ChatClient.Configuration(baseURL: url, model: model, apiKey: key)
            configuration.maxTokens = 64
            let client = try ChatClient(configuration: configuration)
            let answer = try await client.complete([
                .init(role: "system", content: FormatLearning.instructions),
                .init(role: "user", content: FormatLearning.prompt(for: sample, masker: masker)),
            ])
            guard let fields = FormatLearning.headerFields(inAnswer: answer.text) else {
                throw FormatLearning.Rejection.unreadable(answer.text)
            }
            let grammar = try FormatLearning.grammar(headerFields: fields, sample: sample)
            let example = sample.first { line in line.contains { !$0.isWhitespace } } ?? []
            cache[signature] = Learned(
                headerFields: fields,
                model: answer.model.isEmpty ? model : answer.model,
                learnedAt: Date().formatted(.iso8601),
                example: masker.mask(String(decoding: example.prefix(FormatLearning.promptLineBytes), as: UTF8.self))
            )
            try self.save(cache)
            printError(
                "vigil \(command): \(model) read the header as \(VigilCore.Format.count(fields, "field")) [\(grammar.summary)]; checked on the sample and kept in \(self.cachePath), so this format is never asked again"
            )
        } catch {
            printError(
                "vigil \(command): the model's header for this plain-text format was not used (\(error)); reading it as plain text"
            )
        }
        return cache.mapValues(\.headerFields)
    }

    func save(_ cache: [String: Learned]) throws {
        let url = URL(fileURLWithPath: self.cachePath)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Written whole, then renamed: a reader never sees half a cache.
        try encoder.encode(cache).write(to: url, options: .atomic)
    }

    /// The first `lines` lines of the file at `path`.
    static func sample(of path: String, lines: Int) throws -> [[UInt8]] {
        struct Enough: Error {}
        var reader = try LineReader(path: path)
        var sample: [[UInt8]] = []
        do {
            try reader.forEachLine { line, _, _ in
                sample.append(line.withUnsafeBufferPointer { Array($0) })
                if sample.count >= lines { throw Enough() }
            }
        } catch is Enough {}
        return sample
    }
}

extension UInt8 {
    fileprivate var isWhitespace: Bool { self == 0x20 || self == 0x09 || self == 0x0A || self == 0x0D }
}
