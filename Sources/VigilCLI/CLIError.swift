// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// A failure of the input rather than of the command line (a file that cannot be read, a value that is not a
/// number): `vigil` reports it as `Error: …` with exit status 1, without the usage text a ValidationError adds.
struct CLIError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}
