@_exported import TensorCore

/// Anything with parameters: a layer, or a model built from layers.
///
/// A class, as PyTorch's `nn.Module` and MLX's `Module` are, so that the training phase is stored
/// once, here. Each subclass lists its own tensors and its children explicitly (no reflection;
/// `ModuleTests` checks with `Mirror` that no stored tensor or sub-module is left off a list), and
/// the extension below walks that tree to give PyTorch-style dotted names such as `main.0.weight`.
open class Module {
    /// Training or evaluation behaviour (BatchNorm and Dropout differ). Set it with `train()`/`eval()`,
    /// which reach every sub-module.
    public private(set) var isTraining = true

    public init() {}

    /// This module's own trainable tensors, by local name (`weight`, `bias`).
    open var ownParameters: [(name: String, tensor: Tensor)] { [] }
    /// This module's own non-trainable state that is saved with it (`running_mean`).
    open var ownBuffers: [(name: String, tensor: Tensor)] { [] }
    /// Sub-modules by local name (`0`, `encoder`).
    open var children: [(name: String, module: Module)] { [] }

    /// Switches this module and every sub-module to training behaviour.
    public final func train() { setPhase(training: true) }

    /// Switches this module and every sub-module to evaluation behaviour.
    public final func eval() { setPhase(training: false) }

    private func setPhase(training: Bool) {
        isTraining = training
        for child in children { child.module.setPhase(training: training) }
    }

    /// The parameter list of a layer with a weight and an optional bias.
    public static func weightAndBias(_ weight: Tensor, _ bias: Tensor?) -> [(name: String, tensor: Tensor)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }
}

/// A module that maps one tensor to another and is called like a function.
public protocol Layer: Module {
    func callAsFunction(_ input: Tensor) -> Tensor
}

extension Module {
    /// Every parameter of the tree with its dotted name, in registration order.
    public func namedParameters(prefix: String = "") -> [(name: String, tensor: Tensor)] {
        ownParameters.map { (prefix + $0.name, $0.tensor) }
            + children.flatMap { $0.module.namedParameters(prefix: prefix + $0.name + ".") }
    }

    /// Every buffer of the tree with its dotted name.
    public func namedBuffers(prefix: String = "") -> [(name: String, tensor: Tensor)] {
        ownBuffers.map { (prefix + $0.name, $0.tensor) }
            + children.flatMap { $0.module.namedBuffers(prefix: prefix + $0.name + ".") }
    }

    /// The trainable tensors, for an optimizer.
    public var parameters: [Tensor] { namedParameters().map(\.tensor) }

    /// How many trainable numbers the module has.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Parameters and buffers by dotted name: what PyTorch's `state_dict()` holds.
    public func stateDict() -> [(name: String, tensor: Tensor)] {
        namedParameters() + namedBuffers()
    }

    /// Copies values into the module's tensors by name. Every name must be present with the
    /// same shape; extra entries are an error too, as in PyTorch's strict loading.
    ///
    /// With a `prefix` (`"decoder."`), only the tensors whose names start with it are loaded, from
    /// entries named without it: a state dict of one part of the model, such as PyTorch writes for
    /// a sub-module, loaded as strictly.
    public func load(stateDict entries: [String: Tensor], under prefix: String = "") throws {
        let own = stateDict().compactMap { $0.name.hasPrefix(prefix) ? (name: String($0.name.dropFirst(prefix.count)), tensor: $0.tensor) : nil }
        let ownNames = Set(own.map(\.name))
        if let extra = entries.keys.sorted().first(where: { !ownNames.contains($0) }) {
            throw StateDictError.unexpectedName(extra)
        }
        for (name, tensor) in own {
            guard let value = entries[name] else { throw StateDictError.missingName(name) }
            guard value.shape == tensor.shape else { throw StateDictError.shapeMismatch(name, expected: tensor.shape, found: value.shape) }
            tensor.assign(value.converted(to: tensor.dtype).detached())
        }
    }

    /// Clears the gradients of every parameter.
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }

    /// Turns gradient tracking of every parameter on or off (PyTorch's `requires_grad_`): a GAN
    /// freezes its discriminator this way while the generator learns through it.
    public func setRequiresGrad(_ flag: Bool) { for p in parameters { p.requiresGrad = flag } }
}

/// What went wrong loading a state dict.
public enum StateDictError: Error, CustomStringConvertible, Equatable {
    case missingName(String)
    case unexpectedName(String)
    case shapeMismatch(String, expected: [Int], found: [Int])
    /// A counter (an optimizer's `step`) with a value it cannot have.
    case invalidCount(String, Int)

    public var description: String {
        switch self {
        case .missingName(let name): return "state dict: missing entry '\(name)'"
        case .unexpectedName(let name): return "state dict: unexpected entry '\(name)' (no such parameter or buffer)"
        case .shapeMismatch(let name, let expected, let found): return "state dict: '\(name)' has shape \(found), the module expects \(expected)"
        case .invalidCount(let name, let value): return "state dict: counter '\(name)' is \(value), which no run can have reached"
        }
    }
}

/// Marks a tensor as a trainable parameter.
func parameter(_ tensor: Tensor) -> Tensor {
    tensor.requiresGrad = true
    return tensor
}
