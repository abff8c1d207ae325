import Foundation
import ImageIO
import TensorCore

/// The literate runtime of a chapter: prints what the chapter does as a notebook in the terminal,
/// writes its figures, and records both in a transcript that `Weave` joins with the source.
///
/// Every call that shows something takes the caller's line (`#line`), so the read-along document
/// can put the output under the code cell that produced it.
public final class Notebook {
    /// The chapter's folder name, `01-Concepts`.
    public let chapter: String
    public let options: RunOptions
    /// Where figures, checkpoints, the transcript and the manifest go.
    public let outputDirectory: URL
    /// How previews are drawn: colour on a terminal, plain text otherwise.
    public let style: TerminalStyle
    private var transcript: Transcript
    private var metrics: [String: Double] = [:]
    /// The models the chapter trains, in order, each with its share of a `--minutes` budget.
    let trainings: [(name: String, share: Double)]
    /// The trainings the chapter declared before its main model's, which `--train-only` runs in full.
    let trainingsBeforeMain: [String]
    /// What each training may spend in this run, by name.
    let budgets: [String: TrainingBudget]
    /// What the trainings did, in order, for the manifest and the `--steps` that repeats the run.
    var outcomes: [TrainingOutcome] = []
    private let started = Date()
    /// Read at the start: a long run may outlive the commit it was started from.
    private let commit = Notebook.currentCommit()

    /// Starts a chapter: applies `--threads`, creates the output folder and prints the title.
    /// `trainings` names the models the chapter trains with ``train(_:_:file:plan:label:generator:series:line:step:afterEpoch:)``,
    /// in order, each with its share of a `--minutes` budget (the shares add up to at most 1).
    /// `main` names the chapter's main model, the one `--train-only` trains (the first by default).
    /// `source` is the chapter's file (`#filePath` by default).
    /// - Throws: ``ChapterError`` when `--steps` does not give one count per training.
    public init(chapter: String, title: String, options: RunOptions, trainings: [(name: String, share: Double)] = [],
                main: String? = nil, source: String = #filePath) throws {
        require(trainings.allSatisfy { $0.share > 0 } && trainings.map(\.share).reduce(0, +) <= 1 + 1e-9,
                "Notebook: training shares must be positive and add up to at most 1, got \(trainings.map(\.share))")
        let names = trainings.map(\.name)
        require(main.map(names.contains) ?? true, "Notebook: the main model '\(main ?? "")' is not among the trainings \(names)")
        if options.trainOnly && trainings.isEmpty { throw ChapterError("--train-only: this chapter trains no model of its own") }
        let mainIndex = main.flatMap(names.firstIndex(of:)) ?? 0
        self.chapter = chapter
        self.options = options
        trainingsBeforeMain = Array(names.prefix(mainIndex))
        // With --train-only the main model is all that is budgeted, and it has the whole budget; the
        // trainings before it (small models the chapter needs on the way) run in full.
        self.trainings = options.trainOnly ? [(names[mainIndex], 1)] : trainings
        if let steps = options.steps?.counts, steps.count != self.trainings.count {
            let names = trainings.map(\.name).joined(separator: ", ")
            throw ChapterError(trainings.isEmpty ? "--steps: this chapter trains no model of its own"
                : "--steps gives \(steps.count) count(s), and this chapter trains \(trainings.count) model(s) (\(names)): one count each, in that order")
        }
        budgets = Dictionary(uniqueKeysWithValues: self.trainings.enumerated().map { index, training in
            (training.name, TrainingBudget(seconds: options.minutes.map { $0 * 60 * training.share }, steps: options.steps?.counts[index]))
        })
        if let threads = options.threads { Parallel.threadCount = threads }
        outputDirectory = URL(fileURLWithPath: options.out ?? "output/\(chapter)", isDirectory: true)
        try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
        style = TerminalStyle.detect()
        let relativeSource = source.range(of: "Chapters/").map { String(source[$0.lowerBound...]) } ?? source
        let sourceText = try? String(contentsOfFile: source, encoding: .utf8)
        transcript = Transcript(chapter: chapter, source: relativeSource, mode: options.mode,
                                sourceFingerprint: sourceText.map(Weaver.fingerprint))
        let rule = String(repeating: "━", count: max(4, 72 - title.count))
        emit("\n\(bold("━━ \(title) \(rule)"))\n")
        emit("   mode \(options.mode.rawValue) · seed \(options.seed) · \(Parallel.threadCount) threads · output \(outputDirectory.relativePath)\n")
        for note in Self.prepare(outputDirectory, resume: options.resume) { emit("   \(note)\n") }
        if let minutes = options.minutes, !trainings.isEmpty {
            emit("   budget \(ProgressBar.words(minutes * 60)) of training: "
                 + self.trainings.map { "\($0.name) \(ProgressBar.words(minutes * 60 * $0.share))" }.joined(separator: " · ") + "\n")
        }
    }

    /// Readies the output folder for a run and returns what to tell the reader: temporary files
    /// that a killed checkpoint write left are removed, and `--resume` with no checkpoint there
    /// says so (the run then starts from the beginning, as without `--resume`).
    static func prepare(_ folder: URL, resume: Bool) -> [String] {
        var notes: [String] = []
        let removed = SafeTensors.removeStaleTemporaryFiles(in: folder)
        if !removed.isEmpty {
            notes.append("removed \(removed.joined(separator: ", ")), left by a checkpoint write that was interrupted")
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        if resume && !names.contains(where: { $0.hasSuffix(".safetensors") && !$0.hasPrefix(".") }) {
            notes.append("--resume: no checkpoint in \(folder.relativePath) to continue from; starting from the beginning")
        }
        return notes
    }

    // MARK: - Showing things

    /// A section heading in the terminal (the prose heading itself lives in the source).
    public func section(_ title: String) {
        emit("\n\(bold("▍\(title)"))\n")
    }

    /// Prints a result and records it for the read-along document.
    public func show(_ text: String, line: Int = #line) {
        emit(text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n") + "\n")
        transcript.entries.append(TranscriptEntry(kind: .text, line: line, text: text))
    }

    /// Prints an aligned table and records it as Markdown.
    public func table(_ headers: [String], _ rows: [[String]], line: Int = #line) {
        let widths = headers.indices.map { column in ([headers[column]] + rows.map { column < $0.count ? $0[column] : "" }).map(\.count).max() ?? 0 }
        func render(_ cells: [String]) -> String {
            cells.enumerated().map { $1.padded(toWidth: widths[$0]) }.joined(separator: "  ")
        }
        emit(([render(headers), widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ")] + rows.map(render))
            .map { "  " + $0 }.joined(separator: "\n") + "\n")
        // A `|` in a cell would end the cell in Markdown; escaped, it shows as itself.
        func markdownRow(_ cells: [String]) -> String {
            "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |"
        }
        let markdown = ([markdownRow(headers), "|" + headers.map { _ in " --- |" }.joined()] + rows.map(markdownRow))
            .joined(separator: "\n")
        transcript.entries.append(TranscriptEntry(kind: .table, line: line, text: markdown))
    }

    /// The width of the text column the woven pages are read in, in pixels (about what GitHub
    /// gives). A figure no wider is shown at its own size, so its 28-pixel tiles and 10-pixel
    /// text stay legible; a wider one would be shrunk.
    public static let pageWidth = 860

    /// Writes an image as `<name>.png`, previews it in the terminal and records it. The image may
    /// be at most `pageWidth` pixels wide: lay a wider grid out in more rows.
    public func figure(_ name: String, _ image: Bitmap, caption: String, preview: Bool = true, line: Int = #line) throws {
        guard image.width <= Self.pageWidth else {
            throw ChapterError("figure \(name) is \(image.width) pixels wide; a page shows \(Self.pageWidth), "
                + "so it would be shrunk to \(Int(100 * Double(Self.pageWidth) / Double(image.width))) %: use fewer columns")
        }
        let file = "\(name).png"
        try PNG.write(image, to: outputDirectory.appendingPathComponent(file))
        if preview { emit(TerminalPreview.render(image, style: style, maxColumns: 64) + "\n") }
        emit("  \(dim("▸ \(caption) → \(outputDirectory.relativePath)/\(file)"))\n")
        transcript.entries.append(TranscriptEntry(kind: .figure, line: line, text: caption, file: file))
    }

    /// Writes an SVG plot as `<name>.svg` and records it.
    public func figure(_ name: String, svg: String, caption: String, line: Int = #line) throws {
        let file = "\(name).svg"
        try Data(svg.utf8).write(to: outputDirectory.appendingPathComponent(file), options: .atomic)
        emit("  \(dim("▸ \(caption) → \(outputDirectory.relativePath)/\(file)"))\n")
        transcript.entries.append(TranscriptEntry(kind: .figure, line: line, text: caption, file: file))
    }

    /// A progress bar whose final line is recorded when it finishes.
    /// `done` items may count as done already, and the bar may have `started` earlier (a resumed
    /// epoch, steps timed before the bar was drawn).
    public func progress(_ label: String, total: Int, done: Int = 0, started: Date = Date(), line: Int = #line) -> ProgressBar {
        ProgressBar(label: "  " + label, total: total, done: done, started: started, interactive: style == .color,
                    write: { [weak self] in self?.emit($0) },
                    onFinish: { [weak self] final in
                        self?.transcript.entries.append(TranscriptEntry(kind: .progress, line: line, text: final.trimmingCharacters(in: .whitespaces)))
                    })
    }

    /// Remembers a final number for the run manifest (a loss, a score).
    public func record(metric name: String, _ value: Double) { metrics[name] = value }

    /// Writes the transcript and the run manifest; call it last.
    public func finish() throws {
        if outcomes.contains(where: { !$0.isComplete }) && options.steps == nil {
            show("to repeat this run exactly (same seed, same machine): --steps \(StepCounts(outcomes.map(\.steps)))")
        }
        let wall = Date().timeIntervalSince(started)
        try transcript.write(to: outputDirectory.appendingPathComponent("transcript.json"))
        let formatter = ISO8601DateFormatter()
        let manifest = RunManifest(chapter: chapter, options: options.summary, commit: commit, threads: Parallel.threadCount,
                                   started: formatter.string(from: started), wallSeconds: (wall * 10).rounded() / 10, metrics: metrics,
                                   trainings: outcomes)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(manifest).write(to: outputDirectory.appendingPathComponent("manifest.json"), options: .atomic)
        emit("\n  \(dim("Done in \(ProgressBar.duration(wall)). Figures, transcript.json and manifest.json are in \(outputDirectory.relativePath)/"))\n")
    }

    // MARK: - Terminal

    private func emit(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    private func bold(_ text: String) -> String { style == .color ? "\u{1B}[1m\(text)\u{1B}[0m" : text }
    private func dim(_ text: String) -> String { style == .color ? "\u{1B}[2m\(text)\u{1B}[0m" : text }

    /// The git commit the program was run from, or "unknown" outside a checkout.
    static func currentCommit() -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "rev-parse", "--short", "HEAD"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return "unknown" }
        process.waitUntilExit()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return process.terminationStatus == 0 && !text.isEmpty ? text : "unknown"
    }
}
