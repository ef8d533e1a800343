/// The element types of the safetensors format that Lethe understands.
///
/// Every type is read (and converted to `Float`); all of them can also be written, floating-point types by
/// rounding to nearest even and integer types only from integral values within their range.
public enum SafetensorsDType: String, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"
    case f64 = "F64"
    case i64 = "I64"
    case i32 = "I32"
    case i16 = "I16"
    case i8 = "I8"
    case u8 = "U8"
    case bool = "BOOL"

    /// Bytes per element in the file.
    public var byteCount: Int {
        switch self {
        case .f64, .i64: 8
        case .f32, .i32: 4
        case .f16, .bf16, .i16: 2
        case .i8, .u8, .bool: 1
        }
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .f32, .f16, .bf16, .f64: true
        case .i64, .i32, .i16, .i8, .u8, .bool: false
        }
    }

    /// The closed range of values an integer type can hold, as exact `Double`s (nil for floating-point types).
    var integerRange: ClosedRange<Double>? {
        switch self {
        case .f32, .f16, .bf16, .f64: nil
        // 2^63 − 1 is not a Double; the upper bound check in the encoder is strict (< 2^63) for I64.
        case .i64: -0x1p63...0x1p63
        case .i32: Double(Int32.min)...Double(Int32.max)
        case .i16: Double(Int16.min)...Double(Int16.max)
        case .i8: Double(Int8.min)...Double(Int8.max)
        case .u8: 0...255
        case .bool: 0...1
        }
    }

    public var description: String { rawValue }
}
