import LetheCommands
import Tensor

// Before any other thread allocates: glibc fixes its arena count when a second thread first calls malloc.
MemoryPolicy.reuseFreedMemory()
BLASKernelSelection.reexecWithFastestKernels()
await LetheCommand.launch()
