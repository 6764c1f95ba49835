"""macOS CPU and GPU energy from `powermetrics` (needs root), read as a stream of plists.

`powermetrics --samplers cpu_power,gpu_power -i <ms> -f plist` writes one plist per interval, separated by NUL
bytes. On Apple Silicon each has processor.cpu_energy, processor.gpu_energy and processor.ane_energy (mJ over the
interval; older releases: processor.cpu_power / gpu_power in mW, times elapsed_ns), and on Intel Macs
processor.package_joules (whole package, J) and processor.dram_joules. Energy is summed over samples.

Not root: `sudo -n powermetrics` is tried (works with a NOPASSWD sudoers rule); otherwise MeterUnavailable with the
fix. The non-root IOReport interface is private API and is not used.
Range: +/-10% (wattwise assumption: powermetrics' figures come from Apple's on-chip energy model, undocumented
accuracy), plus the last unfinished interval.
"""

from __future__ import annotations

import os
import plistlib
import subprocess
import sys
import threading

from .base import MEASURED, MeterUnavailable, Reading, hostname

RELATIVE_ERROR = 0.10
FIX = ("Fix: run as root (sudo), or allow it without a password: echo \"$USER ALL=(root) NOPASSWD: "
       "/usr/bin/powermetrics\" | sudo tee /etc/sudoers.d/powermetrics")


def sample_energy_j(sample: dict) -> dict[str, float]:
    """Energy per component ('cpu', 'gpu', 'memory', 'ane') in one powermetrics plist sample."""
    p = sample.get("processor", {}) or {}
    dt = float(sample.get("elapsed_ns", 0)) / 1e9
    out: dict[str, float] = {}
    if "cpu_energy" in p or "cpu_power" in p:  # Apple Silicon
        for comp in ("cpu", "gpu", "ane"):
            src = p if comp != "gpu" or ("gpu_energy" in p or "gpu_power" in p) else (sample.get("gpu") or {})
            if f"{comp}_energy" in src:
                out[comp] = float(src[f"{comp}_energy"]) / 1000.0
            elif f"{comp}_power" in src:
                out[comp] = float(src[f"{comp}_power"]) / 1000.0 * dt
    else:  # Intel Mac
        if "package_joules" in p:
            out["cpu"] = float(p["package_joules"])
        elif "package_watts" in p:
            out["cpu"] = float(p["package_watts"]) * dt
        if "dram_joules" in p:
            out["memory"] = float(p["dram_joules"])
    return out


def parse_stream(data: bytes) -> tuple[list[dict], bytes]:
    """Complete plists in `data` and the unfinished remainder."""
    *chunks, rest = data.split(b"\x00")
    samples = []
    for c in chunks:
        c = c.strip()
        if c:
            samples.append(plistlib.loads(c))
    return samples, rest


class PowermetricsMeter:
    """Energy of one component ('cpu' or 'gpu'; 'memory' on Intel Macs) from powermetrics."""

    kind = MEASURED

    def __init__(self, component: str = "cpu", *, interval_ms: int = 1000, host: str | None = None,
                 popen=subprocess.Popen, command: list[str] | None = None, platform: str | None = None):
        self.component = component
        self.name = "powermetrics"
        self.interval_ms = interval_ms
        self.host = host or hostname()
        self._popen = popen
        self._command = command
        self._platform = platform or sys.platform
        self._proc = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.energy_j = 0.0
        self.samples = 0
        self.source = "powermetrics"

    def _cmd(self) -> list[str]:
        if self._command is not None:
            return self._command
        base = ["powermetrics", "--samplers", "cpu_power,gpu_power", "-i", str(self.interval_ms), "-f", "plist"]
        return base if os.geteuid() == 0 else ["sudo", "-n", *base]

    def start(self) -> None:
        if self._platform != "darwin":
            raise MeterUnavailable("powermetrics: macOS only")
        try:
            self._proc = self._popen(self._cmd(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as e:
            raise MeterUnavailable(f"powermetrics: cannot run ({e})") from None
        try:  # sudo -n without a rule, or powermetrics without root, exits at once
            rc = self._proc.wait(timeout=0.3)
        except subprocess.TimeoutExpired:
            rc = None
        if rc is not None:
            err = (self._proc.stderr.read() or b"").decode(errors="replace").strip()
            raise MeterUnavailable(f"powermetrics: needs root ({err or f'exit {rc}'}). {FIX}")
        self._thread = threading.Thread(target=self._pump, name="wattwise-powermetrics", daemon=True)
        self._thread.start()
        self.source = (f"powermetrics {self.component} energy (Apple on-chip energy model), every "
                       f"{self.interval_ms} ms; range +/-{RELATIVE_ERROR:.0%} (wattwise assumption)")

    def _pump(self) -> None:
        buf = b""
        stream = self._proc.stdout
        while True:
            chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
            if not chunk:
                break
            samples, buf = parse_stream(buf + chunk)
            self.feed(samples)

    def feed(self, samples: list[dict]) -> None:
        with self._lock:
            for s in samples:
                self.energy_j += sample_energy_j(s).get(self.component, 0.0)
                self.samples += 1

    def read(self) -> list[Reading]:
        if self._proc is not None and self._proc.poll() is not None and self.samples == 0:
            raise RuntimeError(f"powermetrics exited ({self._proc.returncode})")
        with self._lock:
            e = self.energy_j
        return [Reading(f"{self.host}/powermetrics/{self.component}", self.component, e, e * (1 - RELATIVE_ERROR),
                        e * (1 + RELATIVE_ERROR) + 0.0, MEASURED, f"{self.component} (powermetrics)")]

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._proc = None
