"""The engine's own MinHash and LSH must give exactly what datasketch gives: the engine
computes them with numpy so that datasketch (and scipy) stay out of start-up, and the
quality figures were measured with datasketch's signatures."""

from __future__ import annotations

import random

import numpy as np
import pytest

from robotrace.campaigns.engine import LSH_BANDS, NUM_PERM, BandIndex, minhash_signature
from robotrace.campaigns.textsim import normalise, shingles

datasketch = pytest.importorskip("datasketch")


def _reference(sh: frozenset[int]) -> np.ndarray:
    m = datasketch.MinHash(num_perm=NUM_PERM, seed=1, hashfunc=lambda x: x)
    m.update_batch(list(sh))
    return m.hashvalues


def test_it_computes_the_same_signatures_as_datasketch() -> None:
    texts = [
        "Hello, this is Amazon customer service calling about an order of $499 on your account.",
        "your social security number has been suspended press 1 to speak to an officer",
        "final notice about your vehicle's extended warranty",
        "ok",
    ]
    rng = random.Random(3)
    sets = [shingles(normalise(t)) for t in texts]
    sets.append(frozenset(rng.getrandbits(32) for _ in range(500)))
    sets.append(frozenset({0, 1, 2, 0xFFFFFFFF}))
    for sh in sets:
        assert minhash_signature(sh).tolist() == _reference(sh).tolist()


def test_it_finds_the_same_lsh_candidates_as_datasketch() -> None:
    rng = random.Random(5)
    base = [rng.getrandbits(32) for _ in range(200)]
    sets = []
    for k in range(40):
        keep = rng.sample(base, 200 - 4 * k)
        sets.append(frozenset(keep + [rng.getrandbits(32) for _ in range(k)]))
    sets += [frozenset(rng.getrandbits(32) for _ in range(200)) for _ in range(5)]  # unrelated
    ours = BandIndex(*LSH_BANDS)
    ref = datasketch.MinHashLSH(num_perm=NUM_PERM, params=LSH_BANDS)
    for i, sh in enumerate(sets[1:], start=1):
        ours.insert(i, minhash_signature(sh))
        m = datasketch.MinHash(num_perm=NUM_PERM, seed=1, hashfunc=lambda x: x)
        m.update_batch(list(sh))
        ref.insert(i, m)
    q = datasketch.MinHash(num_perm=NUM_PERM, seed=1, hashfunc=lambda x: x)
    q.update_batch(list(sets[0]))
    found = ours.query(minhash_signature(sets[0]))
    assert found == set(ref.query(q))
    assert found and len(found) < len(sets) - 1  # neither nothing nor everything


def test_it_does_not_import_datasketch_when_the_engine_loads() -> None:
    import subprocess
    import sys

    code = "import sys, robotrace.campaigns.engine; print('datasketch' in sys.modules, 'scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
