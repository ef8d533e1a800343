import Dispatch

/// Splits independent work across threads. Every index is computed by exactly one thread with the same
/// arithmetic as a serial loop, so the thread count never changes a result.
///
/// OpenBLAS itself stays single-threaded: its threaded driver changes how it blocks the summed dimension,
/// and even single-threaded, splitting a product differently changes the low bits. So the engine splits
/// every GEMM into pieces fixed by the shapes alone (`Partition`) and runs the pieces on these threads.
public enum Parallel {
    /// Upper bound on threads used by `forEach` and `forEachTask`.
    nonisolated(unsafe) public private(set) static var maxThreads = 2

    /// Caps the threads Lethe uses. Call once at start-up, before any computation.
    public static func configure(threads: Int?) {
        let available = max(1, sysconfThreads())
        maxThreads = min(max(1, threads ?? available), available)
        BLAS.threads = 1
        MemoryPolicy.reuseFreedMemory()
    }

    /// Runs `body` with every `forEach` and `forEachTask` inside it kept on the calling thread: for work that runs
    /// beside other work of the same size (in-process workers, one per core). Same arithmetic.
    public static func serially<Result>(_ body: () -> Result) -> Result { ThreadConfinement.confined(body) }

    /// Runs `body(worker)` for each of `workers` threads at once (at most `maxThreads`), each with every
    /// `forEach` and `forEachTask` inside it kept on that thread: for independent jobs that are better run side
    /// by side than each split across the threads (separate batches of a prediction pass). Same arithmetic.
    public static func eachWorker(_ workers: Int, _ body: (_ worker: Int) -> Void) {
        let workers = min(maxThreads, max(1, workers))
        if workers == 1 {
            body(0)
            return
        }
        concurrently(workers) { worker in ThreadConfinement.confined { body(worker) } }
    }

    /// Runs `body` over contiguous chunks of 0..<count; chunks are at least `grain` long.
    public static func forEach(_ count: Int, grain: Int = 1, serial: Bool = false, _ body: (Range<Int>) -> Void) {
        let workers = serial || ThreadConfinement.isConfined ? 1 : min(maxThreads, max(1, count / max(grain, 1)))
        if workers <= 1 {
            body(0..<count)
            return
        }
        concurrently(workers) { worker in body((count * worker / workers)..<(count * (worker + 1) / workers)) }
    }

    /// Runs `body(index)` for every index in 0..<count, spread over the threads, each index on exactly one
    /// thread; `inParallel` tells the body to keep its own loops serial.
    public static func forEachTask(_ count: Int, _ body: (_ index: Int, _ inParallel: Bool) -> Void) {
        let workers = ThreadConfinement.isConfined ? 1 : min(maxThreads, count)
        if workers <= 1 {
            for index in 0..<count { body(index, false) }
            return
        }
        concurrently(workers) { worker in
            for index in stride(from: worker, to: count, by: workers) { body(index, true) }
        }
    }

    /// Runs `first` and `second` at once, each on its own thread when there are two, and returns both results; when
    /// either throws, the first one's error.
    public static func both<First, Second>(_ first: () throws -> First, _ second: () throws -> Second) throws -> (
        First, Second
    ) {
        var results: (Result<First, any Error>?, Result<Second, any Error>?)
        forEachTask(2) { index, _ in
            if index == 0 { results.0 = Result(catching: first) } else { results.1 = Result(catching: second) }
        }
        return (try results.0!.get(), try results.1!.get())
    }

    /// Helpers for the regions, started at the first one (after `configure`).
    private static let pool = SpinningPool(helpers: maxThreads - 1)

    /// Runs `body(worker)` on `workers` threads at once and returns when all are done: on the pool's helpers, or
    /// on Dispatch's threads while the pool runs another region.
    private static func concurrently(_ workers: Int, _ body: (_ worker: Int) -> Void) {
        if pool.run(workers, body) { return }
        withoutActuallyEscaping(body) { body in
            let task = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: workers) { task.value($0) }
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

/// Splits of a dimension that depend only on its size, so the same shapes always give the same pieces.
public enum Partition {
    /// 0..<count in at most `maximumPieces` nearly equal pieces of at least `minimumSize` (fewer pieces when
    /// `count` is small).
    public static func pieces(_ count: Int, minimumSize: Int, maximumPieces: Int = 8) -> [Range<Int>] {
        let pieces = max(1, min(maximumPieces, count / max(minimumSize, 1)))
        return (0..<pieces).map { (count * $0 / pieces)..<(count * ($0 + 1) / pieces) }.filter { !$0.isEmpty }
    }
}

#if canImport(Glibc)
    import Glibc
#endif

/// Whether the current thread runs one of `Parallel.eachWorker`'s bodies (whose work stays on it).
private enum ThreadConfinement {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    static var isConfined: Bool { pthread_getspecific(key) != nil }

    static func confined<Result>(_ body: () -> Result) -> Result {
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
        defer { pthread_setspecific(key, nil) }
        return body()
    }
}

/// Lets a closure that only touches disjoint memory cross into `concurrentPerform`.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
