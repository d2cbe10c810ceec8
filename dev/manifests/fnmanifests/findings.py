"""What every check returns: a finding that names file, document and field path."""
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Finding:
    file: str          # repo-relative path (or "<overlay> (rendered)")
    doc: str           # "Kind/name", empty when the finding is about the file
    path: str          # dotted field path, empty when about the whole document
    message: str

    def __str__(self) -> str:
        return ": ".join(part for part in (self.file, self.doc, self.path, self.message) if part)


@dataclass
class Doc:
    """One YAML document of a manifest file."""
    file: str
    index: int
    body: dict

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", ""))

    @property
    def name(self) -> str:
        return str((self.body.get("metadata") or {}).get("name", ""))

    @property
    def label(self) -> str:
        return f"{self.kind or '?'}/{self.name or f'#{self.index}'}"

    def finding(self, path: str, message: str) -> Finding:
        return Finding(self.file, self.label, path, message)


def field_path(parts) -> str:
    """['spec', 'containers', 0, 'image'] -> spec.containers[0].image (odd keys quoted)."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.replace("-", "").replace("_", "").isalnum():
            out += f".{part}" if out else part
        else:
            out += f'["{part}"]'
    return out
