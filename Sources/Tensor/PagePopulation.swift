#if canImport(Glibc)
    import Glibc
#endif

/// Faults in the pages of fresh memory on another thread while this one fills it. A first write to each 4 KB page of
/// fresh memory traps into the kernel (about 2.6 µs a page on a virtual machine: 30 ms for the 47 MB FashionMNIST's
/// training images decompress to); `MADV_POPULATE_WRITE` (Linux 5.14) maps them writable in bulk without touching
/// their contents, so it can run beside the thread writing them. Elsewhere, and on older kernels, the pages fault
/// in as they are written, as before.
public struct PagePopulation: Sendable {
    /// The population under way (nil: the buffer holds no whole page); true once every page is populated.
    private let populating: Background<Bool, Never>?

    /// Starts populating the whole pages inside `buffer`, which must stay allocated (and not move) until `wait()`.
    public init(_ buffer: UnsafeMutableRawBufferPointer) {
        let page = UInt(4096)
        let base = UInt(bitPattern: buffer.baseAddress)
        let (start, end) = ((base + page - 1) & ~(page - 1), (base + UInt(buffer.count)) & ~(page - 1))
        guard base != 0, end > start else {
            populating = nil
            return
        }
        populating = Background {
            // In pieces of 1 MB from the start, the order the buffer is written in, so that the writer soon meets
            // populated pages.
            let piece = UInt(1 << 20)
            var at = start
            while at < end {
                let length = min(piece, end - at)
                guard Self.populate(UnsafeMutableRawPointer(bitPattern: at)!, Int(length)) else { return false }
                at += length
            }
            return true
        }
    }

    /// Waits for the population to end; true when every whole page was populated, false when the kernel cannot.
    @discardableResult
    public func wait() -> Bool { populating?.value() ?? false }

    private static func populate(_ address: UnsafeMutableRawPointer, _ length: Int) -> Bool {
        #if os(Linux)
            return madvise(address, length, 23 /* MADV_POPULATE_WRITE */) == 0
        #else
            return false
        #endif
    }
}
