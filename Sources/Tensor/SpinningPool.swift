import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Helper threads that stay awake between parallel regions for a moment before they sleep.
///
/// A training step of `fmnist-cnn` opens about ten parallel regions, most of them less than half a millisecond after
/// the one before. Handing each to a thread that went to sleep at the end of the previous one costs a wake-up, and
/// on a virtual machine waking an idle virtual CPU goes through the hypervisor: with Dispatch's threads each core
/// sat idle an eighth of a SCRUB run's steps. Here the helpers poll for the next region for `spinNanoseconds` after
/// each one, yielding their core to any other thread that wants it between polls (so that other processes and
/// threads lose nothing to the polling), then sleep on a condition variable until one comes.
///
/// One region at a time: `run` returns false when the pool is already running one (a region opened inside
/// another, or by another thread), and the caller takes another way. The helpers compute exactly the indices they
/// are given, so the pool never changes a result.
final class SpinningPool: @unchecked Sendable {
    /// How long an idle helper polls before it sleeps.
    static let spinNanoseconds = 1_000_000

    private let helpers: Int
    /// Bumped for every region; a helper runs the region when it sees a value it has not run.
    private let generation = Atomic<Int>(0)
    /// Helpers still running the current region.
    private let pending = Atomic<Int>(0)
    private let occupied = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    private let wake: UnsafeMutablePointer<pthread_cond_t>
    /// The current region's body and its worker count; written before `generation` is bumped, read after.
    private var body: ((Int) -> Void)?
    private var workers = 0

    /// A pool of `helpers` threads besides the caller's, started now and never stopped.
    init(helpers: Int) {
        self.helpers = helpers
        lock = .allocate(capacity: 1)
        wake = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        pthread_cond_init(wake, nil)
        for helper in 0..<helpers {
            let context = Unmanaged.passRetained(HelperStart(pool: self, index: helper + 1)).toOpaque()
            var thread = pthread_t()
            guard pthread_create(&thread, nil, { HelperStart.run($0) }, context) == 0 else {
                Unmanaged<HelperStart>.fromOpaque(context).release()
                continue
            }
            pthread_detach(thread)
        }
    }

    /// Runs `body(worker)` for worker 0..<`workers` (the caller runs 0) and returns true when all are done; returns
    /// false at once, running nothing, when the pool is busy or has fewer helpers than `workers` needs.
    func run(_ workers: Int, _ body: (_ worker: Int) -> Void) -> Bool {
        guard workers - 1 <= helpers,
            occupied.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else { return false }
        withoutActuallyEscaping(body) { body in
            self.body = body
            self.workers = workers
            pending.store(helpers, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(lock)
                pthread_cond_broadcast(wake)
                pthread_mutex_unlock(lock)
            }
            body(0)
            var polls = 0
            while pending.load(ordering: .acquiring) > 0 {
                polls += 1
                if polls > 1 << 10 { sched_yield() }
            }
            self.body = nil
        }
        occupied.store(false, ordering: .releasing)
        return true
    }

    /// A helper's life: wait for a region, run its share (if the region has one for it), report, repeat.
    fileprivate func serve(as index: Int) -> Never {
        var seen = 0
        while true {
            seen = waitForRegion(after: seen)
            if index < workers, let body { body(index) }
            pending.subtract(1, ordering: .releasing)
        }
    }

    /// Polls for a generation after `seen` for `spinNanoseconds`, yielding the core to any other thread that wants
    /// it between polls, then sleeps until one comes; returns it.
    private func waitForRegion(after seen: Int) -> Int {
        let deadline = monotonicNanoseconds() + Self.spinNanoseconds
        repeat {
            let current = generation.load(ordering: .acquiring)
            if current != seen { return current }
            sched_yield()
        } while monotonicNanoseconds() < deadline
        pthread_mutex_lock(lock)
        sleepers.add(1, ordering: .sequentiallyConsistent)
        while generation.load(ordering: .sequentiallyConsistent) == seen { pthread_cond_wait(wake, lock) }
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
        pthread_mutex_unlock(lock)
        return generation.load(ordering: .acquiring)
    }
}

/// What a new helper thread needs: its pool and its worker index.
private final class HelperStart {
    let pool: SpinningPool
    let index: Int

    init(pool: SpinningPool, index: Int) {
        self.pool = pool
        self.index = index
    }

    static func run(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
        let start = Unmanaged<HelperStart>.fromOpaque(context!).takeRetainedValue()
        let (pool, index) = (start.pool, start.index)
        pool.serve(as: index)
    }
}

private func monotonicNanoseconds() -> Int {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return now.tv_sec * 1_000_000_000 + now.tv_nsec
}
