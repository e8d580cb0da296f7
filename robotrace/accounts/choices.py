"""Vocabularies of accounts that other apps use too (agency jurisdictions, alert states)."""

from __future__ import annotations

# States, DC and the territories: an agency's jurisdiction and an alert's states.
US_STATES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "
    "NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR VI GU AS MP"
).split()
