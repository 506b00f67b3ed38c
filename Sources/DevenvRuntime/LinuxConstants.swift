// clone(2)'s namespace flags, which Swift's Glibc module does not export (they sit behind
// _GNU_SOURCE). The values are the same on x86_64 and aarch64.
let CLONE_NEWNS: UInt = 0x0002_0000
let CLONE_NEWCGROUP: UInt = 0x0200_0000
let CLONE_NEWUTS: UInt = 0x0400_0000
let CLONE_NEWIPC: UInt = 0x0800_0000
let CLONE_NEWUSER: UInt = 0x1000_0000
let CLONE_NEWPID: UInt = 0x2000_0000
let CLONE_NEWNET: UInt = 0x4000_0000

/// fchownat(2)'s flag to act on the descriptor itself (an O_PATH one), also behind _GNU_SOURCE.
let AT_EMPTY_PATH: Int32 = 0x1000
