import Foundation

/// Values that several tasks or threads append to (what a test's listener or sending closure saw).
public final class Collected<Value>: @unchecked Sendable {  // every access holds `lock`
    private let lock = NSLock()
    private var stored: [Value] = []

    public init() {}

    public var value: [Value] { lock.withLock { stored } }
    public var count: Int { lock.withLock { stored.count } }
    public func append(_ element: Value) { lock.withLock { stored.append(element) } }
}
