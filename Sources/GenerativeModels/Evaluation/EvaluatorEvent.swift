import Foundation

/// What the evaluator tells its caller while it loads or trains its classifier. Chapters forward
/// these to their notebook's progress bar; the `Evaluate` command draws them on standard error.
public enum EvaluatorEvent {
    /// A line for the reader.
    case notice(String)
    /// Training begins: `totalSteps` optimisation steps with `configuration`.
    case trainingStarted(totalSteps: Int, configuration: ClassifierConfiguration)
    /// One optimisation step done (1-based `step`); `loss` is the mean of the epoch's losses so far.
    case trainingStep(step: Int, totalSteps: Int, epoch: Int, loss: Double)
    /// Training is over, after `seconds`.
    case trainingFinished(seconds: Double)
}

/// Draws evaluator events on standard error: notices as lines, training as a progress bar
/// (redrawn in place on a terminal, a line every ten seconds in a log). Standard output stays free
/// for results, so `Evaluate --json` prints nothing but its JSON there.
public final class ConsoleReporter {
    private let interactive = isatty(STDERR_FILENO) != 0
    private var started = Date()
    private var lastDraw = Date.distantPast

    /// A reporter writing to standard error.
    public init() {}

    /// Handles one event.
    public func handle(_ event: EvaluatorEvent) {
        switch event {
        case .notice(let line):
            write(line + "\n")
        case .trainingStarted(let total, let configuration):
            started = Date()
            write("Training the FID-FMNIST classifier ('\(configuration.name)': widths \(configuration.widths), "
                  + "\(configuration.epochs) epoch\(configuration.epochs == 1 ? "" : "s"), \(total) steps)\n")
        case .trainingStep(let step, let total, let epoch, let loss):
            let now = Date()
            guard now.timeIntervalSince(lastDraw) >= (interactive ? 0.2 : 10) || step == total else { return }
            lastDraw = now
            let line = progressLine(step: step, total: total, epoch: epoch, loss: loss, elapsed: now.timeIntervalSince(started))
            write(interactive ? "\r\u{1B}[2K" + line + (step == total ? "\n" : "") : line + "\n")
        case .trainingFinished(let seconds):
            write(String(format: "Trained in %.1f s\n", seconds))
        }
    }

    /// A closure to pass as an evaluator's `report`.
    public var callback: (EvaluatorEvent) -> Void { { [self] in handle($0) } }

    private func progressLine(step: Int, total: Int, epoch: Int, loss: Double, elapsed: Double) -> String {
        let fraction = Double(step) / Double(max(total, 1))
        let filled = Int(fraction * 24)
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: 24 - filled)
        let remaining = step > 0 ? elapsed / Double(step) * Double(total - step) : 0
        return String(format: "  classifier %@ %3.0f%% %d/%d  epoch %d  loss %.4f  [%@ < %@]",
                      bar, fraction * 100, step, total, epoch + 1, loss, Self.clock(elapsed), Self.clock(remaining))
    }

    private static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return String(format: "%02d:%02d", s / 60, s % 60)
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
