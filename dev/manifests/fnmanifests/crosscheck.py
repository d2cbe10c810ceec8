"""fnshop cross-checks (placeholder; filled in next)."""


def run(root, raw, rendered):
    return []
