import Foundation

/// Answers that a job's thread waits for while the endpoint's thread delivers them: one per expected key, until all
/// are in, the first failure, or a deadline. (A shard step waits for every shard; a federated round for each chosen
/// client until the round's deadline.)
final class Gathering<Key: Hashable, Answer>: @unchecked Sendable {
    private let condition = NSCondition()
    private let expected: Set<Key>
    private var answers: [Key: Answer] = [:]
    private var failure: (any Error)?

    init(expecting keys: some Sequence<Key>) { expected = Set(keys) }

    private var complete: Bool { answers.count == expected.count }

    /// Keeps the first answer for an expected key (none after a failure).
    func deliver(_ answer: Answer, for key: Key) {
        condition.withLock {
            guard expected.contains(key), answers[key] == nil, failure == nil else { return }
            answers[key] = answer
            if complete { condition.broadcast() }
        }
    }

    /// Ends the wait with `error`, unless every answer is already in or an earlier failure ended it.
    func fail(_ error: any Error) {
        condition.withLock {
            guard failure == nil, !complete else { return }
            failure = error
            condition.broadcast()
        }
    }

    /// The answers in by `deadline` (all of them, unless it passed first); throws the failure that ended the wait.
    func wait(until deadline: Date? = nil) throws -> [Key: Answer] {
        try condition.withLock {
            while !complete, failure == nil {
                // (Foundation on Linux cannot wait until `.distantFuture`.)
                guard let deadline else {
                    condition.wait()
                    continue
                }
                if !condition.wait(until: deadline) { break }
            }
            if let failure { throw failure }
            return answers
        }
    }
}
