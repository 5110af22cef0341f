"""lib keeps freed parameter-sized arrays in the heap (lib/_memory.py): fresh arrays cost no page faults."""

import subprocess
import sys
import textwrap

import pytest

PROBE = textwrap.dedent(
    """
    import resource
    import numpy as np
    import lib  # noqa: F401  (importing lib tunes malloc)
    from lib._memory import keep_freed_memory

    p, g = np.ones(10**6), np.full(10**6, 0.5)  # 8 MB each: over glibc's starting mmap threshold

    def step():  # two fresh parameter-sized arrays, both freed on return
        updates = -1e-3 * g
        return float((p + updates)[0])

    for _ in range(5):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(50):
        step()
    print(keep_freed_memory(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    """
)


def _faults(env_value):
    env = {"PATH": "/usr/bin:/bin", "DESCENT_MALLOC": env_value}
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=True)
    tuned, faults = out.stdout.split()
    return tuned == "True", int(faults)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_fresh_arrays_reuse_freed_memory():
    tuned, faults = _faults("")
    assert tuned
    # glibc's defaults trim the 16 MB freed at the top of the heap each time: ~40,000 faults (measured)
    assert faults < 1000, f"{faults} page faults in 50 steps: freed arrays are not reused"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_the_opt_out_keeps_glibc_defaults_and_the_probe_can_fail():
    tuned, faults = _faults("default")
    assert not tuned
    assert faults > 1000, "without the tuning the probe should see page faults; if not, the test above proves nothing"
