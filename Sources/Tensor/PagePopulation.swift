import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Faults in the pages of fresh memory on another thread while this one fills it. A first write to each 4 KB page of
/// fresh memory traps into the kernel (about 2.6 µs a page on a virtual machine: 30 ms for the 47 MB FashionMNIST's
/// training images decompress to); `MADV_POPULATE_WRITE` (Linux 5.14) maps them writable in bulk without touching
/// their contents, so it can run beside the thread writing them. Elsewhere, and on older kernels, the pages fault
/// in as they are written, as before.
public final class PagePopulation: Sendable {
    private let group = DispatchGroup()
    private let populated = Atomic<Bool>(false)

    /// Starts populating the whole pages inside `buffer`, which must stay allocated (and not move) until `wait()`.
    public init(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress else { return }
        let page = 4096
        let start = (UInt(bitPattern: base) + UInt(page - 1)) & ~UInt(page - 1)
        let end = (UInt(bitPattern: base) + UInt(buffer.count)) & ~UInt(page - 1)
        guard end > start else { return }
        group.enter()
        DispatchQueue.global().async { [self] in
            defer { group.leave() }
            // In pieces of 1 MB from the start, the order the buffer is written in, so that the writer soon meets
            // populated pages.
            let piece = UInt(1 << 20)
            var at = start
            while at < end {
                let length = min(piece, end - at)
                guard Self.populate(UnsafeMutableRawPointer(bitPattern: at)!, Int(length)) else { return }
                at += length
            }
            populated.store(true, ordering: .releasing)
        }
    }

    /// Waits for the population to end; true when every whole page was populated, false when the kernel cannot.
    @discardableResult
    public func wait() -> Bool {
        group.wait()
        return populated.load(ordering: .acquiring)
    }

    private static func populate(_ address: UnsafeMutableRawPointer, _ length: Int) -> Bool {
        #if os(Linux)
            return madvise(address, length, 23 /* MADV_POPULATE_WRITE */) == 0
        #else
            return false
        #endif
    }
}
