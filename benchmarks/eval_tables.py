"""Render ``recstream eval --json`` documents as the markdown tables of EVALUATION.md.

    .venv/bin/python benchmarks/eval_tables.py RESULT.json [RESULT.json ...]

Prints per document the results table (variants and peers as rows, the protocol's metrics as
columns) with the run time, then its cold-start, learned-blend and drift tables when it has
them;
unavailable rows say why.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

COLUMNS = {
    "split": [("mae", "MAE"), ("rmse", "RMSE"), ("support", "own signal")],
    "loo": [("hr", "HR@{k}"), ("ndcg", "NDCG@{k}"), ("mrr", "MRR"), ("precision", "P@{k}"),
            ("f1", "F1@{k}"), ("coverage", "coverage"), ("ild", "ILD"), ("novelty", "novelty"),
            ("users", "users")],
    "prequential": [("hr", "HR@{k}"), ("ndcg", "NDCG@{k}"), ("mrr", "MRR@{k}"),
                    ("coverage", "coverage"), ("ild", "ILD"), ("novelty", "novelty"),
                    ("events", "events")],
}
COUNTS = ("users", "events")
SIGNALS = ("cf", "content", "trending", "llm", "cooc", "seq")


def fmt(r: dict, m: str) -> str:  # type: ignore[type-arg]
    if m not in r:
        return "–"
    return f"{r[m]:.0f}" if m in COUNTS else f"{r[m]:.4f}"


def render(doc: dict) -> str:  # type: ignore[type-arg]
    cols = COLUMNS[doc["protocol"]]
    head = ["variant / peer"] + [label.format(k=doc["k"]) for _, label in cols]
    lines = [f"**{doc['dataset']} · {doc['protocol']}** ({doc['seconds']:.0f} s)", "",
             "| " + " | ".join(head) + " |", "|" + "---|" + "---:|" * len(cols)]
    for name, r in doc["results"].items():
        if "unavailable" in r:
            lines.append(f"| {name} | unavailable: {r['unavailable']} |" + " |" * (len(cols) - 1))
            continue
        lines.append(f"| {name} | " + " | ".join(fmt(r, m) for m, _ in cols) + " |")
    return "\n".join(lines)


def render_cold_start(doc: dict) -> str:  # type: ignore[type-arg]
    k, n = doc["k"], "users" if doc["protocol"] == "loo" else "events"
    lines = [f"**cold start · {doc['dataset']} · {doc['protocol']}**", "",
             f"| variant / peer | new items HR@{k} | NDCG@{k} | {n} | new users HR@{k} | "
             f"NDCG@{k} | {n} |", "|---|" + "---:|" * 6]
    for name, b in doc["cold_start"].items():
        cells = [fmt(b[bucket], m) for bucket in ("new_items", "new_users")
                 for m in ("hr", "ndcg", n)]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_drift(doc: dict) -> str:  # type: ignore[type-arg]
    d, k = doc["drift"], doc["k"]
    lines = [f"**drift · {doc['dataset']} · {d['variant']}** ({doc['seconds']:.0f} s)", "",
             f"| decay half-life | session N | boost b | HR@{k} | NDCG@{k} | HR@{k} by tenth "
             "of the judged events |", "|---:|---:|---:|---:|---:|---|"]
    for r in d["rows"]:
        hl = r["decay_half_life_s"]
        lines.append(f"| {'off' if hl == 0 else f'{hl / 86400:g} d'} | {r['session_events']} | "
                     f"{r['session_boost']:g} | {r['hr']:.4f} | {r['ndcg']:.4f} | "
                     + " ".join(f"{v:.3f}" for v in r["hr_by_segment"]) + " |")
    return "\n".join(lines)


def render_learned(doc: dict) -> str:  # type: ignore[type-arg]
    lines = [f"**learned blend · {doc['dataset']}** (weights {' / '.join(SIGNALS)})",
             "", "| variant | start | end of replay | impressions | examples | positives | "
             "explored slots |", "|---|---|---|---:|---:|---:|---:|"]
    for name, r in doc["learned"].items():
        total = sum(r["prior"].values()) or 1.0
        start = " / ".join(f"{r['prior'][s] / total:.3f}" for s in SIGNALS)
        end = " / ".join(f"{r['weights'][s]:.3f}" for s in SIGNALS)
        lines.append(f"| {name} | {start} | {end} | {r['version']} | {r['examples']} | "
                     f"{r['positives']} | {r['explored']} |")
    return "\n".join(lines)


def main(paths: list[str]) -> None:
    for p in paths:
        doc = json.loads(Path(p).read_text())
        print(render(doc))
        print()
        if "cold_start" in doc:
            print(render_cold_start(doc))
            print()
        if "learned" in doc:
            print(render_learned(doc))
            print()
        if "drift" in doc:
            print(render_drift(doc))
            print()


if __name__ == "__main__":
    main(sys.argv[1:])
