"""The business ecosystem behind campaigns, as a graph (networkx) and investigator tables.

Nodes: campaigns, caller IDs, callback numbers, providers (the upstream provider reporters
named, and providers met on traceback hops) and originating customers (from completed
tracebacks). An edge's weight is how many reports or hops support it. Caller IDs and
callback numbers are only drawn when shared by two or more campaigns or among a campaign's
busiest, so the picture shows the infrastructure that links operations, not every number.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import networkx as nx
from django.db.models import Count

from robotrace.campaigns import queries
from robotrace.campaigns.models import Campaign

if TYPE_CHECKING:
    from robotrace.accounts.models import Organisation


@dataclass(frozen=True)
class TracedSource:
    """What tracing the campaigns' calls adds to the picture, given campaign ids: registered
    by the tracebacks app (above campaigns) from its AppConfig.ready()."""

    hop_counts: Callable[[list[int]], list[tuple[str, int, int]]]  # (provider name, campaign id, hops through it)
    upstream_pairs: Callable[[list[int]], list[tuple[str, str, int]]]  # (provider, the upstream it named, hops)
    customers: Callable[[list[int]], list[tuple[int, str, str]]]  # (campaign id, originating provider, customer name)


_TRACED: list[TracedSource] = []


def register_traced_source(source: TracedSource) -> None:
    if source not in _TRACED:
        _TRACED.append(source)


def _campaigns(org: Organisation, limit: int) -> list[Campaign]:
    return list(queries.visible(org).exclude(status=Campaign.Status.MERGED).order_by("-report_count")[:limit])


def provider_campaign_rows(org: Organisation, *, limit: int = 40) -> list[dict[str, Any]]:
    """Which providers carried which campaigns, and how often (reports naming them as the
    upstream, plus traceback hops through them)."""
    campaigns = {c.pk: c for c in _campaigns(org, 200)}
    counts: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: {"reports": 0, "hops": 0})
    rows = (
        queries._reports().filter(campaign_id__in=list(campaigns)).exclude(upstream_provider="")
        .values("upstream_provider", "campaign_id").annotate(n=Count("id"))
    )
    for r in rows:
        counts[(r["upstream_provider"], r["campaign_id"])]["reports"] += r["n"]
    for name, cid, n in _hop_counts(org, list(campaigns)):
        counts[(name, cid)]["hops"] += n
    out: list[dict[str, Any]] = []
    for (name, cid), c in counts.items():
        out.append({"provider": name, "campaign": campaigns[cid], "reports": c["reports"], "hops": c["hops"]})
    out.sort(key=lambda r: (r["reports"] + 10 * r["hops"]), reverse=True)
    return out[:limit]


def _hop_counts(org: Organisation, campaign_ids: list[int]) -> list[tuple[str, int, int]]:
    return [row for source in _TRACED for row in source.hop_counts(campaign_ids)]


def build_graph(org: Organisation, *, campaigns: int = 40, per_campaign: int = 6) -> nx.Graph:
    g: nx.Graph[str] = nx.Graph()
    camps = {c.pk: c for c in _campaigns(org, campaigns)}
    if not camps:
        return g
    ids = list(camps)
    for c in camps.values():
        g.add_node(f"c{c.pk}", label=f"{c.ref} {c.name[:40]}", kind="campaign", weight=c.report_count, category=c.category, url_id=c.pk)

    reports = queries._reports().filter(campaign_id__in=ids)
    callers = reports.exclude(calling_number_e164="").values("calling_number_e164", "campaign_id").annotate(n=Count("id"))
    by_caller: dict[str, dict[int, int]] = defaultdict(dict)
    for r in callers:
        by_caller[r["calling_number_e164"]][r["campaign_id"]] = r["n"]
    top_per_campaign: dict[int, set[str]] = defaultdict(set)
    per_c: dict[int, Counter[str]] = defaultdict(Counter)
    for number, m in by_caller.items():
        for cid, n in m.items():
            per_c[cid][number] = n
    for cid, cnt in per_c.items():
        top_per_campaign[cid] = {n for n, _ in cnt.most_common(per_campaign)}
    for number, m in by_caller.items():
        shared = len(m) > 1
        for cid, n in m.items():
            if shared or number in top_per_campaign[cid]:
                g.add_node(f"n{number}", label=number, kind="caller_id", shared=shared)
                g.add_edge(f"c{cid}", f"n{number}", weight=n, kind="called_from")

    from robotrace.campaigns.models import CampaignLink

    # Callback numbers tied to each campaign (a number belongs to one campaign in the engine's
    # index); the first few per campaign keep the picture readable.
    links = CampaignLink.objects.filter(kind="callback", campaign_id__in=ids).order_by("pk").values_list("value", "campaign_id")
    shown: Counter[int] = Counter()
    for value, cid in links:
        if shown[cid] < 3:
            shown[cid] += 1
            g.add_node(f"b{value}", label=value, kind="callback")
            g.add_edge(f"c{cid}", f"b{value}", weight=1, kind="callback")

    for r in reports.exclude(upstream_provider="").values("upstream_provider", "campaign_id").annotate(n=Count("id")):
        node = f"p{r['upstream_provider'].lower()}"
        g.add_node(node, label=r["upstream_provider"], kind="provider")
        g.add_edge(f"c{r['campaign_id']}", node, weight=r["n"], kind="carried")

    for name, cid, n in _hop_counts(org, ids):
        node = f"p{(name or '').lower()}"
        g.add_node(node, label=name, kind="provider")
        w = g.edges[f"c{cid}", node]["weight"] if g.has_edge(f"c{cid}", node) else 0
        g.add_edge(f"c{cid}", node, weight=w + n, kind="hop")
    _add_tracebacks(g, ids)
    return g


def _add_tracebacks(g: nx.Graph, campaign_ids: list[int]) -> None:
    """Traceback chains: provider -> upstream provider, originating provider -> customer."""
    for source in _TRACED:
        for provider, upstream, n in source.upstream_pairs(campaign_ids):
            a, b = f"p{provider.lower()}", f"p{upstream.lower()}"
            g.add_node(a, label=provider, kind="provider")
            g.add_node(b, label=upstream, kind="provider")
            g.add_edge(a, b, weight=n, kind="upstream")
        for campaign_id, provider, name in source.customers(campaign_ids):
            cust, prov = f"u{name.lower()}", f"p{provider.lower()}"
            g.add_node(cust, label=name, kind="customer")
            g.add_node(prov, label=provider, kind="provider")
            w = g.edges[prov, cust]["weight"] + 1 if g.has_edge(prov, cust) else 1
            g.add_edge(prov, cust, weight=w, kind="originated_for")
            g.add_edge(f"c{campaign_id}", cust, weight=w, kind="customer")


def cytoscape(g: nx.Graph) -> dict[str, Any]:
    elements: list[dict[str, Any]] = []
    for node, data in g.nodes(data=True):
        elements.append({"data": {"id": node, "degree": g.degree(node), **{k: v for k, v in data.items() if v is not None}}})
    for a, b, data in g.edges(data=True):
        elements.append({"data": {"id": f"{a}->{b}", "source": a, "target": b, **data}})
    kinds = Counter(d.get("kind") for _, d in g.nodes(data=True))
    # Connected groups of campaigns sharing infrastructure are what investigators look for.
    linked = [
        sorted(d["url_id"] for n in comp if (d := g.nodes[n]).get("kind") == "campaign")
        for comp in nx.connected_components(g)
    ]
    linked = [c for c in linked if len(c) > 1]
    return {"elements": elements, "counts": dict(kinds), "linked_campaigns": sorted(linked, key=len, reverse=True)[:10]}
