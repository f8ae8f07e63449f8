"""Roles and row-level security for the receivables dashboards (run with .venv-superset's Python).

Usage: python superset/provision_security.py --entity-datasets=fct_open_items,... FR01=<uuid> ...
(the marts whose rows an entity's controllers read filtered to their entity,
flagged ``entity_rows: own`` in dbt_project/models/marts/_marts.yml; each
entity code of the registry and the UUID of its database, imported from the
bundle by ``receivables superset-provision``, which passes both)

- ``Group CFO``: every receivables dataset, all entities.
- ``Controller <ENTITY>``: the entity-level datasets only, filtered to their entity
  by row-level security (``entity_code = '<ENTITY>'``), and SQL Lab on their
  entity's database only (``entities/<ENTITY>.duckdb``: nothing but its rows).
- ``Receivables viewer``: every dataset, read-only (Gamma's permissions).
- Dashboards (``DASHBOARD_RBAC``): every one to ``Group CFO`` and ``Receivables
  viewer``; to the controllers, those whose charts all read entity-level
  datasets (``ENTITY_DASHBOARDS``), so no chart they open fails for access.
- ``Receivables SQL``: SQL Lab on the group's published warehouse (read-only:
  the database allows no DML and DuckDB is opened read-only). Give it with
  ``Group CFO``, to people entitled to every entity: row-level security does
  not apply to SQL Lab, so an entity controller never gets it. SQL Lab runs
  only on a database a role may read whole (``superset_config.py``): a
  controller's access to the group's datasets never opens the group database
  to their SQL.
- ``Public`` (anyone not logged in): the interface's language pack, nothing else.
Running it again updates the same roles and filters, never duplicates them.
"""

from __future__ import annotations

import sys

# the dashboards an entity's controllers open: every chart on them reads entity-level datasets only
ENTITY_DASHBOARDS = ("receivables-overview", "receivables-cash-forecast")


def main(entity_datasets: list[str], entity_databases: dict[str, str]) -> None:
    from uuid import UUID

    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from superset import db, security_manager
        from superset.connectors.sqla.models import RowLevelSecurityFilter, SqlaTable
        from superset.models.core import Database

        datasets = db.session.query(SqlaTable).filter(SqlaTable.schema == "marts").all()
        by_name = {dataset.table_name: dataset for dataset in datasets}
        gamma = security_manager.find_role("Gamma")

        def grant(role_name: str, tables: list[SqlaTable], more: tuple[object, ...] = ()) -> object:
            role = security_manager.find_role(role_name) or security_manager.add_role(role_name)
            access = [
                security_manager.add_permission_view_menu("datasource_access", table.perm) for table in tables
            ]
            role.permissions = list(dict.fromkeys([*gamma.permissions, *access, *more]))  # each once
            return role

        grant("Group CFO", datasets)
        grant("Receivables viewer", datasets)
        sql_lab = security_manager.find_role("sql_lab")
        sql_role = security_manager.find_role("Receivables SQL") or security_manager.add_role(
            "Receivables SQL"
        )
        databases = {dataset.database for dataset in datasets}
        sql_role.permissions = list(sql_lab.permissions) + [
            security_manager.add_permission_view_menu("database_access", database.perm)
            for database in databases
        ]
        for code, database_uuid in entity_databases.items():
            own = db.session.query(Database).filter_by(uuid=UUID(database_uuid)).one()
            role = grant(
                f"Controller {code}",
                [by_name[name] for name in entity_datasets if name in by_name],
                (
                    *sql_lab.permissions,
                    security_manager.add_permission_view_menu("database_access", own.perm),
                ),
            )
            name = f"entity {code} only"
            rls = db.session.query(RowLevelSecurityFilter).filter_by(name=name).one_or_none()
            if rls is None:
                rls = RowLevelSecurityFilter(name=name)
                db.session.add(rls)
            rls.filter_type = "Regular"
            rls.clause = f"entity_code = '{code}'"
            rls.group_key = "entity_code"
            rls.tables = [by_name[n] for n in entity_datasets if n in by_name]
            rls.roles = [role]
        from superset.models.dashboard import Dashboard

        group_roles = [
            security_manager.find_role("Group CFO"),
            security_manager.find_role("Receivables viewer"),
        ]
        controllers = [security_manager.find_role(f"Controller {code}") for code in entity_databases]
        for dashboard in db.session.query(Dashboard).filter(Dashboard.slug.like("receivables-%")).all():
            dashboard.roles = group_roles + (controllers if dashboard.slug in ENTITY_DASHBOARDS else [])
        # the login page's translations (superset_config.LANGUAGES), before anyone has logged in
        public = security_manager.find_role("Public") or security_manager.add_role("Public")
        public.permissions = [security_manager.add_permission_view_menu("can_language_pack", "Superset")]
        db.session.commit()
        print(
            "roles: Group CFO, Receivables viewer, Receivables SQL, "
            f"{', '.join('Controller ' + c for c in entity_databases)}"
        )


if __name__ == "__main__":
    flag = "--entity-datasets="
    given = [argument for argument in sys.argv[1:] if argument.startswith(flag)]
    if len(given) != 1:
        sys.exit(f"usage: {sys.argv[0]} {flag}MART,... ENTITY=UUID ...")
    main(
        [name for name in given[0].removeprefix(flag).split(",") if name],
        dict(argument.split("=", 1) for argument in sys.argv[1:] if not argument.startswith(flag)),
    )
