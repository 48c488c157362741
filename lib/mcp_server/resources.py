"""The MCP resources: the failure catalogue and the fleet's topology, as JSON documents."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from lib.http.schemas.operations import ExpectedEffect
from lib.sim import FAILURE_TYPES, REGIONS, ROLES, Fleet


class CatalogueEntry(ExpectedEffect):
    type: str


class TopologyNode(BaseModel):
    id: str
    role: str
    region: str
    calls: list[str] = Field(description="Servers it depends on (downstream).")


class Topology(BaseModel):
    servers: int
    nodes: list[TopologyNode]


def catalogue() -> list[CatalogueEntry]:
    """Every failure type: what it hits, which metrics move, how recovery treats it."""
    return [
        CatalogueEntry(type=name, **ExpectedEffect.of(failure).model_dump())
        for name, failure in FAILURE_TYPES.items()
    ]


def topology(fleet: Fleet) -> Topology:
    """Who calls whom: load balancer → web → api → database, cache and queue, per region."""
    ids = fleet.ids
    nodes = [
        TopologyNode(
            id=ids[i],
            role=ROLES[int(fleet.role[i])],
            region=REGIONS[int(fleet.region[i])],
            calls=[ids[int(j)] for j in fleet.dependencies(i)],
        )
        for i in range(fleet.size)
    ]
    return Topology(servers=fleet.size, nodes=nodes)


@dataclass(frozen=True)
class Resource:
    uri: str
    name: str
    description: str


CATALOGUE = Resource(
    "openmanager://catalogue/failures",
    "failure-catalogue",
    "The failure types the fleet can suffer: category, targets, key metrics, recovery.",
)
TOPOLOGY = Resource(
    "openmanager://fleet/topology",
    "topology",
    "Every server with its role, region and the servers it calls.",
)
RESOURCES = (CATALOGUE, TOPOLOGY)
