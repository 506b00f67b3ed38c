/// How messages name a place in the manifest: `base.image`, `step[2].run`,
/// `shell.env."A=B"`. Array indexes are 1-based, as build output numbers steps.
struct FieldPath: CustomStringConvertible {
    let description: String

    static let root = FieldPath(description: "")

    func key(_ name: String) -> FieldPath {
        let part = TextEscaping.key(name)
        return FieldPath(description: description.isEmpty ? part : description + "." + part)
    }

    func index(_ number: Int) -> FieldPath {
        FieldPath(description: description + "[\(number)]")
    }
}
