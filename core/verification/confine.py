"""What the scanning child may not do: reach the network, read the installation's secrets, run
programs. Applied by the child itself (core.verification._child), in two steps:

1. `enter_namespaces()`, first thing, while the child is still one thread: a new user namespace
   (the child keeps no capability over the host, even when started by root) and a new network
   namespace (no interface but a loopback that is down). Root without user namespaces gets the
   network namespace alone.
2. `lock_down()`, once decoders are imported and models loaded: resource limits, then Landlock
   (read-only on what Python and the decoders read, read-write on the child's own temp folder,
   nothing else; no TCP; no signals or abstract sockets outside the child), then a seccomp filter
   on every thread (no socket() of any family, no execve/execveat, no io_uring, whose requests
   would bypass the socket rule).

Each layer is tried and reported: the child's "ready" answer carries `isolation`, which says what
was obtained and, under `problems`, why anything was not. Nothing is dropped silently.
"""
from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from core.settings import PROJECT_ROOT
from core.verification.config import MiB

CHILD_FILE_BYTES = 64 * MiB   # RLIMIT_FSIZE floor: explanation overlays, a copy of a video
CHILD_OPEN_FILES = 64         # RLIMIT_NOFILE: 4 open at rest; video and hostile-file tests pass under 6
CHILD_TASKS = 64              # RLIMIT_NPROC inside the child's own user namespace

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long

# -- namespaces ---------------------------------------------------------------------------------
CLONE_NEWUSER, CLONE_NEWNET = 0x10000000, 0x40000000


def enter_namespaces() -> tuple[list[str], list[str]]:
    """(namespaces entered, problems). Must run before the child starts any thread: the kernel
    refuses a new user namespace to a multithreaded process."""
    problems = []
    for names, flags in ((["user", "net"], CLONE_NEWUSER | CLONE_NEWNET), (["net"], CLONE_NEWNET)):
        if _libc.unshare(flags) == 0:
            return names, problems
        problems.append(f"unshare({'+'.join(names)}) refused: {os.strerror(ctypes.get_errno())}")
    return [], problems


# -- limits -------------------------------------------------------------------------------------
def file_size_limit(max_file_bytes: int) -> int:
    """The largest file the child may write (RLIMIT_FSIZE): also the cap on an explanation image
    the parent accepts. Room for a whole upload, which video decoding copies to a temp file."""
    return max(CHILD_FILE_BYTES, max_file_bytes + 1)


def _cap(kind: int, value: int) -> None:
    resource.setrlimit(kind, (value, value))  # the hard limit too: the child cannot raise it again


def set_limits(config, *, own_user_namespace: bool) -> dict:
    _cap(resource.RLIMIT_AS, config.child_memory_bytes)
    _cap(resource.RLIMIT_CORE, 0)
    _cap(resource.RLIMIT_FSIZE, file_size_limit(config.max_file_bytes))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails (EFBIG), not the child
    _cap(resource.RLIMIT_NOFILE, CHILD_OPEN_FILES)
    limits = {"address_space": config.child_memory_bytes, "file_size": file_size_limit(config.max_file_bytes),
              "open_files": CHILD_OPEN_FILES, "tasks": None}
    # RLIMIT_NPROC counts every process of the user, except inside the child's own user namespace,
    # where it counts only the child's; and the kernel never applies it to root. Either way a fork
    # can only copy the child: the seccomp filter refuses execve, so no other program can start.
    if own_user_namespace:
        _cap(resource.RLIMIT_NPROC, CHILD_TASKS)
        limits["tasks"] = CHILD_TASKS
    return limits


# -- filesystem grants --------------------------------------------------------------------------
@dataclass(frozen=True)
class Grants:
    read_only: tuple[Path, ...]
    read_write: tuple[Path, ...]
    refused: tuple[str, ...] = ()  # "path: why", for the isolation report


def requested_grants(config, workdir: Path) -> Grants:
    """What the child reads after lock-down: the interpreter and its libraries, our own modules
    (lazy imports) and data, the system libraries, its own /proc entry (memory figures), and its
    temp folder. Not the project root: var/ and .streamlit/secrets.toml live under it."""
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    site = {p for p in sys.path if Path(p).name in ("site-packages", "dist-packages")}
    system = {"/usr", "/lib", "/lib64", "/lib32"}
    ours = {PROJECT_ROOT / "core", PROJECT_ROOT / "data", config.trust_anchors_path, f"/proc/{os.getpid()}"}
    read_only = [Path(p) for p in sorted(map(str, prefixes | site | system | ours)) if Path(p).exists()]
    return Grants(tuple(read_only), (Path(workdir),))


def refuse_protected(grants: Grants, protected) -> Grants:
    """Drops every grant that holds a protected path, or lies inside one (compared after
    resolving links, so /lib -> /usr/lib counts as /usr/lib)."""
    secrets = [Path(p).resolve() for p in protected]
    kept: dict[str, list[Path]] = {"read_only": [], "read_write": []}
    refused = list(grants.refused)
    for kind in kept:
        for path in getattr(grants, kind):
            real = path.resolve()
            clash = next((s for s in secrets if s == real or real in s.parents or s in real.parents), None)
            if clash is None:
                kept[kind].append(path)
            else:
                refused.append(f"{path}: would expose {clash}")
    return Grants(tuple(kept["read_only"]), tuple(kept["read_write"]), tuple(refused))


# -- Landlock -----------------------------------------------------------------------------------
_LANDLOCK_CREATE_RULESET, _LANDLOCK_ADD_RULE, _LANDLOCK_RESTRICT_SELF = 444, 445, 446  # every arch
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_DIR, MAKE_REG = 1 << 4, 1 << 5, 1 << 7, 1 << 8
TRUNCATE = 1 << 14
_FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | (1 << 15)  # IOCTL_DEV
_READ = READ_FILE | READ_DIR
_READ_WRITE = _READ | WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_DIR | MAKE_REG | TRUNCATE
# Rights the kernel knows per ABI version: 13 in v1, REFER in v2, TRUNCATE in v3, IOCTL_DEV in v5.
_FS_BITS = {1: 13, 2: 14, 3: 15, 4: 15}
_NET_TCP = 0b11          # BIND_TCP | CONNECT_TCP, ABI 4
_SCOPES = 0b11           # ABSTRACT_UNIX_SOCKET | SIGNAL, ABI 6


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 where Landlock is absent or disabled."""
    version = _libc.syscall(_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                            ctypes.c_uint32(_LANDLOCK_CREATE_RULESET_VERSION))
    return max(0, int(version))


def _no_new_privs() -> None:
    if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")


def restrict_filesystem(grants: Grants) -> dict:
    """Landlock from the grants; returns the isolation fields it obtained, or raises OSError."""
    abi = landlock_abi()
    if abi < 1:
        raise OSError(errno.EOPNOTSUPP, "Landlock is not available in this kernel")
    handled = (1 << _FS_BITS.get(abi, 16)) - 1
    attr = _RulesetAttr(handled, _NET_TCP if abi >= 4 else 0, _SCOPES if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = _libc.syscall(_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset")
    try:
        for rights, paths in ((_READ, grants.read_only), (_READ_WRITE, grants.read_write)):
            for path in paths:
                _allow(ruleset, path, rights & handled)
        _no_new_privs()
        if _libc.syscall(_LANDLOCK_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return {"filesystem": [f"landlock-abi{abi}"], "network": ["landlock"] if abi >= 4 else [],
            "exec": ["landlock"], "signals": ["landlock"] if abi >= 6 else []}


def _allow(ruleset: int, path: Path, rights: int) -> None:
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        if not os.path.isdir(path):
            rights &= _FILE_RIGHTS
        rule = _PathBeneath(rights, fd)
        if _libc.syscall(_LANDLOCK_ADD_RULE, ruleset, _LANDLOCK_RULE_PATH_BENEATH, ctypes.byref(rule),
                         ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), f"landlock_add_rule({path})")
    finally:
        os.close(fd)


# -- seccomp ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Arch:
    audit: int              # AUDIT_ARCH_* the filter checks first
    seccomp: int
    denied: tuple[int, ...]  # socket, execve, execveat, io_uring_setup
    x32: bool = False       # x86_64 also accepts x32 numbers (bit 30): refuse them all


_ARCHES = {"x86_64": _Arch(0xC000003E, 317, (41, 59, 322, 425), x32=True),
           "aarch64": _Arch(0xC00000B7, 277, (198, 221, 281, 425))}
_SECCOMP_SET_MODE_FILTER, _SECCOMP_FILTER_FLAG_TSYNC = 1, 1
_RET_ALLOW, _RET_EPERM = 0x7FFF0000, 0x00050000 | errno.EPERM
_LD_W_ABS, _JEQ_K, _JGE_K, _RET_K = 0x20, 0x15, 0x35, 0x06


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def _program(arch: _Arch) -> list[tuple[int, int, int, int]]:
    """BPF: another architecture's calling convention -> EPERM; a denied call -> EPERM; else allow."""
    body = [(_JGE_K, "deny", 0, 0x40000000)] if arch.x32 else []
    body += [(_JEQ_K, "deny", 0, nr) for nr in arch.denied]
    program = [(_LD_W_ABS, 0, 0, 4), (_JEQ_K, 0, "deny", arch.audit), (_LD_W_ABS, 0, 0, 0), *body,
               (_RET_K, 0, 0, _RET_ALLOW), (_RET_K, 0, 0, _RET_EPERM)]
    deny = len(program) - 1

    def offset(at: int, to) -> int:  # BPF jumps count the instructions skipped
        return deny - at - 1 if to == "deny" else to

    return [(code, offset(i, jt), offset(i, jf), k) for i, (code, jt, jf, k) in enumerate(program)]


def filter_syscalls() -> dict:
    """Installs the seccomp filter on every thread; returns the isolation fields, or raises OSError."""
    arch = _ARCHES.get(platform.machine())
    if arch is None:
        raise OSError(errno.ENOSYS, f"no seccomp filter for the {platform.machine()} architecture")
    program = _program(arch)
    filters = (_SockFilter * len(program))(*(_SockFilter(*instruction) for instruction in program))
    fprog = _SockFprog(len(program), filters)
    _no_new_privs()
    result = _libc.syscall(arch.seccomp, _SECCOMP_SET_MODE_FILTER, _SECCOMP_FILTER_FLAG_TSYNC, ctypes.byref(fprog))
    if result != 0:
        raise OSError(ctypes.get_errno() if result < 0 else errno.EBUSY, "seccomp(SET_MODE_FILTER, TSYNC)")
    return {"network": ["seccomp"], "exec": ["seccomp"]}


# -- the whole lock-down ------------------------------------------------------------------------
def lock_down(config, *, workdir: Path, protected, namespaces: list[str], problems: list[str]) -> dict:
    """Limits, Landlock and seccomp, in that order; returns the isolation report."""
    report = {"namespaces": namespaces, "network": ["netns"] if "net" in namespaces else [],
              "filesystem": [], "exec": [], "signals": [], "problems": list(problems)}
    report["limits"] = set_limits(config, own_user_namespace="user" in namespaces)
    threads = len(os.listdir(f"/proc/{os.getpid()}/task"))
    if threads > 1:  # Landlock binds the calling thread and the threads it starts, not older ones
        report["problems"].append(f"{threads} threads were running at lock-down; Landlock binds one")
    grants = refuse_protected(requested_grants(config, workdir), protected)
    report["problems"] += [f"not granted to the child: {why}" for why in grants.refused]
    report["grants"] = {"read_only": [str(p) for p in grants.read_only],
                        "read_write": [str(p) for p in grants.read_write]}
    for step, name in ((lambda: restrict_filesystem(grants), "Landlock"), (filter_syscalls, "seccomp")):
        try:
            for field, layers in step().items():
                report[field] += layers
        except OSError as exc:
            report["problems"].append(f"{name} not applied: {exc.strerror or exc}")
    return report
