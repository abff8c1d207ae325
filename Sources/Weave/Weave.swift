import ArgumentParser
import Foundation
import Notebook

/// Turns every chapter into a read-along document: `docs/NN-Name.md` with its figures beside it.
@main
struct Weave: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "Weave",
        abstract: "Weaves each chapter's prose, code and run transcript into docs/.",
        discussion: """
            Run the chapters first (swift run -c release Concepts, …): their transcripts and figures under \
            output/ are joined with the sources. Name chapters (04-Diffusion) to weave only those; the \
            others keep their pages. --check weaves nothing: it verifies that every committed document was \
            woven from the current source, and that docs/ holds no Markdown GitHub renders wrongly — math \
            lines Markdown reads as lists, headings, quotes or blank lines; backslash escapes such as \\, \
            in math; inline math across lines; `|` in a table cell's math or code, and rows with the wrong \
            number of cells; code lines over 100 characters — and that docs/README.md is the front page \
            Chapters/Book.md, linking every chapter, with every link and picture it names present.
            """)

    @Argument(help: ArgumentHelp("Chapters to weave, as their folder names (all when none are given).", valueName: "chapter"))
    var only: [String] = []

    @Option(help: "The package folder.")
    var root = "."

    @Option(help: "Where the chapters wrote their runs (one subfolder per chapter).")
    var output = "output"

    @Flag(help: "Fail if a document in docs/ no longer matches its chapter's source, or has Markdown GitHub renders wrongly.")
    var check = false

    /// The front page's source, in `Chapters/`; `Weave` copies it to `docs/README.md`.
    static let frontPageSource = "Book.md"

    func run() throws {
        let rootURL = URL(fileURLWithPath: root, isDirectory: true)
        let chaptersURL = rootURL.appendingPathComponent("Chapters")
        let docsURL = rootURL.appendingPathComponent("docs")
        let chapters = try FileManager.default.contentsOfDirectory(atPath: chaptersURL.path)
            .filter { FileManager.default.fileExists(atPath: chaptersURL.appendingPathComponent("\($0)/main.swift").path) }
            .sorted()
        guard !chapters.isEmpty else { throw ValidationError("no chapters under \(chaptersURL.path)") }
        if let unknown = only.first(where: { !chapters.contains($0) }) {
            throw ValidationError("no chapter \(unknown); the chapters are \(chapters.joined(separator: ", "))")
        }
        if check { try checkDocuments(chapters, chaptersURL: chaptersURL, docsURL: docsURL) } else {
            try weave(chapters, rootURL: rootURL, chaptersURL: chaptersURL, docsURL: docsURL)
        }
    }

    private func checkDocuments(_ chapters: [String], chaptersURL: URL, docsURL: URL) throws {
        var stale: [String] = [], misrendered: [String] = []
        func checkRendering(_ document: String, name: String) {
            misrendered += RenderingCheck.problems(in: document).map { "docs/\(name):\($0.line): \($0.message)" }
        }
        for chapter in chapters {
            let source = try String(contentsOf: chaptersURL.appendingPathComponent("\(chapter)/main.swift"), encoding: .utf8)
            let document = try? String(contentsOf: docsURL.appendingPathComponent("\(chapter).md"), encoding: .utf8)
            if document.flatMap(Weaver.recordedFingerprint(in:)) != Weaver.fingerprint(source) { stale.append(chapter) }
            if let document { checkRendering(document, name: "\(chapter).md") }
        }
        var failures: [String] = []
        let frontPage = try String(contentsOf: chaptersURL.appendingPathComponent(Self.frontPageSource), encoding: .utf8)
        let index = try? String(contentsOf: docsURL.appendingPathComponent("README.md"), encoding: .utf8)
        if let index { checkRendering(index, name: "README.md") }
        if index != frontPage { failures.append("docs/README.md is not Chapters/\(Self.frontPageSource): run `swift run Weave`") }
        let frontPageProblems = FrontPage.problems(in: frontPage, chapters: chapters) {
            FileManager.default.fileExists(atPath: docsURL.appendingPathComponent($0).path)
        }
        failures += frontPageProblems.map { "Chapters/\(Self.frontPageSource): \($0)" }
        if !stale.isEmpty {
            failures.append("docs out of date for \(stale.joined(separator: ", ")): run the chapter(s), then `swift run Weave`")
        }
        if !misrendered.isEmpty {
            failures.append("\(misrendered.count) construct(s) in docs/ that GitHub renders wrongly "
                            + "(fix them in the chapter sources, then `swift run Weave`):\n" + misrendered.joined(separator: "\n"))
        }
        guard failures.isEmpty else { throw ValidationError(failures.joined(separator: "\n")) }
        print("docs/ matches all \(chapters.count) chapter sources and renders on GitHub")
    }

    private func weave(_ chapters: [String], rootURL: URL, chaptersURL: URL, docsURL: URL) throws {
        let files = FileManager.default
        try files.createDirectory(at: docsURL, withIntermediateDirectories: true)
        for chapter in chapters {
            let sourcePath = "Chapters/\(chapter)/main.swift"
            let sourceText = try String(contentsOf: rootURL.appendingPathComponent(sourcePath), encoding: .utf8)
            let source = LiterateSource(sourceText)
            guard only.isEmpty || only.contains(chapter) else { continue }
            let runURL = URL(fileURLWithPath: output, relativeTo: rootURL).appendingPathComponent(chapter)
            guard let transcript = try? Transcript.load(from: runURL.appendingPathComponent("transcript.json")) else {
                throw ValidationError("no transcript for \(chapter) in \(runURL.path): run `swift run -c release \(chapter.split(separator: "-").dropFirst().joined(separator: "-"))` first")
            }
            guard transcript.sourceFingerprint == Weaver.fingerprint(sourceText) else {
                throw ValidationError("the transcript in \(runURL.path) was made by another version of \(sourcePath): run the chapter again first")
            }
            // Copy the figures the transcript names.
            let figures = docsURL.appendingPathComponent(chapter)
            try? files.removeItem(at: figures)
            try files.createDirectory(at: figures, withIntermediateDirectories: true)
            for file in Set(transcript.entries.compactMap(\.file)) {
                try files.copyItem(at: runURL.appendingPathComponent(file), to: figures.appendingPathComponent(file))
            }
            let document = Weaver.document(source: source, sourcePath: sourcePath, sourceText: sourceText,
                                           transcript: transcript, figureFolder: chapter)
            try document.write(to: docsURL.appendingPathComponent("\(chapter).md"), atomically: true, encoding: .utf8)
            print("wove docs/\(chapter).md (\(transcript.entries.count) outputs)")
        }
        let frontPage = try String(contentsOf: chaptersURL.appendingPathComponent(Self.frontPageSource), encoding: .utf8)
        try frontPage.write(to: docsURL.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
    }
}
