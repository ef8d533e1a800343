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
