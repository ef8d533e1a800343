import ArgumentParser

public struct LetheCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lethe",
        abstract: "Machine unlearning: train, unlearn, verify.",
        subcommands: []
    )
    public init() {}

    public static func launch() async {
        await main()
    }
}
