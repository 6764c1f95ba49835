"""Energy meters, one module per source, all speaking the small `Meter` protocol (cumulative joules per
device, measured or estimated, with a low/high range):

- `nvml.NvmlMeter`: NVIDIA GPUs (energy counter, else power sampling) -- needs `nvidia-ml-py`
- `rapl.RaplMeter`: CPU package and DRAM through /sys/class/powercap
- `cpu_fallback.CpuTdpMeter`: estimate, catalog TDP x process CPU utilisation
- `memory.MemoryModelMeter`: estimate, W/GB x resident memory

Nothing heavy is imported here: pynvml loads when an NVML meter starts.
"""

from .base import COMPONENTS, ESTIMATED, MEASURED, Meter, MeterUnavailable, Reading

__all__ = ["COMPONENTS", "ESTIMATED", "MEASURED", "Meter", "MeterUnavailable", "Reading"]
