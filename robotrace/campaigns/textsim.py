"""Text features shared by the campaign engine and the category rules.

Robocall transcripts are speech-recognition output of one recorded message template, with
slot values (names, amounts, numbers) changed and often cut to a fragment. The features
below are chosen for that: numbers collapse to one token (slot values), punctuation and
case go, and similarity is computed on character n-grams, which survive a misheard word far
better than word shingles (a substituted word breaks ~n overlapping character grams, not a
whole phrase). Everything here is deterministic across processes (CRC32, not `hash()`), so
the `cluster` command gives the same answer every run.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib

_NON_WORD = re.compile(r"[^\w#]+", re.UNICODE)
_DIGITS = re.compile(r"\d[\d,.\-]*")
_SPACES = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

# Character n-gram length: 5 for alphabetic scripts (about one word plus its neighbour's
# edge), 2 for CJK where one character already carries a morpheme.
NGRAM = 5
NGRAM_CJK = 2


def normalise(text: str) -> str:
    """Lower-case, strip accents and punctuation, and collapse every number to `#`.

    Numbers are slot values (amounts, order numbers, callback numbers, dates): the same
    script plays with different ones, so they must not count as differences.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _DIGITS.sub(" # ", text)
    text = _NON_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def text_hash(normalised: str) -> str:
    """Key of the exact-duplicate index (16 hex digits of SHA-1 are plenty per platform)."""
    return hashlib.sha1(normalised.encode("utf-8")).hexdigest()[:16]


def is_cjk(normalised: str) -> bool:
    cjk = len(_CJK.findall(normalised))
    return cjk > 0 and cjk * 3 >= len(normalised.replace(" ", ""))


def shingles(normalised: str) -> frozenset[int]:
    """CRC32 hashes of the character n-grams of a normalised text."""
    if not normalised:
        return frozenset()
    if is_cjk(normalised):
        s = normalised.replace(" ", "")
        n = NGRAM_CJK
    else:
        s = normalised
        n = NGRAM
    if len(s) <= n:
        return frozenset((zlib.crc32(s.encode("utf-8")),))
    crc = zlib.crc32
    if s.isascii():
        b = s.encode("ascii")
        return frozenset(crc(b[i : i + n]) for i in range(len(b) - n + 1))
    return frozenset(crc(s[i : i + n].encode("utf-8")) for i in range(len(s) - n + 1))


def containment(a: frozenset[int] | set[int], b: frozenset[int] | set[int]) -> float:
    """Share of `a` found in `b` (1.0 when `a` is a fragment of `b`)."""
    if not a:
        return 0.0
    return len(a & b) / len(a)
