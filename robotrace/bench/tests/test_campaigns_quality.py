from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings


def test_it_reaches_the_quality_targets_on_the_shared_labels(tmp_path):
    labels = Path(settings.SHARED_DATA_DIR) / "ppone" / "robocall-transcripts-dev.csv"
    if not labels.exists():
        pytest.skip("shared data not present")
    from robotrace.bench import campaigns_quality

    result = campaigns_quality.run({"labels": labels}, lambda m: None)
    assert result["script"]["v_measure"] >= 0.97
    assert result["script"]["ari"] >= 0.93
    assert result["family"]["v_measure"] >= 0.90
