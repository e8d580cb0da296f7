"""A simulated US telephone network: providers, number blocks, routes and call records.

The model is plain Python and deterministic for a seed, so the live demo, the tests and the
benchmark build the same ecosystem:

- originating providers (a few of them bad: they sell to robocallers), transit
  (intermediate) providers, gateways (US points of entry), terminating providers holding
  number blocks, and foreign providers;
- a call crosses 3 to 8 providers: origin → transit… → terminating, or foreign origin →
  gateway → transit… → terminating;
- every provider on the path writes its own call record as the call passes (its clock a
  little off, numbers in its own format, the ingress trunk and the provider that trunk maps
  to, the customer at the origin);
- each call keeps its truth (origin, customer, point of entry) to check the outcomes.

`materialise()` writes the registry (Provider rows, provider organisations, API keys,
webhook secrets, number blocks) into the database; `World` is what it returns.
"""

from __future__ import annotations

import csv
import logging
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from robotrace.agent.records import CallRecord, CallRecords
from robotrace.core.phones import format_national, national

logger = logging.getLogger("robotrace.simulator")

ADJ = ("Blue", "Red", "Summit", "Harbor", "Prairie", "Granite", "Cedar", "River", "Lake", "Metro", "Pioneer", "Liberty", "Coastal", "Valley",
       "Northern", "Southern", "Eagle", "Falcon", "Iron", "Silver", "Golden", "Atlas", "Orbit", "Nimbus", "Crest", "Beacon", "Frontier", "Keystone",
       "Delta", "Sierra", "Canyon", "Evergreen", "Union", "Apex", "Vertex", "Echo", "Quantum", "Vector", "Signal", "Bridge")
NOUN = ("Telecom", "Voice", "Networks", "Communications", "Connect", "VoIP", "Carrier Services", "Wholesale", "Telephone", "Link", "Tel",
        "Broadband", "Route", "Exchange", "Digital", "Cloud Voice")
SUFFIX = ("", " LLC", " Inc", " Corp", " Co")
FOREIGN = (("GB", "Europe/London"), ("IN", "Asia/Kolkata"), ("PH", "Asia/Manila"), ("NG", "Africa/Lagos"), ("DO", "America/Santo_Domingo"),
           ("PK", "Asia/Karachi"), ("MX", "America/Mexico_City"))
US_ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
NPAS = ("201", "202", "203", "205", "206", "207", "208", "209", "210", "212", "213", "214", "215", "216", "217", "301", "302", "303", "304",
        "305", "307", "308", "309", "310", "312", "313", "314", "315", "316", "317", "318", "319", "320", "401", "402", "404", "405", "406",
        "407", "408", "409", "410", "412", "413", "414", "415", "417", "419", "502", "503", "504", "505", "507", "508", "509", "510", "512",
        "513", "515", "516", "517", "518", "520", "530", "540", "541", "559", "561", "562", "570", "571", "573", "601", "602", "603", "605",
        "606", "607", "608", "609", "610", "612", "614", "615", "616", "617", "618", "619", "620", "623", "626", "630", "631", "636", "651",
        "701", "702", "703", "704", "706", "707", "708", "712", "713", "714", "715", "716", "717", "718", "719", "720", "724", "727", "731",
        "732", "734", "740", "757", "760", "763", "765", "770", "772", "773", "774", "775", "781", "785", "786", "801", "802", "803", "804",
        "805", "806", "808", "810", "812", "813", "814", "815", "816", "817", "818", "828", "830", "831", "832", "843", "845", "847", "850",
        "856", "857", "858", "859", "860", "862", "863", "864", "865", "870", "901", "903", "904", "907", "908", "909", "910", "912", "913",
        "914", "915", "916", "917", "918", "919", "920", "925", "928", "931", "936", "937", "940", "941", "949", "951", "952", "954", "956",
        "970", "971", "972", "973", "978", "979", "980", "985", "989")
DIALERS = ("Apex Outreach LLC", "Prime Lead Partners", "BlueSky Dialing Inc", "Nationwide Benefits Center", "Vehicle Protection Services LLC",
           "Rapid Response Marketing", "Summit Leads Group", "Echo Voice Broadcasting", "TruCall Solutions", "Horizon Debt Advisors")
FORMATS = ("e164", "ten", "punct", "eleven")

Behaviour = str  # "instant" | "slow" | "sloppy" | "silent" | "human"


@dataclass
class SimProvider:
    index: int
    name: str
    role: str  # originating | transit | gateway | terminating | foreign
    country: str = "US"
    timezone: str = "America/New_York"
    behaviour: Behaviour = "instant"
    bad: bool = False
    number_format: str = "e164"
    skew_seconds: int = 0
    blocks: list[str] = field(default_factory=list)
    customers: list[dict[str, str]] = field(default_factory=list)
    ocn: str = ""
    # STIR/SHAKEN: the SPC on its certificate, and how it signs (see Network._assign_signers).
    spc: str = ""
    signs: str = ""  # "" (never) | "honest" | "bad" (attests A on spoofed traffic) | "gateway" (C) | "launder" (A on unsigned transit traffic)
    sign_fault: str = ""  # a fault on every call it signs ("untrusted": a certificate from a rogue CA)
    fault_rate: float = 0.0  # sloppy signers: share of calls signed with a random fault
    # Filled by materialise():
    provider_id: int | None = None
    organisation_id: int | None = None
    key: str = ""
    webhook_secret: str = ""
    records: CallRecords = field(default_factory=lambda: CallRecords(skew=timedelta(minutes=5)))

    @property
    def slug(self) -> str:
        return f"sim-{self.index:04d}"


@dataclass
class SimCall:
    id: str
    at: datetime
    calling: str
    called: str
    path: list[int]  # provider indexes, origin first, terminating last
    robocall: bool
    campaign: str = ""
    transcript: str = ""
    callback: str = ""
    customer: dict[str, str] = field(default_factory=dict)
    foreign: bool = False
    # STIR/SHAKEN as signed on the call (empty when nobody signed it).
    identity: str = ""
    signer: int | None = None  # provider index of the signer
    attest: str = ""
    sign_fault: str = ""

    @property
    def terminating(self) -> int:
        return self.path[-1]

    @property
    def true_origin(self) -> int:
        """The provider a correct traceback ends at: the US originator, or the gateway."""
        return self.path[1] if self.foreign else self.path[0]

    @property
    def us_hops(self) -> int:
        return len(self.path) - (1 if self.foreign else 0)


def _fmt(number: str, style: str) -> str:
    n = national(number)
    if len(n) != 10:
        return number
    return {"e164": f"+1{n}", "ten": n, "punct": format_national(n), "eleven": f"1{n}"}[style]


class Network:
    def __init__(
        self,
        providers: int = 300,
        *,
        seed: int = 7,
        shares: dict[str, float] | None = None,
        behaviours: dict[str, float] | None = None,
        bad_originators: int = 4,
        min_hops: int = 3,
        max_hops: int = 8,
        signing: bool = False,
    ):
        self.rng = random.Random(seed)
        self.signing = signing
        self.seed = seed
        self.min_hops, self.max_hops = min_hops, max_hops
        shares = shares or {"originating": 0.16, "transit": 0.40, "gateway": 0.08, "terminating": 0.24, "foreign": 0.12}
        behaviours = behaviours if behaviours is not None else {"instant": 0.80, "slow": 0.10, "sloppy": 0.06, "silent": 0.04}
        self.providers: list[SimProvider] = []
        names: set[str] = set()
        counts = {role: max(1, round(providers * share)) for role, share in shares.items()}
        counts["transit"] = max(6, counts["transit"])
        npas = list(NPAS)
        self.rng.shuffle(npas)
        block_iter = iter(f"{npa}{nxx}" for nxx in range(201, 999, 7) for npa in npas)
        for role, count in counts.items():
            for _ in range(count):
                name = self._name(names)
                p = SimProvider(index=len(self.providers), name=name, role=role, ocn=f"S{len(self.providers):03d}"[:4])
                if role == "foreign":
                    p.country, p.timezone = self.rng.choice(FOREIGN)
                    p.behaviour = "silent"  # outside US jurisdiction: never answers
                else:
                    p.timezone = self.rng.choice(US_ZONES)
                    p.behaviour = self.rng.choices(list(behaviours), list(behaviours.values()))[0] if behaviours else "instant"
                p.number_format = self.rng.choice(FORMATS)
                p.skew_seconds = self.rng.randint(-150, 150)
                if role == "terminating":
                    p.blocks = [next(block_iter) for _ in range(self.rng.randint(2, 6))]
                if role == "originating":
                    p.customers = [{"name": f"{self.rng.choice(ADJ)} {self.rng.choice(('Dental', 'Realty', 'Insurance', 'Pharmacy', 'Logistics'))} {self.rng.choice(('Group', 'LLC', 'Inc'))}",
                                    "account_id": f"A{self.rng.randint(10000, 99999)}"}]
                self.providers.append(p)
        origins = [p for p in self.providers if p.role == "originating"]
        for p in self.rng.sample(origins, min(bad_originators, len(origins))):
            p.bad = True
            p.customers = [{"name": d, "account_id": f"D{self.rng.randint(1000, 9999)}", "address": f"{self.rng.randint(10, 999)} Commerce Blvd, Miami FL"}
                           for d in self.rng.sample(DIALERS, 2)]
        self._by_role = {role: [p for p in self.providers if p.role == role] for role in counts}
        self._assign_signers()
        self.calls: list[SimCall] = []
        self._n = 0
        # Providers the demo logins belong to see more traffic, so their inboxes are never empty.
        self.favoured: dict[str, int] = {}

    def _assign_signers(self) -> None:
        """Who signs calls, on principle (ATIS-1000074 attestation levels):

        - honest originators sign A when the calling number is their own customer's (legal
          traffic here) and B when they know the customer but not that the number is theirs;
          about one in ten never signs (the ~35 % of industry tracebacks without an
          originator's signature come from such providers and from foreign traffic);
        - bad originators: the first attests A on spoofed robocall traffic (the "bad signer"
          the scorecards must expose), the second signs B honestly, the rest never sign;
        - gateways sign C for foreign traffic they let in (they know only the trunk);
        - one transit provider launders unsigned traffic with A attestation: the downstream
          A/B-but-not-originator case the traceback flags;
        - sloppy providers sign one call in five with a fault (bad signature, expired
          certificate, stale iat), and one originator's certificate comes from a rogue CA.
        Uses its own random stream so adding signing does not change routes or behaviours."""
        rng = random.Random(self.seed * 7919 + 1)
        for p in self.providers:
            if p.role != "foreign":
                p.spc = f"SIM{p.index:03d}"
        origins = [p for p in self.role("originating")]
        bad = [p for p in origins if p.bad]
        for p in origins:
            if not p.bad:
                p.signs = "honest" if rng.random() < 0.9 else ""
        for i, p in enumerate(bad):
            p.signs = "bad" if i == 0 else "honest" if i == 1 else ""
        for p in self.role("gateway"):
            p.signs = "gateway"
        transits = self.role("transit")
        if transits:
            transits[-1].signs = "launder"
        honest = [p for p in origins if p.signs == "honest"]
        if len(honest) > 2:
            honest[-1].sign_fault = "untrusted"
        for p in self.providers:
            if p.signs and p.behaviour == "sloppy":
                p.fault_rate = 0.2

    def sign(self, call: SimCall) -> None:
        """Put the Identity header the first signing provider on the path would add."""
        from robotrace.shaken.signing import sign_passport

        signer, attest = None, ""
        for pos, index in enumerate(call.path):
            p = self.providers[index]
            if pos == 0 and p.signs in ("honest", "bad"):
                # Legal traffic uses the customer's own number (A); robocall caller IDs are
                # spoofed: an honest originator can only vouch for its customer (B), a bad
                # signer claims A anyway.
                signer, attest = p, ("A" if not call.robocall or p.signs == "bad" else "B")
                break
            if p.signs == "gateway" and call.foreign and pos == 1:
                signer, attest = p, "C"
                break
            if p.signs == "launder" and pos > 0:
                signer, attest = p, "A"
                break
        if signer is None:
            return
        fault = signer.sign_fault or ""
        if not fault and signer.fault_rate and self.rng.random() < signer.fault_rate:
            fault = self.rng.choice(("bad_signature", "expired_certificate", "stale"))
        origid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"robotrace-sim/{signer.spc}/{call.customer.get('account_id', 'trunk')}"))
        try:
            call.identity = sign_passport(signer.spc, call.calling, call.called, attest, origid=origid, iat=int(call.at.timestamp()),
                                          fault=fault or None)
        except Exception:  # a PKI problem must never stop traffic: the call goes unsigned
            logger.exception("simulated signing failed for %s", signer.spc)
            return
        call.signer, call.attest, call.sign_fault = signer.index, attest, fault

    def _name(self, names: set[str]) -> str:
        while True:
            name = f"{self.rng.choice(ADJ)} {self.rng.choice(NOUN)}{self.rng.choice(SUFFIX)}"
            if name not in names:
                names.add(name)
                return name

    def role(self, role: str) -> list[SimProvider]:
        return self._by_role.get(role, [])

    def set_behaviour(self, behaviour: Behaviour, *, only: list[int] | None = None) -> None:
        for p in self.providers:
            if p.role != "foreign" and (only is None or p.index in only):
                p.behaviour = behaviour

    # --- routing --------------------------------------------------------------------------

    def number_in(self, provider: SimProvider) -> str:
        return f"+1{self.rng.choice(provider.blocks)}{self.rng.randint(0, 9999):04d}"

    def route(self, *, robocall: bool, foreign: bool = False, hops: int | None = None) -> list[int]:
        n = hops or self.rng.randint(self.min_hops, self.max_hops)
        term = self.rng.choice(self.role("terminating"))
        if "terminating" in self.favoured and self.rng.random() < 0.15:
            term = self.providers[self.favoured["terminating"]]
        if foreign:
            origin = self.rng.choice(self.role("foreign"))
            gateway = self.rng.choice(self.role("gateway"))
            transits = self.rng.sample(self.role("transit"), min(len(self.role("transit")), max(0, n - 3)))
            return [origin.index, gateway.index, *[t.index for t in transits], term.index]
        pool = [p for p in self.role("originating") if p.bad] if robocall else [p for p in self.role("originating") if not p.bad]
        origin = self.rng.choice(pool or self.role("originating"))
        transits = self.rng.sample(self.role("transit"), min(len(self.role("transit")), max(0, n - 2)))
        fav = self.favoured.get("transit")
        if fav is not None and transits and self.rng.random() < 0.15 and all(t.index != fav for t in transits):
            transits[-1] = self.providers[fav]
        return [origin.index, *[t.index for t in transits], term.index]

    def place_call(
        self,
        *,
        at: datetime,
        robocall: bool = True,
        foreign: bool = False,
        hops: int | None = None,
        calling: str = "",
        campaign: str = "",
        transcript: str = "",
        callback: str = "",
    ) -> SimCall:
        """Route one call and write every provider's call record on the way."""
        path = self.route(robocall=robocall, foreign=foreign, hops=hops)
        term = self.providers[path[-1]]
        called = self.number_in(term)
        calling = calling or f"+1{self.rng.choice(NPAS)}{self.rng.randint(2000000, 9999999)}"
        origin = self.providers[path[0]]
        customer = dict(self.rng.choice(origin.customers)) if origin.customers and not foreign else {}
        self._n += 1
        call = SimCall(id=f"simcall-{self.seed}-{self._n:07d}", at=at, calling=calling, called=called, path=path, robocall=robocall,
                       campaign=campaign, transcript=transcript, callback=callback, customer=customer, foreign=foreign)
        t = at
        for pos, index in enumerate(path):
            p = self.providers[index]
            if p.role == "foreign":
                continue  # foreign records are out of reach
            upstream = self.providers[path[pos - 1]] if pos > 0 else None
            t = t + timedelta(milliseconds=self.rng.randint(5, 80))
            p.records.add(CallRecord(
                at=t + timedelta(seconds=p.skew_seconds),
                calling=national(calling),
                called=national(called),
                trunk=f"TG-{upstream.index:04d}" if upstream else "",
                upstream=upstream.name if upstream else "",
                upstream_id=upstream.provider_id if upstream else None,
                upstream_country=upstream.country if upstream else "",
                customer=customer if upstream is None else {},
            ))
        if self.signing:
            self.sign(call)
        self.calls.append(call)
        return call

    def write_records(self, folder: Path) -> None:
        """Every provider's call records as the CSV its agent reads (numbers in its format)."""
        folder.mkdir(parents=True, exist_ok=True)
        for p in self.providers:
            if p.role == "foreign":
                continue
            with (folder / f"{p.slug}.csv").open("w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["started_at", "from", "to", "ingress_trunk", "upstream_provider", "upstream_provider_id", "upstream_country", "customer", "customer_account"])
                for rows in p.records._by_called.values():
                    for r in rows:
                        w.writerow([r.at.isoformat(), _fmt(r.calling, p.number_format), _fmt(r.called, p.number_format), r.trunk, r.upstream,
                                    r.upstream_id or "", r.upstream_country, r.customer.get("name", ""), r.customer.get("account_id", "")])

    def traffic(self, *, start: datetime, count: int, robocall_share: float = 0.3, foreign_share: float = 0.25) -> Iterator[SimCall]:
        for i in range(count):
            robo = self.rng.random() < robocall_share
            yield self.place_call(at=start + timedelta(seconds=i), robocall=robo, foreign=robo and self.rng.random() < foreign_share)


# --- the database side ---------------------------------------------------------------------


@dataclass
class World:
    network: Network
    consortium_id: int
    consortium_key: str = ""
    provider_by_db_id: dict[int, SimProvider] = field(default_factory=dict)


def materialise(net: Network, *, hub_url: str = "", with_keys: bool = True, link_demo: bool = True) -> World:
    """Create the registry rows, organisations, keys and number blocks for `net`, or reuse
    the rows a previous run created (matched by organisation slug)."""
    from django.db import transaction

    from robotrace.accounts import services as accounts
    from robotrace.accounts.models import ApiKey, Organisation
    from robotrace.core.webhooks import new_secret
    from robotrace.providers.models import Provider
    from robotrace.providers.services import create_provider
    from robotrace.tracebacks.models import NumberBlock

    consortium = Organisation.objects.filter(kind="consortium").order_by("id").first()
    if consortium is None:
        consortium = accounts.create_organisation(actor=None, name="Industry Traceback Consortium", kind="consortium", slug="itc")
    world = World(network=net, consortium_id=consortium.id)
    demo_links: dict[int, str] = {}
    if link_demo:
        terms, transits = net.role("terminating"), net.role("transit")
        demo_links = {terms[0].index: "keystone-voice", transits[0].index: "northgate-networks"}
        if Organisation.objects.filter(slug__in=demo_links.values()).exists():
            net.favoured = {"terminating": terms[0].index, "transit": transits[0].index}
    existing_blocks = set(NumberBlock.objects.values_list("prefix", flat=True))
    for p in net.providers:
        with transaction.atomic():
            slug = demo_links.get(p.index, p.slug)
            org = Organisation.objects.filter(slug=slug).first()
            if org is None and p.role != "foreign":
                org = accounts.create_organisation(actor=None, name=p.name, kind="provider", slug=slug, ocn=p.ocn)
            if slug != p.slug and org is not None:
                p.name = org.name
                p.behaviour = "human"  # the demo logins answer in the portal; the agent steps in late
            provider = Provider.objects.filter(organisation=org).first() if org is not None else Provider.objects.filter(name=p.name, country=p.country).first()
            fields: dict[str, Any] = {
                "roles": [p.role], "country": p.country, "timezone": p.timezone, "business_hours_start": 0, "business_hours_end": 24,
                "business_days": [1, 2, 3, 4, 5, 6, 7],
            }
            if p.spc:
                fields["spc"] = p.spc  # the verifier resolves a PASSporT's SPC to this registry row
            if p.role != "foreign" and hub_url:
                fields["webhook_url"] = f"{hub_url.rstrip('/')}/hook/{p.index}"
            if provider is not None and slug != p.slug and provider.spc:
                p.spc = provider.spc  # a demo provider keeps the SPC its seeded certificate names
                fields.pop("spc", None)
            if provider is None:
                provider = create_provider(actor=None, name=p.name, organisation=org, ocns=[p.ocn], **fields)
            if hub_url and p.role != "foreign":
                fields["webhook_secret"] = provider.webhook_secret if provider.webhook_url == fields.get("webhook_url") and provider.webhook_secret else new_secret()
            for k, v in fields.items():
                setattr(provider, k, v)
            provider.save()
            p.provider_id, p.organisation_id, p.webhook_secret = provider.id, org.id if org else None, provider.webhook_secret
            new_blocks = [b for b in p.blocks if b not in existing_blocks]
            NumberBlock.objects.bulk_create([NumberBlock(prefix=b, provider=provider, source="simulator") for b in new_blocks])
            existing_blocks.update(new_blocks)
            if with_keys and org is not None:
                ApiKey.objects.for_org(org).filter(name="Simulated agent").update(revoked_at=datetime.now(UTC))
                p.key = accounts.issue_api_key(actor=None, organisation=org, name="Simulated agent", scopes=["traceback:respond"]).secret
            world.provider_by_db_id[provider.id] = p
    # The record mapping columns name the provider the trunk leads to by registry id.
    ids = {q.name: q.provider_id for q in net.providers}
    for p in net.providers:
        for rows in p.records._by_called.values():
            for r in rows:
                if r.upstream and r.upstream_id is None:
                    r.upstream_id = ids.get(r.upstream)
    if with_keys:
        ApiKey.objects.for_org(consortium).filter(name="Simulator (consortium)").update(revoked_at=datetime.now(UTC))
        world.consortium_key = accounts.issue_api_key(actor=None, organisation=consortium, name="Simulator (consortium)", scopes=["traceback:read"]).secret
    return world
