"""Figures written whole or not at all, as every file of the store (:mod:`benchmark.store`: a
temporary file, then a rename), so a crash never leaves a half-written report file."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from benchmark.store import atomic_write_bytes  # noqa: E402

def save_figure(fig: plt.Figure, path: Path) -> Path:
    """Save ``fig`` as a PNG at ``path`` atomically and close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buffer.getvalue())
    return path
