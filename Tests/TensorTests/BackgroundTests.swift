import Tensor
import Testing

/// Work started in the background gives its value, or its error, to whoever waits for it.
struct BackgroundTests {
    struct Refusal: Error, Equatable {}

    @Test func valuesAndErrorsReachTheWaiter() throws {
        let sum = Background<Int, Never> { (1...1000).reduce(0, +) }
        #expect(sum.value() == 500_500)
        #expect(sum.value() == 500_500)  // asked again: the same value, no second run
        let refused = Background<Int, Refusal> { () throws(Refusal) in throw Refusal() }
        #expect(throws: Refusal()) { try refused.value() }
    }
}
