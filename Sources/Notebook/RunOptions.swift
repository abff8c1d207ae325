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
        return result
    }
}
