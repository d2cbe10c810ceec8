"""Annotation keys read from the Go constants the controllers use, so the known set follows
the pinned upstream version instead of a list typed by hand."""
import re

from .yamlio import load_all


def annotation_keys(go_source: str, group_const: str) -> tuple[set[str], set[str]]:
    """(canonical suffixes, deprecated suffixes) of `<group_const> + "/suffix"` constants.

    Canonical keys are plain `Name = Group + "/x"` constants; entries of a
    `kmap.KeyPriority{...}` list that are not canonical are the deprecated spellings
    (minScale for min-scale) that the controller still reads."""
    group = re.escape(group_const)
    canonical = set(re.findall(rf'^\s*\w+\s*=\s*{group}\s*\+\s*"/([^"]+)"', go_source, re.M))
    in_lists = set(re.findall(rf'^\s*{group}\s*\+\s*"/([^"]+)",', go_source, re.M))
    return canonical, in_lists - canonical


def cluster_config_keys(configmap_yaml: str) -> set[str]:
    """Keys documented in a Knative config map's `_example` block (config-autoscaler)."""
    keys = set()
    for doc in load_all(configmap_yaml):
        example = (doc.get("data") or {}).get("_example", "")
        keys |= set(re.findall(r"^([a-z][a-z0-9-]+):", example, re.M))
    return keys
