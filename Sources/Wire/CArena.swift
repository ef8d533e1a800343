import Foundation

/// Owns the C memory behind one protobuf-c message being built for packing; frees all of it at once.
final class CArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    deinit { for pointer in allocations { free(pointer) } }

    func string(_ value: String) -> UnsafeMutablePointer<CChar> {
        let pointer = strdup(value)!
        allocations.append(pointer)
        return pointer
    }

    /// A zeroed struct, set up by `initialize` (the generated `…__init` function).
    func new<T>(_ initialize: (UnsafeMutablePointer<T>) -> Void) -> UnsafeMutablePointer<T> {
        let raw = calloc(1, MemoryLayout<T>.stride)!
        allocations.append(raw)
        let pointer = raw.bindMemory(to: T.self, capacity: 1)
        initialize(pointer)
        return pointer
    }

    /// A C array holding `values`; nil when empty (protobuf-c reads nothing for a zero count).
    func array<T>(_ values: [T]) -> UnsafeMutablePointer<T>? {
        guard !values.isEmpty else { return nil }
        let raw = malloc(MemoryLayout<T>.stride * values.count)!
        allocations.append(raw)
        let pointer = raw.bindMemory(to: T.self, capacity: values.count)
        pointer.initialize(from: values, count: values.count)
        return pointer
    }

    func bytes(_ values: [UInt8]) -> (count: Int, pointer: UnsafeMutablePointer<UInt8>?) {
        (values.count, array(values))
    }
}

/// Reading unpacked protobuf-c values.
enum CRead {
    static func string(_ pointer: UnsafePointer<CChar>?) -> String {
        pointer.map { String(cString: $0) } ?? ""
    }

    static func array<T>(_ pointer: UnsafePointer<T>?, _ count: Int) -> [T] {
        guard let pointer, count > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: pointer, count: count))
    }

    static func ints(_ pointer: UnsafePointer<UInt32>?, _ count: Int) -> [Int] {
        array(pointer, count).map(Int.init)
    }

    static func strings(_ pointer: UnsafePointer<UnsafeMutablePointer<CChar>?>?, _ count: Int) -> [String] {
        array(pointer, count).map { string($0) }
    }

    static func messages<T>(_ pointer: UnsafePointer<UnsafeMutablePointer<T>?>?, _ count: Int) -> [T] {
        array(pointer, count).compactMap { $0?.pointee }
    }
}
