import Foundation
import Testing
import Transport

/// A job's code runs on its executor's own queue, off Swift's cooperative pool (whose threads carry the daemon's
/// messages): its body, its child tasks, and wherever it resumes after an await.
struct JobExecutorTests {
    @Test func aJobItsChildTasksAndItsResumptionsRunOnTheExecutorsQueue() async throws {
        let executor = JobExecutor(name: "lethe.test.job")
        #expect(!executor.isCurrent)
        let placements = try await executor.run {
            var placements = [executor.isCurrent]
            try await Task.sleep(for: .milliseconds(10))
            placements.append(executor.isCurrent)
            let children = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<3 { group.addTask { executor.isCurrent } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            return placements + children
        }
        #expect(placements == [true, true, true, true, true])
        // What runs outside it (here, a detached task) does not.
        #expect(await Task.detached { executor.isCurrent }.value == false)
    }
}
