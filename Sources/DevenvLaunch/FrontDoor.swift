import DevenvOCI
import DevenvRuntime
import DevenvStore
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The `devenv` executable users start. It links only the runtime and the store, so it loads
/// a handful of libraries instead of the ~50 that registry, git and archive support bring
/// (most of a start's cost: docs/architecture.md). It starts `run`/`shell` on an image that is
/// already unpacked by itself; everything else, and anything it cannot finish preparing,
/// goes to `devenv-core` (the whole CLI) with the same arguments.
public enum FrontDoor {
    public static func main() -> Never {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let verb = arguments.first, let launch = FastLaunch(verb: verb, arguments: Array(arguments.dropFirst())) {
            launch.run()
        }
        CoreExecutable.exec(CommandLine.arguments)
    }
}

/// `run`/`shell` with --image or --rootfs when nothing needs pulling or unpacking. Its
/// initializer fails whenever the full CLI has to take over (help, parse errors, projects,
/// missing images or snapshots, digests), having started nothing.
struct FastLaunch {
    let spec: ContainerSpec
    let lease: Lease?

    init?(verb: String, arguments: [String]) {
        let global: GlobalOptions
        let options: ContainerOptions
        let command: [String]?
        switch verb {
        case "run":
            guard let parsed = try? RunArguments.parse(arguments) else { return nil }
            (global, options, command) = (parsed.global, parsed.options, parsed.command)
        case "shell":
            guard let parsed = try? ShellArguments.parse(arguments) else { return nil }
            (global, options, command) = (parsed.global, parsed.options, nil)
        default:
            return nil
        }
        guard !options.projectMode, let (lowerDirs, environment, lease) = Self.layers(options: options, global: global),
              let session = try? options.workspaceSession(lowerDirs: lowerDirs, imageEnvironment: environment, command: command,
                                                          defaultTerminal: ContainerOptions.stdioIsTerminal)
        else { return nil }
        spec = session.spec(for: HostIdentity.current())
        self.lease = lease
    }

    func run() -> Never {
        exit(SessionExecution.run(spec, keeping: lease))
    }

    /// The lower directories and image environment, when they are ready without the full CLI.
    private static func layers(options: ContainerOptions, global: GlobalOptions) -> ([String], [String], Lease?)? {
        if let rootfs = options.rootfs { return ([ContainerOptions.absolute(rootfs)], [], nil) }
        guard let name = options.image,
              let reference = try? Reference(parsing: name), reference.digest == nil,
              let store = try? ImageStore(root: global.store ?? StoreLayout.defaultRoot(), unpacker: CoreOnlyUnpacker()),
              let image = try? store.image(reference.description),
              image.config.chainIDs.allSatisfy(store.snapshots.exists),
              let mounted = try? store.mount(image)
        else { return nil }
        return (mounted.lowerDirs, image.config.config?.env ?? [], mounted.lease)
    }
}

/// Unpacking needs libarchive, which the front end does not load: FastLaunch checks that every
/// snapshot exists first, and if gc removes one in between, this sends the work to devenv-core.
struct CoreOnlyUnpacker: LayerUnpacking {
    struct Unavailable: Error {}

    func unpack(layerAt path: String, declared: LayerCompression?, into directory: String) throws -> Digest {
        throw Unavailable()
    }
}
