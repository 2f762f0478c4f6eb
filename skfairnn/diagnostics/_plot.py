# SPDX-License-Identifier: BSD-3-Clause
"""Plots of logged diagnostics (backend-free: builds a matplotlib ``Figure``)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["plot_contribution_disparity"]


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or len(values) < window:
        return values
    kernel = np.ones(window) / window
    return np.convolve(values, kernel, mode="valid")


def plot_contribution_disparity(histories: Mapping, *, smooth: int = 1, figure=None):
    """GCM Fig. 2 style: contribution disparity over training, one line per method.

    Parameters
    ----------
    histories : mapping of str to fitted net or skorch History
        Method name -> a network fitted with
        :class:`ContributionDisparityLogger` (or its ``history``).
    smooth : int, default=1
        Moving-average window over epochs ("smoothed for better observation").
    figure : matplotlib Figure, default=None
        Figure to draw into; a new one (no pyplot, works headless) if None.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels, Y=0 and Y=1; a dashed line marks equal contribution (1).
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 3.5)) if figure is None else figure
    axes = figure.subplots(1, 2)
    for label, ax in enumerate(axes):
        key = f"contribution_disparity_y{label}"
        for name, source in histories.items():
            history = getattr(source, "history", source)
            values = np.asarray(history[:, key], dtype=float)
            values = _smooth(values, smooth)
            ax.plot(np.arange(1, len(values) + 1), values, label=name)
        ax.axhline(1.0, color="gray", linestyle="--", linewidth=0.8)
        ax.set_xlabel("epoch")
        ax.set_ylabel("group contribution disparity")
        ax.set_title(f"Y={label}")
    axes[0].legend()
    figure.tight_layout()
    return figure
