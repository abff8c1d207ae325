import RealModule

// MARK: - Elementwise functions

extension Tensor {
    /// e^x.
    public func exp() -> Tensor {
        let result = mapped(.exp)
        return result.recorded("exp", [self]) { [unowned result] g in [g * result] }
    }

    /// The natural logarithm.
    public func log() -> Tensor {
        mapped(.log).recorded("log", [self]) { g in [g / self] }
    }

    /// log(1 + x), accurate for small x.
    public func log1p() -> Tensor {
        mapped(.log1p).recorded("log1p", [self]) { g in [g / (self + 1)] }
    }

    /// The square root.
    public func sqrt() -> Tensor {
        let result = mapped(.squareRoot)
        return result.recorded("sqrt", [self]) { [unowned result] g in [g / (result * 2)] }
    }

    /// x raised to a constant power.
    public func pow(_ exponent: Double) -> Tensor {
        mapped(.power(exponent)).recorded("pow \(exponent)", [self]) { g in
            [g * self.pow(exponent - 1) * exponent]
        }
    }

    /// |x|; its derivative at 0 is taken as 0, as in PyTorch.
    public func abs() -> Tensor {
        mapped(.absoluteValue).recorded("abs", [self]) { g in [g * self.mapped(.sign)] }
    }

    /// x limited to [low, high]; no gradient flows where x was clamped.
    public func clamped(min low: Double = -.infinity, max high: Double = .infinity) -> Tensor {
        mapped(.clamp(low: low, high: high)).recorded("clamp", [self]) { g in
            [g * self.mapped(.insideMask(low: low, high: high))]
        }
    }

    /// The Gauss error function.
    public func erf() -> Tensor {
        mapped(.erf).recorded("erf", [self]) { g in
            [g * (self * self * -1).exp() * (2 / Double.pi.squareRoot())]
        }
    }

    // MARK: - Activations

    /// max(x, 0). Its backward is one pass, g times the derivative, unless it must itself be
    /// differentiable (`createGraph`); both compute the same products.
    public func relu() -> Tensor {
        mapped(.relu).recorded("relu", [self]) { g in
            guard !GradMode.isEnabled else { return [g * self.mapped(.positiveMask)] }
            return [g.combined(.reluGradient, self, "relu backward")]
        }
    }

    /// x for x > 0, slope·x otherwise; its backward as ReLU's.
    public func leakyRelu(slope: Double = 0.01) -> Tensor {
        mapped(.leakyRelu(slope: slope)).recorded("leakyRelu", [self]) { g in
            guard !GradMode.isEnabled else { return [g * self.mapped(.leakyReluDerivative(slope: slope))] }
            return [g.combined(.leakyReluGradient(slope: slope), self, "leakyRelu backward")]
        }
    }

    /// The hyperbolic tangent.
    public func tanh() -> Tensor {
        let result = mapped(.tanh)
        return result.recorded("tanh", [self]) { [unowned result] g in [g * (1 - result * result)] }
    }

    /// The logistic function 1 / (1 + e^−x), computed without overflow.
    public func sigmoid() -> Tensor {
        let result = mapped(.sigmoid)
        return result.recorded("sigmoid", [self]) { [unowned result] g in [g * result * (1 - result)] }
    }

    /// x·sigmoid(x), also called swish. Fused into one kernel each way: it follows every
    /// normalisation of a diffusion U-Net, where three separate passes over memory showed.
    public func silu() -> Tensor {
        mapped(.silu).recorded("silu", [self]) { g in
            // Under createGraph the gradient must itself be differentiable, which the kernel is not.
            guard !GradMode.isEnabled else {
                let s = self.sigmoid()
                return [g * s * (1 + self * (1 - s))]
            }
            return [g.combined(.siluGradient, self, "silu backward")]
        }
    }

    /// The exact GELU, x·Φ(x) with Φ the standard normal CDF (PyTorch's default).
    public func gelu() -> Tensor {
        self * ((self * (1 / 2.0.squareRoot())).erf() + 1) * 0.5
    }

    /// log(1 + e^x), computed stably as max(x, 0) + log1p(e^−|x|). Its gradient is σ(x), recorded
    /// as one step: differentiating the pieces would give 0 at x = 0, where max and |·| have kinks
    /// that cancel in the sum, instead of ½.
    public func softplus() -> Tensor {
        withoutGradients { relu() + (-abs()).exp().log1p() }
            .recorded("softplus", [self]) { g in [g * self.sigmoid()] }
    }
}
