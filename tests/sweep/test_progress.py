"""The progress bar shows points done (stored ones included), failed, rate and ETA."""

from __future__ import annotations

import io
import time

from rich.console import Console

from accelsim.sweep.progress import SweepProgress


def test_bar_shows_done_failed_rate_and_eta():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160, color_system=None)
    with SweepProgress(10, skipped=4, enabled=True, label="demo", console=console) as bar:
        time.sleep(0.05)
        bar.advance(ok=True)
        bar.advance(ok=False)
        bar.advance(ok=True)
        bar.progress.refresh()
        text = out.getvalue()
    assert "demo" in text and "7/10 done" in text and "1 failed" in text
    assert "pts/s" in text and "ETA" in text
    assert (bar.ok, bar.failed) == (2, 1)


def test_disabled_bar_prints_nothing(capsys):
    with SweepProgress(3, enabled=False) as bar:
        bar.advance(ok=True)
    assert capsys.readouterr().err == "" and bar.progress is None
