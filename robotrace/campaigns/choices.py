"""Vocabularies of campaigns that apps above keep in their own columns (an alert
subscription's categories and event kinds)."""

from __future__ import annotations

from django.db import models


class Category(models.TextChoices):
    """Trend families. Keep in step with campaigns/categories.py (rules and prototypes)."""

    AMAZON_IMPERSONATION = "amazon_impersonation", "Amazon impersonation"
    APPLE_IMPERSONATION = "apple_impersonation", "Apple impersonation"
    SSA_IMPERSONATION = "ssa_impersonation", "SSA impersonation"
    GOVERNMENT_IMPERSONATION = "government_impersonation", "Other government / law-enforcement impersonation"
    UTILITY_DISCONNECT = "utility_disconnect", "Utility disconnection"
    AUTO_WARRANTY = "auto_warranty", "Auto warranty"
    CREDIT_CARD_INTEREST = "credit_card_interest", "Credit-card interest reduction"
    STUDENT_LOAN_DEBT = "student_loan_debt", "Student loan and debt relief"
    HEALTH_INSURANCE = "health_insurance", "Health insurance and Medicare"
    TV_INTERNET_DISCOUNT = "tv_internet_discount", "TV and internet discounts"
    PACKAGE_DELIVERY = "package_delivery", "Package delivery"
    TECH_SUPPORT = "tech_support", "Tech support"
    POLITICAL = "political", "Political"
    FINANCIAL_IMPERSONATION = "financial_impersonation", "Bank and payment impersonation"
    TAX_RELIEF = "tax_relief", "Tax debt relief"
    TRAVEL = "travel", "Travel and vacation offers"
    ENERGY_HOME = "energy_home", "Solar, energy and home improvement"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Not yet categorised"


class LegalBasis(models.TextChoices):
    TSR = "tsr_310_4_b_1_v", "Telemarketing Sales Rule, 16 CFR 310.4(b)(1)(v)"
    TCPA = "tcpa_227_b", "TCPA, 47 USC 227(b)"
    TRUTH_IN_CALLER_ID = "truth_in_caller_id_227_e", "Truth in Caller ID Act, 47 USC 227(e)"
    IMPERSONATION_RULE = "impersonation_16_cfr_461", "Impersonation rule, 16 CFR 461"


class EventKind(models.TextChoices):
    """What a CampaignEvent says happened."""

    OPENED = "opened", "Campaign opened"
    VOLUME = "volume", "Volume threshold crossed"
    STATES = "states", "Spread across states"
    SURGE = "surge", "Surging"
    CONFIRMED = "confirmed", "Confirmed illegal"
