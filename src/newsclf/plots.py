"""Figures for evaluation reports: the stance confusion matrix and reliability diagrams."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .labels import STANCES  # noqa: E402


def confusion_matrix_figure(matrix, path: str | Path, labels=STANCES, title: str = "Stance confusion matrix"):
    """Counts with row-normalised shading (rows: true label, columns: predicted)."""
    m = np.asarray(matrix, dtype=float)
    norm = m / np.maximum(m.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(5, 4.2))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            ax.text(j, i, f"{int(m[i, j])}\n{norm[i, j]:.0%}", ha="center", va="center",
                    color="white" if norm[i, j] > 0.5 else "black", fontsize=9)
    ax.set_xticks(range(len(labels)), labels, rotation=20)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def reliability_figure(curves: dict[str, list[dict]], path: str | Path, title: str = "Reliability"):
    """One panel per named curve: observed frequency against mean confidence per bin."""
    fig, axes = plt.subplots(1, len(curves), figsize=(4.2 * len(curves), 4), squeeze=False)
    for ax, (name, bins) in zip(axes[0], curves.items()):
        filled = [b for b in bins if b["count"]]
        ax.plot([0, 1], [0, 1], "--", color="grey", lw=1, label="perfect")
        ax.bar([(b["lower"] + b["upper"]) / 2 for b in filled], [b["frequency"] for b in filled],
               width=[b["upper"] - b["lower"] for b in filled], alpha=0.35, edgecolor="k", label="observed")
        ax.plot([b["confidence"] for b in filled], [b["frequency"] for b in filled], "o-", label="by bin")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("predicted probability")
        ax.set_ylabel("observed frequency")
        ax.set_title(name)
        ax.legend(loc="upper left", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
