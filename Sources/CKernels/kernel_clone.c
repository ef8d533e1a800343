// Which of `LETHE_CLONES`' clones the loader picked on this CPU, so that benchmarks can say which code ran and a
// test can check the pick against the CPU's features (an `arch=haswell` clone was once picked only on CPUs that
// identify as Haswell). The probe is cloned like every kernel and returns an address inside the clone that ran;
// the clones' own symbols (clang names them `<function>.<option>.<index>`) tell which it was.
#include "kernel_clone.h"
#include "lanes.h"

#if defined(__x86_64__) && defined(__clang__)
uintptr_t lethe_clone_probe(void);

LETHE_CLONES
__attribute__((noinline)) uintptr_t lethe_clone_probe(void) {
    uintptr_t here;
    __asm__ volatile("lea 0(%%rip), %0" : "=r"(here));
    return here;
}

// The clones in `LETHE_CLONES`' order.
extern const char probe_avx512f[] __asm__("lethe_clone_probe.avx512f.0");
extern const char probe_x86_64_v3[] __asm__("lethe_clone_probe.arch_x86-64-v3.1");
extern const char probe_default[] __asm__("lethe_clone_probe.default.2");

const char *lethe_kernel_clone(void) {
    const uintptr_t here = lethe_clone_probe();
    const struct {
        const char *start, *name;
    } clones[] = {{probe_avx512f, "avx512f"}, {probe_x86_64_v3, "x86-64-v3"}, {probe_default, "x86-64"}};
    // The clone whose code starts last at or before the probe's address.
    const char *name = "unknown";
    uintptr_t start = 0;
    for (int i = 0; i < 3; i++) {
        const uintptr_t candidate = (uintptr_t)clones[i].start;
        if (candidate <= here && candidate >= start) {
            start = candidate;
            name = clones[i].name;
        }
    }
    return name;
}
#else
const char *lethe_kernel_clone(void) { return "generic"; }
#endif
