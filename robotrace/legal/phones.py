"""Phone numbers of targets, normalised to E.164 the same way call reports are, so a target
matches the reports and tracebacks that carry it."""

from __future__ import annotations


class BadNumber(ValueError):
    pass


def to_e164(raw: str) -> str:
    raw = (raw or "").strip()
    if not raw:
        raise BadNumber("empty phone number")
    try:
        from robotrace.ingest.phone import check
    except ImportError:
        check = None
    if check is not None:
        checked = check(raw)
        # Spoofed or unassigned caller IDs are still legitimate targets: keep any number
        # that has an E.164 form, whatever its validity as a real line.
        if checked.e164:
            return str(checked.e164)
        raise BadNumber(f"{raw!r} is not a phone number ({checked.reason})")
    import phonenumbers

    try:
        parsed = phonenumbers.parse(raw, "US")
    except phonenumbers.NumberParseException as exc:
        raise BadNumber(f"{raw!r} is not a phone number") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise BadNumber(f"{raw!r} is not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
