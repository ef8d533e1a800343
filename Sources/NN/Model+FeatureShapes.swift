import Tensor

extension Model {
    /// The shapes of the features one input sample gives at `layers` (paths the model has), by a forward pass of
    /// zeros in inference mode; a layer that gives none is absent.
    public func featureShapes(at layers: Set<String>) -> [String: [Int]] {
        let tap = FeatureTap(paths: layers)
        _ = forward(Tensor(zeros: [1] + inputShape), mode: .inference, tap: tap)
        return tap.features.mapValues(\.shape)
    }
}
