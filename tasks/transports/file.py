"""The embedded default transport: one .eml file per message in a folder, nothing leaves the machine."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from pprflow.tasks.mime import key_digest, message_id_for, mime_bytes
from pprflow.tasks.transports.base import DeliveryError, OutgoingMail


class FileTransport:
    """Writes each message to ``<mail_dir>/<sha256(key)[:32]>.eml``; a retry finds it and writes nothing.

    The file appears atomically: the bytes go to a temporary file in the same folder, are flushed
    to disk, and are then hard-linked to the final name, which fails if the name exists, so two
    racing attempts cannot overwrite each other (on file systems without hard links it falls back
    to a rename that refuses to overwrite where the OS allows).
    """

    name = "file"

    LEFTOVER_AGE = 60.0
    """Seconds after which a `.tmp-*.eml` is a leftover of a killed run (a live run publishes in milliseconds)."""

    def __init__(self, mail_dir: Path | str) -> None:
        self.mail_dir = Path(mail_dir)
        self._swept = False

    def remove_leftovers(self, now: float | None = None) -> int:
        """Delete the temporary files a killed run left behind (they hold a whole mail); returns how many."""
        now = time.time() if now is None else now
        removed = 0
        for tmp in self.mail_dir.glob(".tmp-*.eml"):
            try:
                if now - tmp.stat().st_mtime > self.LEFTOVER_AGE:
                    tmp.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    def path_for(self, idempotency_key: str) -> Path:
        return self.mail_dir / f"{key_digest(idempotency_key)}.eml"

    def already_sent(self, idempotency_key: str) -> str | None:
        """The Message-ID if the .eml file for this key exists."""
        return message_id_for(idempotency_key) if self.path_for(idempotency_key).exists() else None

    def send(self, mail: OutgoingMail) -> str:
        """Write the message's .eml file (once) and return its Message-ID."""
        data = mime_bytes(mail)
        message_id = message_id_for(mail.idempotency_key)
        final = self.path_for(mail.idempotency_key)
        try:
            self.mail_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not self._swept:
                self.remove_leftovers()
                self._swept = True
            if final.exists():
                return message_id
            fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".eml", dir=self.mail_dir)
            tmp = Path(tmp_name)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                self._publish(tmp, final)
            finally:
                tmp.unlink(missing_ok=True)
            self._sync_dir()
        except OSError as exc:
            # A full disk or a permissions problem may clear up; the outbox retries.
            raise DeliveryError(f"could not write {final.name}: {exc.strerror or exc}", transient=True) from None
        return message_id

    @staticmethod
    def _publish(tmp: Path, final: Path) -> None:
        try:
            os.link(tmp, final)
        except FileExistsError:
            return  # a parallel attempt won; its file is the same message
        except OSError:
            if not final.exists():
                os.replace(tmp, final)

    def _sync_dir(self) -> None:
        if os.name != "posix":
            return
        fd = os.open(self.mail_dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
