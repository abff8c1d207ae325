import ArgumentParser

/// How long a chapter trains.
public enum RunMode: String, Codable, Sendable {
    /// Seconds: a small subset and few steps; what the tests run.
    case quick
    /// Minutes: recognisable results on a laptop CPU.
    case standard
    /// The best results: the source's full-size models, trained longer.
    case full
}

/// The command-line options every chapter shares.
public struct RunOptions: ParsableArguments, Sendable {
    @Flag(help: "Run in seconds on a small subset (what the tests run).")
    public var quick = false

    @Flag(help: "Train the full-size models for longer, for the best results.")
    public var full = false

    @Option(help: "Seed for every random number: the same seed gives the same numbers and pictures.")
    public var seed: UInt64 = 0

    @Option(help: "Number of training epochs (default: set by the chapter for the chosen mode).")
    public var epochs: Int?

    @Option(help: ArgumentHelp("Train for at most this many minutes in all, shared among the chapter's models as it says at the start; each is checkpointed where its share ends, and the chapter goes on with what was trained.",
                               valueName: "minutes"))
    public var minutes: Double?

    @Option(help: ArgumentHelp("Train exactly this many steps of each model, comma-separated in the order the chapter trains them, as a budgeted run printed them: the same seed on the same machine then repeats that run exactly.",
                               valueName: "n,n,…"))
    public var steps: StepCounts?

    @Flag(help: "Train only the chapter's main model, on the whole budget, then stop: what Practice runs for a missing checkpoint.")
    public var trainOnly = false

    @Option(help: "Folder for figures, checkpoints and the transcript (default: output/<chapter>).")
    public var out: String?

    @Flag(help: "Continue from the last checkpoint in the output folder instead of starting over (with no checkpoint there, say so and start from the beginning).")
    public var resume = false

    @Option(help: "Threads for the numeric kernels (default: every core).")
    public var threads: Int?

    public init() {}

    public var mode: RunMode { quick ? .quick : full ? .full : .standard }

    public func validate() throws {
        if quick && full { throw ValidationError("--quick and --full cannot be used together") }
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if let out, out.isEmpty { throw ValidationError("--out must name a folder") }
        if let minutes, !(minutes > 0 && minutes <= 100_000) {
            throw ValidationError("--minutes must be a positive number of minutes (at most 100000), got \(minutes)")
        }
        if minutes != nil && steps != nil { throw ValidationError("--minutes and --steps cannot be used together: one sets a time, the other the exact steps") }
    }

    /// Picks the value for the current mode.
    public func choose<T>(quick: T, standard: T, full: T) -> T {
        switch mode {
        case .quick: return quick
        case .standard: return standard
        case .full: return full
        }
    }

    /// The command line as a dictionary, for the run manifest.
    var summary: [String: String] {
        var result = ["mode": mode.rawValue, "seed": String(seed), "resume": String(resume)]
        if let epochs { result["epochs"] = String(epochs) }
        if let out { result["out"] = out }
        if let threads { result["threads"] = String(threads) }
        if let minutes { result["minutes"] = String(minutes) }
        if trainOnly { result["train-only"] = "true" }
        if let steps { result["steps"] = steps.description }
        return result
    }
}

/// The value of `--steps`: one count of training steps per model, `1350,120,400`.
public struct StepCounts: ExpressibleByArgument, CustomStringConvertible, Sendable, Equatable {
    public let counts: [Int]

    public init?(argument: String) {
        let counts = argument.split(separator: ",", omittingEmptySubsequences: false)
            .map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !counts.isEmpty, counts.allSatisfy({ ($0 ?? 0) >= 1 }) else { return nil }
        self.counts = counts.compactMap { $0 }
    }

    public init(_ counts: [Int]) { self.counts = counts }

    public var description: String { counts.map(String.init).joined(separator: ",") }
}

extension ParsableArguments {
    /// The command line parsed as the chapter's own command, so that `--help` and errors name
    /// the program the reader ran (`USAGE: GAN [--quick] …`); exits with the message on bad input.
    public static func parseChapterOrExit(_ arguments: [String]? = nil) -> Self {
        ChapterCommand<Self>.parseOrExit(arguments).options
    }
}

extension RunOptions {
    /// The command line of a chapter with the shared options only; see ``parseChapterOrExit(_:)``.
    public static func parseOrExit(_ arguments: [String]? = nil) -> RunOptions { parseChapterOrExit(arguments) }
}

/// A chapter's command: its options under the executable's name.
private struct ChapterCommand<Options: ParsableArguments>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: CommandLine.arguments.first.map { String($0.split(separator: "/").last ?? "chapter") } ?? "chapter")
    }

    @OptionGroup var options: Options
}
