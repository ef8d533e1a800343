import Coordinator
import Foundation
import Jobs
import Testing
import Transport

/// One coordinator at a time per state directory; a released (or dead holder's) lock does not block the next.
struct StateDirectoryLockTests {
    @Test func aSecondOpenIsRefusedNamingTheHolderUntilTheFirstIsReleased() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-lock-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var first: StateDirectory? = try StateDirectory(path)
        #expect(first != nil)
        #expect(throws: StateDirectoryError.locked(path: path, holder: ProcessInfo.processInfo.processIdentifier)) {
            _ = try StateDirectory(path)
        }
        #expect(
            StateDirectoryError.locked(path: path, holder: 42).description
                == "state directory \(path) is in use by another coordinator (pid 42); stop it first, or give this one its own --state-dir"
        )
        first = nil
        let second = try StateDirectory(path)
        #expect(try second.jobs().isEmpty)
    }
}
