"""Energy meters, one module per source, all speaking the small `Meter` protocol (cumulative joules per
device, measured or estimated, with a low/high range):

- `nvml.NvmlMeter`: NVIDIA GPUs (energy counter, else power sampling; MIG slices by compute share) -- needs
  `nvidia-ml-py`
- `amd.AmdSmiMeter`: AMD GPUs through ROCm's `amdsmi` (energy counter, else socket power sampling)
- `jetson.JetsonMeter`: NVIDIA Jetson INA3221 power rails (sysfs)
- `powermetrics.PowermetricsMeter`: macOS CPU/GPU energy through `powermetrics` (root)
- `rapl.RaplMeter`: CPU package and DRAM through /sys/class/powercap (MSR zones, else MMIO zones)
- `rapl_perf.RaplPerfMeter`: the same counters through perf events, without root
- `cpu_share.CpuShareMeter`: estimate, the power of the logical CPUs the process tree uses (Green Algorithms
  TDP per core; Cloud Carbon Footprint per-vCPU watts on VMs), cgroup quotas and cpusets respected
- `cpu_fallback.CpuTdpMeter`: estimate, catalog TDP x process CPU utilisation (the old fallback, last resort)
- `memory.MemoryModelMeter`: estimate, W/GB x resident memory

Nothing heavy is imported here: pynvml, amdsmi and psutil load when a meter starts.
"""

from .base import COMPONENTS, ESTIMATED, MEASURED, Meter, MeterUnavailable, Reading

__all__ = ["COMPONENTS", "ESTIMATED", "MEASURED", "Meter", "MeterUnavailable", "Reading"]
