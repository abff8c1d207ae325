import Foundation
import Testing
@testable import Notebook

@Suite struct LiterateSourceTests {
    static let source = """
    /*:
     # Title
     Some *prose*.
       indented more
     */
    import Foo

    let a = 1
    notebook.show("a")
    //: A line of prose.
    //: And another.
    let b = 2
    /*: Short block. */
    """

    @Test func longOutputLinesAreWrappedAtSpaces() {
        let long = "  U-Net: 2811 steps to train, about 15 min 9 s on this machine — over ten minutes: `--minutes M` trains for M minutes"
        let wrapped = Weaver.wrapped(long, width: 50).split(separator: "\n").map(String.init)
        #expect(wrapped == ["  U-Net: 2811 steps to train, about 15 min 9 s on",
                            "      this machine — over ten minutes: `--minutes",
                            "      M` trains for M minutes"])
        // A word longer than the line is cut where the line ends; short lines and blank lines stay.
        #expect(Weaver.wrapped(String(repeating: "█", count: 25) + " ok\n\nshort", width: 10)
                == "██████████\n    ██████\n    ██████\n    ███ ok\n\nshort")
        #expect(Weaver.wrapped(String(repeating: " ", count: 30) + "x y", width: 10).split(separator: "\n").allSatisfy { $0.count <= 10 })
    }

    @Test func splitsProseAndCode() {
        let parsed = LiterateSource(Self.source)
        #expect(parsed.blocks == [
            .prose("# Title\nSome *prose*.\n  indented more"),
            .code("import Foo\n\nlet a = 1\nnotebook.show(\"a\")", lines: 6...9),
            .prose("A line of prose.\nAnd another."),
            .code("let b = 2", lines: 12...12),
            .prose("Short block."),
        ])
    }

    /// A chapter's code sits in one `do` block: its cells lose the common indentation, not their nesting.
    @Test func codeCellsLoseTheirCommonIndentation() {
        let parsed = LiterateSource("do {\n    /*: Prose. */\n    for i in 0..<2 {\n        print(i)\n    }\n    /*: End. */\n}")
        #expect(parsed.blocks == [
            .code("do {", lines: 1...1),
            .prose("Prose."),
            .code("for i in 0..<2 {\n    print(i)\n}", lines: 3...5),
            .prose("End."),
            .code("}", lines: 7...7),
        ])
    }

    /// Two `/*:` blocks with no code between them stay two paragraphs; a run of `//:` lines is one.
    @Test func adjacentProseBlocksStaySeparateParagraphs() {
        let parsed = LiterateSource("/*: First paragraph. */\n/*:\n ## A heading\n */\n//: one\n//: line\nlet x = 1")
        #expect(parsed.blocks == [
            .prose("First paragraph.\n\n## A heading\n\none\nline"),
            .code("let x = 1", lines: 7...7),
        ])
    }

    @Test func placesOutputUnderTheCellThatMadeIt() {
        let transcript = Transcript(chapter: "01-Test", source: "main.swift", mode: .standard, entries: [
            TranscriptEntry(kind: .text, line: 9, text: "a = 1"),
            TranscriptEntry(kind: .progress, line: 9, text: "done 100%"),
            TranscriptEntry(kind: .figure, line: 12, text: "A plot", file: "plot.svg"),
            TranscriptEntry(kind: .table, line: 12, text: "| x |\n| --- |\n| 1 |"),
        ])
        let document = Weaver.document(source: LiterateSource(Self.source), sourcePath: "Chapters/01-Test/main.swift",
                                       sourceText: Self.source, transcript: transcript, figureFolder: "01-Test")
        #expect(document.contains("notebook.show(\"a\")\n```\n\n```text\na = 1\ndone 100%\n```"))
        #expect(document.contains("let b = 2\n```\n\n![A plot](01-Test/plot.svg)\n\n*A plot*\n\n| x |\n| --- |\n| 1 |"))
        #expect(Weaver.recordedFingerprint(in: document) == Weaver.fingerprint(Self.source))
        #expect(Weaver.fingerprint(Self.source) != Weaver.fingerprint(Self.source + " "))
    }
}

@Suite struct ProgressBarTests {
    @Test func showsCountsRateAndMetrics() {
        var written: [String] = []
        var finished: String?
        let bar = ProgressBar(label: "train", total: 4, interactive: false, write: { written.append($0) }, onFinish: { finished = $0 })
        for _ in 0..<4 { bar.advance(metrics: [("loss", 0.5)]) }
        let final = bar.finish()
        #expect(final.hasPrefix("train ████████████████████████ 100% 4/4 ["))
        #expect(final.hasSuffix("loss 0.5000"))
        #expect(finished == final)
        #expect(written.last == final + "\n")
    }
}
