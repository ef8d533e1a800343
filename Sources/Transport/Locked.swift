import Foundation

/// A value behind a lock.
public final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    public init(_ value: Value) { self.value = value }
    public func withLock<R>(_ body: (inout Value) -> R) -> R { lock.withLock { body(&value) } }
}

extension Locked where Value == Date {
    /// Sets the date to now if it is older than `seconds`; returns whether it did.
    public func exchange(ifOlderThan seconds: Double) -> Bool {
        withLock {
            guard Date().timeIntervalSince($0) > seconds else { return false }
            $0 = Date()
            return true
        }
    }
}
