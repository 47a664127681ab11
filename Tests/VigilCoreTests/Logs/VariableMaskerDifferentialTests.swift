// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import PropertyBased
import Testing

@testable import VigilCore

/// The byte masker against a straightforward `String` implementation of the same rules, on generated lines.
@Suite struct VariableMaskerDifferentialTests {
    static let vocabulary = [
        "=", ":", ",", "(", ")", "[", "]", "{", "}", "\"", "'", "/", ".", "-", "_", "#", "@", "|", "...",
        "//", "0x1f", "true", "null", "Jul", "Sun", "fe80::1ff:fe23", "00:11:22:33:44:55", "https://a.b/c?d=1",
        "core.", "node-", "/var/log", "~/x", "./y",
    ]

    @Test func byteMaskerAgreesWithStringReference() async {
        let vocabulary = Self.vocabulary
        let pieces = Gen.oneOf(
            Gen.letter.string(of: 1...6),
            Gen.letterOrNumber.string(of: 1...9),
            Gen.int(in: -99999...99999).map(String.init),
            Gen.int(in: 0...(vocabulary.count - 1)).map { vocabulary[$0] }
        )
        let token = pieces.array(of: 1...4).map { $0.joined() }
        let line = token.array(of: 0...10).map { $0.joined(separator: " ") }
        let masker = VariableMasker()
        await propertyCheck(count: 2000, input: line) { text in
            #expect(masker.mask(text) == ReferenceMasker.mask(text), "input: \(text)")
        }
    }
}

/// The masking rules written plainly over `String`, as documented on ``VariableMasker``.
private enum ReferenceMasker {
    static let wildcard = "<*>"
    static let delimiters = Set("=:,;()[]{}\"'<>#@|")
    static let names: Set<String> = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun",
    ]
    static let literals: Set<String> = [
        "true", "True", "TRUE", "false", "False", "FALSE", "null", "NULL", "Null", "None",
    ]

    static func mask(_ line: String) -> String {
        line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { maskToken(String($0)) }.joined(separator: " ")
    }

    static func maskToken(_ token: String) -> String {
        if names.contains(token) { return wildcard }
        if let (head, core, tail) = hexColonAddress(token) { return head + wildcard + tail + (core.isEmpty ? "" : "") }
        if let range = token.range(of: "://"), range.lowerBound > token.startIndex,
            token[token.index(before: range.lowerBound)].isASCII
                && token[token.index(before: range.lowerBound)].isLetter
        {
            var value = token[range.upperBound...]
            var tail = ""
            while let last = value.last, closing.contains(last) {
                tail = String(last) + tail
                value = value.dropLast()
            }
            return maskSegment(String(token[..<range.lowerBound])) + "://" + wildcard + tail
        }
        var result = ""
        var segment = ""
        for character in token {
            if delimiters.contains(character) {
                result += maskSegment(segment) + String(character)
                segment = ""
            } else {
                segment.append(character)
            }
        }
        return result + maskSegment(segment)
    }

    static let closing = Set("])>\"',;.")
    static let opening = Set("[(<\"'")

    static func hexColonAddress(_ token: String) -> (String, String, String)? {
        var core = Substring(token)
        var head = ""
        var tail = ""
        while let first = core.first, opening.contains(first) {
            head.append(first)
            core = core.dropFirst()
        }
        while let last = core.last, closing.contains(last) {
            tail = String(last) + tail
            core = core.dropLast()
        }
        guard core.count >= 5, core.allSatisfy({ $0 == ":" || $0.isHexDigit }) else { return nil }
        let colons = core.filter { $0 == ":" }.count
        let digits = core.filter { $0.isASCII && $0.isNumber }.count
        let letters = core.filter { $0.isHexDigit && !($0.isASCII && $0.isNumber) }.count
        guard colons >= 2, digits > 0, letters > 0 || colons >= 4 else { return nil }
        return (head, String(core), tail)
    }

    static func maskSegment(_ segment: String) -> String {
        if segment.isEmpty { return segment }
        if literals.contains(segment) { return wildcard }
        if segment.hasSuffix("."), segment.count > 1 {
            let stem = segment.reversed().drop(while: { $0 == "." }).reversed()
            if !stem.isEmpty {
                return maskSegment(String(stem)) + String(repeating: ".", count: segment.count - stem.count)
            }
        }
        let digits = segment.filter { $0.isASCII && $0.isNumber }.count
        if segment.contains("/") {
            if segment.hasPrefix("//") { return "//" + wildcard }
            if segment.hasPrefix("/") || segment.hasPrefix("./") || segment.hasPrefix("~/") { return wildcard }
            return segment.split(separator: "/", omittingEmptySubsequences: false).map { maskSegment(String($0)) }
                .joined(separator: "/")
        }
        if digits == 0 { return segment }
        let word = segment.prefix(while: { $0.isASCII && $0.isLetter })
        let separators = segment.dropFirst(word.count).prefix(while: { $0 == "." || $0 == "-" })
        let number = segment.dropFirst(word.count + separators.count)
        if !word.isEmpty && !separators.isEmpty && !number.isEmpty
            && number.allSatisfy({ $0.isHexDigit || $0 == "x" || $0 == "X" })
        {
            return String(word) + String(separators) + wildcard
        }
        if let first = segment.first, first.isASCII && first.isLetter, digits <= 3, !segment.contains("-"),
            !segment.contains(".")
        {
            return segment
        }
        return wildcard
    }
}
