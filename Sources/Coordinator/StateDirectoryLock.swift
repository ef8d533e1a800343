import Foundation
import Jobs
import Transport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive `flock(2)` on `<state dir>/lock`, held while this value lives, so that two coordinators never
/// run the same jobs from one state directory. The kernel drops the lock when its holder dies, so a killed
/// coordinator never blocks its restart; the file keeps the holder's pid for the refusal message.
final class StateDirectoryLock: Sendable {
    private let descriptor: Int32

    init(directory: URL) throws(StateDirectoryError) {
        let path = directory.appendingPathComponent("lock").path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .unusable(path: path, reason: String(cString: strerror(errno))) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            let holder = Self.readPID(descriptor)
            close(descriptor)
            if reason == EWOULDBLOCK { throw .locked(path: directory.path, holder: holder) }
            throw .unusable(path: path, reason: String(cString: strerror(reason)))
        }
        let pid = Array("\(getpid())\n".utf8)
        guard ftruncate(descriptor, 0) == 0, pwrite(descriptor, pid, pid.count, 0) == pid.count else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw .unusable(path: path, reason: reason)
        }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }  // closing the last descriptor releases the lock

    private static func readPID(_ descriptor: Int32) -> Int32? {
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = pread(descriptor, &bytes, bytes.count, 0)
        guard count > 0 else { return nil }
        return Int32(String(decoding: bytes[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// Why a state directory cannot be opened.
public enum StateDirectoryError: Error, Equatable, CustomStringConvertible {
    /// Another live process (a coordinator) holds the directory.
    case locked(path: String, holder: Int32?)
    /// The lock file cannot be created or locked.
    case unusable(path: String, reason: String)
    /// The database holds something this version cannot read.
    case corrupt(String)

    public var description: String {
        switch self {
        case .locked(let path, let holder):
            "state directory \(path) is in use by another coordinator"
                + (holder.map { " (pid \($0))" } ?? "")
                + "; stop it first, or give this one its own --state-dir"
        case .unusable(let path, let reason): "cannot lock \(path): \(reason)"
        case .corrupt(let detail): "the state directory is corrupt: \(detail)"
        }
    }
}
