import subprocess
import sys
import time

import pytest

from tests.meters.fakes_cpu import make_cgroup_v1, make_cgroup_v2, make_cpus
from wattwise.meters._topology import CpuLimit, cpu_limit, parse_cpu_list, read_cpu_info
from wattwise.meters.cpu_fallback import CpuTdpMeter
from wattwise.meters.cpu_share import CpuShareMeter, ccf_watts, infer_architectures, plan_for


class FakeTree:
    pid = 4242
    source = "fake"

    def __init__(self):
        self.cpu_s, self.rss_b = 10.0, 1

    def sample(self):
        return self.cpu_s, self.rss_b


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_cpu_list():
    assert parse_cpu_list("0-3,8,10-11\n") == {0, 1, 2, 3, 8, 10, 11}
    assert parse_cpu_list("") == frozenset()


def test_two_socket_topology_counts_sockets(tmp_path):
    make_cpus(tmp_path, model_name="Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", sockets=2, cores_per_socket=20,
              threads_per_core=2)
    info = read_cpu_info(str(tmp_path))
    assert (info.logical, info.cores, info.sockets, info.threads_per_core) == (80, 40, 2, 2)
    assert info.topology_source == "sysfs topology" and not info.hypervisor
    # Green Algorithms: Xeon Gold 6248 = 150 W, 20 cores; 2 threads per core -> 3.75 W per busy logical CPU
    plan = plan_for(info, CpuLimit(80.0))
    assert plan.method == "green-algorithms"
    assert plan.busy_w.central == pytest.approx(150 / 40)
    assert plan.idle_w.central == 0 and "CC BY 4.0" in plan.text and "2 socket(s)" in plan.text
    # the old fallback divided one package's TDP by both sockets' 80 CPUs: half as much
    old = CpuTdpMeter(cpu_name=info.model_name, n_cpus=80, tree=FakeTree())
    assert old.tdp_w.central / 80 == pytest.approx(plan.busy_w.central / 2)


def test_two_socket_topology_from_cpuinfo_alone(tmp_path):
    make_cpus(tmp_path, model_name="Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz", model=0x6A, sockets=2,
              cores_per_socket=40, threads_per_core=2, sysfs=False)
    info = read_cpu_info(str(tmp_path))
    assert (info.logical, info.sockets, info.topology_source) == (160, 2, "/proc/cpuinfo")
    plan = plan_for(info, CpuLimit(160.0))
    # not in Green Algorithms' table; codecarbon TDP 270 W over the 80 logical CPUs of one socket
    assert plan.method == "tdp-per-thread"
    assert plan.busy_w.central == pytest.approx(270 / 80)


def test_hidden_epyc_vm_uses_ccf_per_vcpu(tmp_path):
    """The issue's VM: KVM, 'AMD EPYC', family 25 model 17 (Zen 4 Genoa), 2 vCPUs, on AWS."""
    make_cpus(tmp_path, model_name="AMD EPYC", vendor="AuthenticAMD", family=25, model=17, cores_per_socket=1,
              threads_per_core=2, hypervisor=True, dmi={"sys_vendor": "Amazon EC2", "product_name": "m7a.large"})
    info = read_cpu_info(str(tmp_path))
    assert info.hypervisor and info.cloud == "aws" and info.logical == 2
    assert infer_architectures(info)[0] == ("EPYC 4th Gen",)
    plan = plan_for(info, CpuLimit(2.0))
    assert plan.method == "ccf"
    idle, full = 0.7391482469512195, 2.282155106707317  # CCF coefficients-aws-use.csv, EPYC 4th Gen
    assert plan.idle_w.central == pytest.approx(idle, rel=1e-5)
    assert plan.busy_w.central == pytest.approx(full - idle, rel=1e-5)
    assert "EPYC 4th Gen on AWS" in plan.text and "linear in utilisation" in plan.text
    tree, clock = FakeTree(), Clock()
    m = CpuShareMeter(root=str(tmp_path), tree=tree, clock=clock, host="h")
    m.start()
    clock.t, tree.cpu_s = 10.0, tree.cpu_s + 20.0  # both vCPUs busy for 10 s
    (r,) = m.read()
    assert r.energy_j == pytest.approx(2 * 10 * full, rel=1e-5)
    assert r.low_j < r.energy_j < r.high_j and r.kind == "estimated"
    assert m.utilisation() == pytest.approx(1.0)
    # the old fallback: the catalog's median TDP (65 W) over the 2 vCPUs
    old = CpuTdpMeter(cpu_name="AMD EPYC", n_cpus=2, tree=FakeTree())
    assert old.tdp_w.central == 65.0
    assert old.tdp_w.central * 10 / (r.energy_j) > 10  # an order of magnitude


def test_masked_intel_model_is_inferred_from_isa_flags(tmp_path):
    make_cpus(tmp_path, model_name="Intel(R) Xeon(R) Processor", model=167, flags="avx2 avx512f amx_tile amx_bf16",
              hypervisor=True)
    info = read_cpu_info(str(tmp_path))
    archs, how = infer_architectures(info)
    assert archs == ("Sapphire Rapids", "Emerald Rapids") and "flags" in how
    idle, full, which = ccf_watts(archs, None)
    assert idle.low < idle.central < idle.high and "AWS" in which and "GCP" in which
    assert infer_architectures(read_cpu_info(str(make_cpus(tmp_path / "c", model_name="x", model=0x55,
                                                               stepping=4))))[0] == ("Skylake",)


def test_known_model_on_a_vm_still_uses_the_per_core_table(tmp_path):
    make_cpus(tmp_path, model_name="AMD EPYC 7763 64-Core Processor", vendor="AuthenticAMD", family=25, model=1,
              cores_per_socket=2, threads_per_core=2, hypervisor=True, dmi={"sys_vendor": "Microsoft Corporation"})
    plan = plan_for(read_cpu_info(str(tmp_path)), CpuLimit(4.0))
    assert plan.method == "green-algorithms" and plan.busy_w.central == pytest.approx(280 / 128)


def test_cgroup_v2_quota_and_cpuset(tmp_path):
    make_cgroup_v2(tmp_path)
    lim = cpu_limit(str(tmp_path), host_logical=8)
    assert (lim.affinity, lim.cpuset, lim.quota_cpus, lim.cpus) == (8, 4, 1.5, 1.5)
    assert "quota 1.5" in lim.describe()
    make_cgroup_v2(tmp_path / "b", cpu_max="max 100000", parent_max="50000 100000", cpuset=None)
    assert cpu_limit(str(tmp_path / "b")).cpus == 0.5  # an ancestor's quota binds too


def test_cgroup_v1_docker_quota_and_cpuset(tmp_path):
    make_cgroup_v1(tmp_path)
    lim = cpu_limit(str(tmp_path))
    assert (lim.affinity, lim.cpuset, lim.quota_cpus, lim.cpus) == (16, 4, 2.5, 2.5)
    make_cgroup_v1(tmp_path / "u", quota_us=-1, cpuset="0-15")
    assert cpu_limit(str(tmp_path / "u")).cpus == 16


def test_container_quota_sets_the_vcpus_charged(tmp_path):
    """A container on a 16-vCPU VM with a 2.5-CPU quota is charged idle power for 2.5 vCPUs, not 16."""
    make_cpus(tmp_path, model_name="AMD EPYC", vendor="AuthenticAMD", family=25, model=17, cores_per_socket=8,
              threads_per_core=2, hypervisor=True, dmi={"product_name": "Google Compute Engine"})
    make_cgroup_v1(tmp_path)
    tree, clock = FakeTree(), Clock()
    m = CpuShareMeter(root=str(tmp_path), tree=tree, clock=clock)
    m.start()
    assert m.plan.allocated == 2.5 and "GCP" in m.source
    clock.t = 100.0
    (r,) = m.read()  # idle only
    assert r.energy_j == pytest.approx(2.5 * 100 * m.plan.idle_w.central)


def test_given_tdp_and_cores():
    info = read_cpu_info()
    plan = plan_for(info, CpuLimit(2.0), tdp_w=100.0, cores=10)
    assert plan.busy_w.central == pytest.approx(100.0 / (10 * info.threads_per_core))


def test_real_cpu_share_meter_on_this_machine():
    m = CpuShareMeter()
    m.start()
    t = time.process_time()
    while time.process_time() - t < 0.2:
        pass
    (r,) = m.read()
    assert r.energy_j > 0 and m.cpu_seconds() >= 0.15
    assert m.plan.method in ("green-algorithms", "tdp-per-thread", "ccf") and m.source.startswith("estimate (")


def test_psutil_tree_counts_children():
    psutil = pytest.importorskip("psutil")
    from wattwise.meters._proc import _LINUX, ProcessTree, PsutilTree, make_tree
    # /proc on Linux (cheaper: no scan of every process), psutil elsewhere; both are exercised here
    assert isinstance(make_tree(), ProcessTree if _LINUX else PsutilTree)
    tree = PsutilTree(psutil=psutil)
    cpu0, rss = tree.sample()
    assert rss > 10e6
    child = subprocess.Popen([sys.executable, "-c", "import time\nt=time.process_time()\n"
                              "while time.process_time()-t<0.4: pass\ntime.sleep(5)"])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            cpu, _ = tree.sample()
            if cpu - cpu0 >= 0.35:
                break
            time.sleep(0.05)
        assert cpu - cpu0 >= 0.35
    finally:
        child.kill()
        child.wait()
    assert tree.sample()[0] >= cpu
    other = PsutilTree(child.pid, psutil=psutil)  # a finished process: no error, no time
    assert other.sample()[0] >= 0


def test_unknown_model_on_bare_metal_charges_busy_cpus_only(tmp_path):
    make_cpus(tmp_path, model_name="AMD EPYC 9R14 96-Core Processor", vendor="AuthenticAMD", family=25, model=17,
              sockets=2, cores_per_socket=96, threads_per_core=2)
    plan = plan_for(read_cpu_info(str(tmp_path)), CpuLimit(384.0))
    assert plan.method == "ccf" and plan.idle_w.central == 0 and "bare metal" in plan.text
    assert plan.busy_w.central == pytest.approx((2.282155106707317 + 2.1958768628048784) / 2, rel=1e-5)
