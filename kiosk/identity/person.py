"""Who the resident is, for the length of one session.

An :class:`Identity` is built from an ID card, a social security card or a scanned resident
code. It lives only inside :class:`kiosk.session.machine.Session`; :meth:`Identity.wipe`
overwrites what can be overwritten (the photo bytes) and drops the rest when the session
ends. Its ``repr`` and ``str`` are masked so that an accidental log line leaks nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from drivers.privacy import mask_id_number, mask_name


@dataclass(repr=False, eq=False)
class Identity:
    source: str  # "idcard" | "sscard" | "code"
    name: str
    id_number: str
    card_type: str = "resident"
    gender: str = ""
    birth_date: dt.date | None = None
    address: str = ""
    expired: bool = False
    photo: bytearray = field(default_factory=bytearray)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    @property
    def masked_id(self) -> str:
        return mask_id_number(self.id_number)

    def wipe(self) -> None:
        """Overwrite the photo buffer and drop every personal field."""
        for i in range(len(self.photo)):
            self.photo[i] = 0
        self.photo = bytearray()
        self.name = self.id_number = self.address = self.gender = ""
        self.birth_date = None
        self.extra.clear()

    def __repr__(self) -> str:
        return f"Identity(source={self.source!r}, name={self.masked_name!r}, id={self.masked_id!r})"

    __str__ = __repr__

    # -- builders from driver results --------------------------------------------------------
    @classmethod
    def from_idcard(cls, data: Any, today: dt.date | None = None) -> Identity:
        """From ``drivers.idcard.IdCardData``."""
        today = today or dt.date.today()
        card_type = getattr(data.card_type, "value", str(data.card_type))
        return cls(
            source="idcard",
            name=data.name or getattr(data, "english_name", ""),
            id_number=data.id_number,
            card_type=card_type,
            gender=data.gender,
            birth_date=data.birth_date,
            address=data.address,
            expired=bool(data.expired(today)),
            photo=bytearray(getattr(data, "photo_wlt", b"") or b""),
        )

    @classmethod
    def from_sscard(cls, data: Any) -> Identity:
        """From ``drivers.smartcard.SsCardData``."""
        birth = data.birth_date if isinstance(data.birth_date, dt.date) else None
        return cls(source="sscard", name=data.name, id_number=data.ss_number,
                   card_type="social_security", gender=data.gender, birth_date=birth)
