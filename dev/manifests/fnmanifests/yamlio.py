"""YAML loading that reads values the way the Kubernetes tooling (go-yaml) does."""
import yaml

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class KubeLoader(_Base):
    """SafeLoader without the YAML 1.1 `=` (value) and timestamp tags.

    go-yaml leaves `=` and `2024-01-01` as strings; PyYAML would turn them into a special
    tag (which it cannot even construct) and a date object, and a string field would then
    fail its schema for the wrong reason.
    """


KubeLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:value", "tag:yaml.org,2002:timestamp")]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}


def load_all(text: str) -> list:
    """Every non-empty document of a multi-document YAML text."""
    return [doc for doc in yaml.load_all(text, Loader=KubeLoader) if doc is not None]


def dump_all(docs) -> str:
    return yaml.safe_dump_all(docs, sort_keys=False, default_flow_style=False)


class _NoAliasDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
    """Generated manifests repeat small lists; anchors (&id001) would only confuse readers."""

    def ignore_aliases(self, data):
        return True


def dump(doc) -> str:
    return yaml.dump(doc, Dumper=_NoAliasDumper, sort_keys=False, default_flow_style=False)
