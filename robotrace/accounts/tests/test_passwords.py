"""A3/A4: at least 15 characters, long passphrases accepted whole, common and context words refused."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.urls import reverse

from robotrace.accounts import services as accounts


def _make(world, password: str, email: str = "new@provider-a.test"):
    return accounts.create_user(actor=world.alice, organisation=world.provider_a, email=email, password=password)


def test_it_rejects_14_characters(world):
    with pytest.raises(ValidationError) as exc:
        _make(world, "Wq7#zLp2@Vn9!k")
    assert "password" in exc.value.message_dict
    assert "at least 15" in " ".join(exc.value.message_dict["password"])


def test_it_accepts_15_and_128_characters(world):
    _make(world, "Wq7#zLp2@Vn9!kY", "fifteen@provider-a.test")
    long = ("gravel orchid kettle umbra " * 5)[:128]
    assert len(long) == 128
    user = _make(world, long, "long@provider-a.test")
    assert authenticate(email=user.email, password=long) == user


def test_it_never_truncates_a_long_password(world):
    long = ("gravel orchid kettle umbra " * 5)[:128]
    user = _make(world, long)
    changed = long[:64] + ("X" if long[64] != "X" else "Y") + long[65:]
    assert authenticate(email=user.email, password=changed) is None


def test_it_rejects_a_common_password(world):
    with pytest.raises(ValidationError) as exc:
        _make(world, "1q2w3e4r5t6y7u8i9o0p")
    assert "common" in " ".join(exc.value.message_dict["password"]).lower()


@pytest.mark.parametrize("password", ["my-robotrace-secret-42", "traceback-season-2026!", "alpha-sunrise-tomato-77"])
def test_it_rejects_context_words(world, password):
    # "alpha" comes from the organisation's name, Provider Alpha
    with pytest.raises(ValidationError) as exc:
        _make(world, password)
    assert "easy to guess" in " ".join(exc.value.message_dict["password"])


def test_the_admin_page_shows_the_reason(world, as_user):
    r = as_user(world.alice).post(
        reverse("accounts:user_create", args=[world.provider_a.pk]),
        {"email": "short@provider-a.test", "role": "member", "password": "Wq7#zLp2@Vn9!k"},
    )
    assert r.status_code == 400
    assert "at least 15" in r.content.decode()
