"""How the suite is cut and scheduled: one layer per test, work units for two cores.

Layers. Each test carries exactly one marker, the heaviest real part it runs
(pyproject.toml lists them): ``unit`` (no warehouse build, no Airflow, no
Superset, no browser: the fast tier), ``dbt``, ``airflow``, ``superset``,
``browser``. A test without one, with two, or marked ``unit`` while it asks for
a fixture that builds a warehouse or starts a server stops the collection.

Work units. ``scripts/test.sh`` runs the suite on both cores with
pytest-xdist (``--dist loadgroup``). Tests that share a module or session
fixture of this suite (a generated group built once, a Superset server
started once) form one unit, which one worker runs whole, so each such
fixture is still made once; every other test is a unit alone. Units start
heaviest first, by the seconds each test took in a recorded run
(``tests/durations.json``, written by ``pytest --store-durations``): the
order only packs the two workers, it decides nothing else, and a test not
recorded yet counts as the typical test of its layer.

The units are handed out by a scheduler of our own (``WorkUnitScheduling``,
pytest-xdist's scope scheduling with our units as scopes): pytest-xdist
3.8's own ``loadgroup`` renames a test's ``_nodeid``, which pytest 9.2 no
longer reads, so its groups were silently ignored. The controller does not
collect; each worker writes the units it collected to a file named by the
run's id, and the controller reads it when it schedules.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

LAYERS = ("unit", "dbt", "airflow", "superset", "browser")
# a session fixture that brings a heavier part than a unit test may run
FIXTURE_LAYERS = {"reported_group": "dbt", "superset_server": "superset"}
DURATIONS = Path(__file__).with_name("durations.json")
# seconds of a test not recorded yet, by layer (the median of each layer's recorded tests, about)
TYPICAL_SECONDS = {"unit": 0.5, "dbt": 8.0, "airflow": 30.0, "superset": 2.0, "browser": 15.0}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--store-durations",
        action="store_true",
        help=f"write the seconds each test took to {DURATIONS.name} (the order of the work units)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    check_layers(items)
    units = work_units(items)
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run and config.getvalue("loadgroup"):  # a worker: tell the controller the units
        shared = {
            item.nodeid: name for name, members in units.items() if len(members) > 1 for item in members
        }
        written = units_file(run).with_suffix(f".{os.getpid()}")
        written.write_text(json.dumps(shared), encoding="utf-8")
        os.replace(written, units_file(run))  # every worker writes the same units
    recorded = json.loads(DURATIONS.read_text(encoding="utf-8")) if DURATIONS.exists() else {}
    weight = {name: sum(seconds(item, recorded) for item in members) for name, members in units.items()}
    order = sorted(units, key=lambda name: -weight[name])
    items[:] = [item for name in order for item in units[name]]


def units_file(run: str) -> Path:
    return Path(tempfile.gettempdir()) / f"receivables-test-units-{run}.json"


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup``: our work units as pytest-xdist's scopes (see the module's docstring)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class WorkUnitScheduling(LoadScopeScheduling):
        def __init__(self, config: pytest.Config, log: Any = None) -> None:
            super().__init__(config, log)
            self.units: dict[str, str] = {}

        def schedule(self) -> None:
            path = units_file(self.nodes[0].workerinput["testrunuid"])
            self.units = json.loads(path.read_text(encoding="utf-8"))
            path.unlink(missing_ok=True)
            super().schedule()

        def _split_scope(self, nodeid: str) -> str:
            return self.units.get(nodeid, nodeid)

    return WorkUnitScheduling(config, log)


def layer(item: pytest.Item) -> str:
    return next(marker.name for marker in item.iter_markers() if marker.name in LAYERS)


def check_layers(items: list[pytest.Item]) -> None:
    wrong = []
    for item in items:
        layers = {marker.name for marker in item.iter_markers() if marker.name in LAYERS}
        needed = {
            FIXTURE_LAYERS[name] for name in getattr(item, "fixturenames", ()) if name in FIXTURE_LAYERS
        }
        if len(layers) != 1:
            wrong.append(f"{item.nodeid}: marked {sorted(layers) or 'with no layer'}")
        elif layers == {"unit"} and needed:
            wrong.append(f"{item.nodeid}: marked unit, uses {sorted(needed)}")
    if wrong:
        raise pytest.UsageError(
            f"each test is marked with exactly one of {', '.join(LAYERS)} (its heaviest part):\n  "
            + "\n  ".join(wrong)
        )


def shared_fixtures(item: pytest.Item) -> set[str]:
    """The suite's own fixtures wider than one test that ``item`` uses, each named once for its scope."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return set()
    shared = set()
    for name, definitions in info.name2fixturedefs.items():
        definition = definitions[-1]
        module = getattr(definition.func, "__module__", "")
        if definition.scope == "function" or not module.startswith(("conftest", "test_")):
            continue  # pytest's and plugins' own (tmp_path_factory, ...) are cheap
        shared.add(name if definition.scope == "session" else f"{module}.{name}")
    return shared


def work_units(items: list[pytest.Item]) -> dict[str, list[pytest.Item]]:
    """Tests joined by the shared fixtures they use (connected components), in collection order."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    keys = {}
    for item in items:
        fixtures = sorted(shared_fixtures(item))
        keys[item.nodeid] = fixtures
        for other in fixtures[1:]:
            parent[root(other)] = root(fixtures[0])
    components: dict[str, set[str]] = defaultdict(set)
    for fixtures in keys.values():
        for key in fixtures:
            components[root(key)].add(key)
    names = {top: min(members) for top, members in components.items()}
    units: dict[str, list[pytest.Item]] = {}
    for item in items:
        fixtures = keys[item.nodeid]
        name = names[root(fixtures[0])] if fixtures else item.nodeid
        units.setdefault(name, []).append(item)
    return units


def seconds(item: pytest.Item, recorded: dict[str, float]) -> float:
    return recorded.get(item.nodeid, TYPICAL_SECONDS[layer(item)])


_measured: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _measured[report.nodeid] += report.duration  # setup, call and teardown


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if not config.getoption("--store-durations") or hasattr(config, "workerinput"):
        return  # the controller writes, from every worker's reports
    recorded = json.loads(DURATIONS.read_text(encoding="utf-8")) if DURATIONS.exists() else {}
    recorded.update({nodeid: round(duration, 2) for nodeid, duration in _measured.items()})
    DURATIONS.write_text(json.dumps(dict(sorted(recorded.items())), indent=1) + "\n", encoding="utf-8")
