// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Yams

/// YAML read into plain values (`[String: Any]`, `[Any]`, `String`, `Int`, `Double`, `Bool`), refusing what Yams's
/// own loader would crash on: a key that is not plain text (`{{service}}: x` is a mapping used as a key).
enum YAMLText {
    /// Why a YAML text could not be read.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The document in `text`, or nil when it is empty.
    static func load(_ text: String) throws(Failure) -> Any? {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch { throw Failure(description: "not valid YAML: \(error)") }
        guard let node else { return nil }
        return try Self.value(of: node, scalars: Constructor())
    }

    /// `node` as plain values; `scalars` holds Yams's default rules (int, float, bool, null, text).
    static func value(of node: Node, scalars: Constructor) throws(Failure) -> Any {
        switch node {
        case .scalar:
            return scalars.any(from: node)
        case .sequence(let sequence):
            var values: [Any] = []
            for item in sequence { values.append(try Self.value(of: item, scalars: scalars)) }
            return values
        case .mapping(let mapping):
            var values: [String: Any] = [:]
            for (key, value) in mapping {
                guard case .scalar(let scalar) = key else {
                    let line = key.mark.map { " (line \($0.line))" } ?? ""
                    throw Failure(
                        description:
                            "a key must be plain text\(line); quote a value that starts with { or [ (such as \"{{service}}\")"
                    )
                }
                values[scalar.string] = try Self.value(of: value, scalars: scalars)
            }
            return values
        case .alias:
            throw Failure(description: "aliases (*name) are not supported")
        }
    }
}
