#if canImport(Glibc)
    import Glibc
#endif

/// A value derived from a layer's weights (Winograd's transformed weights), kept with a copy of the weights it came
/// from and served again while the weights are the same bytes, as they are from one inference batch to the next:
/// compared, not versioned, since anything may write a parameter.
struct DerivedFromWeights {
    /// Floats of derived value beyond which nothing is kept (it is derived again on every call).
    let limit: Int
    private(set) var kept: (weights: [Float], value: [Float])?

    init(limit: Int) { self.limit = limit }

    mutating func value(
        of weights: UnsafeBufferPointer<Float>, deriving derive: (UnsafeBufferPointer<Float>) -> [Float]
    ) -> [Float] {
        let bytes = UnsafeRawBufferPointer(weights)
        if let kept,
            kept.weights.withUnsafeBytes({
                $0.count == bytes.count && memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0
            })
        {
            return kept.value
        }
        let value = derive(weights)
        kept = value.count <= limit ? (Array(weights), value) : nil
        return value
    }
}
