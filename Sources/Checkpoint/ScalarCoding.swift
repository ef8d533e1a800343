/// Conversion between the little-endian element bytes of a safetensors buffer and `Float` scalars.
enum ScalarCoding {
    /// Why a value cannot be stored in an integer dtype.
    enum EncodingFailure: Error {
        case nonIntegral(index: Int, value: Float)
        case outOfRange(index: Int, value: Float)
    }

    /// Decodes `count` elements of `dtype` from `bytes` (exactly `count · dtype.byteCount` long) into `Float`s.
    static func decode(_ bytes: UnsafeRawBufferPointer, dtype: SafetensorsDType, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { output, initialized in
            switch dtype {
            case .f32:
                if count > 0, let source = bytes.baseAddress, let destination = output.baseAddress {
                    UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
                }
                if UInt32(littleEndian: 1) != 1 {
                    for i in 0..<count { output[i] = Float(bitPattern: UInt32(littleEndian: output[i].bitPattern)) }
                }
            case .f16:
                for i in 0..<count { output[i] = HalfPrecision.float(fromFloat16Bits: load(bytes, i, UInt16.self)) }
            case .bf16:
                for i in 0..<count { output[i] = HalfPrecision.float(fromBFloat16Bits: load(bytes, i, UInt16.self)) }
            case .f64:
                for i in 0..<count { output[i] = Float(Double(bitPattern: load(bytes, i, UInt64.self))) }
            case .i64:
                for i in 0..<count { output[i] = Float(Int64(bitPattern: load(bytes, i, UInt64.self))) }
            case .i32:
                for i in 0..<count { output[i] = Float(Int32(bitPattern: load(bytes, i, UInt32.self))) }
            case .i16:
                for i in 0..<count { output[i] = Float(Int16(bitPattern: load(bytes, i, UInt16.self))) }
            case .i8:
                for i in 0..<count { output[i] = Float(Int8(bitPattern: bytes[i])) }
            case .u8:
                for i in 0..<count { output[i] = Float(bytes[i]) }
            case .bool:
                for i in 0..<count { output[i] = bytes[i] == 0 ? 0 : 1 }
            }
            initialized = count
        }
    }

    /// Encodes `scalars` as `dtype` into `output`, which is exactly `scalars.count · dtype.byteCount` bytes long.
    static func encode(
        _ scalars: [Float], as dtype: SafetensorsDType, into output: UnsafeMutableRawBufferPointer
    ) throws(EncodingFailure) {
        if let range = dtype.integerRange {
            for (index, value) in scalars.enumerated() {
                guard value.rounded() == value else { throw .nonIntegral(index: index, value: value) }
                // I64's upper bound 2^63 is exclusive; the other bounds are exact and inclusive.
                guard range.contains(Double(value)), dtype != .i64 || Double(value) < range.upperBound else {
                    throw .outOfRange(index: index, value: value)
                }
            }
        }
        switch dtype {
        case .f32:
            for (i, value) in scalars.enumerated() { store(value.bitPattern, output, i) }
        case .f16:
            for (i, value) in scalars.enumerated() { store(HalfPrecision.float16Bits(from: value), output, i) }
        case .bf16:
            for (i, value) in scalars.enumerated() { store(HalfPrecision.bfloat16Bits(from: value), output, i) }
        case .f64:
            for (i, value) in scalars.enumerated() { store(Double(value).bitPattern, output, i) }
        case .i64:
            for (i, value) in scalars.enumerated() { store(UInt64(bitPattern: Int64(value)), output, i) }
        case .i32:
            for (i, value) in scalars.enumerated() { store(UInt32(bitPattern: Int32(value)), output, i) }
        case .i16:
            for (i, value) in scalars.enumerated() { store(UInt16(bitPattern: Int16(value)), output, i) }
        case .i8:
            for (i, value) in scalars.enumerated() { output[i] = UInt8(bitPattern: Int8(value)) }
        case .u8, .bool:
            for (i, value) in scalars.enumerated() { output[i] = UInt8(value) }
        }
    }

    private static func load<T: FixedWidthInteger>(_ bytes: UnsafeRawBufferPointer, _ index: Int, _: T.Type) -> T {
        T(littleEndian: bytes.loadUnaligned(fromByteOffset: index * MemoryLayout<T>.size, as: T.self))
    }

    private static func store<T: FixedWidthInteger>(_ value: T, _ bytes: UnsafeMutableRawBufferPointer, _ index: Int) {
        bytes.storeBytes(of: value.littleEndian, toByteOffset: index * MemoryLayout<T>.size, as: T.self)
    }
}
