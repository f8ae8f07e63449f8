"""The dbt graph's layer rule (receivables.dev.dbt_layers) catches each kind of breach.

The rule runs on the project's own manifest in ``receivables.dev.dbt_check``
(both tiers of scripts/test.sh); here it runs on small graphs, one breach
each, so that a rule that cannot fail would show.
"""

from __future__ import annotations

from typing import Any

import pytest

from receivables.dev.dbt_layers import MAX_PARENTS, breaches


def graph(*edges: tuple[str, str], extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """A manifest of ``(child, parent)`` edges; a node's layer is its name's prefix."""
    folders = {"stg": "models/staging", "int": "models/intermediate", "mart": "models/marts", "odd": "models"}
    nodes: dict[str, Any] = {}
    sources: dict[str, Any] = {}
    parents: dict[str, list[str]] = {}

    def node_id(name: str) -> str:
        prefix = name.split("_")[0]
        if prefix == "raw":
            sources[f"source.p.raw.{name}"] = {
                "resource_type": "source",
                "name": name,
                "original_file_path": "x",
            }
            return f"source.p.raw.{name}"
        if prefix == "seed":
            nodes[f"seed.p.{name}"] = {
                "resource_type": "seed",
                "name": name,
                "original_file_path": "seeds/x.csv",
            }
            return f"seed.p.{name}"
        nodes[f"model.p.{name}"] = {
            "resource_type": "model",
            "name": name,
            "original_file_path": f"{folders[prefix]}/{name}.sql",
        }
        return f"model.p.{name}"

    for child, parent in edges:
        parents.setdefault(node_id(child), []).append(node_id(parent))
    for name in extra:
        node_id(name)
    return {"nodes": nodes, "sources": sources, "parent_map": parents}


@pytest.mark.unit
def test_a_graph_that_keeps_its_layers_has_no_breach():
    assert (
        breaches(
            graph(
                ("stg_a", "raw_a"),
                ("int_a", "stg_a"),
                ("int_b", "int_a"),
                ("int_b", "seed_x"),
                ("mart_a", "int_b"),
                ("mart_a", "seed_x"),
            )
        )
        == []
    )


@pytest.mark.unit
@pytest.mark.parametrize(
    ("edge", "breach"),
    [
        (
            ("mart_a", "stg_a"),
            "mart_a (marts) reads stg_a (staging): a marts model reads intermediate, seed only",
        ),
        (
            ("mart_b", "mart_a"),
            "mart_b (marts) reads mart_a (marts): a marts model reads intermediate, seed only",
        ),
        (("mart_a", "raw_a"), "mart_a (marts) reads raw_a (source)"),
        (("int_a", "raw_a"), "int_a (intermediate) reads raw_a (source)"),
        (("int_a", "mart_a"), "int_a (intermediate) reads mart_a (marts)"),
        (("stg_a", "int_a"), "stg_a (staging) reads int_a (intermediate): a staging model reads source only"),
        (("stg_b", "stg_a"), "stg_b (staging) reads stg_a (staging)"),
        (("odd_a", "stg_a"), "odd_a: a model outside models/{staging,intermediate,marts}"),
    ],
)
def test_each_read_across_the_layers_is_named(edge, breach):
    found = breaches(graph(edge))
    assert len(found) == 1 and found[0].startswith(breach), found


@pytest.mark.unit
def test_a_model_with_too_many_parents_is_named():
    edges = [("int_big", f"int_p{index}") for index in range(MAX_PARENTS)]
    assert breaches(graph(*edges)) == []
    [breach] = breaches(graph(*edges, ("int_big", "seed_x")))
    assert breach.startswith(
        f"int_big (intermediate) has {MAX_PARENTS + 1} parents, more than {MAX_PARENTS}: "
    )
