import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// Starts a helper (newuidmap, newgidmap) with posix_spawn; waiting collects its stderr and
/// status. `find` is how devenv looks up every host program it runs (mmdebstrap too).
public enum Subprocess {
    struct Result {
        var status: ExitStatus
        var errorOutput: String
    }

    /// A helper started and not yet waited for, so two can run at once.
    struct Running {
        let path: String
        let pid: pid_t
        let errorPipe: Int32

        /// Its stderr to the end, then its status.
        func wait() throws -> Result {
            defer { close(errorPipe) }
            let output = (try? FileDescriptor.readAll(errorPipe)) ?? []
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 {
                guard errno == EINTR else { throw SystemError.last("waitpid", path: path) }
            }
            return Result(status: ExitStatus(waitStatus: status), errorOutput: String(decoding: output, as: UTF8.self))
        }
    }

    static func start(_ path: String, _ arguments: [String]) throws -> Running {
        let ends = try FileDescriptor.pipe()
        let pipeFDs = [ends.read.release(), ends.write.release()]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        let argv = CStringArray([path] + arguments)
        let envp = CStringArray(["PATH=/usr/sbin:/usr/bin:/sbin:/bin"])
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, UnsafeMutablePointer(mutating: argv.pointers), UnsafeMutablePointer(mutating: envp.pointers))
        close(pipeFDs[1])
        guard spawned == 0 else {
            close(pipeFDs[0])
            throw SystemError("spawn", path: path, errno: spawned)
        }
        return Running(path: path, pid: pid, errorPipe: pipeFDs[0])
    }

    /// `name` as a shell finds it: the first executable on PATH (without one, the usual
    /// system directories). On PATH, not in fixed directories: NixOS keeps its setuid
    /// newuidmap in /run/wrappers/bin, and a PATH without them is a host without them,
    /// told so (`RootlessSupport`) before anything is built.
    public static func find(_ name: String, searchPath: String? = getenv("PATH").map { String(cString: $0) }) -> String? {
        ExecutableSearch.resolve(name, searchPath: searchPath ?? "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin").path
    }
}
