import ONNX
import Tensor

/// How each supported ONNX operator becomes an engine operation, with its per-sample output shape.
extension ONNXGraphBuilder {
    typealias Mapped = (operation: GraphOperation, inputs: [Int], shape: [Int])

    mutating func operation(for node: ONNXNode, index: Int) throws(ONNXError) -> Mapped {
        switch node.opType {
        case "Conv": return try convolution(node)
        case "BatchNormalization": return try batchNorm(node)
        case "Relu": return try elementwise(node, ReLU())
        case "LeakyRelu": return try elementwise(node, LeakyReLU(slope: try node.float("alpha", default: 0.01)))
        case "Sigmoid": return try elementwise(node, Sigmoid())
        case "Identity":
            let x = try computed(node, 0)
            return (IdentityOperation(), [x.index], x.shape)
        case "Dropout": return try dropout(node, index: index)
        case "MaxPool", "AveragePool": return try pooling(node)
        case "GlobalAveragePool":
            let x = try image(node)
            return (LayerOperation(AdaptiveAvgPool2d()), [x.index], [x.shape[0], 1, 1])
        case "Gemm": return try gemm(node)
        case "MatMul": return try matmul(node)
        case "Add": return try add(node)
        case "Mul": return try withConstant(node, .multiply)
        case "Sub": return try withConstant(node, .subtract)
        case "Div": return try withConstant(node, .divide)
        case "Concat": return try concat(node)
        case "Flatten":
            let x = try computed(node, 0)
            guard try node.int("axis", default: 1) == 1 else {
                throw node.unsupported("Flatten with axis ≠ 1 (it would mix samples)", opset: opset)
            }
            return (ReshapeOperation(from: x.shape, to: [x.shape.reduce(1, *)]), [x.index], [x.shape.reduce(1, *)])
        case "Reshape": return try reshape(node)
        default:
            throw node.unsupported(
                "Lethe runs \(ONNXImport.supportedOperators.joined(separator: ", "))", opset: opset)
        }
    }

    private func elementwise(_ node: ONNXNode, _ layer: Layer) throws(ONNXError) -> Mapped {
        let x = try computed(node, 0)
        return (LayerOperation(layer), [x.index], x.shape)
    }

    /// A computed [C, H, W] input.
    private func image(_ node: ONNXNode) throws(ONNXError) -> (index: Int, shape: [Int]) {
        let x = try computed(node, 0)
        guard x.shape.count == 3 else { throw node.invalid("needs [N, C, H, W] input, got [N] + \(x.shape)") }
        return x
    }

    private mutating func convolution(_ node: ONNXNode) throws(ONNXError) -> Mapped {
        let x = try image(node)
        let weight = try parameter(node, 1)
        guard weight.tensor.rank == 4 else { throw node.invalid("weight '\(weight.name)' must be [out, in, k, k]") }
        let outChannels = weight.tensor.shape[0]
        let bias = node.inputs.count > 2 && !node.inputs[2].isEmpty ? try parameter(node, 2, shape: [outChannels]) : nil
        let window = try node.window(kernel: weight.tensor.shape[2], opset: opset)
        guard weight.tensor.shape[2] == window.kernel, weight.tensor.shape[3] == window.kernel else {
            throw node.invalid("weight shape \(weight.tensor.shape) does not match kernel \(window.kernel)")
        }
        let channels = x.shape[0]
        let groups = try node.int("group", default: 1)
        let layer: Layer
        if groups == 1 {
            guard weight.tensor.shape[1] == channels else {
                throw node.invalid(
                    "weight '\(weight.name)' takes \(weight.tensor.shape[1]) channels, input has \(channels)")
            }
            layer = Conv2d(weight: weight.tensor, bias: bias?.tensor, stride: window.stride, padding: window.padding)
        } else if groups == channels && weight.tensor.shape[1] == 1 && outChannels % channels == 0 {
            layer = DepthwiseConv2d(
                weight: weight.tensor, bias: bias?.tensor, channels: channels, stride: window.stride,
                padding: window.padding)
        } else {
            throw node.unsupported("group \(groups) (Lethe runs group 1 and depthwise, group = channels)", opset: opset)
        }
        let size = { (n: Int) in
            slidingOutputSize(n, kernel: window.kernel, stride: window.stride, padding: window.padding)
        }
        guard size(x.shape[1]) >= 1, size(x.shape[2]) >= 1 else { throw node.invalid("input \(x.shape) too small") }
        return (
            LayerOperation(layer, stateNames: [weight.name] + (bias.map { [$0.name] } ?? [])), [x.index],
            [outChannels, size(x.shape[1]), size(x.shape[2])]
        )
    }

    private mutating func batchNorm(_ node: ONNXNode) throws(ONNXError) -> Mapped {
        let x = try computed(node, 0)
        guard x.shape.count == 3 || x.shape.count == 1 else {
            throw node.invalid("needs [N, C, H, W] or [N, C] input, got [N] + \(x.shape)")
        }
        let channels = x.shape[0]
        let names = try (1...4).map { (position: Int) throws(ONNXError) in
            try parameter(node, position, shape: [channels])
        }
        // ONNX's momentum weighs the running value (PyTorch's 1 − momentum); an export stores it as float32,
        // so PyTorch's decimal momentum is recovered by rounding to six places.
        let onnxMomentum = try node.float("momentum", default: 0.9)
        let momentum = Float((Double(1 - onnxMomentum) * 1e6).rounded() / 1e6)
        let norm = BatchNorm2d(channels, epsilon: try node.float("epsilon", default: 1e-5), momentum: momentum)
        for (parameter, value) in zip([norm.weight, norm.bias, norm.runningMean, norm.runningVar], names) {
            parameter.value = value.tensor
        }
        let scaleName = names[0].name
        let prefix = scaleName.hasSuffix(".weight") ? String(scaleName.dropLast(".weight".count)) : node.name
        let stateNames = names.map(\.name) + ["\(prefix).num_batches_tracked"]
        let layer: Layer = x.shape.count == 3 ? norm : BatchNorm1d(norm)
        return (LayerOperation(layer, stateNames: stateNames), [x.index], x.shape)
    }

    private func dropout(_ node: ONNXNode, index: Int) throws(ONNXError) -> Mapped {
        let x = try computed(node, 0)
        var ratio = try node.float("ratio", default: 0.5)
        if let given = constant(node, 1) {
            guard given.elementCount == 1 else { throw node.invalid("ratio must be a scalar") }
            ratio = given.floatTensor.scalars[0]
        }
        guard ratio >= 0 && ratio < 1 else { throw node.invalid("ratio \(ratio) outside [0, 1)") }
        return (LayerOperation(Dropout(probability: ratio, salt: UInt64(index))), [x.index], x.shape)
    }

    private func pooling(_ node: ONNXNode) throws(ONNXError) -> Mapped {
        let x = try image(node)
        let window = try node.window(kernel: nil, opset: opset)
        guard 2 * window.padding <= window.kernel else {
            throw node.invalid("padding \(window.padding) exceeds half the kernel \(window.kernel)")
        }
        let layer: Layer =
            node.opType == "MaxPool"
            ? MaxPool2d(kernel: window.kernel, stride: window.stride, padding: window.padding)
            : AvgPool2d(
                kernel: window.kernel, stride: window.stride, padding: window.padding,
                countIncludePad: try node.int("count_include_pad", default: 0) != 0)
        let size = { (n: Int) in
            slidingOutputSize(n, kernel: window.kernel, stride: window.stride, padding: window.padding)
        }
        guard size(x.shape[1]) >= 1, size(x.shape[2]) >= 1 else { throw node.invalid("input \(x.shape) too small") }
        return (LayerOperation(layer), [x.index], [x.shape[0], size(x.shape[1]), size(x.shape[2])])
    }

    /// y = x · Bᵀ + C, PyTorch's `nn.Linear` (transB = 1, alpha = beta = 1).
    private mutating func gemm(_ node: ONNXNode) throws(ONNXError) -> Mapped {
        let x = try computed(node, 0)
        guard try node.int("transA", default: 0) == 0, try node.int("transB", default: 0) == 1,
            try node.float("alpha", default: 1) == 1, try node.float("beta", default: 1) == 1
        else {
            throw node.unsupported("Gemm other than nn.Linear's (transA 0, transB 1, alpha 1, beta 1)", opset: opset)
        }
        guard x.shape.count == 1 else { throw node.invalid("needs [N, features] input, got [N] + \(x.shape)") }
        let weight = try parameter(node, 1)
        guard weight.tensor.rank == 2, weight.tensor.shape[1] == x.shape[0] else {
            throw node.invalid("weight '\(weight.name)' of shape \(weight.tensor.shape) for \(x.shape[0]) features")
        }
        let outFeatures = weight.tensor.shape[0]
        let bias = node.inputs.count > 2 && !node.inputs[2].isEmpty ? try parameter(node, 2, shape: [outFeatures]) : nil
        let layer = Linear(weight: weight.tensor, bias: bias?.tensor)
        return (
            LayerOperation(layer, stateNames: [weight.name] + (bias.map { [$0.name] } ?? [])), [x.index], [outFeatures]
        )
    }

    private mutating func matmul(_ node: ONNXNode) throws(ONNXError) -> Mapped {
        let x = try computed(node, 0)
        guard x.shape.count == 1 else { throw node.invalid("needs [N, features] input, got [N] + \(x.shape)") }
        let weight = try parameter(node, 1)
        guard weight.tensor.rank == 2, weight.tensor.shape[0] == x.shape[0] else {
            throw node.invalid("weight '\(weight.name)' of shape \(weight.tensor.shape) for \(x.shape[0]) features")
        }
        return (MatMulOperation(weight: weight.tensor, name: weight.name), [x.index], [weight.tensor.shape[1]])
    }

    /// Two computed values of one shape; a computed value plus a weight (`x @ W + b`: trainable, repeated over the
    /// leading axes); or a computed value plus a constant.
    private mutating func add(_ node: ONNXNode) throws(ONNXError) -> Mapped {
        guard node.inputs.count == 2 else { throw node.invalid("Add needs two inputs") }
        let computedPositions = (0..<2).filter { isComputed(node.inputs[$0]) }
        guard computedPositions.count == 1 else {
            guard computedPositions.count == 2 else {
                throw node.unsupported("Add of two constants (fold constants before export)", opset: opset)
            }
            let (a, b) = (try computed(node, 0), try computed(node, 1))
            guard a.shape == b.shape else {
                throw node.unsupported(
                    "Add of shapes [N] + \(a.shape) and [N] + \(b.shape) (broadcasting)", opset: opset)
            }
            return (AddOperation(), [a.index, b.index], a.shape)
        }
        let x = try computed(node, computedPositions[0])
        let position = 1 - computedPositions[0]
        guard isInitializer(node.inputs[position]) else { return try withConstant(node, .add) }
        let weight = try parameter(node, position)
        var shape = weight.tensor.shape
        while shape.first == 1 && shape.count > 1 { shape.removeFirst() }
        guard shape.count <= x.shape.count, Array(x.shape.suffix(shape.count)) == shape else {
            throw node.unsupported(
                "Add of [N] + \(x.shape) and a weight of shape \(weight.tensor.shape)", opset: opset)
        }
        return (BiasAddOperation(bias: Parameter(weight.tensor), name: weight.name), [x.index], x.shape)
    }

    /// A computed value (first input for Sub and Div) with a constant broadcast over each sample: a `Constant`
    /// node's value, or an initializer kept as a buffer under its name (a registered `mean` or `std`).
    mutating func withConstant(_ node: ONNXNode, _ kind: ConstantOperation.Kind) throws(ONNXError) -> Mapped {
        guard node.inputs.count == 2 else { throw node.invalid("\(node.opType) needs two inputs") }
        let computedPositions = (0..<2).filter { isComputed(node.inputs[$0]) }
        let ordered = kind == .add || kind == .multiply
        guard computedPositions == [0] || (ordered && computedPositions == [1]) else {
            throw node.unsupported(
                "\(node.opType) of \(computedPositions.count) computed values (Lethe combines one with a constant"
                    + (ordered ? ")" : ", the computed value first)"), opset: opset)
        }
        let x = try computed(node, computedPositions[0])
        let position = 1 - computedPositions[0]
        guard let value = constant(node, position) else { throw node.invalid("input \(position) is undefined") }
        let name = isInitializer(node.inputs[position]) ? try parameter(node, position).name : nil
        guard
            let operation = ConstantOperation(
                kind, constant: value.floatTensor, name: name, sampleShape: x.shape)
        else {
            throw node.unsupported(
                "a constant of shape \(value.shape) that does not broadcast over [N] + \(x.shape)", opset: opset)
        }
        return (operation, [x.index], x.shape)
    }

    private func concat(_ node: ONNXNode) throws(ONNXError) -> Mapped {
        let inputs = try node.inputs.indices.map { (position: Int) throws(ONNXError) in try computed(node, position) }
        guard let first = inputs.first else { throw node.invalid("Concat needs inputs") }
        let rank = first.shape.count + 1
        var axis = try node.int("axis", default: 1)
        if axis < 0 { axis += rank }
        guard axis >= 1 && axis < rank else {
            throw node.unsupported("Concat along axis \(axis) (the batch axis or outside the rank)", opset: opset)
        }
        var shape = first.shape
        for input in inputs.dropFirst() {
            var other = input.shape
            guard other.count == shape.count else { throw node.invalid("inputs of different ranks") }
            other[axis - 1] = shape[axis - 1]
            guard other == shape else { throw node.invalid("inputs differ outside axis \(axis)") }
        }
        shape[axis - 1] = inputs.reduce(0) { $0 + $1.shape[axis - 1] }
        return (ConcatOperation(axis: axis), inputs.map(\.index), shape)
    }

    /// Reshape to a constant shape whose first entry is the batch (0 or −1); 0 copies an input dimension and one
    /// −1 is inferred.
    private func reshape(_ node: ONNXNode) throws(ONNXError) -> Mapped {
        let x = try computed(node, 0)
        guard let target = constant(node, 1), case .integers(let dims) = target.values, target.shape.count == 1 else {
            throw node.unsupported("Reshape to a shape that is not a constant list of integers", opset: opset)
        }
        guard let batch = dims.first, batch == 0 || batch == -1 else {
            throw node.unsupported(
                "Reshape to \(dims): the first dimension must keep the batch (0 or -1)", opset: opset)
        }
        let full = [0] + x.shape
        var shape = dims.enumerated().dropFirst().map { position, dim in
            dim == 0 && position < full.count ? full[position] : dim
        }
        let elements = x.shape.reduce(1, *)
        let inferred = shape.indices.filter { shape[$0] == -1 }
        guard shape.allSatisfy({ $0 > 0 || $0 == -1 }), inferred.count <= (batch == -1 ? 0 : 1) else {
            throw node.unsupported("Reshape to \(dims)", opset: opset)
        }
        if let position = inferred.first {
            let known = shape.filter { $0 > 0 }.reduce(1, *)
            guard elements % known == 0 else { throw node.invalid("cannot reshape [N] + \(x.shape) to \(dims)") }
            shape[position] = elements / known
        }
        guard shape.reduce(1, *) == elements else { throw node.invalid("cannot reshape [N] + \(x.shape) to \(dims)") }
        return (ReshapeOperation(from: x.shape, to: shape), [x.index], shape)
    }
}
