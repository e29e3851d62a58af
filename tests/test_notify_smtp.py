"""The e-mail channel against a real SMTP server (aiosmtpd) on 127.0.0.1: STARTTLS with a
certificate the client verifies, login, and the failures a mail server answers with."""

from __future__ import annotations

import shutil
import ssl
import subprocess

import pytest
from aiosmtpd.smtp import AuthResult
from notify_fixture import SmtpServer

from core.settings import EmailChannelSettings, NotifySettings
from metrics.channels import Delivery, EmailChannel, SendError, send_with_retry

MESSAGE = Delivery("email", "kadis@example.go.id", "Uji <subjek>", "Teks biasa\n", "<p>HTML</p>")
USER, PASSWORD = "dasbor", "sandi-smtp-123"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (openssl), trusted by the client via SSL_CERT_FILE."""
    if shutil.which("openssl") is None:
        pytest.skip("the STARTTLS test needs the openssl command to make a certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


class Logins:
    def __init__(self) -> None:
        self.attempts = 0

    def __call__(self, server, session, envelope, mechanism, auth_data):  # noqa: ANN001, ANN204
        self.attempts += 1
        ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
        return AuthResult(success=ok, handled=False)


def _channel(port: int, **changes) -> EmailChannel:
    base = {"host": "127.0.0.1", "port": port, "starttls": False, "sender": "dasbor@example.go.id",
            "timeout_seconds": 5}
    return EmailChannel(EmailChannelSettings(**{**base, **changes}))


def _tls_server(certificate, logins: Logins) -> SmtpServer:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return SmtpServer(tls_context=context, require_starttls=True, authenticator=logins,
                      auth_required=True, auth_require_tls=True)


def test_starttls_and_login_deliver_the_message(certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # the client verifies the server
    logins = Logins()
    with _tls_server(certificate, logins) as smtp:
        _channel(smtp.port, starttls=True, username=USER, password=PASSWORD).send(MESSAGE)
    [mail] = smtp.mails
    assert mail.rcpt == ["kadis@example.go.id"] and mail.subject == "Uji <subjek>"
    assert mail.plain.strip() == "Teks biasa" and "<p>HTML</p>" in mail.html
    assert logins.attempts == 1


def test_a_server_certificate_the_client_cannot_verify_is_refused(certificate):
    with _tls_server(certificate, Logins()) as smtp, pytest.raises(SendError, match="SMTP"):
        _channel(smtp.port, starttls=True, username=USER, password=PASSWORD).send(MESSAGE)
    assert smtp.mails == []


def test_a_wrong_smtp_password_fails_at_once_without_retry(certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    logins = Logins()
    settings = NotifySettings(max_retries=3, backoff_seconds=0.01)
    with _tls_server(certificate, logins) as smtp, pytest.raises(SendError, match="login SMTP ditolak") as err:
        send_with_retry(_channel(smtp.port, starttls=True, username=USER, password="salah"), MESSAGE, settings)
    # One send: smtplib's login tries each mechanism offered (PLAIN, LOGIN) once; a retry would double it.
    assert err.value.transient is False and err.value.attempts == 1 and logins.attempts == 2


def test_starttls_asked_of_a_server_without_it_fails_clearly(smtp_plain):
    with pytest.raises(SendError, match="tidak mendukung") as err:
        _channel(smtp_plain.port, starttls=True).send(MESSAGE)
    assert err.value.transient is False and smtp_plain.mails == []


def test_a_refused_recipient_is_a_permanent_failure_with_the_servers_reply():
    settings = NotifySettings(max_retries=3, backoff_seconds=0.01)
    with SmtpServer(refuse="550 5.1.1 Mailbox tidak ada") as smtp, pytest.raises(SendError) as err:
        send_with_retry(_channel(smtp.port), MESSAGE, settings)
    assert "550" in str(err.value) and "Mailbox tidak ada" in str(err.value)
    assert err.value.transient is False and smtp.rcpt_attempts == 1


def test_a_temporary_refusal_is_retried_within_the_run():
    settings = NotifySettings(max_retries=2, backoff_seconds=0.01)
    with SmtpServer(refuse="451 4.3.0 Coba lagi nanti") as smtp, pytest.raises(SendError) as err:
        send_with_retry(_channel(smtp.port), MESSAGE, settings)
    assert err.value.transient is True and err.value.attempts == 3 and smtp.rcpt_attempts == 3


@pytest.fixture
def smtp_plain():
    with SmtpServer() as server:
        yield server
