import LetheCommands
import Tensor

BLASKernelSelection.reexecWithFastestKernels()
await LetheCommand.launch()
