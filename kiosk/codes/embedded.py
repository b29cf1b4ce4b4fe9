"""The embedded platform: a local issuer that signs code tokens with Ed25519 and verifies them
offline (village stations, demos, tests, and a terminal whose network is down).

Subject references are keyed pseudonyms of the ID number (or credit code) under a secret
derived from the issuer key, so they are stable for one person as long as the key is, and
reveal nothing without it. The platform remembers, per subject, only the *masked* name and
only until the last code it issued for that subject expires, so that scanning a code this
terminal showed (on screen or on paper) greets the resident by masked name. Sample people and
enterprises come from :mod:`kiosk.codes.samples`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Iterable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from drivers.privacy import mask_name
from kiosk.codes import samples
from kiosk.codes.platform import (
    NOT_REPRESENTATIVE_ZH,
    CodePlatform,
    Enterprise,
    IssuedCode,
    IssueRefused,
    Person,
    VerifiedCode,
)
from kiosk.codes.progress import Application, SampleProgress
from kiosk.codes.proofdocs import (
    PROOF_KINDS,
    ProofDocument,
    ProofKind,
    SampleProofs,
    VerifiedProof,
    sign_proof,
    verify_proof,
)
from kiosk.codes.tokens import (
    CodeClaims,
    Keyring,
    Role,
    TokenKind,
    keyring_from,
    public_key_b64,
    sign_token,
    subject_ref,
    subject_secret,
    verify_token,
)


class EmbeddedCodePlatform(CodePlatform):
    name = "embedded"
    verifies_unknown = False

    def __init__(self, private_key: Ed25519PrivateKey | None = None, *,
                 terminal_id: str = "DEMO-0001", lifetime_s: int = 180,
                 trusted_keys: Iterable[str] = (), skew_s: float = 120.0,
                 clock: Callable[[], float] = time.time,
                 people: dict[str, str] | None = None,
                 proof_key: Ed25519PrivateKey | None = None,
                 verify_base_url: str = "https://platform.example.invalid",
                 issuer: str = "济南市社会保险事业中心（样例）") -> None:
        if not 10 <= lifetime_s <= 65535:
            raise ValueError("a code's lifetime is 10 to 65535 seconds")
        self._key = private_key or Ed25519PrivateKey.generate()
        self.terminal_id = terminal_id
        self.lifetime_s = lifetime_s
        self.skew_s = skew_s
        self._clock = clock
        self.keyring: Keyring = keyring_from(self._key, trusted_keys)
        self._secret = subject_secret(self._key)
        self._lock = threading.Lock()
        #: subject (bytes) -> masked name, for the platform's own people (sample data)
        self._known: dict[bytes, str] = {
            subject_ref(self._secret, id_number): mask_name(name)
            for id_number, name in (samples.PEOPLE if people is None else people).items()}
        #: subject -> (masked name, until): people this terminal issued codes for
        self._recent: dict[bytes, tuple[str, float]] = {}
        #: signs proofs; kept in a file by the caller so that codes outlive a restart
        self._proof_key = proof_key or self._key
        self.verify_base_url = verify_base_url.rstrip("/")
        proof_secret = subject_secret(self._proof_key, b"sample-data")
        self._progress = SampleProgress(proof_secret,
                                        follow_base_url=self.verify_base_url + "/progress")
        self._proofs = SampleProofs(issuer=issuer)
        self._proof_secret = proof_secret
        self._enterprises: dict[bytes, Enterprise] = {
            self._enterprise_ref(credit): Enterprise(eid, name, credit)
            for eid, (name, credit) in samples.ENTERPRISES.items()}

    def now(self) -> float:
        """The platform's clock (``time.time()`` unless a test injected another)."""
        return self._clock()

    @property
    def public_key(self) -> str:
        """This issuer's public key (base64): other terminals add it to ``trusted_keys``."""
        return public_key_b64(self._key.public_key())

    def _enterprise_ref(self, credit_code: str) -> bytes:
        return subject_ref(self._secret, "USCC:" + credit_code)

    # -- issuing -------------------------------------------------------------------------------
    def _issue(self, kind: TokenKind, subject: bytes, role: Role, masked_name: str,
               enterprise: Enterprise | None) -> IssuedCode:
        now = self._clock()
        issued_at = int(now)
        claims = CodeClaims(kind, subject, issued_at, self.lifetime_s, self.terminal_id, role)
        text = sign_token(claims, self._key)
        expires_at = float(issued_at + self.lifetime_s)
        return IssuedCode(text, kind, float(issued_at), expires_at, masked_name, enterprise)

    def issue_resident_code(self, person: Person) -> IssuedCode:
        if not person.id_number.strip():
            raise IssueRefused("无法确认您的身份，请刷身份证后重试。", "no ID number")
        subject = subject_ref(self._secret, person.id_number)
        masked = person.masked_name
        code = self._issue(TokenKind.RESIDENT, subject, Role.SELF, masked, None)
        with self._lock:
            self._prune(code.issued_at)
            self._recent[subject] = (masked, code.expires_at)
        return code

    def enterprises_for(self, person: Person) -> list[Enterprise]:
        return samples.enterprises_of(person.id_number)

    def issue_enterprise_code(self, person: Person, enterprise_id: str) -> IssuedCode:
        for enterprise in self.enterprises_for(person):
            if enterprise.id == enterprise_id:
                subject = self._enterprise_ref(enterprise.credit_code)
                return self._issue(TokenKind.ENTERPRISE, subject, enterprise.role,
                                   person.masked_name, enterprise)
        raise IssueRefused(NOT_REPRESENTATIVE_ZH, "the person does not represent that "
                           "enterprise")

    # -- verifying -----------------------------------------------------------------------------
    def verify(self, payload: str, expect: TokenKind | None = None) -> VerifiedCode:
        now = self._clock()
        with self._lock:
            self._prune(now)
        claims = verify_token(payload, self.keyring, now, skew_s=self.skew_s, expect=expect)
        masked = ""
        enterprise = None
        if claims.kind is TokenKind.RESIDENT:
            with self._lock:
                recent = self._recent.get(claims.subject_ref)
            masked = recent[0] if recent else self._known.get(claims.subject_ref, "")
        else:
            known = self._enterprises.get(claims.subject_ref)
            if known is not None:
                enterprise = Enterprise(known.id, known.name, known.credit_code, claims.role)
        return VerifiedCode(claims.kind, claims.subject_hex, float(claims.issued_at),
                            float(claims.expires_at), claims.terminal_id, masked, enterprise,
                            claims.role)

    # -- progress and proofs (sample data) -------------------------------------------------------
    @property
    def proof_public_key(self) -> str:
        return public_key_b64(self._proof_key.public_key())

    def progress_for(self, person: Person) -> list[Application]:
        if not person.id_number.strip():
            raise IssueRefused("无法确认您的身份，请刷身份证后重试。", "no ID number")
        return sorted(self._progress.for_person(person.id_number),
                      key=lambda a: a.accepted_on, reverse=True)

    def progress_by_number(self, handling_number: str) -> Application:
        return self._progress.by_number(handling_number)

    def proof_kinds(self, person: Person) -> list[ProofKind]:
        return list(PROOF_KINDS)

    def issue_proof(self, person: Person, kind_id: str) -> ProofDocument:
        if not person.id_number.strip():
            raise IssueRefused("无法确认您的身份，请刷身份证后重试。", "no ID number")
        day = self._proofs.today or dt.date.today()
        seed = hmac.new(self._proof_secret, f"{person.id_number}|{kind_id}|{day}".encode(),
                        hashlib.sha256).hexdigest()
        try:
            doc = self._proofs.document(kind_id, person.name, person.id_number,
                                        number_seed=seed)
        except KeyError as exc:
            raise IssueRefused("没有这种证明，请返回重新选择。", str(exc)) from exc
        code = sign_proof(doc, self._proof_key)
        return dataclasses.replace(doc, code=code,
                                   verify_url=f"{self.verify_base_url}/verify/{code}")

    def verify_proof(self, code: str) -> VerifiedProof:
        return verify_proof(code, self._proof_key.public_key())

    def _prune(self, now: float) -> None:
        for subject in [s for s, (_, until) in self._recent.items() if until <= now]:
            del self._recent[subject]
