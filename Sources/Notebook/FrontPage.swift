import Foundation

/// The book's front page, `docs/README.md`: written by hand as `Chapters/Book.md` and copied by
/// `Weave`. What it must hold to be a front door: a link to every chapter's page, and only links
/// and pictures that lead somewhere.
public enum FrontPage {
    /// The problems of `page` for the chapter folders `chapters` (`02-GAN`, …), in words.
    /// `exists` says whether a path relative to `docs/` names a file.
    public static func problems(in page: String, chapters: [String], exists: (String) -> Bool) -> [String] {
        let targets = linkTargets(in: page)
        var problems = chapters.filter { !targets.contains("\($0).md") }
            .map { "no link to the page of chapter \($0) (\($0).md)" }
        problems += targets.filter { !$0.contains("://") && !$0.hasPrefix("#") && !exists($0) }
            .map { "\($0) is linked or shown but does not exist in docs/" }
        return problems
    }

    /// The targets of Markdown links and images, `[text](target)` and `![text](target)`, in order.
    static func linkTargets(in page: String) -> [String] {
        var targets: [String] = []
        var rest = page[...]
        while let close = rest.range(of: "](") {
            let after = rest[close.upperBound...]
            guard let end = after.firstIndex(of: ")") else { break }
            targets.append(String(after[..<end]))
            rest = after[end...]
        }
        return targets
    }
}
