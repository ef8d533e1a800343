/// Training allocates and frees the same large buffers every step. By default glibc returns them to the
/// kernel and every step pays for page faults and zeroing again; this keeps freed memory in the process.
public enum MemoryPolicy {
    public static func reuseFreedMemory() {
        #if os(Linux)
            _ = glibcMallopt(glibcTrimThreshold, Int32.max)
            _ = glibcMallopt(glibcMmapThreshold, 32 << 20)  // the largest value glibc accepts
        #endif
    }
}

#if os(Linux)
    // <malloc.h> is not part of Swift's Glibc module.
    @_silgen_name("mallopt")
    private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
    private let glibcTrimThreshold: Int32 = -1  // M_TRIM_THRESHOLD
    private let glibcMmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD
#endif
