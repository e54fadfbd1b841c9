"""The sweep's progress bar: points done, failed, rate and ETA (rich, on stderr)."""

from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.text import Text


class _RateColumn(ProgressColumn):
    def render(self, task) -> Text:
        elapsed = task.elapsed or 0.0
        done = task.completed - task.fields.get("skipped", 0)
        if elapsed <= 0 or done <= 0:
            return Text("-- pts/s")
        rate = done / elapsed
        return Text(f"{rate:.2f} pts/s" if rate >= 0.1 else f"{60 * rate:.2f} pts/min")


class SweepProgress:
    """``with SweepProgress(total, skipped) as p: p.advance(ok=True)``; silent when ``enabled`` is False."""

    def __init__(self, total: int, skipped: int = 0, enabled: bool | None = None, label: str = "sweep",
                 console: Console | None = None):
        self.total, self.skipped = total, skipped
        self.ok = self.failed = 0
        self.t0 = time.perf_counter()
        if enabled is None:
            enabled = sys.stderr.isatty()
        self.progress = None
        if enabled:
            self.progress = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(),
                TextColumn("{task.completed}/{task.total} done"),
                TextColumn("[red]{task.fields[failed]} failed"),
                _RateColumn(), TextColumn("elapsed"), TimeElapsedColumn(),
                TextColumn("ETA"), TimeRemainingColumn(),
                console=console or Console(stderr=True), transient=False)
            self.task = self.progress.add_task(label, total=total, completed=skipped, failed=0, skipped=skipped)

    def __enter__(self):
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc):
        if self.progress is not None:
            self.progress.stop()
        return False

    def advance(self, ok: bool) -> None:
        if ok:
            self.ok += 1
        else:
            self.failed += 1
        if self.progress is not None:
            self.progress.update(self.task, advance=1, failed=self.failed)

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self.t0
