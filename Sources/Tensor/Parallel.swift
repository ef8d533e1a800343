import Dispatch

/// Splits independent work across threads. Every index is computed by exactly one thread with the same
/// arithmetic as a serial loop, so the thread count never changes a result.
public enum Parallel {
    /// Upper bound on threads used by `forEach` (and OpenBLAS, through `configure`).
    nonisolated(unsafe) public private(set) static var maxThreads = 2

    /// Caps the threads Lethe and OpenBLAS use. Call once at start-up.
    public static func configure(threads: Int?) {
        let available = max(1, sysconfThreads())
        maxThreads = min(max(1, threads ?? available), available)
        BLAS.threads = maxThreads
    }

    /// Runs `body` over contiguous chunks of 0..<count; chunks are at least `grain` long.
    public static func forEach(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        let workers = min(maxThreads, max(1, count / max(grain, 1)))
        if workers <= 1 {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            let task = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let start = count * worker / workers
                let end = count * (worker + 1) / workers
                task.value(start..<end)
            }
        }
    }

    private static func sysconfThreads() -> Int {
        #if canImport(Glibc)
            return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
            return 2
        #endif
    }
}

#if canImport(Glibc)
    import Glibc
#endif

/// Lets a closure that only touches disjoint memory cross into `concurrentPerform`.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
