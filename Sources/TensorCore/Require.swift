/// Stops the program with `message` when `condition` is false.
///
/// Swift's `precondition` drops its message in optimised builds, and the numeric modules are always
/// built optimised; misuse (shapes that do not fit, impossible arguments) must still say what was
/// wrong, so the library checks its preconditions with this instead.
@inline(__always)
public func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                    file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError(message(), file: file, line: line) }
}
