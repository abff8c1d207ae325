extension String {
    /// The string followed by spaces up to `width` characters, for aligned columns of text.
    /// (Foundation's `padding(toLength:withPad:startingAt:)` counts UTF-16 units, so it cuts a
    /// string with combining marks, such as "x̂₀", short of its last characters.)
    public func padded(toWidth width: Int) -> String {
        self + String(repeating: " ", count: Swift.max(0, width - count))
    }
}
