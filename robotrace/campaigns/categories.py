"""Trend families: keyword rules plus similarity to short prototype texts.

A campaign's category is computed from its exemplar texts (several renditions give more
evidence than one fragment). Rules are SnorCall-style labelling functions: each pattern is
evidence for one family, brands and pretexts weigh more than generic words. When no rule
fires, the text is compared with prototype messages written for each family (character
5-gram overlap); below a floor the campaign is `other`. Analysts can override; the engine
never overwrites a category whose source is `analyst`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from robotrace.campaigns.models import Category
from robotrace.campaigns.textsim import normalise, shingles

C = Category


@dataclass(frozen=True)
class Rule:
    category: str
    pattern: re.Pattern[str]
    weight: float = 1.0


def _r(category: str, pattern: str, weight: float = 1.0) -> Rule:
    return Rule(category, re.compile(pattern, re.IGNORECASE), weight)


# Patterns run on the raw transcript (case-insensitive). Weight 5 = the impersonated brand or
# agency, which decides the family even when the script borrows generic law-enforcement
# threats ("legal enforcement action ... officer" in SSA scripts); 3 = the pretext that
# defines a family; 1-2 = supporting vocabulary.
RULES: list[Rule] = [
    _r(C.AMAZON_IMPERSONATION, r"\bamazon\b|\bamz\b|\bamazon prime\b", 5),
    _r(C.APPLE_IMPERSONATION, r"\bi ?cloud\b|\bapple (support|id|care)\b", 5),
    _r(C.SSA_IMPERSONATION, r"social security|\bssa\b|\bsocial (benefits|number)\b|\byour social\b", 5),
    _r(C.GOVERNMENT_IMPERSONATION, r"\blegal (department|enforcement|action)|\bwarrant\b|\bmagistrate\b|grand jury|\bofficer\b|\bfederal agent\b|\barrest", 2),
    _r(C.GOVERNMENT_IMPERSONATION, r"customs and border|\bborder protection\b|\bcustoms\b|federal reserve|\bdepartment of justice\b|\bsheriff\b|\bcourt\b|\blawsuit against you", 3),
    _r(C.GOVERNMENT_IMPERSONATION, r"leave your work aside|take necessary action|discuss about your case", 2),
    _r(C.UTILITY_DISCONNECT, r"disconnect|disconnection|interruption of service|power (will be|is going to be) (shut|cut)|shut ?off|\bbilling department\b", 2),
    _r(C.UTILITY_DISCONNECT, r"\b(electric|power|gas and electric|light) (company|bill)|\butility\b", 1),
    _r(C.UTILITY_DISCONNECT, r"service will be (interrupted|suspended|cut)|\bmeter\b|power (and|&) light|gas and electric", 2),
    _r(C.AUTO_WARRANTY, r"warranty|\bvehicle\b|\bcar'?s\b|dealer service|\bauto(motive)? (service|protection)", 3),
    _r(C.CREDIT_CARD_INTEREST, r"interest rate|credit card|card services|\brate reduction\b|\b0 ?% (interest|apr)\b|\bzero percent\b|\bvisa\b|\bmastercard\b|\bdiscover\b", 2),
    _r(C.STUDENT_LOAN_DEBT, r"student loan|loan forgiveness|\bdebt (relief|release|elimination|consolidation)\b|\bhardship program|\bloan (discharge|balance)|\bcovid.{0,10}relief payment", 3),
    _r(C.TAX_RELIEF, r"\birs\b|back tax|\btax (relief|debt|negotiation|lien)|internal revenue", 3),
    _r(C.HEALTH_INSURANCE, r"medicare|health (insurance|plan|care advisor)|final expense|\bobamacare\b|\bbenefits?\b.{0,20}\b(insurance|plan)\b|\bknee brace|\bback brace", 3),
    _r(C.TV_INTERNET_DISCOUNT, r"direc ?tv|direct tv|\bdish\b|spectrum|xfinity|comcast|\binternet (service|bill)|\bcable\b|monthly bills?\b", 3),
    _r(C.TV_INTERNET_DISCOUNT, r"\b\d{2}\s?% (off|discount)|\bdiscount\b", 1),
    _r(C.PACKAGE_DELIVERY, r"\bparcel\b|\bpackage\b.{0,40}(deliver|return|sign)|\bdhl\b|\bups\b|\bfedex\b|\busps\b|\bexpress\b|快递|包裹", 3),
    _r(C.TECH_SUPPORT, r"microsoft|windows|\bcomputer\b|tech(nical)? support|norton|mcafee|geek squad|\bvirus\b", 3),
    _r(C.POLITICAL, r"\bvote\b|\belection\b|\bcandidate\b|\bcongress(man|woman)?\b|\bsenator\b|\bcampaign (for|to elect)|\bballot\b|\bpolling\b", 3),
    _r(C.FINANCIAL_IMPERSONATION, r"wells fargo|bank of america|\bchase\b|citibank|paypal|cash ?app|zelle|venmo|\byour bank account\b", 3),
    _r(C.TRAVEL, r"\bhotel|\bresort|\bcruise\b|vacation|complimentary stay|\bmarriott\b|\bhilton\b", 3),
    _r(C.ENERGY_HOME, r"\bsolar\b|energy (saving|advocates|program)|\brebate\b|third.party supplier|\bhome (improvement|project)|\bclean energy\b|\bheat pump\b", 3),
]

# Prototype messages, written for this project (not copied from any dataset), one or two per
# family, phrased the way these scripts typically run.
PROTOTYPES: dict[str, list[str]] = {
    C.AMAZON_IMPERSONATION: [
        "This is a call from Amazon about a suspicious order placed on your account for an iPhone. If you did not authorize this purchase press 1 to speak with customer support.",
    ],
    C.APPLE_IMPERSONATION: [
        "Your Apple iCloud account has been breached. Please do not use any financial accounts until you speak with an Apple support advisor. Press 1 to connect.",
    ],
    C.SSA_IMPERSONATION: [
        "This call is from the Social Security Administration. Your social security number has been suspended because of suspicious activity. Press 1 to speak with an officer.",
    ],
    C.GOVERNMENT_IMPERSONATION: [
        "This is the legal department. A warrant has been issued against your name. Leave your work aside and press 1 to speak with a federal agent before legal action is taken.",
        "This call is from customs and border protection. A package under your name was seized. Press 1 to speak with an officer.",
    ],
    C.UTILITY_DISCONNECT: [
        "Your electric service will be disconnected within thirty minutes due to non-payment. Press 1 to speak with the billing department or press 2 for the disconnection department.",
    ],
    C.AUTO_WARRANTY: [
        "We have been trying to reach you about your car's extended warranty. This is your final courtesy call before we close the file. Press 1 to speak to a warranty specialist.",
    ],
    C.CREDIT_CARD_INTEREST: [
        "Because of your good payment history you qualify to lower the interest rate on your credit card accounts to zero percent. Press 1 to speak with a card services representative.",
    ],
    C.STUDENT_LOAN_DEBT: [
        "I am following up about your federal student loan balance. You may be eligible for the loan forgiveness program. Call us back to discuss your options.",
    ],
    C.TAX_RELIEF: [
        "This is a notice about your back taxes owed to the IRS. A new program may settle your tax debt. Press 1 to speak with a tax relief agent.",
    ],
    C.HEALTH_INSURANCE: [
        "This is a Medicare health advisor calling about new benefits on your health plan. You may qualify for a lower cost policy. Press 1 to speak with a licensed agent.",
    ],
    C.TV_INTERNET_DISCOUNT: [
        "Your TV and internet account qualifies for fifty percent off your monthly bill. Call us back to claim the discount before the promotion ends.",
    ],
    C.PACKAGE_DELIVERY: [
        "This is the final notice from the international express service. A parcel for you could not be delivered and will be returned. Press 9 to speak with customer service.",
    ],
    C.TECH_SUPPORT: [
        "This call is from the Microsoft help desk. We detected a virus on your computer and your identity is at risk. Press 1 to speak with a technician.",
    ],
    C.POLITICAL: [
        "Hello, I am calling on behalf of the campaign to remind you to vote in the election on Tuesday. Your support for our candidate matters.",
    ],
    C.FINANCIAL_IMPERSONATION: [
        "This is an automated call from your bank fraud department. A suspicious transaction was detected on your account and it has been put on hold. Press 1 to speak with a representative.",
    ],
    C.TRAVEL: [
        "Congratulations, your number was selected for a complimentary stay at one of our five star resorts. Press 1 to claim your vacation package.",
    ],
    C.ENERGY_HOME: [
        "Your home may qualify for a state program that pays for solar panels and energy upgrades. Press 1 to see how much you could save on your energy bill.",
    ],
}

RULE_FLOOR = 2.0  # at least one defining pattern, or two supporting ones
PROTOTYPE_FLOOR = 0.25  # share of the text's 5-grams found in the family's prototypes

_PROTO_SHINGLES: dict[str, set[int]] = {}


def _prototype_shingles() -> dict[str, set[int]]:
    if not _PROTO_SHINGLES:
        for cat, texts in PROTOTYPES.items():
            acc: set[int] = set()
            for t in texts:
                acc.update(shingles(normalise(t)))
            _PROTO_SHINGLES[cat] = acc
    return _PROTO_SHINGLES


def rule_scores(text: str) -> dict[str, float]:
    scores: dict[str, float] = {}
    for rule in RULES:
        hits = len(rule.pattern.findall(text))
        if hits:
            # Repetition within one message is weak extra evidence.
            scores[rule.category] = scores.get(rule.category, 0.0) + rule.weight * (1 + 0.25 * min(hits - 1, 4))
    return scores


def prototype_scores(text: str) -> dict[str, float]:
    sh = shingles(normalise(text))
    if not sh:
        return {}
    return {cat: len(sh & proto) / len(sh) for cat, proto in _prototype_shingles().items()}


def categorise(texts: list[str] | str) -> tuple[str, str, float]:
    """(category, source, score) for a campaign's texts; source is 'rules' or 'prototype'."""
    if isinstance(texts, str):
        texts = [texts]
    text = "\n".join(t for t in texts if t)
    if not text.strip():
        return C.UNKNOWN, "rules", 0.0
    scores = rule_scores(text)
    if scores:
        cat, score = max(scores.items(), key=lambda kv: kv[1])
        if score >= RULE_FLOOR:
            return cat, "rules", score
    protos = prototype_scores(text)
    if protos:
        cat, score = max(protos.items(), key=lambda kv: kv[1])
        if score >= PROTOTYPE_FLOOR:
            return cat, "prototype", score
    return C.OTHER, "rules", 0.0


# How the trend families of the public PPoNE benchmark labels map to our taxonomy (used by
# `bench campaigns-quality` to show per-family agreement; V-measure itself needs no mapping).
FAMILY_MAP: dict[str, str] = {
    "AMAZON_IMPERSONATION": C.AMAZON_IMPERSONATION,
    "APPLE_IMPERSONATION": C.APPLE_IMPERSONATION,
    "SSA_IMPERSONATION": C.SSA_IMPERSONATION,
    "LEGAL_ENFORCEMENT_IMPERSONATION": C.GOVERNMENT_IMPERSONATION,
    "CBP_IMPERSONATION": C.GOVERNMENT_IMPERSONATION,
    "FEDERAL_RESERVE_IMPERSONATION": C.GOVERNMENT_IMPERSONATION,
    "UTILITY_DISCONNECT": C.UTILITY_DISCONNECT,
    "UTILITY_REBATE_DISCOUNT": C.ENERGY_HOME,
    "SOLAR_HOME_ENERGY": C.ENERGY_HOME,
    "AUTO_WARRANTY": C.AUTO_WARRANTY,
    "CREDIT_CARD_INTEREST": C.CREDIT_CARD_INTEREST,
    "STUDENT_LOAN_DEBT_RELIEF": C.STUDENT_LOAN_DEBT,
    "DEBT_RELIEF": C.STUDENT_LOAN_DEBT,
    "TAX_DEBT_RELIEF": C.TAX_RELIEF,
    "MEDICARE_HEALTH": C.HEALTH_INSURANCE,
    "FINAL_EXPENSE_INSURANCE": C.HEALTH_INSURANCE,
    "TV_ISP_DISCOUNT": C.TV_INTERNET_DISCOUNT,
    "PACKAGE_DELIVERY_CN": C.PACKAGE_DELIVERY,
    "TECH_SUPPORT": C.TECH_SUPPORT,
    "BANK_IMPERSONATION": C.FINANCIAL_IMPERSONATION,
    "PAYPAL_IMPERSONATION": C.FINANCIAL_IMPERSONATION,
    "CASHAPP_IMPERSONATION": C.FINANCIAL_IMPERSONATION,
    "TRAVEL_HOTEL": C.TRAVEL,
    "ORDER_AUTHORIZATION_GENERIC": C.OTHER,
    "TEST_CALL": C.OTHER,
    "GRANDPARENT_SCAM": C.OTHER,
}
