"""The external anchor log (issue 15; 21 CFR 11.10(e), EU GMP Annex 11 section 9).

The hash chains inside the database prove nothing against someone who can write the database:
they can re-hash every row after the one they edited with the project's own functions and
insert a fresh `AuditVerification` saying "intact". So each verification run also writes what it
saw, per chain (table, newest row id, its hash, row count, time), to a log *outside* the
database, each line signed with HMAC-SHA256 under a key that the database does not hold.

The log is a JSON-lines file, `audit-anchors.jsonl` in QMS_AUDIT_ANCHOR_DIR, opened with
O_APPEND and written under an exclusive file lock. Each line carries:

- `seq`: its line number (1, 2, ...), `kind`: "anchor" (one chain), "run" (one verification run:
  its totals and the breaks still open) or "acknowledgement" (a Quality Manager's signed
  acknowledgement of breaks),
- `prev`: the SHA-256 of the previous line's text, so that a removed or reordered line shows,
- `mac`: HMAC-SHA256 of the line's canonical JSON without `mac`, so that a line written without
  the key shows.

docs/audit-anchors.md says what this does and does not protect against.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

LOG_NAME = "audit-anchors.jsonl"
VERSION = 1
KEY_BYTES = 32

ANCHOR = "anchor"
RUN = "run"
ACKNOWLEDGEMENT = "acknowledgement"


def log_path() -> Path:
    return Path(settings.QMS_AUDIT_ANCHOR_DIR) / LOG_NAME


def anchor_key(*, create: bool = True) -> bytes:
    """The signing key: QMS_AUDIT_ANCHOR_KEY if set, else the content of QMS_AUDIT_ANCHOR_KEY_FILE,
    which is generated (32 random bytes, hex, mode 0600) when it does not exist yet and `create`."""
    if settings.QMS_AUDIT_ANCHOR_KEY:
        return settings.QMS_AUDIT_ANCHOR_KEY.encode("utf-8")
    path = Path(settings.QMS_AUDIT_ANCHOR_KEY_FILE)
    if not path.exists():
        if not create:
            raise ImproperlyConfigured(f"The audit anchor key file {path} does not exist.")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: read theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(KEY_BYTES) + "\n")
            logger.warning(
                "Generated a new audit anchor key in %s: keep it away from the database administrators.",
                path,
            )
    key = path.read_text(encoding="utf-8").strip()
    if not key:
        raise ImproperlyConfigured(f"The audit anchor key file {path} is empty.")
    return key.encode("utf-8")


def canonical(data: dict) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sign(data: dict, key: bytes) -> str:
    unsigned = {name: value for name, value in data.items() if name != "mac"}
    return hmac.new(key, canonical(unsigned).encode("utf-8"), hashlib.sha256).hexdigest()


def line_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class AnchorLog:
    """What the log says, read and checked line by line. A line is trusted when its signature
    is right, its sequence number follows the line before it and it links to that line's text;
    every other line is a problem (`problems`, in file order). A genuine line written after a
    bad one links to the bad one's text, so it stays trusted: one forged or removed line is one
    problem, not the end of the log."""

    exists: bool = False
    lines: list[dict] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)

    def latest_anchors(self) -> dict[str, dict]:
        """{table: the newest trusted anchor line of that chain}."""
        anchors = {}
        for line in self.lines:
            if line.get("kind") == ANCHOR:
                anchors[line["table"]] = line
        return anchors

    def latest_run(self) -> dict | None:
        return next((line for line in reversed(self.lines) if line.get("kind") == RUN), None)

    def acknowledged_keys(self) -> set[str]:
        keys = set()
        for line in self.lines:
            if line.get("kind") == ACKNOWLEDGEMENT:
                keys.update(line.get("keys") or [])
        return keys

    def has_line(self, seq: int, text_hash: str) -> bool:
        return any(line["seq"] == seq and line["_hash"] == text_hash for line in self.lines)


def read_log(path: Path | None = None, key: bytes | None = None) -> AnchorLog:
    """Read and check every line. Cost grows with the log (one line per chain per run), not
    with the database."""
    path = path or log_path()
    log = AnchorLog()
    if not path.exists():
        return log
    log.exists = True
    key = key if key is not None else anchor_key()
    previous_text, previous_seq = None, 0
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            text = raw.rstrip("\n")
            data, problem = _check_line(text, previous_text, previous_seq, key)
            if problem:
                log.problems.append({"line": number, "message": problem})
            else:
                data["_hash"] = line_hash(text)
                data["_line"] = number
                log.lines.append(data)
            previous_text = text
            previous_seq = _claimed_seq(data, previous_seq)
    return log


def _claimed_seq(data, previous_seq: int) -> int:
    seq = data.get("seq") if isinstance(data, dict) else None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else previous_seq + 1


def _check_line(
    text: str, previous_text: str | None, previous_seq: int, key: bytes
) -> tuple[dict | None, str]:
    try:
        data = json.loads(text)
    except ValueError:
        return None, "is not valid JSON"
    if not isinstance(data, dict):
        return None, "is not a JSON object"
    mac = data.get("mac")
    if not isinstance(mac, str) or not hmac.compare_digest(mac, sign(data, key)):
        return data, "has no valid signature: it was written or changed without the anchor key"
    if data.get("seq") != previous_seq + 1 or data.get("prev") != (
        line_hash(previous_text) if previous_text is not None else ""
    ):
        return (
            data,
            "does not follow the line before it: lines before it were removed, changed or reordered",
        )
    return data, ""


def latest_signed_run(
    path: Path | None = None, key: bytes | None = None, *, tail_bytes: int = 1 << 20
) -> dict | None:
    """The newest "run" line among the log's last `tail_bytes`, if its signature is right:
    what the pages and exports compare the database's latest verification with, without
    reading the whole log on every page view."""
    path = path or log_path()
    if not path.exists():
        return None
    key = key if key is not None else anchor_key()
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - tail_bytes))
        chunk = handle.read().decode("utf-8", errors="replace")
    for text in reversed(chunk.splitlines()):
        try:
            data = json.loads(text)
        except ValueError:
            continue
        if isinstance(data, dict) and data.get("kind") == RUN:
            mac = data.get("mac")
            if isinstance(mac, str) and hmac.compare_digest(mac, sign(data, key)):
                data["_hash"] = line_hash(text)
                return data
    return None


def append_lines(
    entries: list[dict], *, key: bytes | None = None, path: Path | None = None
) -> tuple[int, str]:
    """Append signed lines in one write, under an exclusive lock so that two runs do not link to
    the same previous line. Returns (seq, hash) of the last line written. Each line also goes to
    the "qms.audit.anchors" logger, so that a log shipper can keep a copy elsewhere."""
    path = path or log_path()
    key = key if key is not None else anchor_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        seq, previous_hash, ends_cleanly = _tail(path)
        texts = []
        for entry in entries:
            seq += 1
            data = {**entry, "v": VERSION, "seq": seq, "prev": previous_hash}
            data["mac"] = sign(data, key)
            text = canonical(data)
            texts.append(text)
            previous_hash = line_hash(text)
        # A line someone left without its newline must not swallow the first line written now.
        os.write(fd, (("" if ends_cleanly else "\n") + "\n".join(texts) + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    for text in texts:
        logger.info("audit anchor %s", text)
    return seq, previous_hash


def _tail(path: Path) -> tuple[int, str, bool]:
    """(sequence number, hash, whether it ends with a newline) of the last line on disk. The next line links to whatever is
    there, so a forged or cut log is reported on every later read, never repaired."""
    seq, last, ends_cleanly = 0, None, True
    with path.open(encoding="utf-8") as handle:
        for raw in handle:
            ends_cleanly = raw.endswith("\n")
            last = raw.rstrip("\n")
            try:
                data = json.loads(last)
            except ValueError:
                data = None
            seq = _claimed_seq(data, seq)
    return seq, (line_hash(last) if last is not None else ""), ends_cleanly
