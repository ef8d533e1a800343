import CProtobufC
import ONNXProtoC

/// Reads one `onnx.TensorProto` into an `ONNXTensor`, checking that its data is inside the file and matches its
/// shape before converting anything.
enum ONNXTensorDecoding {
    /// ONNX element types Lethe reads, with their size in `raw_data`.
    private static let byteSizes: [Int32: Int] = [
        1: 4,  // FLOAT
        2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8,  // UINT8, INT8, UINT16, INT16, INT32, INT64
        9: 1,  // BOOL
        11: 8,  // DOUBLE
    ]

    static func decode(_ tensor: Onnx__TensorProto) throws(ONNXError) -> ONNXTensor {
        let name = ONNXDecoder.string(tensor.name)
        let dataLocation =
            tensor.has_data_location != 0 ? tensor.data_location : ONNX__TENSOR_PROTO__DATA_LOCATION__DEFAULT
        guard dataLocation == ONNX__TENSOR_PROTO__DATA_LOCATION__DEFAULT, tensor.n_external_data == 0 else {
            throw .externalData(tensor: name)
        }
        let dims = ONNXDecoder.array(tensor.dims, tensor.n_dims)
        guard dims.count <= ONNXDecoder.Limits.rank else {
            throw .badTensor(tensor: name, reason: "rank \(dims.count)")
        }
        var count = 1
        for dim in dims {
            guard dim >= 0, dim <= ONNXDecoder.Limits.tensorElements else {
                throw .badTensor(tensor: name, reason: "dimension \(dim)")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(dim))
            guard !overflow, product <= ONNXDecoder.Limits.tensorElements else {
                throw .tooLarge("tensor '\(name)' of shape \(dims)")
            }
            count = product
        }
        let shape = dims.map(Int.init)
        let dataType = tensor.data_type
        guard let byteSize = byteSizes[dataType] else {
            throw .unsupportedDataType(tensor: name, dataType: Int(dataType))
        }
        if tensor.has_raw_data != 0 {
            let raw = tensor.raw_data
            guard raw.len == count * byteSize else {
                throw .badTensor(
                    tensor: name, reason: "\(raw.len) bytes of raw data for \(count) elements of \(byteSize) bytes")
            }
            let bytes = UnsafeRawBufferPointer(start: raw.data, count: raw.len)
            return ONNXTensor(name: name, shape: shape, values: rawValues(bytes, dataType: dataType, count: count))
        }
        let values: ONNXTensor.Values
        let found: Int
        switch dataType {
        case 1:
            found = tensor.n_float_data
            values = .floats(ONNXDecoder.array(tensor.float_data, tensor.n_float_data))
        case 11:
            found = tensor.n_double_data
            values = .floats(ONNXDecoder.array(tensor.double_data, tensor.n_double_data).map(Float.init))
        case 7:
            found = tensor.n_int64_data
            values = .integers(ONNXDecoder.array(tensor.int64_data, tensor.n_int64_data).map { Int(clamping: $0) })
        default:
            found = tensor.n_int32_data
            values = .integers(ONNXDecoder.array(tensor.int32_data, tensor.n_int32_data).map(Int.init))
        }
        guard found == count else {
            throw .badTensor(tensor: name, reason: "\(found) values for shape \(shape) (\(count) elements)")
        }
        return ONNXTensor(name: name, shape: shape, values: values)
    }

    /// Little-endian `raw_data` (ONNX's layout) converted element by element; `bytes` holds exactly `count`
    /// elements of `dataType`.
    private static func rawValues(_ bytes: UnsafeRawBufferPointer, dataType: Int32, count: Int) -> ONNXTensor.Values {
        func load<T: FixedWidthInteger>(_: T.Type, _ index: Int) -> T {
            T(littleEndian: bytes.loadUnaligned(fromByteOffset: index * MemoryLayout<T>.size, as: T.self))
        }
        switch dataType {
        case 1: return .floats((0..<count).map { Float(bitPattern: load(UInt32.self, $0)) })
        case 11: return .floats((0..<count).map { Float(Double(bitPattern: load(UInt64.self, $0))) })
        case 2, 9: return .integers((0..<count).map { Int(load(UInt8.self, $0)) })
        case 3: return .integers((0..<count).map { Int(load(Int8.self, $0)) })
        case 4: return .integers((0..<count).map { Int(load(UInt16.self, $0)) })
        case 5: return .integers((0..<count).map { Int(load(Int16.self, $0)) })
        case 6: return .integers((0..<count).map { Int(load(Int32.self, $0)) })
        default: return .integers((0..<count).map { Int(load(Int64.self, $0)) })
        }
    }
}
