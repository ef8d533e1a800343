/// Relearn time and the Anamnesis index (AIN) of Chundawat et al., "Zero-Shot Machine Unlearning" (IEEE TIFS 2023).
///
/// Relearn time is how many epochs of fine-tuning on the forgotten data a model needs to get back to (nearly) the
/// original model's accuracy on it. AIN is the unlearned model's relearn time divided by the retrained reference's:
/// near 1 means the unlearned model is as naive about the forgotten data as one that never saw it, well below 1
/// means the information was only hidden and comes back quickly. These helpers only do the arithmetic; running the
/// relearning is up to the caller.
public enum RelearnTime {
    /// The number of epochs after which the accuracy first reaches `target · (1 − tolerance)`: the first index + 1
    /// with `accuracies[index] ≥ target · (1 − tolerance)`, or nil if it never does.
    /// - Parameters:
    ///   - target: The accuracy to get back to, usually the original model's accuracy on the forget set.
    ///   - accuracies: The accuracy after each relearning epoch, in order (index 0 is after the first epoch).
    ///   - tolerance: The relative shortfall from `target` still counted as reaching it (α in the paper).
    public static func epochsToReach(target: Double, accuracies: [Double], tolerance: Double = 0.05) -> Int? {
        let threshold = target * (1 - tolerance)
        return accuracies.firstIndex { $0 >= threshold }.map { $0 + 1 }
    }

    /// The Anamnesis index: the unlearned model's relearn time over the reference (retrained) model's, with a
    /// model that never relearned within the budget counted as `maximum`.
    /// - Parameters:
    ///   - unlearned: The unlearned model's relearn time, as from `epochsToReach`; nil if it never relearned.
    ///   - reference: The reference model's relearn time; nil if it never relearned.
    ///   - maximum: The relearning budget (positive), used for nil.
    public static func anamnesisIndex(unlearned: Int?, reference: Int?, maximum: Int) -> Double {
        precondition(maximum > 0, "maximum must be positive, got \(maximum)")
        let (numerator, denominator) = (unlearned ?? maximum, reference ?? maximum)
        precondition(
            numerator > 0 && denominator > 0, "relearn times must be positive, got \(numerator), \(denominator)")
        return Double(numerator) / Double(denominator)
    }
}
