"""Owner key roles, and how a key is written in `RETRIEVER_PAGES_API_KEYS`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

ANY_NAMESPACE = "*"
# Where organization secrets live: usable from every namespace (Mixpeek's model), named by no
# namespace header. No namespace can be called this (namespaces are never empty).
ORGANIZATION = ""


class Role(StrEnum):
    """What an owner key may do: a viewer reads; an editor also creates, changes and publishes;
    an owner also handles secrets and deletes."""

    VIEWER = "viewer"
    EDITOR = "editor"
    OWNER = "owner"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


@dataclass(frozen=True)
class KeyEntry:
    namespace: str
    key: str
    role: Role


def parse_key_entry(entry: str) -> KeyEntry:
    """`KEY`, `NAMESPACE:KEY`, either with `@ROLE` after it (`owner` when none is given).
    A key without a namespace works in every namespace."""
    text, at, role = entry.rpartition("@")
    if not at:
        text, role = entry, Role.OWNER.value
    namespace, _, key = text.rpartition(":")
    if role not in {r.value for r in Role}:
        raise ValueError(f"{role!r} is not a role; roles are viewer, editor and owner")
    return KeyEntry(namespace or ANY_NAMESPACE, key, Role(role))
