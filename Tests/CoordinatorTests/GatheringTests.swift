import Foundation
import Testing

@testable import Coordinator

@Suite struct GatheringTests {
    struct Broken: Error, Equatable { let why: String }

    @Test func waitsForEveryExpectedAnswerFromAnotherThread() throws {
        let gathering = Gathering<Int, String>(expecting: 0..<3)
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 0.05)
            for index in [2, 0, 7, 1, 0] { gathering.deliver("answer \(index)", for: index) }  // 7: not expected
        }
        #expect(try gathering.wait() == [0: "answer 0", 1: "answer 1", 2: "answer 2"])
    }

    @Test func theFirstFailureEndsTheWaitAndLaterAnswersAreIgnored() {
        let gathering = Gathering<Int, String>(expecting: 0..<2)
        gathering.deliver("a", for: 0)
        gathering.fail(Broken(why: "first"))
        gathering.fail(Broken(why: "second"))
        gathering.deliver("b", for: 1)
        #expect(throws: Broken(why: "first")) { try gathering.wait() }
    }

    @Test func aFailureAfterEveryAnswerIsInChangesNothing() throws {
        let gathering = Gathering<String, Int>(expecting: ["x"])
        gathering.deliver(1, for: "x")
        gathering.fail(Broken(why: "late"))
        #expect(try gathering.wait() == ["x": 1])
    }

    @Test func aDeadlineReturnsWhatIsInSoFar() throws {
        let gathering = Gathering<String, Int>(expecting: ["in", "late"])
        gathering.deliver(1, for: "in")
        let started = Date()
        #expect(try gathering.wait(until: Date().addingTimeInterval(0.1)) == ["in": 1])
        #expect(Date().timeIntervalSince(started) >= 0.09)
    }

    @Test func nothingExpectedIsAtOnceComplete() throws {
        #expect(try Gathering<Int, Int>(expecting: []).wait().isEmpty)
    }
}
