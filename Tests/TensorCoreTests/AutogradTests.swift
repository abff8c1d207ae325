import Foundation
import Testing
import TestSupport
import TensorCore

@Suite struct AutogradTests {
    @Test func backwardOfAScalarAccumulates() {
        let x = Tensor([1, 2, 3], shape: [3], dtype: .float64, requiresGrad: true)
        let y = (x * x).sum()                       // dy/dx = 2x
        y.backward()
        expectClose(x.grad!.doubles, [2, 4, 6])
        (x * 3).sum().backward()                    // accumulates: 2x + 3
        expectClose(x.grad!.doubles, [5, 7, 9])
        x.zeroGrad()
        #expect(x.grad == nil)
    }

    @Test func backwardWithUpstreamGradient() {
        let x = Tensor([1, 2], shape: [2], dtype: .float64, requiresGrad: true)
        let y = x * x
        y.backward(Tensor([10, 100], shape: [2], dtype: .float64))
        expectClose(x.grad!.doubles, [20, 400])
    }

    @Test func sharedSubexpressionsAddTheirGradients() {
        let x = Tensor([3], shape: [1], dtype: .float64, requiresGrad: true)
        let a = x * 2
        let y = (a * a + a).sum()                   // 4x² + 2x → 8x + 2
        y.backward()
        expectClose(x.grad!.doubles, [26])
    }

    @Test func detachedAndNoGradStopGradients() {
        let x = Tensor([2], shape: [1], dtype: .float64, requiresGrad: true)
        let y = (x * x.detached()).sum()            // only the first factor is differentiated
        y.backward()
        expectClose(x.grad!.doubles, [2])
        let z = withoutGradients { x * x }
        #expect(!z.requiresGrad && z.gradientFunction == nil)
        #expect(x.detached().gradientFunction == nil && !x.detached().requiresGrad)
    }

    @Test func gradientsWithRespectToDoesNotTouchGrad() {
        let x = Tensor([1, -1], shape: [2], dtype: .float64, requiresGrad: true)
        let unused = Tensor([5], shape: [1], dtype: .float64, requiresGrad: true)
        let y = (x.exp()).sum() + unused.sum() * 0
        let grads = y.gradients(withRespectTo: [x, Tensor.zeros([3], dtype: .float64)])
        expectClose(grads[0].doubles, [Foundation.exp(1), Foundation.exp(-1)])
        expectClose(grads[1].doubles, [0, 0, 0])
        #expect(x.grad == nil)
    }

    @Test func createGraphGivesDifferentiableGradients() {
        let x = Tensor([1.5], shape: [1], dtype: .float64, requiresGrad: true)
        let y = x.pow(3).sum()
        let dy = y.gradients(withRespectTo: [x], createGraph: true)[0]    // 3x²
        #expect(dy.requiresGrad)
        dy.sum().backward()                                                   // d(3x²)/dx = 6x
        expectClose(x.grad!.doubles, [9])
    }

    @Test func tapeListsOpsInOrder() {
        let x = Tensor([1], shape: [1], dtype: .float64, requiresGrad: true)
        let y = (x.exp() * 2).sum()
        #expect(y.tape().compactMap { $0.gradientFunction?.name } == ["exp", "multiply by scalar", "sum"])
    }

    @Test func deepGraphsDoNotOverflowTheStack() {
        var x = Tensor([1], shape: [1], dtype: .float64, requiresGrad: true)
        let leaf = x
        for _ in 0..<20_000 { x = x * 1.0001 }
        x.sum().backward()
        #expect(Swift.abs(leaf.grad!.doubles[0] - Foundation.pow(1.0001, 20_000)) < 1e-6)
    }

    /// No op's backward may keep its own result alive: the graph must be freed once the last tensor
    /// referring to it goes away, or every training step leaks its activations.
    @Test func graphsAreFreedAfterBackward() {
        let ops: [(String, (Tensor) -> Tensor)] = [
            ("max keeping dimensions", { $0.max(alongAxes: [1], keepingDimensions: true) }), ("max", { $0.max() }),
            ("exp", { $0.exp() }), ("sqrt", { ($0 * $0 + 1).sqrt() }), ("tanh", { $0.tanh() }), ("sigmoid", { $0.sigmoid() }),
            ("logSoftmax", { $0.logSoftmax() }), ("conv2d", { $0.reshaped([1, 1, 2, 3]).conv2d(weight: Tensor.ones([1, 1, 2, 2], dtype: .float64)) }),
        ]
        for (name, op) in ops {
            weak var weakResult: Tensor?
            weak var weakInput: Tensor?
            do {
                let x = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3], dtype: .float64, requiresGrad: true)
                let y = op(x)
                weakResult = y
                weakInput = x
                y.sum().backward()
            }
            #expect(weakResult == nil && weakInput == nil, "\(name) keeps its graph alive")
        }
    }

    @Test func anomalyModeNamesTheForwardOp() throws {
        let x = Tensor([1, -1], shape: [2], dtype: .float64, requiresGrad: true)
        let error = #expect(throws: AnomalyDetector.Anomaly.self) {
            try detectAnomalies { ((x * 2).log() + 1).sum() }
        }
        #expect(error?.op == "log" && error?.phase == .forward && error?.inputShapes == [[2]])
        #expect(error?.description.contains("log produced 1 NaN/Inf") == true)
    }

    @Test func anomalyModeNamesTheBackwardOp() throws {
        let x = Tensor([0, 4], shape: [2], dtype: .float64, requiresGrad: true)
        let error = #expect(throws: AnomalyDetector.Anomaly.self) {
            try detectAnomalies { x.sqrt().sum().backward() }     // d√x/dx = ∞ at 0
        }
        #expect(error?.op == "backward of sqrt" && error?.phase == .backward)
        // A clean computation passes through untouched.
        let value = try detectAnomalies { (x + 1).sqrt().sum().item }
        #expect(Swift.abs(value - (1 + Foundation.sqrt(5))) < 1e-12)
    }
}

/// Misuse stops with a message naming the shapes, never a silent wrong answer.
@Suite struct MisuseTests {
    @Test func shapesThatDoNotBroadcast() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]) + Tensor.zeros([4])
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("shapes [2, 3] and [4] do not broadcast"))
    }

    @Test func matmulOfMismatchedSizes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).matmul(Tensor.zeros([4, 5]))
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("matmul: [2, 3] × [4, 5]"))
    }

    @Test func backwardOnANonScalar() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let x = Tensor.ones([2, 2])
            x.requiresGrad = true
            (x * 2).backward()
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("output [2, 2] is not a scalar; pass the upstream gradient"))
    }

    @Test func convolutionWithWrongChannels() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 3, 8, 8]).conv2d(weight: Tensor.zeros([4, 2, 3, 3]))
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("input has 3 channels, weight expects 2"))
    }
}
