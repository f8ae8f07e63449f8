"""The dbt graph keeps its layers: what each model may read, and how much (issue 34).

Read from dbt's ``manifest.json`` (``dbt parse`` writes it), so the rule is
the graph dbt builds, not a reading of the SQL:

- a staging model (``models/staging``) reads sources only: one per raw table, renamed and typed;
- an intermediate model reads staging and intermediate models and seeds;
- a mart reads intermediate models and seeds: never a source, a staging model or another mart, so
  that every figure a mart publishes is computed once, in the intermediate layer, and two marts
  that show it agree;
- a model has at most ``MAX_PARENTS`` parents: past that it does several things and should be split.

``receivables.dev.dbt_check`` runs it after ``dbt parse`` (both tiers of ``scripts/test.sh``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_PARENTS = 7

LAYERS = ("staging", "intermediate", "marts")
# what a model of each layer may read: sources, seeds and the models of these layers
READS: dict[str, frozenset[str]] = {
    "staging": frozenset({"source"}),
    "intermediate": frozenset({"seed", "staging", "intermediate"}),
    "marts": frozenset({"seed", "intermediate"}),
}


def layer_of(node: Mapping[str, Any]) -> str:
    """``source``, ``seed``, or the folder under models/ of a model (its layer)."""
    kind = node["resource_type"]
    if kind in {"source", "seed"}:
        return str(kind)
    folder = str(node["original_file_path"]).split("/")
    if kind == "model" and len(folder) > 2 and folder[0] == "models" and folder[1] in LAYERS:
        return folder[1]
    return f"{kind} in {'/'.join(folder[:-1])}"


def breaches(manifest: Mapping[str, Any]) -> list[str]:
    """Each model that reads across its layer or has too many parents, in words; empty when the graph is right."""
    nodes = {**manifest["nodes"], **manifest["sources"]}
    found = []
    for unique_id, node in sorted(manifest["nodes"].items()):
        if node["resource_type"] != "model":
            continue
        name, layer = node["name"], layer_of(node)
        if layer not in READS:
            found.append(
                f"{name}: a model outside models/{{{','.join(LAYERS)}}} ({node['original_file_path']})"
            )
            continue
        parents = sorted(set(manifest["parent_map"].get(unique_id, [])))
        for parent in parents:
            parent_layer = layer_of(nodes[parent])
            if parent_layer not in READS[layer]:
                found.append(
                    f"{name} ({layer}) reads {nodes[parent]['name']} ({parent_layer}): a {layer} model "
                    f"reads {', '.join(sorted(READS[layer]))} only"
                )
        if len(parents) > MAX_PARENTS:
            found.append(
                f"{name} ({layer}) has {len(parents)} parents, more than {MAX_PARENTS}: "
                f"{', '.join(nodes[p]['name'] for p in parents)}"
            )
    return found
