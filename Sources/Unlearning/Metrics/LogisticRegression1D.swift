import Foundation

/// Logistic regression on a single feature: p(y = 1 | x) = σ(a·z + b), where z = (x − mean) / scale is the feature
/// standardised with the mean and (population) standard deviation of the training data.
///
/// Fitted by Newton's method (iteratively reweighted least squares) on the mean log-likelihood minus a tiny L2
/// penalty (λ/2)(a² + b²). The penalty keeps the optimum finite on separable data and the Hessian invertible, so
/// fitting never produces NaN; a backtracking line search guarantees every step improves the objective. A constant
/// feature gives an intercept-only model.
public struct LogisticRegression1D: Sendable, Equatable {
    /// Mean of the training features.
    public let mean: Double
    /// Standard deviation of the training features, or 0 when the feature was constant (then z ≡ 0).
    public let scale: Double
    /// Coefficient a of the standardised feature.
    public let slope: Double
    /// Intercept b.
    public let intercept: Double
    /// Newton iterations taken.
    public let iterations: Int
    /// Whether fitting stopped because the step became small rather than at the iteration cap.
    public let converged: Bool

    /// Fits the model. `features` and `labels` must be non-empty and of equal length.
    /// - Parameters:
    ///   - l2: The L2 penalty λ on slope and intercept.
    ///   - maxIterations: The cap on Newton iterations.
    ///   - tolerance: Fitting stops when a step changes no parameter by more than `tolerance · max(1, |parameter|)`.
    public init(
        features: [Double], labels: [Bool], l2: Double = 1e-6, maxIterations: Int = 100, tolerance: Double = 1e-10
    ) {
        precondition(!features.isEmpty, "LogisticRegression1D needs at least one sample")
        precondition(features.count == labels.count, "\(features.count) features vs \(labels.count) labels")
        precondition(features.allSatisfy(\.isFinite), "LogisticRegression1D needs finite features")
        precondition(l2 > 0 && maxIterations > 0 && tolerance > 0, "l2, maxIterations and tolerance must be positive")
        let n = Double(features.count)
        let mean = features.reduce(0, +) / n
        let deviation = (features.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n).squareRoot()
        let scale = deviation > 1e-12 * max(1, abs(mean)) ? deviation : 0
        let z = features.map { scale > 0 ? ($0 - mean) / scale : 0 }
        let y = labels.map { $0 ? 1.0 : 0.0 }
        let objective = Objective(z: z, y: y, l2: l2)

        var (a, b) = (0.0, 0.0)
        var iterations = 0
        var converged = false
        while iterations < maxIterations {
            iterations += 1
            let (ga, gb, saa, sab, sbb) = objective.derivatives(a, b)
            // Newton step: the negative Hessian S is positive definite (at least λ·I), so S⁻¹·g is an ascent step.
            let determinant = saa * sbb - sab * sab
            var (da, db) = ((sbb * ga - sab * gb) / determinant, (saa * gb - sab * ga) / determinant)
            let current = objective.value(a, b)
            var halvings = 0
            while objective.value(a + da, b + db) < current, halvings < 60 {
                (da, db) = (da / 2, db / 2)
                halvings += 1
            }
            (a, b) = (a + da, b + db)
            if abs(da) <= tolerance * max(1, abs(a)) && abs(db) <= tolerance * max(1, abs(b)) {
                converged = true
                break
            }
        }
        self.mean = mean
        self.scale = scale
        self.slope = a
        self.intercept = b
        self.iterations = iterations
        self.converged = converged
    }

    /// The standardised feature z = (x − mean) / scale (0 for a constant training feature).
    public func standardised(_ x: Double) -> Double {
        scale > 0 ? (x - mean) / scale : 0
    }

    /// p(y = 1 | x).
    public func probability(_ x: Double) -> Double {
        sigmoid(slope * standardised(x) + intercept)
    }

    /// Whether the model predicts class 1, i.e. p(y = 1 | x) > ½.
    public func predict(_ x: Double) -> Bool {
        slope * standardised(x) + intercept > 0
    }

    /// The fraction of samples whose prediction matches the label (0 for no samples).
    public func accuracy(features: [Double], labels: [Bool]) -> Double {
        precondition(features.count == labels.count, "\(features.count) features vs \(labels.count) labels")
        guard !features.isEmpty else { return 0 }
        let correct = zip(features, labels).count { predict($0) == $1 }
        return Double(correct) / Double(features.count)
    }
}

/// The penalised mean log-likelihood (1/n)·Σ [y·t − softplus(t)] − (λ/2)(a² + b²) with t = a·z + b.
private struct Objective {
    let z: [Double]
    let y: [Double]
    let l2: Double

    func value(_ a: Double, _ b: Double) -> Double {
        var total = 0.0
        for (zi, yi) in zip(z, y) {
            let t = a * zi + b
            total += yi * t - softplus(t)
        }
        return total / Double(z.count) - l2 / 2 * (a * a + b * b)
    }

    /// The gradient (ga, gb) and the negative Hessian [[saa, sab], [sab, sbb]].
    func derivatives(_ a: Double, _ b: Double) -> (Double, Double, Double, Double, Double) {
        var (ga, gb, saa, sab, sbb) = (0.0, 0.0, 0.0, 0.0, 0.0)
        for (zi, yi) in zip(z, y) {
            let p = sigmoid(a * zi + b)
            let residual = yi - p
            let weight = p * (1 - p)
            ga += residual * zi
            gb += residual
            saa += weight * zi * zi
            sab += weight * zi
            sbb += weight
        }
        let n = Double(z.count)
        return (ga / n - l2 * a, gb / n - l2 * b, saa / n + l2, sab / n, sbb / n + l2)
    }
}

/// log(1 + eᵗ) without overflow.
private func softplus(_ t: Double) -> Double {
    max(t, 0) + log1p(exp(-abs(t)))
}

/// 1 / (1 + e⁻ᵗ) without overflow.
private func sigmoid(_ t: Double) -> Double {
    if t >= 0 { return 1 / (1 + exp(-t)) }
    let e = exp(t)
    return e / (1 + e)
}
