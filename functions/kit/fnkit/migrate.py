"""Versioned SQL migrations: functions/migrations/NNNN_name.sql, each applied once, in order,
in its own transaction, recorded in schema_migrations with a checksum so an edited migration
that already ran is reported instead of silently diverging.

    python -m fnkit.migrate [folder]
"""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from .config import env

DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "migrations"
_LOCK_KEY = 0x0F5B_0D0B  # serialises concurrent runs (two `task up`s, a Job and a developer)


class MigrationError(RuntimeError):
    pass


def apply_all(folder: Path = DEFAULT_FOLDER) -> list[str]:
    import psycopg2

    applied_now = []
    conn = psycopg2.connect(env("DATABASE_URL"), connect_timeout=5)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))  # held by this session until close
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            cur.execute("SELECT version, checksum FROM schema_migrations")
            applied = dict(cur.fetchall())
        for path in sorted(folder.glob("*.sql")):
            sql = path.read_text()
            checksum = hashlib.sha256(sql.encode()).hexdigest()
            if path.stem in applied:
                if applied[path.stem] != checksum:
                    raise MigrationError(f"{path.name} changed after it was applied; add a new migration instead")
                continue
            with conn, conn.cursor() as cur:  # one transaction per migration
                cur.execute(sql)
                cur.execute("INSERT INTO schema_migrations (version, checksum) VALUES (%s, %s)", (path.stem, checksum))
            applied_now.append(path.name)
    finally:
        conn.close()
    return applied_now


def main(argv: list[str]) -> int:
    folder = Path(argv[1]) if len(argv) > 1 else DEFAULT_FOLDER
    try:
        applied = apply_all(folder)
    except MigrationError as exc:
        print(f"migrate: {exc}", file=sys.stderr)
        return 1
    print(f"migrate: applied {len(applied)} ({', '.join(applied) or 'up to date'})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
