"""A long, seeded fuzzing campaign of accelsim's input loaders (no hypothesis: a plain random loop).

Run:    python benchmarks/fuzz_campaign.py --seed 2026 --inputs arrays=480000,trace=120000,config=160000,energy=100000,spec=150000 --jobs 2
        (the long run of benchmarks/RESULTS.md, "Fuzzing": 1,010,000 inputs, about 18 minutes on 2 cores)
Replay: python benchmarks/fuzz_campaign.py --replay runs/fuzz/crashes/spec/<file>.yaml --kind spec

Kinds (``tests/fuzz/corpus.py`` says what each calls): ``trace`` and ``arrays`` (the trace loader:
``load_trace`` on .npz files, ``trace_from_arrays`` on key -> array mappings), ``config`` and
``energy`` (the config loader: architecture configs, then the energy table they name; energy
tables), ``spec`` (the sweep spec loader, then the first design points). Inputs are random bytes,
stacked mutations of valid small files (bit flips, truncation, byte insertion and deletion, zip
member swaps, renames, rewritten .npy headers), random arrays under valid key names, random meta,
and random YAML documents over each kind's fields.

The contract: each input loads or is refused with a one-line InputError. Anything else is a crash:
another exception, a run past ``--timeout`` seconds (checked inside Python by an alarm, and by a
watcher that ends a worker stuck in native code at 3x the timeout), an InputError raised while
handling a MemoryError (each worker's address space is capped at ``--max-memory-gb``), a peak
memory raised by more than 1 GiB, or a worker that dies. Each crashing input is stored under
``OUT/crashes/<kind>/`` (at most 3 per distinct crash), with its message and traceback beside it.
The summary (inputs tried per kind and loader, outcomes, crashes by type, wall time) is printed
and written to ``OUT/summary.json``.
"""

from __future__ import annotations

import argparse
import faulthandler
import hashlib
import json
import multiprocessing as mp
import os
import random
import resource
import shutil
import signal
import sys
import time
import traceback
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fuzz import corpus as C  # noqa: E402

LOADERS = {"trace": ("trace", "arrays"), "config": ("config", "energy"), "spec": ("spec",)}
KEEP_PER_CRASH = 3
STATE_EVERY = 200   # inputs between two saves of a worker's counts (and after every crash)


def _signature(e: C.Unhandled) -> str:
    """A crash's identity: the exception type and the innermost frame it came from."""
    cause = e.cause
    if cause is None or isinstance(cause, C.Hang) or type(cause).__name__ == "InputError":
        return e.what.split(":")[0].replace(" ", "_")[:40]
    tb = cause.__traceback__
    frame = None
    while tb is not None:
        frame = tb.tb_frame
        tb = tb.tb_next
    where = f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno}" if frame else "?"
    return f"{type(cause).__name__}@{where}"


def _store(out: Path, kind: str, sig: str, data: bytes, text: str, seen: Counter) -> None:
    seen[sig] += 1
    if seen[sig] > KEEP_PER_CRASH:
        return
    folder = out / "crashes" / kind
    folder.mkdir(parents=True, exist_ok=True)
    ext = ".npz" if kind == "arrays" else C.FILE_KINDS[kind]
    name = f"{sig.replace('@', '-').replace(':', '-')}-{hashlib.sha256(data).hexdigest()[:10]}"
    (folder / f"{name}{ext}").write_bytes(data)
    (folder / f"{name}.txt").write_text(text)


def worker(kind: str, n: int, seed: int, job_dir: str, out: str, timeout: float, max_mem_gb: float,
           state_path: str, beat) -> None:
    """Try ``n`` inputs of ``kind``; counts go to ``state_path`` (JSON) now and then and at the end."""
    if max_mem_gb:
        cap = int(max_mem_gb * 2 ** 30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, resource.getrlimit(resource.RLIMIT_AS)[1]))
    os.environ.setdefault("ACCELSIM_PTB", "")
    job, out = Path(job_dir), Path(out)
    seeds = C.make_seeds(job, reuse=True)
    r = random.Random(seed)
    counts: Counter = Counter()
    crashes: Counter = Counter()
    seen: Counter = Counter()
    dump = open(job / "watchdog.txt", "w")
    faulthandler.register(signal.SIGUSR1, file=dump, all_threads=True)   # the watcher's "where are you?"
    t0 = time.perf_counter()

    def save_state(done: bool) -> None:
        state = {"kind": kind, "tried": counts["tried"], "loaded": counts["loaded"], "refused": counts["refused"],
                 "crashes": dict(crashes), "seconds": time.perf_counter() - t0, "done": done}
        tmp = Path(state_path + ".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(state_path)

    for i in range(n):
        if kind == "arrays":   # the generator's state, kept for the parent if this process dies
            version, internal, gauss = r.getstate()   # plain numbers: stored as JSON, never pickled
            (job / "input-arrays.state").write_text(json.dumps([version, list(internal), gauss]))
        x = C.make_input(r, seeds, kind)
        if kind == "arrays":
            data = None
            target = x
        else:
            data = x
            target = seeds.write(kind, x)
        beat[0] = time.monotonic()   # the watching thread ends this process when an input runs too long
        counts["tried"] += 1
        try:
            counts[C.load(kind, target, timeout)] += 1
        except C.Unhandled as e:
            sig = _signature(e)
            crashes[sig] += 1
            # the frames only: an exception's own text (and its context's) may show a huge input
            tb = "".join(traceback.format_tb(e.cause.__traceback__)) if e.cause is not None else ""
            _store(out, kind, sig, C.save_arrays(x) if data is None else data, f"{e.what}\n\n{tb}", seen)
            save_state(False)
        finally:
            beat[0] = 0.0
        if (i + 1) % STATE_EVERY == 0:
            save_state(False)
    save_state(True)
    dump.close()
    sys.stdout.flush()
    os._exit(0)   # a process forked from a watching thread would report 1 through the normal exit


def _run_job(kind: str, n: int, seed: int, job_dir: Path, out: Path, args) -> dict:
    """Run a worker for ``n`` inputs; a worker that dies (native hang, crash) is recorded with its
    last input and a new one goes on with the rest (seed moved on)."""
    total: Counter = Counter()
    crashes: Counter = Counter()
    seconds, restarts = 0.0, 0
    seen: Counter = Counter()
    left = n
    while left > 0:
        state = job_dir.with_suffix(".json")
        state.unlink(missing_ok=True)
        ctx = mp.get_context("fork")
        beat = ctx.RawArray("d", 1)
        p = ctx.Process(target=worker, args=(kind, left, seed + 7919 * restarts, str(job_dir), str(out), args.timeout,
                                             args.max_memory_gb, str(state), beat))
        p.start()
        while p.is_alive():
            p.join(1.0)
            started = beat[0]
            if p.is_alive() and started and time.monotonic() - started > 3 * args.timeout:
                os.kill(p.pid, signal.SIGUSR1)   # a traceback into watchdog.txt, from native code too
                time.sleep(1.0)
                p.kill()
                p.join()
        s = json.loads(state.read_text()) if state.exists() else {"tried": 0, "loaded": 0, "refused": 0,
                                                                   "crashes": {}, "seconds": 0.0, "done": False}
        for k in ("tried", "loaded", "refused"):
            total[k] += s[k]
        crashes.update(s["crashes"])
        seconds += s["seconds"]
        if p.exitcode == 0 and s["done"]:
            break
        # died: the input it was on is the crash (its counts since the last state are lost)
        sig = f"WorkerDied(exit {p.exitcode})"
        crashes[sig] += 1
        total["tried"] += 1
        dump = job_dir / "watchdog.txt"
        text = f"{sig}\n\n" + (dump.read_text() if dump.exists() else "")
        data = _last_input(kind, job_dir)
        if data is not None:
            _store(out, kind, sig.replace(" ", "_").replace("(", "-").replace(")", ""), data, text, seen)
        restarts += 1
        left = n - total["tried"]
        if restarts > args.max_restarts:
            print(f"{kind}: worker died {restarts} times; giving up on this job", flush=True)
            break
    return {"tried": total["tried"], "loaded": total["loaded"], "refused": total["refused"],
            "crashes": dict(crashes), "seconds": seconds, "restarts": restarts}


def _last_input(kind: str, job_dir: Path) -> bytes | None:
    """The input a worker was on when it died: its file, or (arrays) remade from the saved state."""
    if kind != "arrays":
        src = job_dir / f"input{C.FILE_KINDS[kind]}"
        return src.read_bytes() if src.exists() else None
    state = job_dir / "input-arrays.state"
    if not state.exists():
        return None
    r = random.Random()
    version, internal, gauss = json.loads(state.read_text())
    r.setstate((version, tuple(internal), gauss))
    return C.save_arrays(C.make_input(r, C.make_seeds(job_dir / "remade"), "arrays"))


def _job_entry(a):
    kind, n, seed, job_dir, out, args = a
    return _run_job(kind, n, seed, Path(job_dir), Path(out), args)


def campaign(args) -> int:
    out = Path(args.out)
    if out.exists() and not args.keep:
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    plan = {}
    for item in args.inputs.split(","):
        kind, _, n = item.partition("=")
        if kind not in C.KINDS:
            raise SystemExit(f"--inputs: unknown kind {kind!r} (kinds: {', '.join(C.KINDS)})")
        plan[kind] = int(n)
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    t0 = time.perf_counter()
    results = {}
    for kind, n in plan.items():
        tk = time.perf_counter()
        shares = [n // args.jobs + (1 if j < n % args.jobs else 0) for j in range(args.jobs)]
        jobs = [(kind, shares[j], args.seed * 1_000_003 + C.KINDS.index(kind) * 101 + j,
                 str(out / "work" / f"{kind}-{j}"), str(out), args) for j in range(args.jobs) if shares[j]]
        with ThreadPoolExecutor(len(jobs)) as pool:   # each thread runs and watches one worker process
            parts = list(pool.map(_job_entry, jobs))
        res = {"tried": 0, "loaded": 0, "refused": 0, "crashes": Counter(), "cpu_seconds": 0.0, "restarts": 0}
        for p in parts:
            for k in ("tried", "loaded", "refused", "restarts"):
                res[k] += p[k]
            res["crashes"].update(p["crashes"])
            res["cpu_seconds"] += p["seconds"]
        res["wall_seconds"] = time.perf_counter() - tk
        res["crashes"] = dict(res["crashes"])
        results[kind] = res
        crashed = sum(res["crashes"].values())
        print(f"{kind:7s} {res['tried']:>9,} inputs  {res['loaded']:>8,} loaded  {res['refused']:>9,} refused  "
              f"{crashed:>6,} crashes  {res['wall_seconds']:7.1f} s wall  "
              f"{1e3 * res['cpu_seconds'] / max(res['tried'], 1):.2f} ms/input", flush=True)
        for sig, c in sorted(res["crashes"].items(), key=lambda x: -x[1]):
            print(f"          {c:>7,}  {sig}", flush=True)
    wall = time.perf_counter() - t0
    total = sum(r["tried"] for r in results.values())
    crashes = sum(sum(r["crashes"].values()) for r in results.values())
    by_loader = {name: sum(results[k]["tried"] for k in kinds if k in results) for name, kinds in LOADERS.items()}
    summary = {"command": " ".join([Path(sys.executable).name, *sys.argv]), "started": started, "seed": args.seed,
               "jobs": args.jobs, "timeout_s": args.timeout, "max_memory_gb": args.max_memory_gb,
               "wall_seconds": wall, "inputs_total": total, "inputs_by_loader": by_loader, "kinds": results,
               "unhandled": crashes}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"total   {total:>9,} inputs ({', '.join(f'{k} loader {v:,}' for k, v in by_loader.items())}), "
          f"{crashes:,} unhandled, {wall:.0f} s wall; crashing inputs under {out / 'crashes'}", flush=True)
    return 1 if crashes else 0


def replay(args) -> int:
    """Run one stored input again, in this process, and show what happens."""
    import numpy as np

    path = Path(args.replay)
    kind = args.kind or ("trace" if path.suffix == ".npz" else None)
    if kind is None:
        raise SystemExit("--kind: say which loader a .yaml input is for (config, energy, spec)")
    if kind == "arrays":
        try:  # never unpickle a stored input: an object array is reported, not loaded
            with np.load(path, allow_pickle=False) as z:
                target = {k: z[k] for k in z.files}
        except ValueError as e:
            print(f"{path}: holds an array numpy will only load by unpickling ({e}); the trace loader "
                  "refuses such arrays without reading them, so there is nothing to replay")
            return 0
    else:
        target = path.resolve()
        if kind in ("spec", "config"):   # a spec's paths are relative to a folder with the seed files
            work = Path(args.out) / "replay"
            C.make_seeds(work)
            target = work / path.name
            shutil.copy(path, target)
    try:
        print(C.load(kind, target, args.timeout))
        return 0
    except C.Unhandled as e:
        print(e.what)
        if e.cause is not None:
            traceback.print_tb(e.cause.__traceback__)
        return 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--inputs", default="arrays=480000,trace=120000,config=160000,energy=100000,spec=150000",
                    help="KIND=N,... in the order to run (kinds: %s)" % ", ".join(C.KINDS))
    ap.add_argument("--jobs", type=int, default=1, help="worker processes per kind")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds one input may take")
    ap.add_argument("--max-memory-gb", type=float, default=4.0, help="address-space cap of each worker (0: none)")
    ap.add_argument("--max-restarts", type=int, default=50, help="workers that may die per job before it stops")
    ap.add_argument("--out", default=str(REPO / "runs" / "fuzz"))
    ap.add_argument("--keep", action="store_true", help="do not clear OUT first")
    ap.add_argument("--replay", help="run one stored input again")
    ap.add_argument("--kind", choices=C.KINDS, help="with --replay: the input's kind")
    args = ap.parse_args(argv)
    return replay(args) if args.replay else campaign(args)


if __name__ == "__main__":
    sys.exit(main())
