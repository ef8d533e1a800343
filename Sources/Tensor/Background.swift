import Dispatch
import Synchronization

/// A value computed on a Dispatch thread of its own from creation on, while the caller goes on with other work;
/// `value()` waits for it. (A dataset's file digest while the files are read; a buffer's pages populated while it
/// is written.)
public final class Background<Success: Sendable, Failure: Error>: Sendable {
    private let group = DispatchGroup()
    private let result = Mutex<Result<Success, Failure>?>(nil)

    public init(_ work: @escaping @Sendable () throws(Failure) -> Success) {
        group.enter()
        DispatchQueue.global().async { [self] in
            let outcome = Result { () throws(Failure) in try work() }
            result.withLock { $0 = outcome }
            group.leave()
        }
    }

    /// The work's result, once it is done.
    public func value() throws(Failure) -> Success {
        group.wait()
        return try result.withLock { $0! }.get()
    }
}
