extension Manifest {
    /// `[base] distro = "debian:bookworm"`: a base devenv bootstraps itself from the
    /// distribution's package archive (with mmdebstrap) instead of pulling an image.
    public struct Distro: Equatable, Sendable {
        /// Distributions whose archives mmdebstrap can bootstrap.
        public enum Family: String, Equatable, Sendable, CaseIterable {
            case debian
            case ubuntu
        }

        /// mmdebstrap variants that give a usable system (`extract` and `custom` do not).
        public static let variants = ["essential", "apt", "minbase", "buildd", "required", "important", "standard"]
        public static let defaultVariant = "minbase"

        public var family: Family
        /// The suite or codename: `bookworm`, `trixie`, `noble`, `stable`.
        public var suite: String
        /// `distro` as written, for messages and the lock file.
        public var name: Located<String>
        /// A package archive URL (`http`, `https` or `file`); nil means the host's mirror.
        public var mirror: Located<String>?
        /// A snapshot.debian.org-style timestamp, `YYYYMMDDTHHMMSSZ`.
        public var snapshot: Located<String>?
        public var variant: Located<String>?
        /// Extra packages in the base layer (mmdebstrap `--include`).
        public var packages: [Located<String>]
        /// `layers = N`: the most layers the bootstrapped base is split into; nil for the default.
        public var layers: Located<Int>?

        /// A minbase has about 90 packages: the largest 22 alone, the rest shared, the
        /// package database last (docs/layers.md).
        public static let defaultLayers = 24

        public init(family: Family, suite: String, name: Located<String>, mirror: Located<String>? = nil,
                    snapshot: Located<String>? = nil, variant: Located<String>? = nil, packages: [Located<String>] = []) {
            self.family = family
            self.suite = suite
            self.name = name
            self.mirror = mirror
            self.snapshot = snapshot
            self.variant = variant
            self.packages = packages
        }

        public var variantName: String { variant?.value ?? Self.defaultVariant }
        public var layerCap: Int { layers?.value ?? Self.defaultLayers }
    }
}
