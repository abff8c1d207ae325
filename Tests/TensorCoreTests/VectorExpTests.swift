import Foundation
import Testing
@testable import TensorCore

/// The sixteen-lane e^x behind float exp, sigmoid and SiLU: within 2 ulp of the correctly rounded
/// value everywhere it is finite, and exact at its edges.
@Suite struct VectorExpTests {
    /// Distance from the correctly rounded float of e^x, in units in the last place.
    private func ulps(_ value: Float, _ x: Float) -> Double {
        let exact = Foundation.exp(Double(x))
        return Swift.abs(Double(value) - exact) / Double(Float(exact).ulp)
    }

    @Test func withinTwoUlpAcrossTheNormalRange() {
        var worst = 0.0
        var x = VectorExp.smallest
        while x < VectorExp.largest - 0.01 {
            let lanes = (0..<16).map { x + Float($0) * 0.000_37 }
            let values = VectorExp.exp(SIMD16(lanes))
            for (lane, input) in lanes.enumerated() where input < VectorExp.largest {
                worst = Swift.max(worst, ulps(values[lane], input))
            }
            x += 0.0059                                              // ~30,000 vectors over the whole range
        }
        #expect(worst <= 2, "worst error \(worst) ulp")
    }

    @Test func edgesAreExact() {
        var x = SIMD16<Float>(repeating: 0)
        let inputs: [Float] = [0, 1, -1, .infinity, -.infinity, .nan, 89, -88, -1000, 1000, 88.7, -87.3, .ulpOfOne, -0.0, 0.5, 20]
        for (lane, value) in inputs.enumerated() { x[lane] = value }
        let y = VectorExp.exp(x)
        #expect(y[0] == 1 && y[13] == 1)                              // e⁰, e^−0
        #expect(Swift.abs(y[1] - Float(M_E)) <= Float(M_E).ulp && Swift.abs(y[2] - Float(1 / M_E)) <= Float(1 / M_E).ulp)
        #expect(y[3] == .infinity && y[4] == 0 && y[5].isNaN)
        #expect(y[6] == .infinity && y[7] == 0 && y[8] == 0 && y[9] == .infinity)
        #expect(y[10].isFinite && ulps(y[10], 88.7) <= 2 && ulps(y[11], -87.3) <= 2)
        #expect(y[12] == Float(Foundation.exp(Double(Float.ulpOfOne))))
    }

    @Test func sigmoidStaysInsideZeroOneAndIsSymmetric() {
        let x = SIMD16<Float>((0..<16).map { Float($0 - 8) * 12.5 })          // −100 … 87.5
        let s = VectorExp.sigmoid(x), mirrored = VectorExp.sigmoid(-x)
        for lane in 0..<16 {
            let exact = 1 / (1 + Foundation.exp(-Double(x[lane])))
            #expect(Swift.abs(Double(s[lane]) - exact) <= 2 * Double(Float(exact).ulp) + 1e-38)
            #expect(s[lane] >= 0 && s[lane] <= 1)
            #expect(Swift.abs(Double(s[lane] + mirrored[lane]) - 1) <= 1e-7)
        }
    }

    /// The tensor ops that use it agree with float64 libm on a tensor whose length is not a
    /// multiple of sixteen (the padded tail).
    @Test func tensorOpsUseItAndAgreeWithDouble() {
        let values = (0..<1_000).map { Float($0) * 0.031 - 15.5 }
        let x = Tensor(values, shape: [1_000])
        let (e, s, silu) = (x.exp().floats, x.sigmoid().floats, x.silu().floats)
        for (i, v) in values.enumerated() {
            let exact = Foundation.exp(Double(v)), sigma = 1 / (1 + Foundation.exp(-Double(v)))
            #expect(Swift.abs(Double(e[i]) - exact) <= 2 * Double(Float(exact).ulp))
            #expect(Swift.abs(Double(s[i]) - sigma) <= 2.5e-7)
            #expect(Swift.abs(Double(silu[i]) - Double(v) * sigma) <= 2.5e-7 * Swift.max(1, Swift.abs(Double(v))))
        }
    }
}
