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
