"""Ingest settings, read from the environment (robotrace.env) so they never touch settings.py."""

from __future__ import annotations

from robotrace.env import env_int, env_str

# The largest upload accepted, counted on the decoded (un-gzipped) bytes and on the raw
# request body. Anything bigger answers 413 and stores nothing.
MAX_UPLOAD_BYTES = env_int("INGEST_MAX_UPLOAD_BYTES", 2 * 1024 * 1024 * 1024, minimum=1024)
# Rows written per database round trip (COPY / executemany).
BATCH_SIZE = env_int("INGEST_BATCH_SIZE", 5000, minimum=1, maximum=100_000)
# Bytes read from the request per chunk.
READ_CHUNK_BYTES = env_int("INGEST_READ_CHUNK_BYTES", 256 * 1024, minimum=4096)
# A single NDJSON/CSV line longer than this is rejected (protects memory from a file with
# no newlines at all).
MAX_LINE_BYTES = env_int("INGEST_MAX_LINE_BYTES", 1024 * 1024, minimum=1024)
# Bounds on one upload (API, stream, browser), so that a small body cannot cost gigabytes of
# disk or minutes of CPU: a gzip body of ten million `{}` lines, or of nothing but newlines,
# is refused early instead of writing a rejects file per line. Counted on the decoded lines,
# blank ones included. Whole-file imports from the command line (`robotrace ingest`) are not
# bounded: they commit per batch and run with the operator's own files.
MAX_LINES = env_int("INGEST_MAX_LINES", 10_000_000, minimum=1)
MAX_REJECTS = env_int("INGEST_MAX_REJECTS", 100_000, minimum=1)
# How many rejects the 202 answer carries inline; all of them are in the rejects file.
INLINE_REJECTS = env_int("INGEST_INLINE_REJECTS", 20, minimum=0)
# A call time this far ahead of the server clock is "in the future" (clock skew allowance).
FUTURE_SKEW_SECONDS = env_int("INGEST_FUTURE_SKEW_SECONDS", 300, minimum=0)
# Call times before this year are implausible (no robocall reports predate 2000).
EARLIEST_YEAR = env_int("INGEST_EARLIEST_YEAR", 2000, minimum=1970)
# Live stream.
NATS_URL = env_str("NATS_URL", "nats://127.0.0.1:4222")
NATS_STREAM = env_str("INGEST_NATS_STREAM", "ROBOTRACE_REPORTS")
NATS_SUBJECT_PREFIX = env_str("INGEST_NATS_SUBJECT_PREFIX", "robotrace.reports")
# PostgreSQL: months of partitions kept ready ahead of today.
PARTITION_MONTHS_AHEAD = env_int("INGEST_PARTITION_MONTHS_AHEAD", 3, minimum=1, maximum=36)
# Uploaded call recordings (audio), stored under MEDIA_ROOT/ingest/recordings/.
RECORDING_MAX_BYTES = env_int("INGEST_RECORDING_MAX_BYTES", 50 * 1024 * 1024, minimum=1024)
