#if canImport(Glibc)
import Glibc
#endif

// Constants Swift's Glibc module does not export (they sit behind _GNU_SOURCE or are
// function-like macros). The values are the same on x86_64 and aarch64.
let O_PATH: Int32 = 0o10000000

let CLONE_NEWNS: UInt = 0x0002_0000
let CLONE_NEWCGROUP: UInt = 0x0200_0000
let CLONE_NEWUTS: UInt = 0x0400_0000
let CLONE_NEWIPC: UInt = 0x0800_0000
let CLONE_NEWUSER: UInt = 0x1000_0000
let CLONE_NEWPID: UInt = 0x2000_0000
let CLONE_NEWNET: UInt = 0x4000_0000

let TIOCSCTTY: UInt = 0x540E
let TIOCGWINSZ: UInt = 0x5413
let TIOCSWINSZ: UInt = 0x5414
let TIOCSPTLCK: UInt = 0x4004_5431
let TIOCGPTPEER: UInt = 0x5441

let PR_SET_PDEATHSIG: Int32 = 1
let PR_SET_DUMPABLE: Int32 = 4
let PR_CAPBSET_DROP: Int32 = 24
let PR_SET_NO_NEW_PRIVS: Int32 = 38
let PR_GET_SECCOMP: Int32 = 21

let CLOSE_RANGE_CLOEXEC: UInt32 = 4
