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

/// Binary cross-entropy on probabilities, −[y·log p + (1 − y)·log(1 − p)].
/// Each log is clamped at −100, as PyTorch does, so p = 0 or 1 gives a large finite loss.
public func binaryCrossEntropy(_ probabilities: Tensor, _ targets: Tensor, reduction: Reduction = .mean) -> Tensor {
    checkSameShape("binaryCrossEntropy", probabilities, targets)
    let logP = probabilities.log().clamped(min: -100)
    let logNotP = (1 - probabilities).log().clamped(min: -100)
    return reduction.apply(-(targets * logP + (1 - targets) * logNotP))
}

/// Binary cross-entropy on logits, with the sigmoid folded in:
/// max(x, 0) − x·y + log(1 + e^−|x|), which never overflows.
public func binaryCrossEntropyWithLogits(_ logits: Tensor, _ targets: Tensor, reduction: Reduction = .mean) -> Tensor {
    checkSameShape("binaryCrossEntropyWithLogits", logits, targets)
    return reduction.apply(logits.relu() - logits * targets + (-logits.abs()).exp().log1p())
}

/// Softmax cross-entropy of `[N, classes]` logits against integer class labels.
public func crossEntropy(_ logits: Tensor, labels: [Int], reduction: Reduction = .mean) -> Tensor {
    require(logits.rank == 2 && logits.shape[0] == labels.count,
                 "crossEntropy: logits \(logits.shape) for \(labels.count) labels; expected [\(labels.count), classes]")
    let picked = (logits.logSoftmax(alongAxis: 1) * Tensor.oneHot(labels, classes: logits.shape[1], dtype: logits.dtype))
        .sum(alongAxes: [1])                                                               // [N]
    return reduction.apply(-picked)
}

/// KL(N(μ, σ²) ‖ N(0, 1)) of a diagonal Gaussian, the VAE's regulariser:
/// −½ Σ (1 + log σ² − μ² − σ²), summed over the latent axis (the last), one value per sample,
/// then reduced over the batch (mean by default).
public func gaussianKLDivergence(mean: Tensor, logVariance: Tensor, reduction: Reduction = .mean) -> Tensor {
    checkSameShape("gaussianKLDivergence", mean, logVariance)
    let perDimension = (1 + logVariance - mean * mean - logVariance.exp()) * -0.5
    return reduction.apply(perDimension.sum(alongAxes: [-1]))
}
