import Foundation

/// A progress bar for long loops: done/total, rate, time left and live metrics.
///
/// On a terminal it redraws one line in place; in a log (not a TTY) it prints a line every few
/// seconds instead, so that CI logs stay readable.
public final class ProgressBar {
    public let label: String
    public let total: Int
    public private(set) var done = 0
    public private(set) var metrics: [(name: String, value: Double)] = []
    private let interactive: Bool
    private let start: Date
    /// Items counted done before the bar started (a resumed epoch's first batches): not in the rate.
    private let doneBefore: Int
    /// When the bar was last drawn; a log's first line waits one interval, so that it has a rate to show.
    private var lastDraw: Date
    private let write: (String) -> Void
    private let onFinish: (String) -> Void

    init(label: String, total: Int, done: Int = 0, started: Date = Date(), interactive: Bool, write: @escaping (String) -> Void,
         onFinish: @escaping (String) -> Void = { _ in }) {
        self.label = label
        self.total = max(total, 0)
        self.done = min(self.total, max(done, 0))
        doneBefore = self.done
        start = started
        lastDraw = interactive ? .distantPast : started
        self.interactive = interactive
        self.write = write
        self.onFinish = onFinish
    }

    /// A bar of its own on standard error, for command-line tools outside a notebook: redrawn in
    /// place on a terminal, a line every few seconds otherwise.
    public convenience init(label: String, total: Int) {
        self.init(label: label, total: total, interactive: isatty(STDERR_FILENO) == 1,
                  write: { FileHandle.standardError.write(Data($0.utf8)) })
    }

    /// Counts `steps` more items done and replaces the displayed metrics.
    public func advance(_ steps: Int = 1, metrics: [(String, Double)] = []) {
        done = min(total, done + steps)
        if !metrics.isEmpty { self.metrics = metrics.map { (name: $0.0, value: $0.1) } }
        let now = Date()
        let interval = interactive ? 0.1 : 5
        if now.timeIntervalSince(lastDraw) >= interval || done == total {
            lastDraw = now
            if interactive { write("\r\u{1B}[2K" + line(now: now)) } else if done < total { write(line(now: now) + "\n") }
        }
    }

    /// The bar's final line; ends the in-place line on a terminal.
    @discardableResult
    public func finish() -> String {
        let final = line(now: Date())
        write(interactive ? "\r\u{1B}[2K" + final + "\n" : final + "\n")
        onFinish(final)
        return final
    }

    /// Seconds since the bar was created.
    public var elapsed: TimeInterval { Date().timeIntervalSince(start) }

    func line(now: Date) -> String {
        let elapsed = now.timeIntervalSince(start)
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        let width = 24
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let rate = elapsed > 0 ? Double(done - doneBefore) / elapsed : 0
        let remaining = rate > 0 ? Double(total - done) / rate : 0
        var text = "\(label) \(bar) \(String(format: "%3.0f", fraction * 100))% \(done)/\(total) "
        text += done < total ? "[\(Self.duration(elapsed)) < \(Self.duration(remaining)), \(Self.rate(rate))]"
                             : "[\(Self.duration(elapsed)), \(Self.rate(rate))]"
        for (name, value) in metrics { text += "  \(name) \(Self.number(value))" }
        return text
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%02d:%02d", s / 60, s % 60)
    }

    /// A duration in words for prose lines: "40 s", "4 min 10 s", "1 h 5 min".
    static func words(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s) s" }
        if s < 3600 { return s % 60 == 0 ? "\(s / 60) min" : "\(s / 60) min \(s % 60) s" }
        return "\(s / 3600) h \(s / 60 % 60) min"
    }

    static func rate(_ perSecond: Double) -> String {
        perSecond >= 1 ? String(format: "%.1f it/s", perSecond) : String(format: "%.2f s/it", perSecond > 0 ? 1 / perSecond : 0)
    }

    static func number(_ value: Double) -> String {
        value != 0 && (Swift.abs(value) < 1e-3 || Swift.abs(value) >= 1e5) ? String(format: "%.3e", value) : String(format: "%.4f", value)
    }
}
