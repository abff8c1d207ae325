/// A 3×5-pixel font for captions and labels in image grids: digits, capital letters (lower case
/// is drawn in capitals) and a little punctuation. Each glyph is five rows of three bits, drawn
/// `magnification` times larger so that text is 10 pixels high where a page shows the figure at
/// its own size.
enum PixelFont {
    /// Width of a glyph in font pixels.
    static let glyphWidth = 3
    /// Height of a glyph in font pixels.
    static let glyphHeight = 5
    /// Image pixels per font pixel, each way.
    static let magnification = 2
    /// Height of a line of text in image pixels.
    static let textHeight = glyphHeight * magnification
    /// How far each character moves the pen, in image pixels (a glyph and one font pixel of space).
    static let advance = (glyphWidth + 1) * magnification

    /// Rows top to bottom, "#" for ink.
    private static let glyphs: [Character: [String]] = [
        "A": [".#.", "#.#", "###", "#.#", "#.#"], "B": ["##.", "#.#", "##.", "#.#", "##."],
        "C": [".##", "#..", "#..", "#..", ".##"], "D": ["##.", "#.#", "#.#", "#.#", "##."],
        "E": ["###", "#..", "##.", "#..", "###"], "F": ["###", "#..", "##.", "#..", "#.."],
        "G": [".##", "#..", "#.#", "#.#", ".##"], "H": ["#.#", "#.#", "###", "#.#", "#.#"],
        "I": ["###", ".#.", ".#.", ".#.", "###"], "J": ["..#", "..#", "..#", "#.#", ".#."],
        "K": ["#.#", "#.#", "##.", "#.#", "#.#"], "L": ["#..", "#..", "#..", "#..", "###"],
        "M": ["#.#", "###", "###", "#.#", "#.#"], "N": ["##.", "#.#", "#.#", "#.#", "#.#"],
        "O": [".#.", "#.#", "#.#", "#.#", ".#."], "P": ["##.", "#.#", "##.", "#..", "#.."],
        "Q": [".#.", "#.#", "#.#", "##.", ".##"], "R": ["##.", "#.#", "##.", "#.#", "#.#"],
        "S": [".##", "#..", ".#.", "..#", "##."], "T": ["###", ".#.", ".#.", ".#.", ".#."],
        "U": ["#.#", "#.#", "#.#", "#.#", "###"], "V": ["#.#", "#.#", "#.#", "#.#", ".#."],
        "W": ["#.#", "#.#", "###", "###", "#.#"], "X": ["#.#", "#.#", ".#.", "#.#", "#.#"],
        "Y": ["#.#", "#.#", ".#.", ".#.", ".#."], "Z": ["###", "..#", ".#.", "#..", "###"],
        "0": ["###", "#.#", "#.#", "#.#", "###"], "1": [".#.", "##.", ".#.", ".#.", "###"],
        "2": ["##.", "..#", ".#.", "#..", "###"], "3": ["##.", "..#", ".#.", "..#", "##."],
        "4": ["#.#", "#.#", "###", "..#", "..#"], "5": ["###", "#..", "##.", "..#", "##."],
        "6": [".##", "#..", "###", "#.#", "###"], "7": ["###", "..#", ".#.", ".#.", ".#."],
        "8": ["###", "#.#", "###", "#.#", "###"], "9": ["###", "#.#", "###", "..#", "##."],
        " ": ["...", "...", "...", "...", "..."], ".": ["...", "...", "...", "...", ".#."],
        ",": ["...", "...", "...", ".#.", "#.."], ":": ["...", ".#.", "...", ".#.", "..."],
        "-": ["...", "...", "###", "...", "..."], "+": ["...", ".#.", "###", ".#.", "..."],
        "=": ["...", "###", "...", "###", "..."], "/": ["..#", "..#", ".#.", "#..", "#.."],
        "(": [".#.", "#..", "#..", "#..", ".#."], ")": [".#.", "..#", "..#", "..#", ".#."],
        "'": [".#.", ".#.", "...", "...", "..."], "_": ["...", "...", "...", "...", "###"],
        "%": ["#.#", "..#", ".#.", "#..", "#.#"], "?": ["##.", "..#", ".#.", "...", ".#."],
        "!": [".#.", ".#.", ".#.", "...", ".#."], "#": ["#.#", "###", "#.#", "###", "#.#"],
    ]

    /// Whether pixel (`x`, `y`) of `character`'s glyph is ink; unknown characters draw as "?".
    static func isInk(_ character: Character, x: Int, y: Int) -> Bool {
        let key = Character(character.uppercased())
        let rows = glyphs[key] ?? glyphs["?"]!
        let row = Array(rows[y])
        return row[x] == "#"
    }

    /// How many characters fit in `width` pixels.
    static func capacity(width: Int) -> Int { max(0, (width + magnification) / advance) }

    /// The width `text` takes in pixels.
    static func width(of text: String) -> Int { max(0, text.count * advance - magnification) }

    /// Draws `text` into `bitmap` with its top-left corner at (`left`, `top`), clipped to
    /// `maxWidth` pixels (the text is cut short if it does not fit).
    static func draw(_ text: String, into bitmap: inout Bitmap, left: Int, top: Int, maxWidth: Int, ink: UInt8) {
        let characters = Array(text.prefix(capacity(width: maxWidth)))
        for (index, character) in characters.enumerated() {
            let x0 = left + index * advance
            for y in 0..<textHeight {
                for x in 0..<(glyphWidth * magnification)
                where isInk(character, x: x / magnification, y: y / magnification) {
                    let px = x0 + x, py = top + y
                    guard px >= 0, px < bitmap.width, py >= 0, py < bitmap.height else { continue }
                    let base = (py * bitmap.width + px) * bitmap.channels
                    for c in 0..<bitmap.channels { bitmap.pixels[base + c] = ink }
                }
            }
        }
    }
}
