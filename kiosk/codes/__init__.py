"""Scanned codes and the resident/enterprise code (一码通行), without any UI.

- :mod:`~kiosk.codes.classify`: what a scan is (resident code, enterprise code, business
  licence, ticket/receipt, URL, unknown) and what of it may be shown;
- :mod:`~kiosk.codes.gate`: length limit + duplicate suppression + classification;
- :mod:`~kiosk.codes.tokens`: the Ed25519 code token format (docs/codes.md);
- :mod:`~kiosk.codes.platform`: the platform interface; :mod:`~kiosk.codes.embedded` and
  :mod:`~kiosk.codes.http_adapter` implement it, :mod:`~kiosk.codes.refserver` serves HTTP;
- :mod:`~kiosk.codes.resolve`: a scanned payload → identity-like result or typed refusal;
- :mod:`~kiosk.codes.identify`: :class:`ScanIdentifier`, code events → session identity, with
  the camera held only while the identify step waits and verification on a worker thread;
- :mod:`~kiosk.codes.live`: the code on screen, never kept beyond its validity;
- :mod:`~kiosk.codes.factory`: the platform adapter and the scan gate from the ``[codes]``
  config section (``config/codes.py``).
"""

from kiosk.codes.classify import Classification, Classifier, CodeClass, classify, safe_summary
from kiosk.codes.gate import DuplicateFilter, Scan, ScanGate, ScanRejected
from kiosk.codes.identify import ScanIdentifier
from kiosk.codes.live import LiveCode
from kiosk.codes.platform import (
    CodePlatform,
    Enterprise,
    IssuedCode,
    IssueRefused,
    Person,
    VerifiedCode,
)
from kiosk.codes.refusals import CodeRefused, PlatformUnavailable, RefusalReason
from kiosk.codes.resolve import CodeIdentity, CodeRefusal, resolve_scan
from kiosk.codes.tokens import Role, TokenKind

__all__ = [
    "Classification", "Classifier", "CodeClass", "CodeIdentity", "CodePlatform", "CodeRefusal",
    "CodeRefused", "DuplicateFilter", "Enterprise", "IssueRefused", "IssuedCode", "LiveCode",
    "Person", "PlatformUnavailable", "RefusalReason", "Role", "Scan", "ScanGate",
    "ScanIdentifier", "ScanRejected", "TokenKind", "VerifiedCode", "classify", "resolve_scan",
    "safe_summary",
]
