"""Render ``recstream eval --json`` documents as the markdown tables of EVALUATION.md.

    .venv/bin/python benchmarks/eval_tables.py RESULT.json [RESULT.json ...]

Prints one table per document (variants and peers as rows, the protocol's metrics as
columns) with the run time; unavailable rows say why.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

COLUMNS = {
    "split": [("mae", "MAE"), ("rmse", "RMSE"), ("support", "own signal")],
    "loo": [("hr", "HR@{k}"), ("ndcg", "NDCG@{k}"), ("mrr", "MRR"), ("precision", "P@{k}"),
            ("f1", "F1@{k}"), ("coverage", "coverage"), ("users", "users")],
    "prequential": [("hr", "HR@{k}"), ("ndcg", "NDCG@{k}"), ("mrr", "MRR@{k}"),
                    ("coverage", "coverage"), ("events", "events")],
}


def render(doc: dict) -> str:  # type: ignore[type-arg]
    cols = COLUMNS[doc["protocol"]]
    head = ["variant / peer"] + [label.format(k=doc["k"]) for _, label in cols]
    lines = [f"**{doc['dataset']} · {doc['protocol']}** ({doc['seconds']:.0f} s)", "",
             "| " + " | ".join(head) + " |", "|" + "---|" + "---:|" * len(cols)]
    for name, r in doc["results"].items():
        if "unavailable" in r:
            lines.append(f"| {name} | unavailable: {r['unavailable']} |" + " |" * (len(cols) - 1))
            continue
        cells = [f"{r[m]:.0f}" if m in ("users", "events") else f"{r[m]:.4f}" for m, _ in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(paths: list[str]) -> None:
    for p in paths:
        print(render(json.loads(Path(p).read_text())))
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
