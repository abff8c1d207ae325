/// How a loss combines its per-element values.
public enum Reduction: Sendable {
    case mean, sum, none

    func apply(_ values: Tensor) -> Tensor {
        switch self {
        case .mean: return values.mean()
        case .sum: return values.sum()
        case .none: return values
        }
    }
}

private func checkSameShape(_ name: String, _ prediction: Tensor, _ target: Tensor) {
    require(prediction.shape == target.shape,
            "\(name): prediction \(prediction.shape) and target \(target.shape) differ in shape")
}

/// Mean squared error, (x̂ − x)².
public func mseLoss(_ prediction: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
    checkSameShape("mseLoss", prediction, target)
    let difference = prediction - target
    return reduction.apply(difference * difference)
}

/// Mean absolute error, |x̂ − x|.
public func l1Loss(_ prediction: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
    checkSameShape("l1Loss", prediction, target)
    return reduction.apply((prediction - target).abs())
}

/// Binary cross-entropy on probabilities, −[y·log p + (1 − y)·log(1 − p)], with PyTorch's edges:
/// each log is clamped at −100, so p = 0 or 1 gives a large finite loss, and the gradient with
/// respect to p is (p − y) / max(p(1 − p), 10⁻¹²) — finite at p = 0 and 1 — rather than the
/// gradient of the clamped logs (NaN there). The gradient with respect to y is log(1 − p) − log p.
public func binaryCrossEntropy(_ probabilities: Tensor, _ targets: Tensor, reduction: Reduction = .mean) -> Tensor {
    checkSameShape("binaryCrossEntropy", probabilities, targets)
    let (p, y) = (probabilities, targets)
    let (logP, logNotP) = withoutGradients { (p.log().clamped(min: -100), (1 - p).log().clamped(min: -100)) }
    let losses = withoutGradients { -(y * logP + (1 - y) * logNotP) }.recorded("binaryCrossEntropy", [p, y]) { g in
        [g * (p - y) / (p * (1 - p)).clamped(min: 1e-12), g * (logNotP - logP)]
    }
    return reduction.apply(losses)
}

/// Binary cross-entropy on logits, with the sigmoid folded in:
/// max(x, 0) − x·y + log(1 + e^−|x|), which never overflows.
public func binaryCrossEntropyWithLogits(_ logits: Tensor, _ targets: Tensor, reduction: Reduction = .mean) -> Tensor {
    checkSameShape("binaryCrossEntropyWithLogits", logits, targets)
    return reduction.apply(logits.softplus() - logits * targets)             // gradient σ(a) − y, exact at a = 0 too
}

/// Softmax cross-entropy of `[N, classes]` logits against integer class labels. With
/// `labelSmoothing` ε the target is (1 − ε)·one-hot + ε/C, as PyTorch's `label_smoothing` makes it.
public func crossEntropy(_ logits: Tensor, labels: [Int], labelSmoothing: Double = 0, reduction: Reduction = .mean) -> Tensor {
    require(logits.rank == 2 && logits.shape[0] == labels.count,
            "crossEntropy: logits \(logits.shape) for \(labels.count) labels; expected [\(labels.count), classes]")
    return crossEntropy(logits, targets: Tensor.oneHot(labels, classes: logits.shape[1], dtype: logits.dtype),
                        labelSmoothing: labelSmoothing, reduction: reduction)
}

/// Softmax cross-entropy of `[N, classes]` logits against a distribution over the classes for
/// each row, −Σ_c t_c log softmax(logits)_c: one-hot rows or soft ones (PyTorch's `cross_entropy`
/// with probability targets). With `labelSmoothing` ε the targets become (1 − ε)·t + ε/C.
public func crossEntropy(_ logits: Tensor, targets: Tensor, labelSmoothing: Double = 0, reduction: Reduction = .mean) -> Tensor {
    require(logits.rank == 2 && targets.shape == logits.shape,
            "crossEntropy: logits \(logits.shape) and targets \(targets.shape); expected both [N, classes]")
    require((0...1).contains(labelSmoothing), "crossEntropy: label smoothing \(labelSmoothing) must be in [0, 1]")
    let smoothed = labelSmoothing == 0 ? targets : targets * (1 - labelSmoothing) + labelSmoothing / Double(logits.shape[1])
    return reduction.apply(-(logits.logSoftmax(alongAxis: 1) * smoothed).sum(alongAxes: [1]))           // [N] before the reduction
}

/// KL(N(μ, σ²) ‖ N(0, 1)) of a diagonal Gaussian, the VAE's regulariser:
/// −½ Σ (1 + log σ² − μ² − σ²), summed over the latent axis (the last), one value per sample,
/// then reduced over the batch (mean by default).
public func gaussianKLDivergence(mean: Tensor, logVariance: Tensor, reduction: Reduction = .mean) -> Tensor {
    checkSameShape("gaussianKLDivergence", mean, logVariance)
    let perDimension = (1 + logVariance - mean * mean - logVariance.exp()) * -0.5
    return reduction.apply(perDimension.sum(alongAxes: [-1]))
}
