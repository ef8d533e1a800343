import Foundation

/// Runs blocking work (a job's plan, which waits for workers) on a thread of its own, never on Swift's
/// cooperative pool: a blocked pool thread could starve the very tasks that deliver the results.
public enum DedicatedThread {
    public static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try body() })
            }
            thread.name = name
            thread.stackSize = 16 << 20
            thread.start()
        }
    }
}

/// Hands a value that is not `Sendable` to exactly one other thread (which alone uses it from then on).
public struct Handoff<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}

/// A task executor with a serial queue of its own: async code that also computes for seconds at a time (a job's
/// verification passes, its reports) runs there instead of on Swift's cooperative pool, whose few threads the
/// daemon needs for its messages. (Dispatch gives a serial queue a thread outside that pool when it blocks.)
public final class JobExecutor: TaskExecutor {
    private let queue: DispatchQueue
    private let key = DispatchSpecificKey<ObjectIdentifier>()

    public init(name: String) {
        queue = DispatchQueue(label: name)
        queue.setSpecific(key: key, value: ObjectIdentifier(self))
    }

    /// Whether the caller runs on this executor's queue.
    public var isCurrent: Bool { DispatchQueue.getSpecific(key: key) == ObjectIdentifier(self) }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { [self] in job.runSynchronously(on: asUnownedTaskExecutor()) }
    }

    /// Runs `body` with this executor preferred for it and every child task it starts.
    public func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await withTaskExecutorPreference(self) { try await body() }
    }
}
