/// A `packages` step's result as several layers instead of one: one per package it
/// installed (the files dpkg lists for it), one for what its maintainer scripts and the
/// package database changed, so adding a package leaves the other packages' layers, and
/// their digests, as they were (docs/layers.md, "Per-package layers").
public struct PackageLayers: Hashable, Sendable, Codable {
    /// The most layers the step makes, the scripts' layer included; when more packages were
    /// installed, the largest get their own layers and the rest share one. 1 is one layer.
    public var limit: Int

    /// Well below devenv's 125 layers an image may have, with room for the base and the
    /// other steps (docs/manifest.md, `layers`).
    public static let defaultLimit = 40

    public init(limit: Int = PackageLayers.defaultLimit) {
        self.limit = limit
    }
}
