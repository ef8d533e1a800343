/// NumPy `.npy` files built byte by byte, for tests that write datasets.

/// A .npy file: header dict padded so the data starts on a 64-byte boundary.
public func npy(descr: String, shape: [Int], data: [UInt8], fortranOrder: Bool = false, version: UInt8 = 1) -> [UInt8] {
    let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    return npy(
        header: "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(shapeText), }",
        data: data, version: version)
}

public func npy(header: String, data: [UInt8], version: UInt8 = 1) -> [UInt8] {
    let prefix = version == 1 ? 10 : 12
    var text = Array(header.utf8)
    let total = (prefix + text.count + 1 + 63) / 64 * 64
    text += [UInt8](repeating: 0x20, count: total - prefix - text.count - 1) + [0x0a]
    let length = version == 1 ? [UInt8(text.count & 0xff), UInt8(text.count >> 8)] : littleEndian(UInt32(text.count))
    return [0x93] + Array("NUMPY".utf8) + [version, 0] + length + text + data
}

public func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

public func littleEndian(_ values: [Float]) -> [UInt8] { values.flatMap { littleEndian($0.bitPattern) } }
public func littleEndian(_ values: [Double]) -> [UInt8] { values.flatMap { littleEndian($0.bitPattern) } }
public func littleEndian(_ values: [Int64]) -> [UInt8] { values.flatMap { littleEndian($0) } }
public func littleEndian(_ values: [Int32]) -> [UInt8] { values.flatMap { littleEndian($0) } }
