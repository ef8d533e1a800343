import Foundation
import Synchronization

/// A value behind a lock that threads and escaping closures can share (a `Mutex`, which cannot be shared by
/// reference itself, in a class). The one lock box of the package.
public final class Locked<Value>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: sending Value) { mutex = Mutex(value) }

    public func withLock<Result: Sendable>(_ body: (inout sending Value) throws -> Result) rethrows -> Result {
        try mutex.withLock { try body(&$0) }
    }
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
