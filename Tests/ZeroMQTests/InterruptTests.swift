#if canImport(Glibc)
    import Foundation
    import Glibc
    import Testing
    import ZeroMQ

    /// A blocking receive interrupted by signals (EINTR) carries on waiting instead of failing.
    struct InterruptTests {
        /// Where the receiving thread publishes its pthread id and its result.
        private final class Receiver: @unchecked Sendable {
            let lock = NSLock()
            var thread: pthread_t?
            var result: Result<Message?, ZeroMQError>?

            func update(_ body: (Receiver) -> Void) {
                lock.withLock { body(self) }
            }

            func read<T>(_ body: (Receiver) -> T) -> T {
                lock.withLock { body(self) }
            }
        }

        @Test func blockingReceiveRetriesAfterSignals() throws {
            // A no-op SIGUSR1 handler without SA_RESTART, so a blocked poll() inside libzmq returns EINTR.
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { _ in }
            action.sa_flags = 0
            sigemptyset(&action.sa_mask)
            #expect(sigaction(SIGUSR1, &action, nil) == 0)

            let scratch = try Scratch()
            let context = try ZeroMQContext()
            let receiving = try ZeroMQSocket(context, type: .pair)
            let endpoint = try receiving.bind(scratch.endpoint(.inproc))
            let sending = try ZeroMQSocket(context, type: .pair)
            try sending.connect(endpoint)
            try receiving.set(.receiveTimeout, to: patience)

            let receiver = Receiver()
            Thread {
                // Threads may start with signals blocked (they inherit the mask of the thread that made them).
                var unblock = sigset_t()
                sigemptyset(&unblock)
                sigaddset(&unblock, SIGUSR1)
                pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
                receiver.update { $0.thread = pthread_self() }
                let result = Result { () throws(ZeroMQError) in try receiving.receive() }
                receiver.update { $0.result = result }
            }.start()
            #expect(eventually { receiver.read { $0.thread != nil } })
            let thread = try #require(receiver.read { $0.thread })
            for _ in 0..<10 {
                Thread.sleep(forTimeInterval: 0.01)
                pthread_kill(thread, SIGUSR1)
            }
            try sending.send([Frame("after the signals")])

            #expect(eventually { receiver.read { $0.result != nil } })
            let result = try #require(receiver.read { $0.result })
            #expect(try result.get()?.frames == [Array("after the signals".utf8)])
        }
    }
#endif
