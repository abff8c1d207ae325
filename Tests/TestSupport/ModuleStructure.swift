import NeuralNetworks
import Testing

/// Expects that no module in `root`'s tree stores a tensor its parameter or buffer list leaves out,
/// or a sub-module its `children` leave out: modules list their contents by hand, and anything left
/// off would be silently skipped by optimizers, `train()`/`eval()` and checkpoints.
public func expectEveryStoredMemberListed(_ root: Module, sourceLocation: SourceLocation = #_sourceLocation) {
    var visited = Set<ObjectIdentifier>()
    func check(_ module: Module, path: String) {
        guard visited.insert(ObjectIdentifier(module)).inserted else { return }
        let tensors = Set((module.ownParameters + module.ownBuffers).map { ObjectIdentifier($0.tensor) })
        let children = Set(module.children.map { ObjectIdentifier($0.module) })
        for member in Mirror(reflecting: module).children {
            let name = "\(path).\(member.label ?? "?")"
            for tensor in storedValues(member.value, as: Tensor.self) {
                #expect(tensors.contains(ObjectIdentifier(tensor)), "\(name) is a tensor no parameter or buffer list names",
                        sourceLocation: sourceLocation)
            }
            for child in storedValues(member.value, as: Module.self) {
                #expect(children.contains(ObjectIdentifier(child)), "\(name) is a module its children leave out",
                        sourceLocation: sourceLocation)
            }
        }
        for child in module.children { check(child.module, path: "\(path).\(child.name)") }
    }
    check(root, path: "\(type(of: root))")
}

/// The values of type `T` a stored property holds: itself, an optional's payload, or an array's elements.
private func storedValues<T>(_ value: Any, as _: T.Type) -> [T] {
    if let single = value as? T { return [single] }
    let mirror = Mirror(reflecting: value)
    switch mirror.displayStyle {
    case .optional, .collection: return mirror.children.compactMap { $0.value as? T }
    default: return []
    }
}
