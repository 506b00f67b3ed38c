import DevenvOCI
import DevenvRuntime
import DevenvSession
import DevenvStore
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The `devenv` executable users start: a static binary with only the runtime and the store,
/// so it starts without a dynamic loader and the ~50 libraries that registry, git and archive
/// support bring (docs/architecture.md, "Two executables"). It starts `run`/`shell` on an
/// image that is already unpacked, and project commands a current warm record answers, by
/// itself; everything else, and anything it cannot finish
/// preparing, goes to `devenv-core` (the whole CLI) with the same arguments.
public enum FrontDoor {
    public static func main() -> Never {
        let arguments = Array(CommandLine.arguments.dropFirst())
        // The front end logs nothing: a debug run goes to devenv-core, which does.
        if let log = getenv("DEVENV_LOG"), String(cString: log).lowercased() == "debug" {
            CoreExecutable.exec(CommandLine.arguments)
        }
        if let warm = WarmStart(arguments: arguments) {
            warm.run()
        }
        if let verb = arguments.first,
           let line = QuickCommandLine.parse(verb: verb, arguments: Array(arguments.dropFirst())),
           let launch = FastLaunch(line) {
            launch.run()
        }
        CoreExecutable.exec(CommandLine.arguments)
    }
}

/// `run`/`shell` with --image or --rootfs when nothing needs pulling or unpacking. Its
/// initializer fails whenever the full CLI has to take over (projects, missing images or
/// snapshots, digests, errors to explain), having started nothing.
struct FastLaunch {
    let spec: ContainerSpec
    let lease: Lease?

    init?(_ line: QuickCommandLine) {
        let identity = HostIdentity.current()
        // An image from the store needs what builds need (`RootlessSupport`); devenv-core
        // says what is missing. (User namespaces themselves: the clone's error says.)
        guard !line.options.projectMode, line.options.rootfs != nil || RootlessSupport.idMappingProblem(identity) == nil,
              let (lowerDirs, environment, lease) = Self.layers(line),
              let session = try? line.options.workspaceSession(lowerDirs: lowerDirs, imageEnvironment: environment, command: line.command,
                                                               defaultTerminal: SessionOptions.stdioIsTerminal)
        else { return nil }
        spec = session.spec(for: identity)
        self.lease = lease
    }

    func run() -> Never {
        exit(SessionExecution.run(spec, keeping: lease))
    }

    /// The lower directories and image environment, when they are ready without the full CLI.
    private static func layers(_ line: QuickCommandLine) -> ([String], [String], Lease?)? {
        if let rootfs = line.options.rootfs {
            guard let path = try? SessionOptions.absolute(rootfs, what: "--rootfs") else { return nil }
            return ([path], [], nil)
        }
        guard let name = line.options.image,
              let reference = try? Reference(parsing: name), reference.digest == nil,
              // Without a store there is no image, and opening one would create it:
              // devenv-core checks the host first (`RootlessSupport`), never a half-built store.
              let root = try? line.store ?? StoreLayout.defaultRoot(), access(root, F_OK) == 0,
              let store = try? ImageStore(root: root, unpacker: CoreOnlyUnpacker()),
              let image = try? store.image(reference.description),
              store.snapshots.isComplete(image.config),
              let mounted = try? store.mount(image)
        else { return nil }
        return (mounted.lowerDirs, image.config.config?.env ?? [], mounted.lease)
    }
}

/// Unpacking needs libarchive, which the front end does not load: FastLaunch checks that every
/// snapshot is complete first, and if gc removes one in between, this sends the work to devenv-core.
struct CoreOnlyUnpacker: LayerUnpacking {
    struct Unavailable: Error {}

    func unpack(layerAt path: String, declared: LayerCompression?, into target: UnpackTarget) throws -> Digest {
        throw Unavailable()
    }
}
