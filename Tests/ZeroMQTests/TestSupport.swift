import Foundation
import Testing
import ZeroMQ

/// The transports the round-trip tests run over.
enum Transport: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case inproc, ipc, tcp

    var testDescription: String { rawValue }
}

/// Unique endpoints for one test: inproc names with a UUID, ipc sockets in a fresh directory (removed when this
/// is released), TCP on an ephemeral loopback port. Never a fixed port.
final class Scratch {
    private let directory: URL

    init() throws {
        // Short path: a Unix socket path must stay under ~107 bytes.
        directory = URL(fileURLWithPath: "/tmp/lethe-zmq-\(UUID().uuidString.prefix(13))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// An endpoint to bind for `transport` (pass the resolved endpoint `bind` returns to `connect`).
    func endpoint(_ transport: Transport) -> String {
        switch transport {
        case .inproc: "inproc://test.\(UUID().uuidString)"
        case .ipc: "ipc://\(directory.path)/\(UUID().uuidString.prefix(8)).sock"
        case .tcp: "tcp://127.0.0.1:*"
        }
    }
}

/// Generous deadline for anything that should happen "soon", in milliseconds.
let patience = 60_000  // generous: a loaded CI machine must not fail a test that merely waits

extension ZeroMQSocket {
    /// A blocking receive that gives up after `timeoutMilliseconds` (for synchronous tests only).
    func receive(timeoutMilliseconds: Int) throws -> Message? {
        try set(.receiveTimeout, to: timeoutMilliseconds)
        return try receive()
    }

    /// Waits for a message without blocking the cooperative pool: polls with `dontWait` and sleeps in between.
    func receiveEventually(timeoutMilliseconds: Int = patience) async throws -> Message? {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMilliseconds)
        while ContinuousClock.now < deadline {
            if let message = try receive(dontWait: true) { return message }
            try await Task.sleep(for: .milliseconds(5))
        }
        return try receive(dontWait: true)  // a starved cooperative pool may wake us past the deadline
    }
}

/// Waits (blocking this thread) until `condition` holds or `timeoutMilliseconds` passed; returns the last value.
func eventually(timeoutMilliseconds: Int = patience, _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(timeoutMilliseconds)
    while ContinuousClock.now < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.005)
    }
    return condition()
}

/// Runs `action` after `seconds` unless cancelled first: stops a test that would otherwise wait forever.
func watchdog(seconds: Double = 120, _ action: @escaping @Sendable () -> Void) -> Task<Void, Never> {
    Task {
        do {
            try await Task.sleep(for: .seconds(seconds))
            action()
        } catch {}
    }
}

/// A thread-safe flag / counter for callbacks and deinitialisers.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func increment() {
        lock.lock()
        count += 1
        lock.unlock()
    }

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}

/// Bytes 0, 1, 2, … (wrapping), for frames whose content is easy to check.
func pattern(_ count: Int, seed: UInt8 = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &+ Int(seed)) }
}
