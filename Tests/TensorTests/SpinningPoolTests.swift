import Foundation
import Synchronization
import Testing

@testable import Tensor

/// The helpers that keep `Parallel`'s regions off Dispatch: each worker index runs once per region, the caller runs
/// worker 0, and a pool that is busy or too small refuses at once instead of queueing.
struct SpinningPoolTests {
    @Test func everyWorkerRunsOnceAndTheCallerRunsTheFirst() {
        let pool = SpinningPool(helpers: 3)
        let caller = pthread_self()
        for workers in 1...4 {
            let runs = Mutex([Int: Int]())
            let onCaller = Mutex(false)
            let accepted = pool.run(workers) { worker in
                runs.withLock { $0[worker, default: 0] += 1 }
                if worker == 0 { onCaller.withLock { $0 = pthread_equal(pthread_self(), caller) != 0 } }
            }
            #expect(accepted)
            #expect(runs.withLock { $0 } == Dictionary(uniqueKeysWithValues: (0..<workers).map { ($0, 1) }))
            #expect(onCaller.withLock { $0 })
        }
    }

    @Test func manyRegionsInARowLoseNoWork() {
        let pool = SpinningPool(helpers: 1)
        let counts = Mutex([0, 0])
        for region in 0..<20_000 {
            // Now and then a pause longer than the helpers poll, so that they also sleep and are woken.
            if region % 2_000 == 0 { usleep(UInt32(SpinningPool.spinNanoseconds / 1_000 * 3)) }
            #expect(pool.run(2) { worker in counts.withLock { $0[worker] += 1 } })
        }
        #expect(counts.withLock { $0 } == [20_000, 20_000])
    }

    @Test func aBusyOrTooSmallPoolRefusesAtOnce() {
        let pool = SpinningPool(helpers: 1)
        #expect(!pool.run(3) { _ in Issue.record("a region too wide for the pool ran") })
        let nested = Mutex([Bool]())
        #expect(pool.run(2) { _ in nested.withLock { $0.append(pool.run(2) { _ in }) } })
        #expect(nested.withLock { $0 } == [false, false])
    }

    /// Regions opened by many threads at once (as tests and in-process workers do) all complete with every index
    /// computed once, whether the pool or Dispatch ran them.
    @Test func regionsFromManyThreadsAllComplete() {
        let totals = Mutex([Int](repeating: 0, count: 8))
        DispatchQueue.concurrentPerform(iterations: 8) { caller in
            for _ in 0..<500 {
                Parallel.forEach(64, grain: 1) { range in totals.withLock { $0[caller] += range.count } }
            }
        }
        #expect(totals.withLock { $0 } == [Int](repeating: 500 * 64, count: 8))
    }
}
