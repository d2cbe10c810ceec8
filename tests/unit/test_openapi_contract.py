"""docs/openapi.yaml is the merge of docs/openapi/*.yaml, valid OpenAPI 3.1, and names every
HTTP function target it documents by operationId."""
from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("openapi_bundle", ROOT / "dev" / "openapi" / "bundle.py")
bundle = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bundle)


def test_published_contract_is_current_and_valid(capsys):
    assert bundle.main(["bundle.py", "--check"]) == 0, capsys.readouterr().err


def test_every_operation_id_is_an_http_function_target():
    targets = set()
    for main in (ROOT / "functions").glob("*/main.py"):
        for node in ast.parse(main.read_text()).body:
            if isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Attribute) and d.attr == "http" for d in node.decorator_list
            ):
                targets.add(node.name)
    document = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())
    operations = {op["operationId"] for item in document["paths"].values() for op in item.values() if isinstance(op, dict)}
    assert operations <= targets, f"documented but no such function: {sorted(operations - targets)}"
