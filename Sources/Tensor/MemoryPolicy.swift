/// Training allocates and frees the same large buffers every step. By default glibc returns them to the
/// kernel and every step pays for page faults and zeroing again; this keeps freed memory in the process (its
/// resident size stays at its peak, which the next step needs again). Call it before a second thread
/// allocates: the arena limit is fixed then.
public enum MemoryPolicy {
    public static func reuseFreedMemory() {
        #if os(Linux)
            // -1 disables trimming altogether (mallopt(3)); the largest positive value, 2 GiB, still let a
            // generator's few-GiB step give its heap back and fault every page in again on the next step.
            _ = glibcMallopt(glibcTrimThreshold, -1)
            // Every size comes from the heap: glibc maps blocks above its mmap threshold (32 MiB at most) on
            // their own and unmaps them on free, so a 134 MB activation was faulted in and zeroed each step.
            _ = glibcMallopt(glibcMmapMax, 0)
            // One arena: a thread's own arena lives in 64 MiB heaps that glibc unmaps as soon as one is empty,
            // whatever the trim threshold, so the im2col buffers of worker threads were faulted in again every step.
            _ = glibcMallopt(glibcArenaMax, 1)
        #endif
    }

    /// Pages the process has faulted in so far without reading a disk (getrusage's minor faults): what a
    /// steady-state step should not add to.
    public static var pageFaults: Int {
        #if os(Linux)
            var usage = rusage()
            _ = getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
            return usage.ru_minflt
        #else
            return 0
        #endif
    }
}

#if canImport(Glibc)
    import Glibc
#endif

#if os(Linux)
    // <malloc.h> is not part of Swift's Glibc module.
    @_silgen_name("mallopt")
    private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
    private let glibcTrimThreshold: Int32 = -1  // M_TRIM_THRESHOLD
    private let glibcMmapMax: Int32 = -4  // M_MMAP_MAX
    private let glibcArenaMax: Int32 = -8  // M_ARENA_MAX
#endif
