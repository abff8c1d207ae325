// MARK: - The recorded graph

/// One recorded operation: its inputs, and how to turn the gradient of its output into
/// gradients of its inputs.
///
/// Backward closures are written with tensor operations themselves. Normally they run with
/// recording off; with `createGraph: true` they are recorded too, so a gradient can itself be
/// differentiated (the WGAN-GP gradient penalty needs this).
public final class GradientFunction {
    /// The operation's name, for the anomaly report and for printing a tape.
    public let name: String
    /// The tensors the operation read.
    public let inputs: [Tensor]
    /// Maps the output's gradient to one gradient per input (nil where none flows).
    let backward: (Tensor) -> [Tensor?]

    init(name: String, inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
    }
}

/// Whether operations are recorded for autograd in the current task (on by default).
public enum GradMode {
    @TaskLocal public static var isEnabled = true
}

/// Runs `body` without recording operations: for sampling, evaluation and optimizer updates.
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$isEnabled.withValue(false, operation: body)
}

extension Tensor {
    /// Attaches `backward` to this freshly computed tensor when recording is on and an input
    /// needs a gradient; returns `self` so that ops can end with `return result.recorded(…)`.
    ///
    /// This is how a differentiable op is made, here and outside the core (PyTorch's
    /// `autograd.Function`): compute the value without recording (`withoutGradients`, or a
    /// kernel), then attach `backward`, which maps the gradient of the output to one gradient per
    /// input (nil for none). Written with tensor ops, the backward is itself differentiable.
    ///
    /// A backward that needs the op's own output (eˣ's gradient is g·eˣ) captures it
    /// `[unowned result]`: the output owns its gradient function, so a strong capture would be a
    /// cycle that leaks the graph, and whoever runs the backward holds the output. Unlike a
    /// `detached()` copy, it keeps the output's own graph, which second derivatives go through.
    public func recorded(_ name: @autoclosure () -> String, _ inputs: [Tensor],
                  backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        if let detector = AnomalyDetector.current { detector.inspect(self, op: name(), inputs: inputs, phase: .forward) }
        guard GradMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) else { return self }
        requiresGrad = true
        gradientFunction = GradientFunction(name: name(), inputs: inputs, backward: backward)
        return self
    }

    /// The recorded operations that lead to this tensor, inputs before the ops that read them.
    public func tape() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        // Iterative depth-first search: deep graphs (a diffusion sampler) must not overflow the stack.
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (tensor, expanded) = stack.popLast() {
            if expanded { order.append(tensor); continue }
            guard visited.insert(ObjectIdentifier(tensor)).inserted else { continue }
            stack.append((tensor, true))
            for input in tensor.gradientFunction?.inputs ?? [] where input.requiresGrad {
                if !visited.contains(ObjectIdentifier(input)) { stack.append((input, false)) }
            }
        }
        return order
    }

    // MARK: - Backward

    /// Accumulates d(self)/d(leaf) into the `grad` of every leaf that requires a gradient.
    ///
    /// `self` must be a scalar unless `upstream` (the gradient of some later scalar with respect to
    /// `self`, same shape) is given. With `createGraph`, the gradients are themselves recorded.
    public func backward(_ upstream: Tensor? = nil, createGraph: Bool = false) {
        let gradients = propagate(upstream, createGraph: createGraph, keeping: [])
        for (leaf, gradient) in gradients.leaves {
            leaf.grad = leaf.grad.map { $0 + gradient } ?? (createGraph ? gradient : gradient.detached())
        }
    }

    /// The gradients of `self` with respect to `inputs`, without touching any `grad`
    /// (PyTorch's `torch.autograd.grad`). An input the output does not depend on gets zeros.
    public func gradients(withRespectTo inputs: [Tensor], upstream: Tensor? = nil,
                          createGraph: Bool = false) -> [Tensor] {
        let kept = Set(inputs.map(ObjectIdentifier.init))
        let result = propagate(upstream, createGraph: createGraph, keeping: kept)
        return inputs.map { result.kept[ObjectIdentifier($0)] ?? Tensor.zeros($0.shape, dtype: $0.dtype) }
    }

    private func propagate(_ upstream: Tensor?, createGraph: Bool, keeping kept: Set<ObjectIdentifier>)
        -> (leaves: [(Tensor, Tensor)], kept: [ObjectIdentifier: Tensor]) {
        require(requiresGrad, "backward: the tensor \(Shape.text(shape)) does not require a gradient; no input was marked requiresGrad, or it was computed under withoutGradients")
        let seed: Tensor
        if let upstream {
            require(upstream.shape == shape,
                    "backward: upstream gradient \(Shape.text(upstream.shape)) does not match the output \(Shape.text(shape))")
            seed = upstream
        } else {
            require(count == 1, "backward: output \(Shape.text(shape)) is not a scalar; pass the upstream gradient")
            seed = Tensor.ones(shape, dtype: dtype)
        }
        var pending: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
        var leaves: [(Tensor, Tensor)] = []
        var keptGradients: [ObjectIdentifier: Tensor] = [:]
        let detector = AnomalyDetector.current
        GradMode.$isEnabled.withValue(createGraph) {
            for tensor in tape().reversed() {
                let id = ObjectIdentifier(tensor)
                guard let gradient = pending.removeValue(forKey: id) else { continue }
                if kept.contains(id) { keptGradients[id] = gradient }
                guard let function = tensor.gradientFunction else {
                    if tensor.requiresGrad { leaves.append((tensor, gradient)) }
                    continue
                }
                // Ops inside a backward closure are not themselves reported: the gradient they
                // produce is inspected below, under the name of the op being differentiated.
                let inputGradients = AnomalyDetector.$current.withValue(nil) { function.backward(gradient) }
                for (input, inputGradient) in zip(function.inputs, inputGradients) {
                    guard input.requiresGrad, let inputGradient else { continue }
                    require(inputGradient.shape == input.shape,
                            "backward of \(function.name): gradient \(Shape.text(inputGradient.shape)) for input \(Shape.text(input.shape))")
                    if let detector {
                        detector.inspect(inputGradient, op: "backward of \(function.name)", inputs: function.inputs, phase: .backward)
                    }
                    let inputID = ObjectIdentifier(input)
                    pending[inputID] = pending[inputID].map { $0 + inputGradient } ?? inputGradient
                }
            }
        }
        return (leaves, keptGradients)
    }

    /// Clears the accumulated gradient.
    public func zeroGrad() { grad = nil }
}
