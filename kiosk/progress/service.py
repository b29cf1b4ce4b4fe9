"""Progress look-ups, run on a worker thread by the screen.

Each returns a :class:`ProgressLookup` instead of raising, so that the screen has exactly
three outcomes to show: applications, none found (with the reason), or the platform not
reachable. The resident's ID number goes to the platform only; nothing personal is logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from kiosk.codes.platform import CodePlatform, IssueRefused, Person
from kiosk.codes.progress import (
    Application,
    BadHandlingNumber,
    ProgressNotFound,
    normalise_handling_number,
)
from kiosk.codes.refusals import PlatformUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProgressLookup:
    applications: tuple[Application, ...] = ()
    #: "" found; "none" nothing for this person; "not_found" no such number; "bad_number";
    #: "unavailable" the platform could not be reached
    problem: str = ""
    message: str = field(default="")  # msgid for the screen

    @property
    def ok(self) -> bool:
        return not self.problem


def lookup_person(platform: CodePlatform, identity: Any) -> ProgressLookup:
    try:
        found = platform.progress_for(Person.from_identity(identity))
    except (PlatformUnavailable, IssueRefused, OSError) as exc:
        log.warning("progress look-up failed: %s", type(exc).__name__)
        return ProgressLookup(problem="unavailable",
                              message="暂时无法连接服务平台，请稍后再试或到窗口咨询")
    if not found:
        return ProgressLookup(problem="none", message="没有查到您名下的办件")
    return ProgressLookup(tuple(found))


def lookup_number(platform: CodePlatform, text: str) -> ProgressLookup:
    try:
        number = normalise_handling_number(text)
        return ProgressLookup((platform.progress_by_number(number),))
    except BadHandlingNumber:
        return ProgressLookup(problem="bad_number",
                              message="办件编号格式不正确，请核对回执后重新输入")
    except ProgressNotFound:
        return ProgressLookup(problem="not_found", message="没有找到这个办件编号，请核对回执")
    except (PlatformUnavailable, IssueRefused, OSError) as exc:
        log.warning("progress look-up by number failed: %s", type(exc).__name__)
        return ProgressLookup(problem="unavailable",
                              message="暂时无法连接服务平台，请稍后再试或到窗口咨询")
