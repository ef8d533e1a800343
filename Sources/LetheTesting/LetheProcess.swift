import Foundation

/// Runs the built `lethe` executable as a real process (the one next to the test bundle).
public enum LetheProcess {
    public struct Result {
        public let status: Int32
        public let standardOutput: String
        public let standardError: String
    }

    public static var executable: URL {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("lethe")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        return Fixtures.packageRoot.appendingPathComponent(".build/debug/lethe")
    }

    /// Runs `lethe` to completion on a thread of its own, so that a long command does not hold one of the few
    /// threads of the cooperative pool that the other tests (and their async daemons) share.
    public static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Swift.Result { try runBlocking(arguments, environment: environment) })
            }
        }
    }

    private static func runBlocking(_ arguments: [String], environment: [String: String]) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = isolated(environment)
        let (output, error) = (Pipe(), Pipe())
        process.standardOutput = output
        process.standardError = error
        try process.run()
        // Read both pipes before waiting, so a chatty process cannot block on a full pipe.
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, standardOutput: String(decoding: outputData, as: UTF8.self),
            standardError: String(decoding: errorData, as: UTF8.self))
    }
}

extension LetheProcess {
    /// The test's environment for one process, with a cache directory of its own (`LETHE_CACHE_DIR`, created only
    /// if the process writes to it) unless the test names one: references one test prepares are never found by
    /// another test's run of a checkpoint with the same bits, nor by the user's.
    static func isolated(_ environment: [String: String]) -> [String: String] {
        let ownCache = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-test-cache-\(UUID())").path
        return ProcessInfo.processInfo.environment.merging(["LETHE_CACHE_DIR": ownCache]) { _, new in new }
            .merging(environment) { _, new in new }
    }

    /// Starts `lethe` in the background (a daemon), its output going to `log`; terminate it when done.
    public static func start(_ arguments: [String], log: URL, environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = isolated(environment)
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }
}

/// A fresh directory under the system's temporary directory, removed by `remove()`.
public struct TemporaryDirectory {
    public let url: URL

    public init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    public func remove() { try? FileManager.default.removeItem(at: url) }
}
