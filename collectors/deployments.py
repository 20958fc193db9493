"""Sync the config's deployments and matching rules into deployments / deployment_resources.

Rules say which billing line items and metric series belong to a deployment: a resource id,
an instance type, a tag (e.g. `unitcost:deployment = chat`), a Kubernetes namespace, or a set
of metric labels. The view billing_attributed_lines applies them; spend no rule claims is kept
under the deployment id 'unmapped', never dropped.
"""

from __future__ import annotations

from collections.abc import Callable

from unitcost.collectors import metric_store

from unitcost import sqlfiles
from unitcost.config import Deployment
from unitcost.store import Store


def rules(dep: Deployment) -> list[tuple[str, str, str, str]]:
    """(deployment_id, match_kind, match_key, match_value) for one deployment."""
    m = dep.match
    out = [(dep.id, "resource_id", "", v) for v in m.resource_ids]
    out += [(dep.id, "instance_type", "", v) for v in m.instance_types]
    out += [(dep.id, "tag", k, v) for k, v in m.tags.items()]
    out += [(dep.id, "k8s_namespace", "", v) for v in m.k8s_namespaces]
    out += [(dep.id, "metric_label", k, v) for k, v in m.metric_labels.items()]
    return out


def sync(
    store: Store,
    deployments: list[Deployment],
    *,
    rederive: bool = False,
    on_rederive: Callable[[int, int], None] | None = None,
) -> int:
    """Upsert every configured deployment and replace its rules; one transaction.

    In that transaction every stored metric series is re-mapped under the new rules, and the
    metric_intervals of the deployments whose series moved are derived again (all of them with
    `rederive`), so changed rules never leave tokens counted for the old deployment.
    on_rederive(deployments re-derived, interval rows written) reports that part.
    """
    with store.write() as con:
        for d in deployments:
            con.execute(
                sqlfiles.load("queries", "collect_deployment_upsert"),
                [
                    d.id,
                    d.model,
                    d.parameter_count,
                    d.quantization,
                    d.engine,
                    d.hardware,
                    d.gpu_count,
                    d.price_ref,
                ],
            )
            con.execute(sqlfiles.load("queries", "collect_deployment_rules_delete"), [d.id])
            for r in rules(d):
                con.execute(sqlfiles.load("queries", "collect_deployment_rule_insert"), list(r))
        deps, rows = metric_store.rederive(con, everything=rederive)
    if on_rederive is not None:
        on_rederive(deps, rows)
    return len(deployments)
