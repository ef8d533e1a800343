import Foundation
import LetheTesting
import Testing

@testable import Tensor

/// `Parallel.serially` keeps every chunk of the work inside it on the calling thread (in-process workers, one
/// core each), and the arithmetic is the same as spread over the threads.
struct ParallelTests {
    @Test func seriallyKeepsEveryChunkOnTheCallingThread() {
        let caller = pthread_self()
        let threads = Parallel.serially {
            var seen: [pthread_t] = []
            let lock = NSLock()
            Parallel.forEach(64, grain: 1) { _ in
                lock.lock()
                seen.append(pthread_self())
                lock.unlock()
            }
            return seen
        }
        #expect(!threads.isEmpty && threads.allSatisfy { pthread_equal($0, caller) != 0 })
    }

    @Test func seriallyGivesTheSameProduct() {
        var generator = SystemRandomNumberGenerator()
        let a = Tensor(
            shape: [64, 96], scalars: (0..<64 * 96).map { _ in Float.random(in: -1...1, using: &generator) })
        let b = Tensor(
            shape: [96, 80], scalars: (0..<96 * 80).map { _ in Float.random(in: -1...1, using: &generator) })
        let spread = a.matmul(b)
        let serial = Parallel.serially { a.matmul(b) }
        #expect(BitHash.of([spread]) == BitHash.of([serial]))
    }
}
