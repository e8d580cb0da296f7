"""Campaign quality on labelled robocalls: script- and family-level V-measure and ARI.

Runs `robotrace campaigns cluster` (the platform's engine on an empty temporary database,
exactly what an independent evaluator runs) on the labelled CSV and scores the output with
scikit-learn: homogeneity, completeness, V-measure and adjusted Rand index against the
script label (`campaign_label`), and the campaign category against the label's family part
(before '/'). Pairwise precision/recall and the exact-duplicate floor are printed too.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from robotrace.bench.campaigns import cluster


def add_arguments(parser: CommandParser) -> None:
    default = Path(settings.SHARED_DATA_DIR) / "ppone" / "robocall-transcripts-dev.csv"
    parser.add_argument("--labels", type=Path, default=default, help="CSV with call_id (or report_id), transcript, campaign_label")


def _pairs(labels: list[str], pred: list[str]) -> tuple[float, float]:
    from math import comb

    both = Counter(zip(labels, pred, strict=True))
    same_pred = sum(comb(n, 2) for n in Counter(pred).values())
    same_label = sum(comb(n, 2) for n in Counter(labels).values())
    tp = sum(comb(n, 2) for n in both.values())
    return (tp / same_pred if same_pred else 1.0), (tp / same_label if same_label else 1.0)


def score(labels: list[str], pred: list[str]) -> dict[str, float]:
    from sklearn import metrics

    h, c, v = metrics.homogeneity_completeness_v_measure(labels, pred)
    p, r = _pairs(labels, pred)
    return {
        "homogeneity": round(h, 4), "completeness": round(c, 4), "v_measure": round(v, 4),
        "ari": round(metrics.adjusted_rand_score(labels, pred), 4), "pair_precision": round(p, 4), "pair_recall": round(r, 4),
        "clusters": len(set(pred)),
    }


def run(options: dict[str, Any], progress: Any) -> dict[str, Any]:
    from robotrace.campaigns.categories import FAMILY_MAP
    from robotrace.campaigns.textsim import normalise, text_hash

    path: Path = options["labels"]
    if not path.exists():
        raise CommandError(f"{path}: no such file (the shared data is not here)")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or "campaign_label" not in rows[0]:
        raise CommandError(f"{path}: needs columns call_id (or report_id), transcript, campaign_label")
    id_col = "report_id" if "report_id" in rows[0] else "call_id"
    progress(f"clustering {len(rows)} labelled calls with `robotrace campaigns cluster`...")
    elapsed, result = cluster(["report_id", "transcript", "language"], ([r[id_col], r["transcript"], r.get("language", "")] for r in rows))
    labels = [r["campaign_label"] for r in rows]
    pred = [result[r[id_col]]["campaign_id"] or f"none-{i}" for i, r in enumerate(rows)]
    families = [lab.split("/")[0] for lab in labels]
    categories = [result[r[id_col]]["category"] or "unknown" for r in rows]
    started = time.monotonic()
    floor_pred = [text_hash(normalise(r["transcript"])) for r in rows]
    floor_seconds = time.monotonic() - started
    mapped = sum(1 for f, c in zip(families, categories, strict=True) if FAMILY_MAP.get(f) == c)
    script = score(labels, pred)
    family = score(families, categories)
    floor = score(labels, floor_pred)
    return {
        "benchmark": "campaigns-quality",
        "calls": len(rows),
        "labels": len(set(labels)),
        "script": script,
        "family": family,
        "family_accuracy_via_map": round(mapped / len(rows), 4),
        "exact_duplicate_floor": {"v_measure": floor["v_measure"], "ari": floor["ari"], "clusters": floor["clusters"], "seconds": round(floor_seconds, 4)},
        "seconds_incl_temp_db": round(elapsed, 1),
        "targets_met": {"script_v>=0.97": script["v_measure"] >= 0.97, "script_ari>=0.93": script["ari"] >= 0.93, "family_v>=0.90": family["v_measure"] >= 0.90},
        "ratio_v_vs_floor": round(script["v_measure"] / floor["v_measure"], 3) if floor["v_measure"] else None,
    }
