/// Checks that a decoded graph is well formed — every value defined once, every node input defined, no cycle —
/// and puts the nodes in topological order (keeping file order among independent nodes).
enum ONNXGraphValidation {
    static func validated(
        name: String, input: (name: String, sampleShape: [Int]), outputs: [String], initializers: [ONNXTensor],
        nodes: [ONNXNode]
    ) throws(ONNXError) -> ONNXGraph {
        // Which node defines each value (nil for the graph input and the initializers).
        var definedBy: [String: Int?] = [input.name: nil]
        for tensor in initializers {
            guard definedBy.updateValue(nil, forKey: tensor.name) == nil else {
                throw .invalidGraph("'\(tensor.name)' is defined twice")
            }
        }
        for (index, node) in nodes.enumerated() {
            for output in node.outputs where !output.isEmpty {
                guard definedBy.updateValue(index, forKey: output) == nil else {
                    throw .invalidGraph("'\(output)' is defined twice (again by node '\(node.name)')")
                }
            }
        }
        var dependents = [[Int]](repeating: [], count: nodes.count)
        var pending = [Int](repeating: 0, count: nodes.count)
        for (index, node) in nodes.enumerated() {
            for value in node.inputs where !value.isEmpty {
                guard let producer = definedBy[value] else { throw .missingValue(node: node.name, value: value) }
                if let producer {
                    dependents[producer].append(index)
                    pending[index] += 1
                }
            }
        }
        for output in outputs where definedBy[output] == nil {
            throw .invalidGraph("the graph output '\(output)' is never defined")
        }
        // Kahn's algorithm, always taking the earliest ready node in file order.
        var ready = Set(nodes.indices.filter { pending[$0] == 0 })
        var order: [Int] = []
        while let next = ready.min() {
            ready.remove(next)
            order.append(next)
            for dependent in dependents[next] {
                pending[dependent] -= 1
                if pending[dependent] == 0 { ready.insert(dependent) }
            }
        }
        guard order.count == nodes.count else {
            let stuck = nodes.indices.filter { pending[$0] > 0 }.prefix(3).map { "'\(nodes[$0].name)'" }
            throw .invalidGraph("the nodes form a cycle (through \(stuck.joined(separator: ", ")))")
        }
        return ONNXGraph(
            name: name, input: input, outputs: outputs, initializers: initializers, nodes: order.map { nodes[$0] })
    }
}
