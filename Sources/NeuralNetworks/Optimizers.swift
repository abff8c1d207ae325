/// Updates parameters from their gradients. `step()` reads each parameter's `grad` and changes the
/// parameter in place; parameters without a gradient are skipped.
public protocol Optimizer: AnyObject {
    var parameters: [Tensor] { get }
    func step()
    /// The optimizer's running state by name (PyTorch's names: `0.exp_avg`, `0.momentum_buffer`),
    /// and its counters (`step`), for checkpoints.
    func stateDict() -> (tensors: [(name: String, tensor: Tensor)], counters: [String: Int])
    /// Restores what `stateDict()` returned.
    func load(stateDict tensors: [String: Tensor], counters: [String: Int]) throws
}

extension Optimizer {
    /// Clears every parameter's gradient before the next backward pass.
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }
}

/// Runs `body` on the flat elements of a parameter, its gradient and its state buffers.
private func update<T: TensorScalar>(_: T.Type, _ parameter: Tensor, _ gradient: Tensor, _ states: [Tensor],
                                     _ body: (UnsafeMutableBufferPointer<T>, UnsafeMutableBufferPointer<T>, [UnsafeMutableBufferPointer<T>]) -> Void) {
    parameter.withElements(T.self) { p in
        gradient.withElements(T.self) { g in
            body(p, g, states.map { state in state.withElements(T.self) { $0 } })
        }
    }
}

// MARK: - SGD

/// Stochastic gradient descent with optional momentum and L2 weight decay (PyTorch's `SGD`):
/// g ← ∇ + λ·p; with momentum, b ← μ·b + g (b = g on the first step) and g ← b; then p ← p − lr·g.
public final class SGD: Optimizer {
    public let parameters: [Tensor]
    public var learningRate: Double
    public let momentum: Double, weightDecay: Double
    /// One momentum buffer per parameter, created on its first step.
    public private(set) var momentumBuffers: [Tensor?]

    public init(_ parameters: [Tensor], learningRate: Double, momentum: Double = 0, weightDecay: Double = 0) {
        require(learningRate >= 0 && momentum >= 0 && weightDecay >= 0,
                "SGD: learning rate \(learningRate), momentum \(momentum), weight decay \(weightDecay) must be ≥ 0")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        momentumBuffers = Array(repeating: nil, count: parameters.count)
    }

    public func step() {
        for (index, parameter) in parameters.enumerated() {
            guard let gradient = parameter.grad else { continue }
            let firstStep = momentumBuffers[index] == nil
            if momentum != 0 && firstStep { momentumBuffers[index] = Tensor.zeros(parameter.shape, dtype: parameter.dtype) }
            let states = momentumBuffers[index].map { [$0] } ?? []
            parameter.dtype.select(float32: apply(Float.self, parameter, gradient, states, firstStep),
                                   float64: apply(Double.self, parameter, gradient, states, firstStep))
        }
    }

    public func stateDict() -> (tensors: [(name: String, tensor: Tensor)], counters: [String: Int]) {
        let buffers = momentumBuffers.enumerated().compactMap { index, buffer in buffer.map { ("\(index).momentum_buffer", $0) } }
        return (buffers, [:])
    }

    public func load(stateDict tensors: [String: Tensor], counters: [String: Int]) throws {
        momentumBuffers = try parameters.enumerated().map { index, parameter in
            guard let buffer = tensors["\(index).momentum_buffer"] else { return nil }
            guard buffer.shape == parameter.shape else {
                throw StateDictError.shapeMismatch("\(index).momentum_buffer", expected: parameter.shape, found: buffer.shape)
            }
            return buffer.converted(to: parameter.dtype).copy()
        }
    }

    private func apply<T: TensorScalar>(_ type: T.Type, _ parameter: Tensor, _ gradient: Tensor, _ states: [Tensor], _ firstStep: Bool) {
        let lr = T(learningRate), mu = T(momentum), decay = T(weightDecay)
        update(type, parameter, gradient, states) { p, g, buffers in
            Parallel.forEachChunk(of: p.count) { elements in
                for i in elements {
                    var d = g[i] + decay * p[i]
                    if let b = buffers.first {
                        b[i] = firstStep ? d : mu * b[i] + d
                        d = b[i]
                    }
                    p[i] -= lr * d
                }
            }
        }
    }
}

// MARK: - Adam

/// Adam (PyTorch's `Adam`, with L2 weight decay added to the gradient):
/// m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², p ← p − lr · m̂ / (√v̂ + ε),
/// where m̂ = m/(1 − β₁ᵗ) and v̂ = v/(1 − β₂ᵗ) undo the bias of starting from zero.
public final class Adam: Optimizer {
    public let parameters: [Tensor]
    public var learningRate: Double
    public let betas: (Double, Double), epsilon: Double, weightDecay: Double
    /// Steps taken so far (t).
    public private(set) var stepCount = 0
    /// First- and second-moment estimates, one of each per parameter.
    public let firstMoments: [Tensor], secondMoments: [Tensor]

    public init(_ parameters: [Tensor], learningRate: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                epsilon: Double = 1e-8, weightDecay: Double = 0) {
        require(learningRate >= 0 && (0..<1).contains(betas.0) && (0..<1).contains(betas.1) && epsilon >= 0 && weightDecay >= 0,
                "Adam: learning rate \(learningRate), betas \(betas), eps \(epsilon), weight decay \(weightDecay) out of range")
        (self.parameters, self.learningRate, self.betas) = (parameters, learningRate, betas)
        (self.epsilon, self.weightDecay) = (epsilon, weightDecay)
        firstMoments = parameters.map { Tensor.zeros($0.shape, dtype: $0.dtype) }
        secondMoments = parameters.map { Tensor.zeros($0.shape, dtype: $0.dtype) }
    }

    public func stateDict() -> (tensors: [(name: String, tensor: Tensor)], counters: [String: Int]) {
        let moments = parameters.indices.flatMap { index in
            [("\(index).exp_avg", firstMoments[index]), ("\(index).exp_avg_sq", secondMoments[index])]
        }
        return (moments, ["step": stepCount])
    }

    public func load(stateDict tensors: [String: Tensor], counters: [String: Int]) throws {
        guard let step = counters["step"] else { throw StateDictError.missingName("step") }
        // The next step adds one, and a step count below zero has no meaning.
        guard step >= 0 && step < Int.max else { throw StateDictError.invalidCount("step", step) }
        for index in parameters.indices {
            for (name, target) in [("\(index).exp_avg", firstMoments[index]), ("\(index).exp_avg_sq", secondMoments[index])] {
                guard let value = tensors[name] else { throw StateDictError.missingName(name) }
                guard value.shape == target.shape else { throw StateDictError.shapeMismatch(name, expected: target.shape, found: value.shape) }
                target.assign(value.converted(to: target.dtype))
            }
        }
        stepCount = step
    }

    public func step() {
        stepCount += 1
        for (index, parameter) in parameters.enumerated() {
            guard let gradient = parameter.grad else { continue }
            let states = [firstMoments[index], secondMoments[index]]
            parameter.dtype.select(float32: apply(Float.self, parameter, gradient, states),
                                   float64: apply(Double.self, parameter, gradient, states))
        }
    }

    private func apply<T: TensorScalar>(_ type: T.Type, _ parameter: Tensor, _ gradient: Tensor, _ states: [Tensor]) {
        let (beta1, beta2) = (T(betas.0), T(betas.1))
        let t = Double(stepCount)
        let stepSize = T(learningRate / (1 - Double.pow(betas.0, t)))
        let secondCorrection = T((1 - Double.pow(betas.1, t)).squareRoot())
        let eps = T(epsilon), decay = T(weightDecay)
        update(type, parameter, gradient, states) { p, g, moments in
            let m = moments[0], v = moments[1]
            Parallel.forEachChunk(of: p.count) { elements in
                for i in elements {
                    let d = g[i] + decay * p[i]
                    m[i] = beta1 * m[i] + (1 - beta1) * d
                    v[i] = beta2 * v[i] + (1 - beta2) * d * d
                    p[i] -= stepSize * m[i] / (v[i].squareRoot() / secondCorrection + eps)
                }
            }
        }
    }
}

// MARK: - Exponential moving average

/// A slowly moving copy of the weights, shadow ← d·shadow + (1 − d)·p after each step, with d
/// warming up to `decay` (see ``decay(atUpdate:)``).
/// The diffusion and flow models and the DCGAN generator sample from these averaged weights: they
/// sit nearer the middle of where the last steps wandered than the last step does.
public final class ExponentialMovingAverage {
    public let parameters: [Tensor]
    /// The decay the average settles at.
    public let decay: Double
    /// The averaged weights, one per parameter.
    public let shadows: [Tensor]
    /// How many times ``update()`` has run (saved in checkpoints, so a resumed run warms up alike).
    public var updateCount = 0

    public init(_ parameters: [Tensor], decay: Double = 0.999) {
        require(decay >= 0 && decay <= 1, "ExponentialMovingAverage: decay \(decay) must be in [0, 1]")
        self.parameters = parameters
        self.decay = decay
        shadows = parameters.map { $0.copy() }
    }

    /// The decay of update number `n` (from 0): `min(decay, (1 + n) / (10 + n))`. Early updates
    /// average over the few steps there have been, so that the random initial weights do not linger
    /// in the average of a short run (with decay 0.998 they would still weigh 14% after 1,000 steps).
    public func decay(atUpdate n: Int) -> Double { min(decay, Double(1 + n) / Double(10 + n)) }

    /// Moves every shadow toward its parameter.
    public func update() {
        let decay = decay(atUpdate: updateCount)
        withoutGradients {
            for (shadow, parameter) in zip(shadows, parameters) {
                shadow.assign(shadow * decay + parameter.detached() * (1 - decay))
            }
        }
        updateCount += 1
    }

    /// Runs `body` with the averaged weights in the parameters, then puts the trained weights back.
    public func withAveragedWeights<R>(_ body: () throws -> R) rethrows -> R {
        let trained = parameters.map { $0.copy() }
        for (parameter, shadow) in zip(parameters, shadows) { parameter.assign(shadow) }
        defer { for (parameter, saved) in zip(parameters, trained) { parameter.assign(saved) } }
        return try body()
    }
}
