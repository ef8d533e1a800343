import Tensor

/// Compares computed floats with a relative and an absolute tolerance (never `==`).
public enum Tolerance {
    /// The largest violation of |a − b| ≤ absolute + relative·|b| over all elements, as a description, or
    /// nil when every element is within tolerance and the shapes agree.
    public static func mismatch(
        _ actual: Tensor, _ expected: Tensor, relative: Float = 1e-4, absolute: Float = 1e-5
    ) -> String? {
        guard actual.shape == expected.shape else { return "shape \(actual.shape) ≠ expected \(expected.shape)" }
        var worst: (index: Int, excess: Float)? = nil
        var violations = 0
        for i in 0..<actual.count {
            let (a, b) = (actual.scalars[i], expected.scalars[i])
            let excess = abs(a - b) - (absolute + relative * abs(b))
            guard !(excess <= 0) else { continue }
            violations += 1
            if worst == nil || !(excess <= worst!.excess) { worst = (i, excess) }
        }
        guard let worst else { return nil }
        return "\(violations) of \(actual.count) elements differ; worst, element \(worst.index): "
            + "\(actual.scalars[worst.index]) vs expected \(expected.scalars[worst.index])"
    }

    public static func isClose(_ a: Float, _ b: Float, relative: Float = 1e-4, absolute: Float = 1e-5) -> Bool {
        abs(a - b) <= absolute + relative * abs(b)
    }
}
