"""Robocall scripts written for this project, across the campaign taxonomy.

The wording is our own (modelled on the kinds of messages regulators describe, not copied
from any recording or dataset). `{slots}` are filled per recording from the pools below:
agent names, amounts, products, brands, callback numbers. The generator in robocalls.py
plays these with speech-recognition noise, fragments and rotating caller IDs.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Script:
    key: str
    category: str  # a campaigns.models.Category value
    text: str
    weight: float = 1.0  # relative volume
    slots: dict[str, tuple[str, ...]] = field(default_factory=dict)


AGENTS = ("Karen Wells", "Daniel Brooks", "Linda Hart", "Steve Nolan", "Monica Reyes", "Brian Tate", "Alicia Dunn", "Greg Foster")
OFFICERS = ("Officer Paul Grant", "Agent Helen Cross", "Officer Mark Dillon", "Special Agent Ruth Lane")
AMOUNTS = ("$499", "$749", "$899", "$1,249", "$1,599", "$2,100", "$349.99")
PRODUCTS = ("an iPhone 15 Pro", "a MacBook Air", "a PlayStation 5", "a Samsung Galaxy S24", "two pairs of AirPods", "a 65 inch television")
CITIES = ("Tulsa, Oklahoma", "Reno, Nevada", "Macon, Georgia", "Fresno, California", "Erie, Pennsylvania")
UTILITIES = ("Metro Power and Light", "Central Gas and Electric", "Valley Electric", "City Energy Services")
CARDS = ("Visa", "MasterCard", "Discover", "your bank card")
TV = ("SkyView TV", "StreamMax Cable", "Horizon Fiber", "AirWave Satellite")
CARRIERS = ("International Express", "Global Parcel Service", "Rapid Freight Logistics")
HOTELS = ("Palm Coast Resorts", "Grand Harbor Hotels", "Sunset Bay Suites")


SCRIPTS: list[Script] = [
    Script(
        "amz_order_confirm", "amazon_impersonation",
        "Hello, this is a call from Amazon customer protection. An order for {product} worth {amount} was placed on your Amazon account from {city}. "
        "If you did not make this purchase, press 1 to cancel the order and speak with our fraud team. To confirm the order, press 2.",
        3.0, {"product": PRODUCTS, "amount": AMOUNTS, "city": CITIES},
    ),
    Script(
        "amz_card_charged_refund", "amazon_impersonation",
        "Dear Amazon member, this is {agent} from the billing department. Your card linked to your Amazon account has been charged {amount} for a renewal of your Prime membership. "
        "You are eligible for a full refund. Press 1 now to reach a refund specialist before the charge is final.",
        2.0, {"agent": AGENTS, "amount": AMOUNTS},
    ),
    Script(
        "apple_icloud_locked", "apple_impersonation",
        "Attention. This is an automated alert from Apple support. Your iCloud account has been locked after several sign in attempts from an unknown device. "
        "Do not use your online banking until you speak with an Apple advisor. Press 1 to connect, or call {callback}.",
        1.0, {},
    ),
    Script(
        "ssa_number_suspended", "ssa_impersonation",
        "This message is from the Social Security Administration. Your social security number has been suspended because it was linked to illegal activity near the border of {city}. "
        "To avoid the freezing of your bank accounts, press 1 to speak with a case officer right away.",
        3.0, {"city": CITIES},
    ),
    Script(
        "ssa_benefits_cancel_officer", "ssa_impersonation",
        "Hello, my name is {officer} with the office of the inspector general for Social Security. Your benefits will be cancelled today because of fraudulent use of your number. "
        "Call me back immediately at {callback} and use reference number {ref}.",
        2.0, {"officer": OFFICERS, "ref": ("A-4471", "SS-2093", "CX-118", "R-7720")},
    ),
    Script(
        "gov_arrest_warrant", "government_impersonation",
        "This is the county sheriff's warrant division. A bench warrant has been issued under your name for failure to appear before a federal magistrate. "
        "Leave your work aside and press 1 to speak with {officer} before the local police are dispatched to your address.",
        2.0, {"officer": OFFICERS},
    ),
    Script(
        "gov_customs_package", "government_impersonation",
        "This is an important call from customs and border protection. A shipment in your name containing counterfeit documents and cash has been held at the port. "
        "To avoid criminal charges, press 1 to speak with the duty officer about your case.",
        1.5, {},
    ),
    Script(
        "util_disconnect_30min", "utility_disconnect",
        "This is a final notice from {utility}. Your service will be disconnected in the next thirty minutes because of a past due balance on your account. "
        "Press 1 to speak with the billing department and keep your power on, or press 2 for the disconnection department.",
        2.0, {"utility": UTILITIES},
    ),
    Script(
        "util_meter_replacement", "utility_disconnect",
        "Hi, this is {agent} from {utility}. Our records show your meter needs an urgent replacement and your service will be interrupted unless a deposit of {amount} is received today. "
        "Call the service desk at {callback} to schedule the work.",
        1.0, {"agent": AGENTS, "utility": UTILITIES, "amount": AMOUNTS},
    ),
    Script(
        "auto_warranty_final", "auto_warranty",
        "We have been trying to contact you about your vehicle's factory warranty. Our records show it has expired or is about to expire. "
        "This is your final courtesy call before we close your file. Press 1 to speak with a warranty specialist, or call {callback}.",
        3.0, {},
    ),
    Script(
        "auto_warranty_agent", "auto_warranty",
        "Hi, this is {agent} calling from the vehicle services center about the extended coverage on your car. We mailed you several notices and have not heard back. "
        "Give us a call at {callback} so we can reactivate your coverage today.",
        1.5, {"agent": AGENTS},
    ),
    Script(
        "cc_rate_reduction", "credit_card_interest",
        "This is card member services calling about your {card} account. Because of your excellent payment history you now qualify to lower your interest rate to as little as zero percent. "
        "This offer expires soon. Press 1 to speak with a rate specialist.",
        2.5, {"card": CARDS},
    ),
    Script(
        "cc_final_rate_notice", "credit_card_interest",
        "Hello, this is {agent} with the credit card rate reduction department. This is the last notice before your eligibility to reduce your credit card interest ends. "
        "Call us back at {callback} to lock in the lower rate.",
        1.0, {"agent": AGENTS},
    ),
    Script(
        "sl_forgiveness", "student_loan_debt",
        "Hi, this is {agent} from the student aid processing center. I am calling about your federal student loan balance. New rules may make you eligible for full loan forgiveness, "
        "but the enrollment window closes this month. Please call me back at {callback}.",
        2.0, {"agent": AGENTS},
    ),
    Script(
        "debt_relief_hardship", "student_loan_debt",
        "This is a notification about the national debt hardship program. If you owe more than ten thousand dollars on credit cards or medical bills, you may qualify to cut your debt in half. "
        "Press 1 to see if you qualify.",
        1.5, {},
    ),
    Script(
        "tax_back_taxes", "tax_relief",
        "This is a final notice regarding your back taxes. The IRS is preparing a lien on your property and wages. A new federal program can settle your tax debt for less. "
        "Call the tax resolution center at {callback} today.",
        1.0, {},
    ),
    Script(
        "medicare_brace", "health_insurance",
        "Hi, this is {agent}, a Medicare benefits advisor on a recorded line. Under your plan you may qualify for a back or knee brace at no cost to you. "
        "Press 1 to speak with a benefits coordinator.",
        1.5, {"agent": AGENTS},
    ),
    Script(
        "health_plan_open_enrollment", "health_insurance",
        "Open enrollment is ending. You may qualify for a health insurance plan for as little as {amount} a month with no deductible. "
        "Press 1 now to speak with a licensed agent about your options.",
        1.0, {"amount": ("$29", "$49", "$0", "$19.99")},
    ),
    Script(
        "tv_half_off", "tv_internet_discount",
        "Hi there, I am calling from {tv} to let you know your existing account qualifies for fifty percent off your monthly bill. "
        "To get the discount, call our promotions department at {callback} before the offer ends.",
        2.0, {"tv": TV},
    ),
    Script(
        "pkg_failed_delivery", "package_delivery",
        "This is the last notice from {carrier}. We tried to deliver a package to you twice and nobody signed for it. The parcel will be returned to the sender. "
        "Press 9 to speak with customer service.",
        1.5, {"carrier": CARRIERS},
    ),
    Script(
        "tech_virus_alert", "tech_support",
        "This is an urgent message from the Microsoft security center. We detected a virus on your computer that is sending your personal information to hackers. "
        "Do not turn off your computer. Press 1 to speak with a certified technician.",
        1.5, {},
    ),
    Script(
        "political_survey", "political",
        "Hello, this is a short survey about the upcoming election in your district. If the vote were held today, would you support the incumbent candidate? "
        "Press 1 for yes, press 2 for no. Paid for by Citizens for a Stronger Tomorrow.",
        0.8, {},
    ),
    Script(
        "bank_fraud_hold", "financial_impersonation",
        "This is an automated call from your bank's fraud prevention department. A transfer of {amount} from your checking account was placed on hold. "
        "If you did not request this transfer, press 1 to speak with a fraud specialist now.",
        1.5, {"amount": AMOUNTS},
    ),
    Script(
        "travel_free_stay", "travel",
        "Congratulations! Your phone number was selected to receive a complimentary three night stay at {hotel}. "
        "Press 1 to hear how to claim your vacation before the offer expires.",
        1.0, {"hotel": HOTELS},
    ),
    Script(
        "energy_solar_program", "energy_home",
        "Hi, this is {agent} with the home energy savings program. The state has set aside funds so homeowners can install solar panels with no money down. "
        "Press 1 to find out how much you could save on your electric bill.",
        1.0, {"agent": AGENTS},
    ),
    Script(
        "grandparent_bail", "other",
        "Hi grandma, it's me. I'm in trouble and I need your help. I was in a car accident and they are holding me until someone pays the bail. "
        "Please don't tell mom. My lawyer will call you in a minute with the details.",
        0.5, {},
    ),
]

SCRIPTS_BY_KEY: dict[str, Script] = {s.key: s for s in SCRIPTS}
