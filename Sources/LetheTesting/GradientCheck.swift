import NN
import Tensor

/// Finite-difference gradient checks: compares a layer's analytic gradients of L = Σ y ⊙ r (r random) with
/// central differences (L(x + h) − L(x − h)) / 2h, accumulated in Double.
///
/// A probe whose one-sided slopes (L(x + h) − L(x)) / h and (L(x) − L(x − h)) / h disagree sits on or near a
/// kink (a ReLU input or max-pool tie within h of switching), where no derivative exists; it is skipped. More than a quarter skipped fails the check,
/// so a check cannot pass vacuously.
public enum GradientCheck {
    public struct Failure: CustomStringConvertible {
        public let what: String
        public let index: Int
        public let analytic: Float
        public let numeric: Float
        public var description: String { "\(what)[\(index)]: analytic \(analytic) vs numeric \(numeric)" }
    }

    /// Checks ∂L/∂input and ∂L/∂(every trainable parameter). Returns the failures (empty when it passes).
    public static func check(
        _ layer: Layer, input: Tensor, mode: ForwardMode = .train(), step: Float = 1e-3, tolerance: Float = 2e-2,
        seed: UInt64 = 7
    ) -> [Failure] {
        var generator = SeededGenerator(seed: seed, stream: "gradcheck")
        let output = layer.forward(input, mode: mode)
        let weights = Tensor.uniform(shape: output.shape, in: -1..<1, using: &generator)
        for (_, parameter) in layer.namedState { parameter.zeroGrad() }
        let inputGradient = layer.backward(weights)
        let parameterGradients = layer.namedState.filter { $0.parameter.isTrainable }.map {
            ($0.name, $0.parameter.grad)
        }

        func loss(_ x: Tensor) -> Double {
            let y = layer.forward(x, mode: mode)
            return zip(y.scalars, weights.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        let snapshot = layer.namedState.map { $0.parameter.value }
        func restoreBuffers() {
            for ((_, parameter), value) in zip(layer.namedState, snapshot) where !parameter.isTrainable {
                parameter.value = value
            }
        }

        var failures: [Failure] = []
        var (probes, skipped) = (0, 0)
        func compare(_ what: String, _ index: Int, analytic: Float, _ lossAt: (Float) -> Double) {
            probes += 1
            let (plus, center, minus) = (lossAt(step), lossAt(0), lossAt(-step))
            restoreBuffers()
            let numeric = Float((plus - minus) / Double(2 * step))
            let (forward, backward) = (Float((plus - center) / Double(step)), Float((center - minus) / Double(step)))
            if abs(forward - backward) > tolerance * max(1, abs(numeric)) {
                skipped += 1
            } else if abs(analytic - numeric) > tolerance * max(1, abs(numeric)) {
                failures.append(Failure(what: what, index: index, analytic: analytic, numeric: numeric))
            }
        }
        for i in probeIndices(input.count) {
            compare("input", i, analytic: inputGradient.scalars[i]) { h in
                var x = input
                x.scalars[i] += h
                return loss(x)
            }
        }
        for (name, gradient) in parameterGradients {
            let parameter = layer.namedState.first { $0.name == name }!.parameter
            for i in probeIndices(parameter.value.count) {
                let original = parameter.value.scalars[i]
                compare(name, i, analytic: gradient.scalars[i]) { h in
                    parameter.value.scalars[i] = original + h
                    defer { parameter.value.scalars[i] = original }
                    return loss(input)
                }
            }
        }
        if skipped * 4 > probes {
            failures.append(
                Failure(what: "kinks: \(skipped) of \(probes) probes", index: 0, analytic: .nan, numeric: .nan))
        }
        return failures
    }

    /// Up to 40 indices spread over the tensor (all of them for small tensors).
    private static func probeIndices(_ count: Int) -> [Int] {
        count <= 40 ? Array(0..<count) : (0..<40).map { $0 * count / 40 + ($0 * 7) % max(count / 40, 1) }
    }
}
