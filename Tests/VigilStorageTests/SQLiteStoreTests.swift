// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import VigilStorage
import VigilTestSupport

@Suite struct SQLiteStoreTests {
    func store() throws -> SQLiteStore {
        let path = Scratch.path("vigil", suffix: "sqlite")
        return try SQLiteStore(path: path.path)
    }

    @Test(arguments: StoreContract.checks.map(\.name))
    func keepsTheStoreContract(_ check: String) throws {
        let run = try #require(StoreContract.checks.first { $0.name == check }).run
        try run(try self.store())
    }
}
