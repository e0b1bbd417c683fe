"""TLS and SASL for every Kafka client recstream creates, from one ``SecuritySettings``.

Three client libraries take the same facts in three shapes: aiokafka (the replica, the
scorer, the scorer client's reply follower), kafka-python (producer, consumers, admin, lag)
and Faust (the workers' consumer, producers and transactional producers, through
``broker_credentials``). Each client calls one function here instead of repeating the
mapping, so a new setting reaches all of them at once:

- :func:`aiokafka_kwargs` / :func:`kafka_python_kwargs`: keyword arguments to add to a
  client constructor (empty for PLAINTEXT, so the default path is unchanged);
- :func:`faust_credentials`: the ``broker_credentials`` of ``faust.App``;
- :func:`check_connection`: connect and authenticate once, turning a bad password, an
  untrusted certificate or a protocol mismatch into one sentence that says what to fix.

One ``ssl.SSLContext`` serves every library (both accept ``ssl_context``), built by
:func:`ssl_context` from the CA, optional client certificate and hostname check.
"""

from __future__ import annotations

import functools
import logging
import ssl
from typing import Any

from recstream.settings import SecuritySettings

PLAINTEXT = SecuritySettings()


@functools.lru_cache(maxsize=8)
def _context(cafile: str | None, certfile: str | None, keyfile: str | None,
             check_hostname: bool) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
    ctx.check_hostname = check_hostname
    ctx.verify_mode = ssl.CERT_REQUIRED
    if certfile:
        ctx.load_cert_chain(certfile, keyfile)
    return ctx


def ssl_context(sec: SecuritySettings) -> ssl.SSLContext | None:
    """The TLS context of ``sec`` (None unless the protocol is SSL or SASL_SSL). Raises
    ``OSError``/``ssl.SSLError`` when a certificate file cannot be read."""
    if not sec.uses_ssl:
        return None
    return _context(_str(sec.ssl_cafile), _str(sec.ssl_certfile), _str(sec.ssl_keyfile),
                    sec.ssl_check_hostname)


def _str(path: Any) -> str | None:
    return str(path) if path else None


def _common(sec: SecuritySettings) -> dict[str, Any]:
    if sec.protocol == "PLAINTEXT":
        return {}
    out: dict[str, Any] = {"security_protocol": sec.protocol}
    if sec.uses_ssl:
        out["ssl_context"] = ssl_context(sec)
    if sec.uses_sasl:
        out.update(sasl_mechanism=sec.sasl_mechanism, sasl_plain_username=sec.sasl_username,
                   sasl_plain_password=sec.sasl_password.get_secret_value())
    return out


def aiokafka_kwargs(sec: SecuritySettings | None) -> dict[str, Any]:
    """Arguments for ``AIOKafkaConsumer`` / ``AIOKafkaProducer`` / ``AIOKafkaAdminClient``."""
    return _common(sec or PLAINTEXT)


def kafka_python_kwargs(sec: SecuritySettings | None) -> dict[str, Any]:
    """Arguments for kafka-python's ``KafkaProducer`` / ``KafkaConsumer`` /
    ``KafkaAdminClient`` (the same names as aiokafka's; ``ssl_check_hostname`` is also set
    because kafka-python reads it beside the context)."""
    sec = sec or PLAINTEXT
    out = _common(sec)
    if sec.uses_ssl:
        out["ssl_check_hostname"] = sec.ssl_check_hostname
    return out


def faust_credentials(sec: SecuritySettings | None) -> Any:
    """``broker_credentials`` for ``faust.App`` (None for PLAINTEXT). Faust hands them to
    every aiokafka client it makes: the group consumer, the producer and, under
    exactly-once, each partition's transactional producer."""
    import faust

    sec = sec or PLAINTEXT
    if sec.protocol == "PLAINTEXT":
        return None
    ctx = ssl_context(sec)
    if not sec.uses_sasl:
        return faust.SSLCredentials(ctx)
    # SASLCredentials picks SASL_SSL when given a context and SASL_PLAINTEXT without one
    return faust.SASLCredentials(username=sec.sasl_username,
                                 password=sec.sasl_password.get_secret_value(),
                                 ssl_context=ctx, mechanism=sec.sasl_mechanism)


def describe(sec: SecuritySettings | None) -> str:
    """``protocol[/mechanism user=name]`` for logs and messages (never the password)."""
    sec = sec or PLAINTEXT
    if sec.uses_sasl:
        return f"{sec.protocol}/{sec.sasl_mechanism} user={sec.sasl_username}"
    return sec.protocol


def explain(exc: BaseException, bootstrap: str, sec: SecuritySettings | None) -> str:
    """One sentence naming what to fix for a failed connection ``exc``."""
    import kafka.errors as kerrors

    how = describe(sec)
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, kerrors.SaslAuthenticationFailedError) or "uthentication" in text:
        return (f"Kafka at {bootstrap} rejected the SASL credentials ({how}): check "
                "RECSTREAM_SECURITY__SASL_USERNAME, RECSTREAM_SECURITY__SASL_PASSWORD, "
                "RECSTREAM_SECURITY__SASL_MECHANISM")
    if sec is not None and sec.uses_sasl and "disconnected" in text:
        # kafka-python often sees only the socket the broker closes after a failed PLAIN
        # login (the broker logs "Invalid username or password"), never its error reply
        return (f"Kafka at {bootstrap} closed the connection during SASL login ({how}): most "
                "likely the username or password is wrong; check "
                "RECSTREAM_SECURITY__SASL_USERNAME, RECSTREAM_SECURITY__SASL_PASSWORD, "
                "RECSTREAM_SECURITY__SASL_MECHANISM")
    if isinstance(exc, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in text:
        return (f"the TLS certificate of Kafka at {bootstrap} is not trusted ({exc}): set "
                "RECSTREAM_SECURITY__SSL_CAFILE to the CA that signed it")
    if isinstance(exc, ssl.SSLError):
        return (f"TLS with Kafka at {bootstrap} failed ({exc}); is the listener "
                f"{sec.protocol if sec else 'PLAINTEXT'}? (RECSTREAM_SECURITY__PROTOCOL)")
    return f"no Kafka broker answers at {bootstrap} over {how} ({text})"


class _ConnectFailures(logging.Handler):
    """Keeps the exceptions kafka-python logs for failed connection attempts: it retries a
    rejected password or an untrusted certificate until its bootstrap timeout and then
    raises only a generic timeout, so the cause is read from its log record."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        self.seen += [a for a in args if isinstance(a, BaseException)]


def check_connection(bootstrap: str, sec: SecuritySettings | None,
                     timeout_s: float = 10.0) -> None:
    """Connect and authenticate to one broker of ``bootstrap`` and fetch metadata.

    Raises ``ConnectionError`` whose message is :func:`explain`'s sentence (wrong password,
    untrusted certificate, wrong protocol, nobody listening).
    """
    import kafka.errors as kerrors
    from kafka import KafkaAdminClient

    ms = int(max(timeout_s, 1.0) * 1000)
    failures = _ConnectFailures()
    net_log = logging.getLogger("kafka.net")
    level = net_log.level
    net_log.setLevel(min(net_log.getEffectiveLevel(), logging.WARNING))
    net_log.addHandler(failures)
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","),
                                 client_id="recstream-check", bootstrap_timeout_ms=ms,
                                 request_timeout_ms=ms, **kafka_python_kwargs(sec))
        try:
            admin.describe_cluster()
        finally:
            admin.close()
    except Exception as exc:
        # a rejected login or certificate explains everything after it (the broker then
        # drops the socket, the client times out); else the last attempt's own failure
        seen = failures.seen
        causes = ([e for e in seen if isinstance(e, kerrors.SaslAuthenticationFailedError)]
                  or [e for e in seen if "SSL" in str(e)]
                  or [e for e in seen if not isinstance(e, kerrors.KafkaTimeoutError)])
        cause = causes[-1] if causes else exc
        raise ConnectionError(explain(cause, bootstrap, sec)) from exc
    finally:
        net_log.removeHandler(failures)
        net_log.setLevel(level)
