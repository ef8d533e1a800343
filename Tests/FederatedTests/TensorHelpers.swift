import LetheTesting
import Tensor
import Testing

/// A rank-1 tensor of the given values.
func vector(_ values: [Float]) -> Tensor {
    Tensor(shape: [values.count], scalars: values)
}

/// Expects `actual` to equal `expected` within the default tolerance, reporting the worst element otherwise.
func expectClose(_ actual: Tensor?, _ expected: Tensor, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let actual else {
        Issue.record("missing tensor, expected \(expected)", sourceLocation: sourceLocation)
        return
    }
    let mismatch = Tolerance.mismatch(actual, expected)
    #expect(mismatch == nil, "\(mismatch ?? "")", sourceLocation: sourceLocation)
}
