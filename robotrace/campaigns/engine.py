"""The campaign engine: assigns each call report to a campaign, or opens a new one.

One code path, used by the platform (Huey tasks, through `campaigns.store.DbEngine`), the
`robotrace campaigns cluster` evaluation command and the benchmarks. This module holds the
in-memory index and the decision logic only; where campaign ids come from and where the
index is persisted is the store's business (`MemoryStore` below, `store.DbStore`).

Pipeline per report with content (see docs/bench-campaigns.md and
../shared/design/campaigns.md for the reasoning and the scores):

1. Normalise the transcript (case, punctuation, numbers -> '#') and look its hash up in the
   exact-duplicate index: about half of all reports stop here.
2. Strong links: an identical recording hash already tied to a campaign.
3. Near-duplicates: MinHash of character 5-grams, LSH candidates among a few *exemplars*
   per campaign (never all reports, which keeps the cost per report independent of the
   campaign sizes), verified exactly by containment of the report's n-grams in the
   campaign's exemplar vocabulary (fragments score 1.0), or of a substantial exemplar in
   the report (the campaign was opened from a fragment and this is the full message).
4. A spoken/reported callback number already tied to a campaign.
5. Otherwise a new campaign, with this report as its first exemplar.

Reports without content (most complaints) join through the recording hash, a callback
number or a caller ID already tied to a campaign, or through a *burst*: one caller ID
hitting many distinct called numbers within a short window opens a campaign of its own.

Thresholds are fixed a priori, not fitted row by row: a report belongs to a campaign when at
least 80% of its character 5-grams occur in the campaign's exemplars (or a substantial
exemplar is 80% contained in the report). Two renditions of one recording differ by
speech-recognition errors and slot values; at a ~5% word error rate a text keeps about 80%
of its 5-grams. Sibling scripts that share one clause or boilerplate ("press 1 to speak
to...") stay well below. 0.8 is the containment setting the design note measured with the
best precision; on the public half the scores are flat between 0.75 and 0.85
(docs/bench-campaigns.md), so the choice is not a knife-edge fit.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from robotrace.campaigns.textsim import containment, normalise, shingles, text_hash
from robotrace.core import phones

# --- A-priori parameters (see the module docstring) --------------------------------------
MATCH_THRESHOLD = 0.8  # containment needed to join a campaign
NOVELTY = 0.85  # a member scoring below this adds a new exemplar (the campaign's variety)
MAX_EXEMPLARS = 8  # per campaign; bounds the work per report
MIN_SHINGLES = 12  # shorter texts ("hello?") only ever match exactly
MIN_REVERSE = 60  # an exemplar must be this long to pull in a report that contains it
NUM_PERM = 128
LSH_BANDS = (64, 2)  # 64 bands of 2 rows: P(candidate) = 0.93 at Jaccard 0.2 (fragments)
VERIFY_TOP = 4  # campaigns verified exactly per report, best MinHash estimates first
BURST_WINDOW = timedelta(minutes=10)
BURST_MIN_CALLED = 20


@dataclass(slots=True)
class ReportIn:
    """What the engine needs from a report (ingest's CallReport, a CSV row, a generated call)."""

    id: Any
    transcript: str = ""
    language: str = ""
    calling_number: str = ""
    called_number: str = ""
    called_state: str = ""
    call_started_at: datetime | None = None
    callback_numbers: Sequence[str] = ()
    recording_sha256: str = ""


@dataclass(slots=True)
class Assignment:
    report_id: Any
    campaign_id: int | None
    method: str  # exact | recording | text | callback | caller_id | burst | new | none
    score: float = 0.0
    created: bool = False


@dataclass
class Exemplar:
    key: str
    campaign_id: int
    text: str
    shingles: frozenset[int]
    signature: Any = None  # MinHash values (numpy), for the similarity estimate


@dataclass
class Pending:
    """Index rows created since the store last flushed (the DB store persists them)."""

    texts: dict[str, int] = field(default_factory=dict)
    exemplars: list[Exemplar] = field(default_factory=list)
    links: dict[tuple[str, str], int] = field(default_factory=dict)

    def clear(self) -> None:
        self.texts.clear()
        self.exemplars.clear()
        self.links.clear()


NewCampaign = Callable[[ReportIn, str], int]


_PERMUTATIONS_CACHE: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """The affine permutations of datasketch 2.0's default "affine32" scheme with seed 1,
    drawn the same way, so signatures are bit-identical to `datasketch.MinHash(seed=1)` fed
    the same CRC32 values (tests/test_engine_minhash.py checks it). Computing them here
    keeps datasketch (and the scipy it imports, ~3 s) out of web and worker start-up, and
    lets one numpy expression hash a whole text instead of a MinHash object per report."""
    if num_perm not in _PERMUTATIONS_CACHE:
        gen = np.random.RandomState(1)
        a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
        _PERMUTATIONS_CACHE[num_perm] = (a, b)
    return _PERMUTATIONS_CACHE[num_perm]


def minhash_signature(sh: Iterable[int], perm: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """MinHash signature (uint32, NUM_PERM values) of a set of 32-bit shingle hashes: the
    MurmurHash3 finaliser pre-mix, then min over a*h+b mod 2^32 for every permutation."""
    a, b = perm or _permutations(NUM_PERM)
    values = sh if isinstance(sh, (set, frozenset, list, tuple)) else list(sh)
    hv = np.fromiter(values, dtype=np.uint32, count=len(values))
    if not len(hv):
        return np.full(len(a), 0xFFFFFFFF, dtype=np.uint32)
    hv ^= hv >> np.uint32(16)
    hv *= np.uint32(0x85EBCA6B)
    hv ^= hv >> np.uint32(13)
    hv *= np.uint32(0xC2B2AE35)
    hv ^= hv >> np.uint32(16)
    return (hv[:, None] * a + b).min(axis=0)


class BandIndex:
    """LSH over signatures: 64 bands of 2 rows, the same candidates as datasketch's
    MinHashLSH(params=(64, 2)) (an item is a candidate when all rows of at least one band
    are equal). With 2 uint32 rows per band a band is exactly one uint64, so the keys come
    from one `view` instead of 64 slices, byte swaps and storage look-ups per query."""

    def __init__(self, bands: int, rows: int) -> None:
        assert rows == 2, "one uint64 per band"
        self.bands = bands
        self.tables: list[dict[int, list[int]]] = [{} for _ in range(bands)]

    def keys(self, signature: np.ndarray) -> list[int]:
        return np.ascontiguousarray(signature, dtype=np.uint32).view(np.uint64).tolist()

    def insert(self, item: int, signature: np.ndarray) -> None:
        for table, key in zip(self.tables, self.keys(signature), strict=True):
            table.setdefault(key, []).append(item)

    def query(self, signature: np.ndarray) -> set[int]:
        found: set[int] = set()
        for table, key in zip(self.tables, self.keys(signature), strict=True):
            items = table.get(key)
            if items:
                found.update(items)
        return found


class Engine:
    """In-memory campaign index plus the assignment rules. Not thread-safe: callers hold a lock."""

    def __init__(
        self,
        new_campaign: NewCampaign,
        *,
        threshold: float = MATCH_THRESHOLD,
        max_exemplars: int = MAX_EXEMPLARS,
        burst_window: timedelta = BURST_WINDOW,
        burst_min_called: int = BURST_MIN_CALLED,
    ) -> None:
        self.new_campaign = new_campaign
        self.threshold = threshold
        self.max_exemplars = max_exemplars
        self.burst_window = burst_window
        self.burst_min_called = burst_min_called
        self._perm = _permutations(NUM_PERM)
        self.lsh = BandIndex(*LSH_BANDS)
        # Signatures of the indexed exemplars, one row each (row = position in
        # `_rows`), so the similarity estimate for all LSH candidates is one numpy compare.
        self._sig = np.empty((64, NUM_PERM), dtype=np.uint32)
        self._rows: list[Exemplar] = []
        self.texts: dict[str, int] = {}
        self.exemplars: dict[str, Exemplar] = {}
        self.campaign_exemplars: dict[int, list[str]] = {}
        self.vocab: dict[int, set[int]] = {}
        self.links: dict[tuple[str, str], int] = {}
        self.redirect: dict[int, int] = {}
        self.bursts: dict[str, deque[tuple[datetime, str, Any]]] = {}
        self.pending = Pending()

    # --- index maintenance (also used to rebuild from the database) ----------------------
    def minhash(self, sh: Iterable[int]) -> np.ndarray:
        return minhash_signature(sh, self._perm)

    def resolve(self, campaign_id: int | None) -> int | None:
        seen = 0
        while campaign_id in self.redirect and seen < 100:
            campaign_id = self.redirect[campaign_id]
            seen += 1
        return campaign_id

    def load_text(self, key: str, campaign_id: int) -> None:
        self.texts[key] = campaign_id

    def load_link(self, kind: str, value: str, campaign_id: int) -> None:
        self.links[(kind, value)] = campaign_id

    def load_exemplar(self, key: str, campaign_id: int, text: str) -> Exemplar | None:
        if key in self.exemplars:
            return None
        ex = self._index(key, campaign_id, text, shingles(normalise(text)))
        return ex

    def _index(self, key: str, campaign_id: int, text: str, sh: frozenset[int]) -> Exemplar:
        ex = Exemplar(key=key, campaign_id=campaign_id, text=text, shingles=sh)
        self.exemplars[key] = ex
        self.campaign_exemplars.setdefault(campaign_id, []).append(key)
        self.vocab.setdefault(campaign_id, set()).update(sh)
        if len(sh) >= MIN_SHINGLES:
            sig = self.minhash(sh)
            ex.signature = sig
            row = len(self._rows)
            if row >= len(self._sig):
                self._sig = np.concatenate([self._sig, np.empty_like(self._sig)])
            self._sig[row] = sig
            self._rows.append(ex)
            self.lsh.insert(row, sig)
        return ex

    def merge(self, from_id: int, to_id: int) -> None:
        """Everything that pointed at `from_id` now resolves to `to_id`."""
        self.redirect[from_id] = to_id
        for key in self.campaign_exemplars.pop(from_id, []):
            self.exemplars[key].campaign_id = to_id
            self.campaign_exemplars.setdefault(to_id, []).append(key)
        self.vocab.setdefault(to_id, set()).update(self.vocab.pop(from_id, set()))

    # --- assignment ------------------------------------------------------------------------
    def assign_batch(self, reports: Iterable[ReportIn]) -> list[Assignment]:
        out: list[Assignment] = []
        for report in reports:
            self._assign(report, out)
        return out

    def assign(self, report: ReportIn) -> Assignment:
        out: list[Assignment] = []
        self._assign(report, out)
        return out[-1]

    def _link(self, kind: str, value: str) -> int | None:
        cid = self.links.get((kind, value))
        return self.resolve(cid) if cid is not None else None

    def _tie(self, kind: str, value: str, campaign_id: int, *, overwrite: bool = False) -> None:
        key = (kind, value)
        if overwrite or key not in self.links:
            if self.links.get(key) != campaign_id:
                self.links[key] = campaign_id
                self.pending.links[key] = campaign_id

    def _add_exemplar(self, key: str, campaign_id: int, text: str, sh: frozenset[int]) -> None:
        if key in self.exemplars:
            return
        self.pending.exemplars.append(self._index(key, campaign_id, text, sh))

    def best_match(self, sh: frozenset[int]) -> tuple[int | None, float]:
        """The campaign whose exemplars best contain this text, and the score.

        LSH gives candidate exemplars; their MinHash signatures estimate the Jaccard
        similarity, from which (with the set sizes) the containment in either direction
        follows. Only the best few campaigns by that estimate are verified exactly, so the
        cost per report stays flat however much boilerplate campaigns share.
        """
        if len(sh) < MIN_SHINGLES or not self.exemplars:
            return None, 0.0
        hv = self.minhash(sh)
        n = len(sh)
        estimate: dict[int, float] = {}
        rows = sorted(self.lsh.query(hv))
        if rows:
            # Jaccard estimate of every candidate at once: share of equal signature values.
            equal = np.count_nonzero(self._sig[rows] == hv, axis=1).tolist()
            for row, eq in zip(rows, equal, strict=True):
                ex = self._rows[row]
                cid = self.resolve(ex.campaign_id)
                assert cid is not None
                j = eq / NUM_PERM
                m = len(ex.shingles)
                inter = j * (n + m) / (1.0 + j)  # |A ∩ B| from Jaccard and the two sizes
                est = max(inter / n, inter / m if m >= MIN_REVERSE else 0.0)
                if est > estimate.get(cid, -1.0):
                    estimate[cid] = est
        if not estimate:
            return None, 0.0
        ranked = sorted(estimate.items(), key=lambda kv: (-kv[1], kv[0]))[:VERIFY_TOP]
        best_cid, best = None, 0.0
        for cid, _ in ranked:
            score = containment(sh, self.vocab[cid])
            for key in self.campaign_exemplars.get(cid, ()):
                ex = self.exemplars[key]
                m = len(ex.shingles)
                # |ex ∩ sh| / |ex| cannot exceed |sh| / |ex|: skip exemplars that could not
                # raise the score (exact, it only saves set intersections).
                if m >= MIN_REVERSE and n / m > score:
                    score = max(score, containment(ex.shingles, sh))
            # Highest score; on a tie the older (lower id) campaign keeps the report.
            if score > best or (score == best and best_cid is not None and cid < best_cid):
                best_cid, best = cid, score
        return (best_cid, best) if best >= self.threshold else (None, best)

    def _assign(self, report: ReportIn, out: list[Assignment]) -> None:
        text = report.transcript or ""
        norm = normalise(text)
        callbacks = phones.normalise_all(report.callback_numbers)
        caller = phones.normalise(report.calling_number)
        rec = (report.recording_sha256 or "").lower()
        cid: int | None = None
        method = "none"
        score = 0.0
        created = False

        if norm:
            key = text_hash(norm)
            cid = self.resolve(self.texts.get(key))
            if cid is not None:
                # An exact copy: its spoken numbers were tied when the text was first seen.
                method, score = "exact", 1.0
            else:
                # The script's own number links reports, as written even when no line
                # could hold it; spoken ones too (a report from intake already has them).
                for n in phones.callback_numbers_in(text, written_as_given=True):
                    if n not in callbacks:
                        callbacks.append(n)
                sh = shingles(norm)
                if rec:
                    cid = self._link("recording", rec)
                    method, score = ("recording", 1.0) if cid is not None else (method, score)
                if cid is None:
                    cid, score = self.best_match(sh)
                    if cid is not None:
                        method = "text"
                if cid is None:
                    for n in callbacks:
                        cid = self._link("callback", n)
                        if cid is not None:
                            method, score = "callback", 1.0
                            break
                if cid is None:
                    cid = self.new_campaign(report, "text")
                    created, method = True, "new"
                # Keep the campaign's variety: new members that differ enough become exemplars.
                if created or (len(self.campaign_exemplars.get(cid, ())) < self.max_exemplars and score < NOVELTY):
                    self._add_exemplar(key, cid, text, sh)
                self.texts[key] = cid
                self.pending.texts[key] = cid
            if rec:
                self._tie("recording", rec, cid)
            for n in callbacks:
                self._tie("callback", n, cid)
            if caller:
                # Caller IDs rotate and get spoofed: the latest campaign seen with one wins.
                self._tie("caller_id", caller, cid, overwrite=True)
            out.append(Assignment(report.id, cid, method, score, created))
            return

        # No content: only links and bursts can place the report.
        if rec:
            cid = self._link("recording", rec)
            method = "recording" if cid is not None else method
        if cid is None:
            for n in callbacks:
                cid = self._link("callback", n)
                if cid is not None:
                    method = "callback"
                    break
        if cid is None and caller:
            cid = self._link("caller_id", caller)
            method = "caller_id" if cid is not None else method
        if cid is None and caller and report.call_started_at is not None:
            burst = self._burst(report, caller, out)
            if burst is not None:
                return
        if cid is not None:
            if rec:
                self._tie("recording", rec, cid)
            for n in callbacks:
                self._tie("callback", n, cid)
        out.append(Assignment(report.id, cid, method, 1.0 if cid is not None else 0.0, False))

    def _burst(self, report: ReportIn, caller: str, out: list[Assignment]) -> int | None:
        """One caller ID calling many distinct numbers within the window opens a campaign.
        The reports of the burst so far are assigned with it (they were left unassigned)."""
        assert report.call_started_at is not None
        window = self.bursts.setdefault(caller, deque())
        window.append((report.call_started_at, report.called_number, report.id))
        horizon = report.call_started_at - self.burst_window
        while window and window[0][0] < horizon:
            window.popleft()
        called = {c for _, c, _ in window if c}
        if len(called) < self.burst_min_called:
            return None
        cid = self.new_campaign(report, "burst")
        self._tie("caller_id", caller, cid, overwrite=True)
        earlier = {rid for _, _, rid in window if rid != report.id}
        for a in out:
            if a.report_id in earlier and a.campaign_id is None:
                a.campaign_id, a.method, a.score = cid, "burst", 1.0
                earlier.discard(a.report_id)
        for rid in earlier:  # reports of earlier batches
            out.append(Assignment(rid, cid, "burst", 1.0, False))
        out.append(Assignment(report.id, cid, "burst", 1.0, True))
        del self.bursts[caller]
        return cid


class MemoryStore:
    """Campaign ids from a counter: the engine without a database (benchmarks, quick tests).
    The DB-backed store shares the very same `Engine`; only id allocation and persistence differ."""

    def __init__(self, **engine_kwargs: Any) -> None:
        self.next_id = 1
        self.created: dict[int, ReportIn] = {}
        self.engine = Engine(self._new, **engine_kwargs)

    def _new(self, report: ReportIn, method: str) -> int:
        cid = self.next_id
        self.next_id += 1
        self.created[cid] = report
        return cid

    def assign_batch(self, reports: Iterable[ReportIn]) -> list[Assignment]:
        result = self.engine.assign_batch(reports)
        self.engine.pending.clear()
        return result
