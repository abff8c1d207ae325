import Testing
@testable import Notebook

@Suite struct FrontPageTests {
    static let chapters = ["01-Concepts", "02-GAN"]

    @Test func aPageLinkingEveryChapterWithPresentFiguresHasNoProblems() {
        let page = """
            # The book
            ## [Chapter 1](01-Concepts.md)
            ![data](01-Concepts/data.svg)
            ## [Chapter 2](02-GAN.md) — see [GitHub](https://github.com) and [below](#chapter-2)
            """
        let present: Set = ["01-Concepts.md", "02-GAN.md", "01-Concepts/data.svg"]
        #expect(FrontPage.problems(in: page, chapters: Self.chapters, exists: present.contains).isEmpty)
        #expect(FrontPage.linkTargets(in: page) == ["01-Concepts.md", "01-Concepts/data.svg", "02-GAN.md", "https://github.com", "#chapter-2"])
    }

    @Test func aMissingChapterLinkAndAMissingFigureAreNamed() {
        let page = "## [Chapter 1](01-Concepts.md)\n![samples](02-GAN/samples.png)\n"
        let problems = FrontPage.problems(in: page, chapters: Self.chapters, exists: { $0 == "01-Concepts.md" })
        #expect(problems == ["no link to the page of chapter 02-GAN (02-GAN.md)",
                             "02-GAN/samples.png is linked or shown but does not exist in docs/"])
    }
}
