import LetheCommands

await LetheCommand.launch()
