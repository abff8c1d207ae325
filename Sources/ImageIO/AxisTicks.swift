import Foundation
import TensorCore

/// Tick positions a person would choose: steps of 1, 2 or 5 times a power of ten, and powers
/// of ten on logarithmic axes.
///
/// `AxisTicks.linear(from: 0, to: 1)` is `[0, 0.2, 0.4, 0.6, 0.8, 1]`; the values are computed
/// as integer ÷ power of ten, so they are the same doubles as the literals `0.2`, `0.6`, ….
public enum AxisTicks {
    /// A tick step of `mantissa × 10^exponent`, with `mantissa` 1, 2 or 5.
    public struct Step: Equatable, Sendable {
        /// 1, 2 or 5.
        public let mantissa: Int
        /// The power of ten.
        public let exponent: Int

        /// A step of `mantissa × 10^exponent`.
        public init(mantissa: Int, exponent: Int) {
            self.mantissa = mantissa
            self.exponent = exponent
        }

        /// The step as a number.
        public var value: Double { Step.scaled(mantissa, exponent) }

        /// `k` steps, computed exactly enough that `k × 0.2` prints as the literal it should be.
        public func multiple(_ k: Int) -> Double { Step.scaled(k * mantissa, exponent) }

        static func scaled(_ integer: Int, _ exponent: Int) -> Double {
            exponent >= 0 ? Double(integer) * pow(10, Double(exponent)) : Double(integer) / pow(10, Double(-exponent))
        }
    }

    /// The 1-2-5 step that divides `span` into about `targetCount` intervals.
    public static func step(span: Double, targetCount: Int = 5) -> Step {
        require(targetCount >= 1, "AxisTicks.step: targetCount must be at least 1")
        guard span.isFinite, span > 0 else { return Step(mantissa: 1, exponent: 0) }
        let raw = span / Double(targetCount)
        var exponent = Int(floor(log10(raw)))
        let fraction = raw / pow(10, Double(exponent))
        let mantissa: Int
        switch fraction {
        case ..<1.5: mantissa = 1
        case ..<3: mantissa = 2
        case ..<7: mantissa = 5
        default: mantissa = 1; exponent += 1
        }
        return Step(mantissa: mantissa, exponent: exponent)
    }

    /// The ticks of a linear axis covering `lower…upper`: from the last multiple of the step at
    /// or below `lower` to the first at or above `upper`. A zero-width range is widened first.
    public static func linear(from lower: Double, to upper: Double, targetCount: Int = 5) -> [Double] {
        let (low, high) = widened(lower, upper)
        let step = step(span: high - low, targetCount: targetCount)
        let first = Int(floor(low / step.value + 1e-9))
        let last = Int(ceil(high / step.value - 1e-9))
        return (first...max(first, last)).map(step.multiple)
    }

    /// The ticks with the given `step` that lie inside `lower…upper`.
    public static func inside(_ lower: Double, _ upper: Double, step: Step) -> [Double] {
        let first = Int(ceil(lower / step.value - 1e-9))
        let last = Int(floor(upper / step.value + 1e-9))
        guard first <= last else { return [] }
        return (first...last).map(step.multiple)
    }

    /// The ticks of a logarithmic axis covering `lower…upper` (both positive): every power of
    /// ten from the one at or below `lower` to the one at or above `upper`, plus 2× and 5× in
    /// between when the range spans fewer than three decades.
    public static func logarithmic(from lower: Double, to upper: Double) -> [Double] {
        require(lower > 0 && upper > 0, "AxisTicks.logarithmic: bounds must be positive, got \(lower)…\(upper)")
        let low = Int(floor(log10(min(lower, upper)) + 1e-12))
        var high = Int(ceil(log10(max(lower, upper)) - 1e-12))
        if low == high { high += 1 }
        var ticks: [Double] = []
        for exponent in low...high {
            ticks.append(Step.scaled(1, exponent))
            if high - low < 3 && exponent < high {
                ticks.append(Step.scaled(2, exponent))
                ticks.append(Step.scaled(5, exponent))
            }
        }
        return ticks
    }

    /// A short label for a tick `value` on an axis whose step is `step`: as many decimals as
    /// the step needs (`0.2`, `15`, `2.5e-05` for very small or large values).
    public static func label(_ value: Double, step: Step) -> String {
        if value == 0 { return "0" }
        if abs(value) >= 1e6 || abs(value) < 1e-4 { return compact(value) }
        let decimals = max(0, -step.exponent)
        return String(format: "%.\(decimals)f", value)
    }

    /// A short label for a tick on a logarithmic axis.
    public static func logLabel(_ value: Double) -> String {
        if abs(value) >= 1e5 || abs(value) < 1e-3 { return compact(value) }
        return compact(value, style: "%g")
    }

    private static func compact(_ value: Double, style: String = "%.0e") -> String {
        var text = String(format: style, value)
        // 1e-05 → 1e-5, 2e+06 → 2e6
        text = text.replacingOccurrences(of: "e+0", with: "e").replacingOccurrences(of: "e+", with: "e")
            .replacingOccurrences(of: "e-0", with: "e-")
        return text
    }

    /// `lower…upper` made usable: ordered, finite and of non-zero width.
    static func widened(_ lower: Double, _ upper: Double) -> (Double, Double) {
        guard lower.isFinite, upper.isFinite else { return (0, 1) }
        let (low, high) = (min(lower, upper), max(lower, upper))
        if high > low { return (low, high) }
        let pad = low == 0 ? 1 : abs(low) * 0.1
        return (low - pad, high + pad)
    }
}
