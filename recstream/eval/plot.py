"""Charts of a run (need matplotlib): headline metrics per variant and peer, and the drift
report's HR@k over the replay per profile setting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

HEADLINE = {"split": ("mae", "rmse"), "loo": ("hr", "ndcg", "mrr"),
            "prequential": ("hr", "ndcg", "mrr")}


def bar_chart(doc: dict[str, Any], path: str | Path) -> None:
    """Write a grouped bar chart of ``doc`` (the ``--json`` document) to ``path`` (PNG).

    Raises ImportError when matplotlib is missing.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = HEADLINE[doc["protocol"]]
    names = [n for n, r in doc["results"].items() if "unavailable" not in r]
    width = 0.8 / len(metrics)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(names) + 2), 4.5))
    for j, metric in enumerate(metrics):
        label = metric.upper() + ("" if doc["protocol"] == "split" else f"@{doc['k']}")
        xs = [i + (j - (len(metrics) - 1) / 2) * width for i in range(len(names))]
        ax.bar(xs, [doc["results"][n].get(metric, 0.0) for n in names], width, label=label)
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_title(f"{doc['dataset']} — {doc['protocol']} (k={doc['k']})")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def drift_chart(doc: dict[str, Any], path: str | Path) -> None:
    """HR@k per tenth of the judged events, one line per drift grid point (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = doc["drift"]
    fig, ax = plt.subplots(figsize=(8.0, 4.5))
    for r in d["rows"]:
        hl = r["decay_half_life_s"]
        name = (f"decay {'off' if hl == 0 else f'{hl / 86400:g} d'}, session "
                f"{r['session_events']}×{1 + r['session_boost']:g} (HR {r['hr']:.3f})")
        segs = r["hr_by_segment"]
        ax.plot([(i + 0.5) / len(segs) for i in range(len(segs))], segs, marker="o",
                label=name)
    ax.set_xlabel("position in the replay (share of judged events)")
    ax.set_ylabel(f"HR@{doc['k']}")
    ax.set_title(f"{doc['dataset']} — prequential drift ({d['variant']})")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
