import Foundation

/// Where a run's wall time went, phase by phase in the order they ran (`lethe bench unlearn` reads it): loading,
/// the baselines and the "before" verification, the method, the "after" verification, relearning, writing, the
/// audit and the reports.
public struct RunTimings: Codable, Equatable, Sendable {
    public struct Phase: Codable, Equatable, Sendable {
        public let name: String
        public let seconds: Double
    }

    public private(set) var phases: [Phase] = []

    public init() {}

    public var total: Double { phases.reduce(0) { $0 + $1.seconds } }

    public mutating func record(_ name: String, seconds: Double) { phases.append(Phase(name: name, seconds: seconds)) }

    /// Runs `body`, recording its wall time as `name`.
    public mutating func measure<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        let start = Date()
        defer { record(name, seconds: Date().timeIntervalSince(start)) }
        return try body()
    }

    /// Runs `body`, recording its wall time as `name` (for phases that wait for workers).
    public mutating func measure<T>(_ name: String, _ body: () async throws -> T) async rethrows -> T {
        let start = Date()
        defer { record(name, seconds: Date().timeIntervalSince(start)) }
        return try await body()
    }

    /// Adds `later`'s phases after these (e.g. the run's own phases after the command's loading).
    public mutating func append(_ later: RunTimings?) { phases += later?.phases ?? [] }

    /// One line: each phase's seconds and the total.
    public var summary: String {
        "time: " + phases.map { String(format: "%@ %.1f s", $0.name, $0.seconds) }.joined(separator: ", ")
            + String(format: "; %.1f s in all", total)
    }
}
