"""Administrator accounts are made from the command line, never over HTTP.

    python -m auth.admin create --email ops@example.com [--password-stdin]
    python -m auth.admin promote --email existing@example.com

`create` registers a new account with the admin role (same email and password rules as
POST /api/auth/register); the password is prompted for twice, or read as one line from stdin
with --password-stdin (for scripts: `printf '%s\\n' "$PW" | python -m auth.admin create ...`).
`promote` gives an existing account the admin role; it takes effect at the account's next login
or refresh. Both read DATABASE_URL and print the account as JSON (never the password or hash).
With PYTHONPATH=functions; `task admin:create -- --email ...` wraps `create`.
"""
from __future__ import annotations

import argparse
import getpass
import json
import sys

from fnkit.errors import Problem


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("repeat password: "):
        raise SystemExit("admin: the passwords differ")
    return first


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m auth.admin", description="Manage fnshop administrators.")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create a new administrator account")
    create.add_argument("--email", required=True)
    create.add_argument("--password-stdin", action="store_true", help="read the password as one line from stdin")
    promote = commands.add_parser("promote", help="give an existing account the admin role")
    promote.add_argument("--email", required=True)
    args = parser.parse_args(argv)

    from auth import service  # after parsing, so --help works without the database libraries

    try:
        if args.command == "create":
            account = service.create_admin({"email": args.email, "password": _read_password(args.password_stdin)})
        else:
            promoted = service.promote_to_admin(args.email)
            if promoted is None:
                print(f"admin: no account with email {args.email.strip().lower()}", file=sys.stderr)
                return 1
            account = promoted.to_public()
    except Problem as problem:
        details = "; ".join(f"{e.field} {e.message}" for e in problem.errors) or problem.detail
        print(f"admin: {details}", file=sys.stderr)
        return 1
    print(json.dumps(account))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
