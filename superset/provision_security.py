"""Roles and row-level security for the receivables dashboards (run with .venv-superset's Python).

Usage: python superset/provision_security.py FR01 DE01 ...   (the entity codes of the registry)

- ``Group CFO``: every receivables dataset, all entities.
- ``Controller <ENTITY>``: the entity-level datasets only, filtered to their entity
  by row-level security (``entity_code = '<ENTITY>'``).
- ``Receivables viewer``: every dataset, read-only (Gamma's permissions).
- ``Receivables SQL``: SQL Lab on the published warehouse (read-only: the
  database allows no DML and DuckDB is opened read-only). Give it with
  ``Group CFO``, to people entitled to every entity: row-level security does
  not apply to SQL Lab, so an entity controller never gets it.
Running it again updates the same roles and filters, never duplicates them.
"""

from __future__ import annotations

import sys

ENTITY_DATASETS = ("fct_open_items", "mart_aging", "mart_dso", "mart_freshness", "mart_data_issues")


def main(entity_codes: list[str]) -> None:
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from superset import db, security_manager
        from superset.connectors.sqla.models import RowLevelSecurityFilter, SqlaTable

        datasets = db.session.query(SqlaTable).filter(SqlaTable.schema == "marts").all()
        by_name = {dataset.table_name: dataset for dataset in datasets}
        gamma = security_manager.find_role("Gamma")

        def grant(role_name: str, tables: list[SqlaTable]) -> object:
            role = security_manager.find_role(role_name) or security_manager.add_role(role_name)
            access = [
                security_manager.add_permission_view_menu("datasource_access", table.perm) for table in tables
            ]
            role.permissions = list(gamma.permissions) + access
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
        for code in entity_codes:
            role = grant(f"Controller {code}", [by_name[name] for name in ENTITY_DATASETS if name in by_name])
            name = f"entity {code} only"
            rls = db.session.query(RowLevelSecurityFilter).filter_by(name=name).one_or_none()
            if rls is None:
                rls = RowLevelSecurityFilter(name=name)
                db.session.add(rls)
            rls.filter_type = "Regular"
            rls.clause = f"entity_code = '{code}'"
            rls.group_key = "entity_code"
            rls.tables = [by_name[n] for n in ENTITY_DATASETS if n in by_name]
            rls.roles = [role]
        db.session.commit()
        print(
            "roles: Group CFO, Receivables viewer, Receivables SQL, "
            f"{', '.join('Controller ' + c for c in entity_codes)}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
