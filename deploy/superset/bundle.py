"""Builds Superset's import ZIP of Lambdaflow's dashboards from the YAML beside this file.

    LAMBDAFLOW_PG_URI=postgresql://reader@host:5432/lambdaflow [PGPASSWORD=...] \
        python bundle.py --out lambdaflow-dashboards.zip

The database connection comes from LAMBDAFLOW_PG_URI (postgresql://, postgres:// or
jdbc:postgresql://; a password missing from it is taken from PGPASSWORD), so no secret is ever
written into the repository or passed on a command line. The ZIP holds that URI with its password,
because `superset import-dashboards` has no other way to receive one: it is created readable by
its owner only. A dashboard whose tables the database does not have (the production line's, when
only the telecom pipeline was provisioned) is left out, and said so on stderr. Nothing printed
contains the password.

Runs with the Python of scripts/superset-env.sh (PyYAML, SQLAlchemy and psycopg2 come with Superset).
"""

import argparse
import os
import sys
import zipfile
from pathlib import Path

import sqlalchemy
import yaml
from sqlalchemy.engine import make_url

HERE = Path(__file__).resolve().parent
ROOT = "lambdaflow_superset"  # the ZIP's top folder; Superset strips it
URI_PLACEHOLDER = "${LAMBDAFLOW_PG_URI}"


class BundleError(Exception):
    pass


def database_url(raw: str, pgpassword: str | None) -> sqlalchemy.engine.URL:
    """The SQLAlchemy URL Superset should use for a libpq or JDBC style PostgreSQL URI."""
    uri = raw.strip()
    if uri.startswith("jdbc:"):
        uri = uri[len("jdbc:"):]
    scheme, sep, rest = uri.partition("://")
    if not sep or scheme not in ("postgres", "postgresql", "postgresql+psycopg2"):
        raise BundleError(
            "superset bundle: LAMBDAFLOW_PG_URI must be a postgresql://user@host:port/database URI "
            "(postgres:// and jdbc:postgresql:// are accepted too)")
    try:
        url = make_url("postgresql+psycopg2://" + rest)
    except Exception as e:  # SQLAlchemy raises ArgumentError with the text it could not parse
        raise BundleError("superset bundle: LAMBDAFLOW_PG_URI is not a valid URI") from e
    if not url.database:
        raise BundleError("superset bundle: LAMBDAFLOW_PG_URI names no database")
    if url.password is None and pgpassword:
        url = url.set(password=pgpassword)
    return url


def shown(url: sqlalchemy.engine.URL) -> str:
    return url.render_as_string(hide_password=True)


def relations(url: sqlalchemy.engine.URL, schema: str) -> set[str]:
    """Tables and views of `schema`; the error text never carries the password."""
    engine = sqlalchemy.create_engine(url, connect_args={"connect_timeout": 10})
    try:
        inspector = sqlalchemy.inspect(engine)
        return set(inspector.get_table_names(schema=schema)) | set(inspector.get_view_names(schema=schema))
    except sqlalchemy.exc.SQLAlchemyError as e:
        detail = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
        if url.password:
            detail = detail.replace(url.password, "***")
        raise BundleError(f"superset bundle: cannot read the tables of {shown(url)}: {detail}") from None
    finally:
        engine.dispose()


def load(path: Path) -> dict:
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def chart_uuids(dashboard: dict) -> list[str]:
    return [node["meta"]["uuid"] for node in dashboard["position"].values()
            if isinstance(node, dict) and node.get("type") == "CHART"]


def build(source: Path, out: Path, url: sqlalchemy.engine.URL) -> str:
    datasets = {}
    for p in sorted((source / "datasets").rglob("*.yaml")):
        cfg = load(p)
        datasets[cfg["uuid"]] = (p, cfg)
    charts = {}
    for p in sorted((source / "charts").glob("*.yaml")):
        cfg = load(p)
        charts[cfg["uuid"]] = (p, cfg)
    database_files = sorted((source / "databases").glob("*.yaml"))
    if len(database_files) != 1:
        raise BundleError(f"superset bundle: expected one database in {source / 'databases'}")
    database = load(database_files[0])
    if database["sqlalchemy_uri"] != URI_PLACEHOLDER:
        raise BundleError(f"superset bundle: {database_files[0]} must say sqlalchemy_uri: {URI_PLACEHOLDER}")

    schemas = {cfg.get("schema") or "public" for _, cfg in datasets.values()}
    present = {(s, t) for s in schemas for t in relations(url, s)}

    files: dict[str, Path] = {}
    kept, skipped = [], []
    for p in sorted((source / "dashboards").glob("*.yaml")):
        dash = load(p)
        wanted_charts, wanted_datasets, missing = [], [], []
        for uuid in chart_uuids(dash):
            if uuid not in charts:
                raise BundleError(f"superset bundle: {p.name} places chart {uuid}, which no file in charts/ has")
            chart_path, chart = charts[uuid]
            if chart["dataset_uuid"] not in datasets:
                raise BundleError(f"superset bundle: {chart_path.name} uses dataset {chart['dataset_uuid']}, "
                                  "which no file in datasets/ has")
            dataset_path, dataset = datasets[chart["dataset_uuid"]]
            if dataset["database_uuid"] != database["uuid"]:
                raise BundleError(f"superset bundle: {dataset_path.name} is not on database {database['uuid']}")
            wanted_charts.append(chart_path)
            wanted_datasets.append(dataset_path)
            if ((dataset.get("schema") or "public"), dataset["table_name"]) not in present:
                missing.append(dataset["table_name"])
        if missing:
            skipped.append(f"{dash['dashboard_title']} (no {', '.join(sorted(set(missing)))})")
            continue
        kept.append(dash["dashboard_title"])
        for f in [p, *wanted_charts, *wanted_datasets]:
            files[f.relative_to(source).as_posix()] = f
    for note in skipped:
        print(f"superset bundle: leaving out dashboard {note}", file=sys.stderr)
    if not kept:
        raise BundleError(f"superset bundle: {shown(url)} has none of the dashboards' tables; "
                          "run `lambdaflow provision` against it first")

    database["sqlalchemy_uri"] = url.render_as_string(hide_password=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(source / "metadata.yaml", f"{ROOT}/metadata.yaml")
        z.writestr(f"{ROOT}/{database_files[0].relative_to(source).as_posix()}",
                   yaml.safe_dump(database, sort_keys=False, allow_unicode=True))
        for name, f in sorted(files.items()):
            z.write(f, f"{ROOT}/{name}")
    n_charts = sum(1 for n in files if n.startswith("charts/"))
    n_datasets = sum(1 for n in files if n.startswith("datasets/"))
    return (f"superset bundle: {len(kept)} dashboard(s) ({'; '.join(kept)}), {n_charts} charts, "
            f"{n_datasets} datasets on {shown(url)} -> {out}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="the ZIP to write (mode 0600)")
    parser.add_argument("--source", type=Path, default=HERE, help="the bundle's YAML (default: beside this file)")
    args = parser.parse_args()
    raw = os.environ.get("LAMBDAFLOW_PG_URI")
    if not raw:
        print("superset bundle: set LAMBDAFLOW_PG_URI to the PostgreSQL URI Superset should read "
              "(its password in the URI or in PGPASSWORD)", file=sys.stderr)
        return 2
    try:
        url = database_url(raw, os.environ.get("PGPASSWORD"))
        print(build(args.source, args.out, url))
    except BundleError as e:
        print(e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
