import Foundation
import Testing
import Transport

/// Work that blocks for seconds between awaits, run on job executors (directly or in child tasks), leaves Swift's
/// cooperative pool free for the daemon's messages.
struct JobExecutorTests {
    /// Computing for `seconds` without an await, like a verification pass.
    static func compute(seconds: Double) { Thread.sleep(forTimeInterval: seconds) }

    @Test func blockingJobsAndTheirChildTasksLeaveTheCooperativePoolFree() async throws {
        let started = ContinuousClock.now
        // More blocking jobs than the pool has threads: on the pool they would stall everything for 5 s.
        let blockers = (0...ProcessInfo.processInfo.activeProcessorCount).map { index in
            Task {
                try await JobExecutor(name: "lethe.test.blocker-\(index)").run {
                    guard index.isMultiple(of: 2) else {
                        Self.compute(seconds: 5)
                        return index
                    }
                    return try await withThrowingTaskGroup(of: Int.self) { group in
                        group.addTask {
                            Self.compute(seconds: 5)
                            return index
                        }
                        return try await group.next() ?? -1
                    }
                }
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        let answer = await Task.detached { 6 * 7 }.value
        let waited = ContinuousClock.now - started
        #expect(answer == 42)
        #expect(waited < .milliseconds(2500), "the cooperative pool was blocked for \(waited)")
        var finished: [Int] = []
        for blocker in blockers { finished.append(try await blocker.value) }
        #expect(finished == Array(0..<blockers.count))
    }
}
