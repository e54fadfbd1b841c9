"""Big specs stream: `sweep --dry-run` over 10^6 points in constant memory and well under a
minute; and the shipped paper sweep's design points all fit their hardware."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import yaml

from tests.sweep.conftest import ARCH_A, REPO, TINY_SYNTH

PAPER = REPO / "configs" / "sweeps" / "paper.yaml"


def _big_spec(folder, samples: int):
    """10 x 10 x 10 distinct architectures x ``samples`` random clocks: every point another config."""
    spec = {"name": "big", "base": str(ARCH_A), "tokens": 16,
            "workloads": [{"name": "syn", "synth": dict(TINY_SYNTH)}],
            "axes": [{"grid": {"pe.count": list(range(1, 11)),
                               "weight_sram.banks": [2 ** i for i in range(10)],
                               "pe.mac_lanes": list(range(1, 11))}},
                     {"random": {"samples": samples, "seed": 1, "fields": {"clock_mhz": {"uniform": [200, 800]}}}}]}
    path = folder / f"big{samples}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _dry_run_process(spec, listing):
    """`accelsim sweep SPEC --dry-run > listing` in a fresh process: (seconds, peak RSS in MiB)."""
    code = ("import json, resource, sys\n"
            "from accelsim.cli import main\n"
            f"sys.stdout = open({str(listing)!r}, 'w')\n"
            f"rc = main(['sweep', {str(spec)!r}, '--dry-run', '--out', {str(listing.parent / 'none')!r}])\n"
            "sys.stdout.close()\n"
            "print(json.dumps([rc, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss]), file=sys.stderr)\n")
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=REPO,
                       env=dict(os.environ, PYTHONPATH=str(REPO)))
    seconds = time.perf_counter() - t0
    rc, maxrss_kib = json.loads(p.stderr.strip().splitlines()[-1])
    assert rc == 0, p.stderr
    return seconds, maxrss_kib / 1024


@pytest.mark.slow
def test_dry_run_of_a_million_points_streams_in_constant_memory_under_a_minute(tmp_path):
    small_s, small_mib = _dry_run_process(_big_spec(tmp_path, 10), tmp_path / "small.txt")
    big_s, big_mib = _dry_run_process(_big_spec(tmp_path, 1000), tmp_path / "big.txt")
    print(f"dry run: 10^4 points {small_s:.1f} s, {small_mib:.0f} MiB; 10^6 points {big_s:.1f} s, {big_mib:.0f} MiB")
    assert big_s < 60
    # memory does not grow with the number of points (a list of 10^6 points would be gigabytes)
    assert big_mib - small_mib < 64
    with open(tmp_path / "big.txt") as f:
        first = [next(f) for _ in range(3)]
        n = 3 + sum(1 for _ in f)
    assert first[0].startswith("sweep 'big': 1000000 design points")
    assert n == 1_000_000 + 3
    assert first[2].split()[0] == "0"


def test_points_are_made_one_at_a_time():
    import types

    from accelsim.sweep.spec import load_spec

    spec = load_spec(PAPER, check_points=False)
    assert isinstance(spec.iter_points(), types.GeneratorType) and spec.n_points == 169
    assert [p.index for p in spec.iter_points()] == list(range(169))


@pytest.mark.slow
def test_every_point_of_the_paper_sweep_fits_its_hardware():
    """The engine's own checks (weights on chip, trace and config compatible) on every design
    point of configs/sweeps/paper.yaml, on traces of the same shapes and sparsities cut to two
    tokens; the EGRU models' part needs PTB and is checked when it is there."""
    from accelsim.config import resolve_energy_table
    from accelsim.engine import simulate
    from accelsim.sweep.keys import canonical_json
    from accelsim.sweep.spec import load_spec
    from accelsim.trace import load_trace
    from accelsim.trace.synth import synthesize
    from tests.sweep.conftest import ptb_folder

    ptb = ptb_folder()
    spec = load_spec(PAPER, ptb=ptb or "/nonexistent")
    traces: dict = {}
    failures = []
    checked = 0
    for p in spec.iter_points():
        w = p.workload
        if w.synth is not None:
            # the weights do not depend on the activity sparsity's value, only the events do
            k = canonical_json({k: v for k, v in w.synth.items() if k not in ("tokens", "activity_sparsity")})
            if k not in traces:
                traces[k] = synthesize(**dict(w.synth, tokens=2))
        elif w.path is not None:
            k = w.path
            if k not in traces:
                traces[k] = load_trace(w.path).head(2)
        else:
            if ptb is None:
                continue
            from accelsim.workloads.model_file import load_model
            from accelsim.workloads.ptb import load_ptb
            from accelsim.workloads.trace_export import make_delta_trace, make_trace

            if w.egru is not None:
                k = w.egru["model"]
                if k not in traces:
                    ids = load_ptb(ptb).split(w.egru["split"])
                    traces[k], _ = make_trace(load_model(k), ids, {"dataset": "ptb"}, start=0, tokens=2)
            else:
                k = (w.delta["model"], w.delta["theta_x"], w.delta["theta_h"])
                if k not in traces:
                    ids = load_ptb(ptb).split(w.delta["split"])
                    traces[k], _ = make_delta_trace(load_model(k[0]), ids, {"dataset": "ptb"}, k[1], k[2],
                                                    start=0, tokens=2)
        table = resolve_energy_table(p.arch, p.config_source)
        try:
            simulate(p.arch, traces[k], table, tokens=1, baseline=p.baseline,
                     baseline_kind=p.baseline_kind, config_source=p.config_source)
        except Exception as e:  # noqa: BLE001 - collected and shown together
            failures.append(f"{p.index} {p.part} {p.label()}: {e}")
        checked += 1
    assert not failures, "\n".join(failures)
    assert checked >= 77  # every point but, without PTB, the 92 of the PTB models' parts
