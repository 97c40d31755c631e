"""SMTP submission with smtplib: plain, STARTTLS or implicit TLS, optional AUTH."""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
from typing import Literal

from pydantic import SecretStr

from pprflow.tasks.mime import message_id_for, mime_bytes
from pprflow.tasks.transports.base import DeliveryError, OutgoingMail
from pprflow.tasks.transports.common import REDACTOR, guard_logs

Security = Literal["none", "starttls", "ssl"]
SECURITIES: tuple[str, ...] = ("none", "starttls", "ssl")


class SmtpTransport:
    """Sends through an SMTP server. Connection problems and 4xx replies are transient, 5xx permanent.

    SMTP cannot tell whether an earlier attempt went out, so ``already_sent`` is always None: at
    most the one message in flight when a connection drops can arrive twice (with the same
    Message-ID, which lets mail clients fold the copies).

    One connection (and one TLS context) serves a whole delivery run: it is opened on the first
    send, checked with NOOP before reuse, dropped after any error and closed by ``close()``.
    """

    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        security: Security | str = "starttls",
        username: str | None = None,
        password: SecretStr | None = None,
        timeout: float = 30.0,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if security not in SECURITIES:
            raise ValueError(f"SMTP security must be one of {', '.join(SECURITIES)}, not {security!r}")
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self._password = password
        self.timeout = timeout
        # None means the system's trusted CAs with hostname checks; tests pass a loopback CA.
        self._ssl_context = ssl_context
        self._smtp: smtplib.SMTP | None = None
        if password is not None:
            guard_logs(password.get_secret_value())

    def __repr__(self) -> str:
        return f"SmtpTransport({self.host!r}, {self.port}, security={self.security!r}, username={self.username!r})"

    def already_sent(self, idempotency_key: str) -> str | None:
        return None

    def send(self, mail: OutgoingMail) -> str:
        """Submit the message to the server; return its Message-ID."""
        if mail.sensitive:
            self.check_encrypted()
        # Flattened once here (header injection fails before a connection is opened); send_message
        # would flatten it a second time.
        data = mime_bytes(mail)
        recipients = [mail.to, *mail.cc]
        where = f"{self.host}:{self.port}"
        try:
            smtp = self._session()
            try:
                refused = smtp.sendmail(mail.sender, recipients, data)
            except BaseException:
                self.close()
                raise
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            transient = all(400 <= code < 500 for code in codes)
            raise self._error(f"SMTP server {where} refused every recipient ({_codes(codes)})", transient) from None
        except smtplib.SMTPResponseException as exc:
            # Sender refused, DATA refused, AUTH failed, STARTTLS refused: the reply code decides.
            reply = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(
                exc.smtp_error)
            raise self._error(f"SMTP server {where} replied {exc.smtp_code} {reply}",
                              400 <= exc.smtp_code < 500) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise self._error(f"SMTP server {where} does not support this: {exc}", False) from None
        except ssl.SSLCertVerificationError as exc:
            raise self._error(f"TLS certificate of {where} not trusted: {exc.verify_message}", False) from None
        except (smtplib.SMTPException, OSError) as exc:
            # Refused or dropped connections, timeouts, DNS failures, TLS handshake trouble.
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
            raise self._error(f"could not deliver via SMTP server {where}: {detail}", True) from None
        if mail.to in refused:
            code = refused[mail.to][0]
            # Copies may have reached the cc recipients; the main recipient did not get it.
            raise self._error(f"SMTP server {where} refused the recipient ({code})", 400 <= code < 500)
        return message_id_for(mail.idempotency_key)

    def check_encrypted(self) -> None:
        """Issue 16: a message about a named child or a notification travels only over verified TLS.

        Forced TLS (STARTTLS or implicit TLS, certificate and host name checked) is the Danish public
        sector's practice between authorities. Plain SMTP is allowed only to a relay on this machine
        (loopback: nothing leaves the host, like the file transport), which must itself force TLS onward.
        Anything else refuses the message permanently, with the reason, before a connection is opened.
        """
        where = f"{self.host}:{self.port}"
        if self.security == "none":
            if _is_loopback(self.host):
                return
            raise DeliveryError(
                f"refusing to send a message about a named child or a notification to {where} without TLS: "
                "set PPRFLOW_SMTP_SECURITY=starttls or ssl (forced TLS)", transient=False)
        context = self._context()
        if context.verify_mode != ssl.CERT_REQUIRED or not context.check_hostname:
            raise DeliveryError(
                f"refusing to send a message about a named child or a notification to {where}: the TLS "
                "certificate would not be verified; use a verifying TLS context (forced TLS)", transient=False)

    def close(self) -> None:
        """End the SMTP session (QUIT); the next send opens a new one."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def _session(self) -> smtplib.SMTP:
        """The open session if it still answers NOOP, else a new, logged-in one."""
        if self._smtp is not None:
            try:
                if self._smtp.noop()[0] == 250:
                    return self._smtp
            except (smtplib.SMTPException, OSError):
                pass
            self.close()
        smtp = self._connect()
        try:
            if self.username and self._password is not None:
                smtp.login(self.username, self._password.get_secret_value())
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp
        return smtp

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:  # loading the system CAs costs ~30 ms: once per transport
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    def _connect(self) -> smtplib.SMTP:
        smtp: smtplib.SMTP
        if self.security == "ssl":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._context())
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.security == "starttls":
                smtp.starttls(context=self._context())
                smtp.ehlo()
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _error(self, message: str, transient: bool) -> DeliveryError:
        # The password is registered with the redactor; a server echoing it back stays unseen.
        return DeliveryError(REDACTOR.redact(message), transient=transient)


def _is_loopback(host: str) -> bool:
    if host.strip().lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _codes(codes: list[int]) -> str:
    return ", ".join(str(c) for c in sorted(set(codes)))
