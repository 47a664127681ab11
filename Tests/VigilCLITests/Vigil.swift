// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import VigilTestSupport

/// Locates and runs the `vigil` binary built next to the tests.
enum Vigil {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The package root (three levels above this file).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The binary in the build folder of the running test bundle.
    static var binary: URL {
        let bundleFolder = Bundle.main.bundleURL
        let candidates = [
            bundleFolder.appendingPathComponent("vigil"),
            bundleFolder.deletingLastPathComponent().appendingPathComponent("vigil"),
            packageRoot.appendingPathComponent(".build/debug/vigil"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[2]
    }

    /// Runs `vigil` with `arguments`, feeding `input` on standard input.
    static func run(_ arguments: [String], input: String) throws -> Result {
        try self.run(arguments, input: Data(input.utf8))
    }

    /// Runs `vigil` with exactly `arguments` and nothing on standard input.
    static func run(_ arguments: [String]) throws -> Result {
        try self.run(arguments, input: Data(), namingInputFile: false)
    }

    /// Runs `vigil` with `arguments`, feeding `input` on standard input; unless told otherwise, a command given no
    /// file also gets `input` as a file named last.
    static func run(_ arguments: [String], input: Data, namingInputFile: Bool = true) throws -> Result {
        var arguments = arguments
        if namingInputFile && arguments.count >= 1 && !arguments.contains("-")
            && !arguments.contains(where: { $0.hasPrefix("/") }) && !arguments.contains("--help")
        {
            let file = Scratch.path("vigil-test", suffix: "log")
            try input.write(to: file)
            arguments.append(file.path)
        }
        // Files rather than pipes: no reader threads, and large outputs cannot dead-lock the child.
        let folder = try Scratch.folder("vigil-run")
        defer { try? FileManager.default.removeItem(at: folder) }
        let inputFile = folder.appendingPathComponent("stdin")
        let outputFile = folder.appendingPathComponent("stdout")
        let errorFile = folder.appendingPathComponent("stderr")
        try input.write(to: inputFile)
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        let process = Process()
        process.executableURL = self.binary
        process.arguments = arguments
        process.standardInput = try FileHandle(forReadingFrom: inputFile)
        process.standardOutput = try FileHandle(forWritingTo: outputFile)
        process.standardError = try FileHandle(forWritingTo: errorFile)
        try process.run()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: try Data(contentsOf: outputFile), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: errorFile), as: UTF8.self)
        )
    }
}

/// RFC 4180 CSV parsing for checking the `vigil parse` contract.
enum CSVRows {
    static func parse(_ text: String) throws -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var iterator = Array(text.unicodeScalars).makeIterator()
        var pending: Unicode.Scalar? = iterator.next()
        while let scalar = pending {
            pending = iterator.next()
            if quoted {
                if scalar == "\"" {
                    if pending == "\"" {
                        field.unicodeScalars.append("\"")
                        pending = iterator.next()
                    } else {
                        quoted = false
                    }
                } else {
                    field.unicodeScalars.append(scalar)
                }
            } else if scalar == "\"" {
                quoted = true
            } else if scalar == "," {
                row.append(field)
                field = ""
            } else if scalar == "\n" {
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            } else {
                field.unicodeScalars.append(scalar)
            }
        }
        if !field.isEmpty || !row.isEmpty { rows.append(row + [field]) }
        return rows
    }
}
