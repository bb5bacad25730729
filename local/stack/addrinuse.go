package stack

import "syscall"

const errAddrInUse = syscall.EADDRINUSE
