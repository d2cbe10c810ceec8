"""What the function code declares, read with `ast` (never imported: no dependencies, no
import-time side effects): function targets per domain, their HTTP routes and whether they
read a caller's token, and the kit's SETTINGS."""
import ast
from dataclasses import dataclass
from pathlib import Path

TRIGGER_DECORATORS = {"http", "cloud_event"}
KIT_DIRS = {"kit", "migrations"}


@dataclass(frozen=True)
class Target:
    name: str            # products_list
    domain: str          # products
    file: str            # functions/products/main.py
    trigger: str         # http | cloud_event
    method: str | None   # GET (from @endpoint("GET /api/products"))
    route: str | None    # /api/products/{product_id}
    needs_token: bool    # calls principal_from(...): acts for an authenticated caller
    admin: bool = False  # calls require_role(...): an admin operation

    @property
    def internal(self) -> bool:
        """Service-to-service endpoints live under /internal/ and never pass the gateway."""
        return bool(self.route) and self.route.startswith("/internal/")

    @property
    def service(self) -> str:
        return self.name.replace("_", "-")


@dataclass(frozen=True)
class Setting:
    name: str
    secret: bool
    default: str | None


def discover_targets(root: Path) -> list[Target]:
    targets = []
    for main in sorted((root / "functions").glob("*/main.py")):
        domain = main.parent.name
        if domain in KIT_DIRS:
            continue
        tree = ast.parse(main.read_text(), filename=str(main))
        reads_token = _reaches(tree, "principal_from")
        admin_only = _reaches(tree, "require_role")
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and (trigger := _trigger(node)):
                method, route = _endpoint(node)
                targets.append(Target(node.name, domain, str(main.relative_to(root)), trigger,
                                      method, route, node.name in reads_token,
                                      node.name in admin_only))
    return targets


def _reaches(tree: ast.Module, callee: str) -> set[str]:
    """Names of the module's functions that call `callee`, directly or through helpers of
    the same module (users' `_me(request)` calls principal_from for every target)."""
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    calls = {name: _called_names(f) for name, f in functions.items()}
    reaching = {name for name, called in calls.items() if callee in called}
    grew = True
    while grew:
        more = {name for name, called in calls.items() if called & reaching} - reaching
        reaching |= more
        grew = bool(more)
    return reaching


def _decorator_name(decorator: ast.expr) -> str:
    """functions_framework.http -> "http"; endpoint("...") -> "endpoint"."""
    node = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(node, ast.Attribute):
        return node.attr if _base_name(node) == "functions_framework" else f"other.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def _base_name(node: ast.Attribute) -> str:
    return node.value.id if isinstance(node.value, ast.Name) else ""


def _trigger(func: ast.FunctionDef) -> str | None:
    for decorator in func.decorator_list:
        name = _decorator_name(decorator)
        if name in TRIGGER_DECORATORS:
            return name
    return None


def _endpoint(func: ast.FunctionDef) -> tuple[str | None, str | None]:
    for decorator in func.decorator_list:
        if isinstance(decorator, ast.Call) and _decorator_name(decorator) == "endpoint" and decorator.args:
            spec = decorator.args[0]
            if isinstance(spec, ast.Constant) and isinstance(spec.value, str) and " " in spec.value:
                method, route = spec.value.split(" ", 1)
                return method.upper(), route.strip()
    return None, None


def _called_names(func: ast.FunctionDef) -> set[str]:
    names = set()
    for node in ast.walk(func):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                names.add(node.func.id)
            elif isinstance(node.func, ast.Attribute):
                names.add(node.func.attr)
    return names


def read_settings(root: Path) -> list[Setting] | None:
    """SETTINGS of functions/kit/fnkit/config.py: a tuple of Setting(name, doc, default,
    secret=...) calls. None when the file or the assignment is missing."""
    config = root / "functions" / "kit" / "fnkit" / "config.py"
    if not config.is_file():
        return None
    for node in ast.parse(config.read_text()).body:
        target = node.target if isinstance(node, ast.AnnAssign) else (
            node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None)
        if isinstance(target, ast.Name) and target.id == "SETTINGS" and node.value is not None:
            return [s for s in map(_setting, getattr(node.value, "elts", [])) if s]
    return None


def _setting(call: ast.expr) -> Setting | None:
    if not isinstance(call, ast.Call):
        return None
    args = [_literal(a) for a in call.args]
    kwargs = {k.arg: _literal(k.value) for k in call.keywords}
    name = kwargs.get("name", args[0] if args else None)
    if not isinstance(name, str):
        return None
    default = kwargs.get("default", args[2] if len(args) > 2 else None)
    secret = kwargs.get("secret", args[3] if len(args) > 3 else False)
    return Setting(name, bool(secret), default if isinstance(default, str) else None)


def _literal(node: ast.expr):
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None  # a computed default (a path built at import): present, value unknown
