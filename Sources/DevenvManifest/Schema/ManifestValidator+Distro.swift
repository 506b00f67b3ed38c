/// `[base] distro = "debian:bookworm"` with its options `mirror`, `snapshot`, `variant`,
/// `packages` and `layers`, which mean nothing next to `image`.
extension ManifestValidator {
    static let distroOptions = ["mirror", "snapshot", "variant", "packages", "layers"]

    mutating func readDistroBase(_ table: TOMLTable, entry: TOMLEntry, path: FieldPath) -> Manifest.Base? {
        if let image = table["image"] {
            report("\(path): give either 'image' or 'distro', not both", at: image.keyLocation, width: image.keyWidth)
            return nil
        }
        guard let distroEntry = required("distro", in: table, path: path, at: entry.node),
              let text = string(distroEntry, path: path.key("distro")) else { return nil }
        var valid = true
        var distro: Manifest.Distro?
        switch ValueRules.distro(text.value) {
        case let .success((family, suite)):
            distro = Manifest.Distro(family: family, suite: suite, name: text)
        case let .failure(error):
            report(error.reason, path: path.key("distro"), at: distroEntry.node)
            valid = false
        }
        let mirror = option("mirror", in: table, path: path, rule: ValueRules.mirrorProblem, valid: &valid)
        let snapshot = option("snapshot", in: table, path: path, rule: ValueRules.snapshotProblem, valid: &valid)
        let variant = option("variant", in: table, path: path, rule: ValueRules.variantProblem, valid: &valid)
        if mirror != nil, let snapshotEntry = table["snapshot"] {
            report("\(path): give either 'mirror' or 'snapshot' (which chooses the snapshot archive as the mirror), not both",
                   at: snapshotEntry.keyLocation, width: snapshotEntry.keyWidth)
            valid = false
        }
        var packages: [Located<String>] = []
        if let packagesEntry = table["packages"] {
            let packagesPath = path.key("packages")
            if let names = stringList(packagesEntry, path: packagesPath) {
                for (offset, name) in names.enumerated() {
                    let namePath = packagesEntry.node.value.arrayValue == nil ? packagesPath : packagesPath.index(offset + 1)
                    valid = check(name, path: namePath, ValueRules.packageProblem) && valid
                }
                packages = names
            } else {
                valid = false
            }
        }
        var layers: Located<Int>?
        if let layersEntry = table["layers"] {
            layers = layerLimit(layersEntry, path: path.key("layers"), of: "the base")
            valid = layers != nil && valid
        }
        guard valid, var distro else { return nil }
        distro.layers = layers
        distro.mirror = mirror
        distro.snapshot = snapshot
        distro.variant = variant
        distro.packages = packages
        return Manifest.Base(distro: distro, location: entry.node.location)
    }

    /// With `image`, each distro option is an error of its own.
    mutating func rejectDistroOptions(_ table: TOMLTable, path: FieldPath) {
        for entry in table.entries where Self.distroOptions.contains(entry.key) {
            report("\(path.key(entry.key)): '\(entry.key)' is only valid with 'distro'", at: entry.keyLocation, width: entry.keyWidth)
        }
    }

    private mutating func option(_ key: String, in table: TOMLTable, path: FieldPath, rule: (String) -> String?, valid: inout Bool) -> Located<String>? {
        guard let entry = table[key] else { return nil }
        guard let value = string(entry, path: path.key(key), limit: 4096), check(value, path: path.key(key), rule) else {
            valid = false
            return nil
        }
        return value
    }
}
