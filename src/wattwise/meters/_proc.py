"""CPU time and resident memory of a process and its live descendants, from /proc (Linux) with an
`os.times()` fallback elsewhere. Standard library only; cheap enough to call every interval."""

from __future__ import annotations

import os
import sys

_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01
_PAGE_B = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_LINUX = sys.platform.startswith("linux") and os.path.isdir("/proc/self")


def _stat(pid: int) -> tuple[float, float, int] | None:
    """(own CPU s, reaped-children CPU s, RSS bytes) of one process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rindex(b")") + 2:].split()
    # fields 14-17 (utime, stime, cutime, cstime) and 24 (rss pages) of proc(5); rest[0] is field 3
    own = (int(rest[11]) + int(rest[12])) * _TICK_S
    reaped = (int(rest[13]) + int(rest[14])) * _TICK_S
    return own, reaped, int(rest[21]) * _PAGE_B


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                out.extend(int(x) for x in f.read().split())
        except OSError:
            continue
    return out


class ProcessTree:
    """A process (default: this one) and its live descendants.

    CPU seconds count each process's own time plus the time of children it has reaped (cutime/cstime), so
    a child is counted while alive and, once waited for, inside its parent: never twice. `cpu_s()` is
    monotone up to orphans reparented away before being reaped (lost, as with any /proc sampler).
    """

    source = "/proc"

    def __init__(self, pid: int | None = None, *, children: bool = True):
        self.pid = os.getpid() if pid is None else pid
        self.is_self = self.pid == os.getpid()
        self.children = children
        self._base_reaped_s = self._own_reaped_s() if not self.is_self else 0.0
        self._last_cpu_s = 0.0

    @staticmethod
    def _own_reaped_s() -> float:
        t = os.times()
        return t.children_user + t.children_system

    def _descendants(self) -> list[int]:
        if not (self.children and _LINUX):
            return []
        out, todo = [], _children(self.pid)
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo.extend(_children(pid))
        return out

    def sample(self) -> tuple[float, int]:
        """(cumulative CPU seconds, resident bytes) of the tree now."""
        cpu_s, rss_b = 0.0, 0
        if self.is_self:
            t = os.times()
            cpu_s = t.user + t.system + t.children_user + t.children_system
            st = _stat(self.pid) if _LINUX else None
            rss_b = st[2] if st else _self_maxrss_b()
        else:
            # the root's time moves into our own reaped-children time once we wait for it
            cpu_s = self._own_reaped_s() - self._base_reaped_s
            st = _stat(self.pid) if _LINUX else None
            if st:
                cpu_s += st[0] + st[1]
                rss_b += st[2]
        for pid in self._descendants():
            st = _stat(pid)
            if st:
                cpu_s += st[0] + st[1]
                rss_b += st[2]
        self._last_cpu_s = max(self._last_cpu_s, cpu_s)
        return self._last_cpu_s, rss_b


def _self_maxrss_b() -> int:
    try:
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024
    except Exception:  # noqa: BLE001 - platform without resource
        return 0


def cpu_model_name() -> str | None:
    """The CPU's brand string ('Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz'), or None."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.processor() or None


def total_memory_b() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


class PsutilTree:
    """`ProcessTree` through psutil: the same accounting (own + reaped-children CPU time of the root and of every
    live descendant) on Linux, macOS and Windows. psutil is imported by the caller (`make_tree`), never at
    `import wattwise`."""

    source = "psutil"

    def __init__(self, pid: int | None = None, *, children: bool = True, psutil=None):
        if psutil is None:
            import psutil  # noqa: PLC0415 - optional dependency
        self._ps = psutil
        self.pid = os.getpid() if pid is None else pid
        self.is_self = self.pid == os.getpid()
        self.children = children
        try:
            self._proc = psutil.Process(self.pid)
        except psutil.NoSuchProcess:  # gone already: only its reaped time (if we are its parent) is left
            self._proc = None
        self._base_reaped_s = ProcessTree._own_reaped_s() if not self.is_self else 0.0
        self._last_cpu_s = 0.0

    def _one(self, p) -> tuple[float, int] | None:
        ps = self._ps
        if p is None:
            return None
        try:
            with p.oneshot():
                t = p.cpu_times()
                rss = p.memory_info().rss
        except (ps.NoSuchProcess, ps.AccessDenied, ps.ZombieProcess):
            return None
        # children_user/children_system: time of reaped children (0 on macOS and Windows, which do not report it)
        return t.user + t.system + getattr(t, "children_user", 0.0) + getattr(t, "children_system", 0.0), rss

    def sample(self) -> tuple[float, int]:
        """(cumulative CPU seconds, resident bytes) of the tree now."""
        ps = self._ps
        cpu_s, rss_b = 0.0, 0
        if self.is_self:
            t = os.times()
            cpu_s = t.user + t.system + t.children_user + t.children_system
            one = self._one(self._proc)
            rss_b = one[1] if one else 0
        else:
            cpu_s = ProcessTree._own_reaped_s() - self._base_reaped_s
            one = self._one(self._proc)
            if one:
                cpu_s += one[0]
                rss_b += one[1]
        kids = []
        if self.children and self._proc is not None:
            try:
                kids = self._proc.children(recursive=True)
            except (ps.NoSuchProcess, ps.AccessDenied):
                kids = []
        for k in kids:
            one = self._one(k)
            if one:
                cpu_s += one[0]
                rss_b += one[1]
        self._last_cpu_s = max(self._last_cpu_s, cpu_s)
        return self._last_cpu_s, rss_b


def make_tree(pid: int | None = None, *, children: bool = True):
    """A process tree sampler: /proc on Linux (each process's own children lists: no scan of every process,
    ~20x cheaper than psutil's `children(recursive=True)`), psutil elsewhere (macOS, Windows), else /proc."""
    if _LINUX and os.path.exists(f"/proc/{os.getpid()}/task"):
        return ProcessTree(pid, children=children)
    try:
        import psutil  # noqa: PLC0415, F401 - optional dependency
    except ImportError:
        return ProcessTree(pid, children=children)
    return PsutilTree(pid, children=children, psutil=psutil)
