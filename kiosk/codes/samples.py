"""Fictitious platform data for the embedded platform, demos and tests.

The people are the sample ID cards of :mod:`drivers.idcard.samples` (so a demo terminal that
reads a sample card finds enterprises for that person); the enterprises are made up, with
unified social credit codes that carry correct GB 32100-2015 check characters.
"""

from __future__ import annotations

from drivers.idcard import samples as cards
from kiosk.codes.classify import uscc_check_char
from kiosk.codes.platform import Enterprise
from kiosk.codes.tokens import Role


def _uscc(first17: str) -> str:
    return first17 + uscc_check_char(first17)


#: enterprise id -> (name, credit code)
ENTERPRISES: dict[str, tuple[str, str]] = {
    "ent-0001": ("济南泉城示例科技有限公司", _uscc("91370102MA3C5X7Y1")),
    "ent-0002": ("山东齐鲁示例物流有限公司", _uscc("91370100MA3D2K8P4")),
    "ent-0003": ("历下区示例便民超市", _uscc("92370102MA3E9QW56")),
}

#: ID number -> [(enterprise id, role)]
MEMBERSHIPS: dict[str, list[tuple[str, Role]]] = {
    cards.RESIDENT.id_number: [("ent-0001", Role.LEGAL_REPRESENTATIVE),
                               ("ent-0002", Role.AGENT)],
    cards.RESIDENT_LONG_TERM.id_number: [("ent-0003", Role.LEGAL_REPRESENTATIVE)],
}

#: ID number -> name, for people the platform knows (others are registered on first contact)
PEOPLE: dict[str, str] = {
    cards.RESIDENT.id_number: cards.RESIDENT.name,
    cards.RESIDENT_LONG_TERM.id_number: cards.RESIDENT_LONG_TERM.name,
    cards.EXPIRED.id_number: cards.EXPIRED.name,
}


def enterprise(enterprise_id: str, role: Role) -> Enterprise:
    name, credit = ENTERPRISES[enterprise_id]
    return Enterprise(enterprise_id, name, credit, role)


def enterprises_of(id_number: str) -> list[Enterprise]:
    return [enterprise(eid, role) for eid, role in MEMBERSHIPS.get(id_number.upper(), [])]
