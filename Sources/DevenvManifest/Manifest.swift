/// A validated `.devenv/devenv.toml`: the base image, the build steps, the interactive
/// shell, the named tasks and the cache settings. Every item keeps its source location so
/// later layers can point at the line that caused a problem. See docs/manifest.md.
public struct Manifest: Equatable, Sendable {
    public var base: Base
    public var steps: [Step]
    public var shell: Shell
    public var tasks: [Task]
    public var cache: Cache?
    public var limits: Limits
    public var services: [Service]

    public init(base: Base, steps: [Step] = [], shell: Shell = Shell(), tasks: [Task] = [], cache: Cache? = nil, limits: Limits = Limits(),
                services: [Service] = []) {
        self.base = base
        self.steps = steps
        self.shell = shell
        self.tasks = tasks
        self.cache = cache
        self.limits = limits
        self.services = services
    }

    /// Largest manifest accepted. Callers should read at most `maxFileSize + 1` bytes and
    /// pass them all, so an oversized file is reported rather than silently truncated.
    public static let maxFileSize = TOMLLimits.default.maxFileSize

    /// Parses and validates a manifest.
    /// - Parameters:
    ///   - bytes: the file's contents (no I/O happens here).
    ///   - path: how messages name the file, e.g. `.devenv/devenv.toml`.
    /// - Throws: `ManifestError` with the first syntax error, or with every schema error.
    public static func parse(_ bytes: [UInt8], path: String) throws -> Manifest {
        let root = try TOML.parse(bytes, path: path)
        var validator = ManifestValidator()
        let manifest = validator.validate(root)
        guard let manifest, validator.diagnostics.isEmpty else {
            var error = ManifestError(path: path, diagnostics: validator.diagnostics)
            error.attachSource(bytes)
            throw error
        }
        return manifest
    }

    /// The task named `name`, if the manifest defines it.
    public func task(named name: String) -> Task? {
        tasks.first { $0.name == name }
    }
}

extension Manifest {
    /// `[base]`: what the environment starts from (exactly one of): an image, a distribution
    /// devenv bootstraps itself, or a Dockerfile's target stage.
    public struct Base: Equatable, Sendable {
        /// `NAME[:TAG][@DIGEST]`, checked only syntactically here; the Kit layer parses it as
        /// an OCI reference and reports its errors at `image.location`.
        public var image: Located<String>?
        /// A base bootstrapped from a distribution's package archive.
        public var distro: Distro?
        /// A base built from a Dockerfile in the project.
        public var dockerfile: DockerfileBase?
        public var location: SourceLocation

        public init(image: Located<String>, location: SourceLocation) {
            self.image = image
            self.location = location
        }

        public init(distro: Distro, location: SourceLocation) {
            self.distro = distro
            self.location = location
        }

        public init(dockerfile: DockerfileBase, location: SourceLocation) {
            self.dockerfile = dockerfile
            self.location = location
        }
    }

    /// `[base] dockerfile = "Dockerfile"` with its optional `context`, `target` and `args`.
    public struct DockerfileBase: Equatable, Sendable {
        /// Relative to the project directory, without `..`.
        public var path: Located<String>
        /// The build context, relative to the project directory; nil means the project directory.
        public var context: Located<String>?
        /// The stage to build; nil means the last one.
        public var target: Located<String>?
        /// Build arguments, in the order written.
        public var args: [EnvironmentVariable]

        public init(path: Located<String>, context: Located<String>? = nil, target: Located<String>? = nil, args: [EnvironmentVariable] = []) {
            self.path = path
            self.context = context
            self.target = target
            self.args = args
        }
    }

    /// `host` shares the host's network namespace; `none` gives only a loopback device;
    /// `private` (`[shell]` only) gives the project one loopback-only network namespace that its
    /// sessions and services share, with the services' ports forwarded from the host's loopback.
    public enum Network: String, Equatable, Sendable, CaseIterable {
        case host
        case none
        case `private`
    }

    /// A command: a string run with `/bin/sh -c`, or an argv passed to execve verbatim.
    public enum Command: Equatable, Sendable {
        case shell(String)
        case argv([String])

        /// The argv to execute; `shell` becomes `["/bin/sh", "-c", script]`.
        public var arguments: [String] {
            switch self {
            case let .shell(script): return ["/bin/sh", "-c", script]
            case let .argv(arguments): return arguments
            }
        }
    }

    /// One environment variable, in the order written. Values are stored verbatim.
    public struct EnvironmentVariable: Equatable, Sendable {
        public var name: String
        public var value: String
        public var location: SourceLocation

        public init(name: String, value: String, location: SourceLocation) {
            self.name = name
            self.value = value
            self.location = location
        }
    }

    /// `name`, `uid`, `uid:gid`, `name:group` (or a mix such as `name:gid`).
    public struct User: Equatable, Sendable, CustomStringConvertible {
        public enum Identity: Equatable, Sendable, CustomStringConvertible {
            case id(UInt32)
            case name(String)

            public var description: String {
                switch self {
                case let .id(number): return String(number)
                case let .name(name): return name
                }
            }
        }

        public var user: Identity
        public var group: Identity?

        public init(user: Identity, group: Identity? = nil) {
            self.user = user
            self.group = group
        }

        public var description: String {
            group.map { "\(user):\($0)" } ?? user.description
        }
    }
}
