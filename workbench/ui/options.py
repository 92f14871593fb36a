"""Every setting the app stores, declared once with its default (Picard's options.py is
the model): the lookup settings of `LookupSettings`, which lookups a run does, and where
they live in QSettings.

The settings dialog is built from `LOOKUP_OPTIONS`; `lookup_settings()` turns what is
stored into a `LookupSettings` (and `lookup_plan()` into a `LookupPlan`), refusing bad
values with `InvalidInput` naming the option.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import QSettings

from workbench.domain.errors import InvalidInput
from workbench.domain.normalise import normalise_url
from workbench.lookups.settings import LookupSettings, ServerAddress, parse_server, server_host
from workbench.services.lookup_runs import LookupPlan

_DEFAULTS = LookupSettings()


@dataclass(frozen=True)
class Option:
    """One stored setting: its QSettings key, type, default, and how the dialog shows it."""

    key: str
    type: type  # bool, int, float or str
    default: Any
    label: str
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    multiline: bool = False
    group: str = "Lookups"


def _server_text(address: ServerAddress | None) -> str:
    return str(address) if address else ""


LOOKUP_OPTIONS: tuple[Option, ...] = (
    Option(
        "lookups/whois_server",
        str,
        "",
        "WHOIS server",
        "HOST[:PORT] to ask instead of the registry the bundled TLD map names (empty: the map)",
        group="WHOIS",
    ),
    Option(
        "lookups/whois_overrides",
        str,
        "",
        "WHOIS overrides",
        "One NAME=HOST:PORT per line: reach the server called NAME (in the map or a "
        "referral) at HOST:PORT",
        multiline=True,
        group="WHOIS",
    ),
    Option(
        "lookups/whois_follow_referral",
        bool,
        _DEFAULTS.whois_follow_referral,
        "Follow the registrar referral",
        group="WHOIS",
    ),
    Option(
        "lookups/rdap_base_url",
        str,
        "",
        "RDAP base URL (domains)",
        "http(s) URL to ask instead of the bundled IANA bootstrap (empty: the bootstrap)",
        group="RDAP",
    ),
    Option(
        "lookups/rdap_ip_base_url",
        str,
        "",
        "RDAP base URL (addresses)",
        "Empty: the bootstrap, or the domain base URL when that is set",
        group="RDAP",
    ),
    Option(
        "lookups/dns_server",
        str,
        _server_text(_DEFAULTS.dns_server),
        "DNS resolver",
        "HOST[:PORT] of the resolver every DNS question goes to",
        group="DNS",
    ),
    Option(
        "lookups/timeout_s",
        float,
        _DEFAULTS.timeout_s,
        "Deadline per lookup (s)",
        "Overall, not per read",
        0.1,
        600,
        group="Limits",
    ),
    Option(
        "lookups/dns_lifetime_s",
        float,
        _DEFAULTS.dns_lifetime_s,
        "Deadline per DNS question (s)",
        minimum=0.1,
        maximum=120,
        group="DNS",
    ),
    Option(
        "lookups/max_response_bytes",
        int,
        _DEFAULTS.max_response_bytes,
        "Largest response kept (bytes)",
        minimum=1024,
        maximum=64 * 1024 * 1024,
        group="Limits",
    ),
    Option(
        "lookups/concurrency",
        int,
        _DEFAULTS.concurrency,
        "Lookups in flight",
        "How many lookups of a bulk run run at once",
        1,
        1000,
        group="Limits",
    ),
    Option(
        "lookups/per_server_concurrency",
        int,
        _DEFAULTS.per_server_concurrency,
        "Queries in flight per server",
        "Politeness: registries block clients that ask too much at once",
        1,
        100,
        group="Politeness",
    ),
    Option(
        "lookups/per_server_interval_s",
        float,
        _DEFAULTS.per_server_interval_s,
        "Gap between queries to one server (s)",
        minimum=0,
        maximum=60,
        group="Politeness",
    ),
    Option(
        "lookups/rate_limit_backoff_s",
        float,
        _DEFAULTS.rate_limit_backoff_s,
        "Pause after a rate limit (s)",
        minimum=0,
        maximum=3600,
        group="Politeness",
    ),
    Option(
        "lookups/allow_private_addresses",
        bool,
        _DEFAULTS.allow_private_addresses,
        "Allow servers on private or loopback addresses",
        "Off for real use: a referral to 127.0.0.1 is refused",
        group="Limits",
    ),
    Option(
        "lookups/offline",
        bool,
        _DEFAULTS.offline,
        "Offline mode",
        "Ask nothing: every lookup is recorded as offline",
        group="Lookups",
    ),
    Option("lookups/plan_whois", bool, True, "WHOIS", group="Lookups"),
    Option("lookups/plan_rdap", bool, True, "RDAP", group="Lookups"),
    Option("lookups/plan_dns", bool, True, "DNS", group="Lookups"),
    Option("lookups/plan_ip_rdap", bool, True, "RDAP of each address found", group="Lookups"),
)
OPTIONS_BY_KEY = {option.key: option for option in LOOKUP_OPTIONS}


def app_settings() -> QSettings:
    """The app's QSettings (an INI file in the user's config folder on every OS)."""
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, "workbench", "workbench"
    )


def read_option(settings: QSettings, option: Option) -> Any:
    """The stored value of `option` as its type (its default when unset or unreadable)."""
    raw = settings.value(option.key, None)
    if raw is None:
        return option.default
    try:
        if option.type is bool:
            return raw if isinstance(raw, bool) else str(raw).strip().lower() in ("true", "1")
        return option.type(raw)
    except (TypeError, ValueError):
        return option.default


def read_options(settings: QSettings | None = None) -> dict[str, Any]:
    settings = settings or app_settings()
    return {option.key: read_option(settings, option) for option in LOOKUP_OPTIONS}


def write_options(values: dict[str, Any], settings: QSettings | None = None) -> None:
    """Store `values` after checking they make a valid `LookupSettings` (raises
    InvalidInput naming the option's key otherwise, storing nothing). Numbers may be given
    as typed text; they are stored as numbers."""
    lookup_settings(values)
    settings = settings or app_settings()
    for key, value in values.items():
        option = OPTIONS_BY_KEY[key]
        if option.type in (int, float):
            value = _number(values, key)
        if value == option.default:
            settings.remove(key)
        else:
            settings.setValue(key, value)
    settings.sync()


def _overrides(text: str, key: str) -> dict[str, ServerAddress]:
    overrides = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, address = line.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(key, line, "each line must be NAME=HOST:PORT")
        server_name = server_host(name.strip(), key, line)
        overrides[server_name] = _server(address, 43, key)
    return overrides


def _server(text: str, default_port: int, key: str) -> ServerAddress:
    """HOST[:PORT], checked by `parse_server` (the CLI's flags go through it too)."""
    return parse_server(text, default_port, key)


def _url(text: str, key: str) -> str | None:
    """An RDAP base URL: http(s), with a valid host and no user name or password (they
    would be sent to the server); kept as typed."""
    text = text.strip()
    if not text:
        return None
    if not text.lower().startswith(("http://", "https://")):
        raise InvalidInput(key, text, "must be an http:// or https:// URL")
    try:
        normalise_url(text, key)
    except InvalidInput as exc:
        raise InvalidInput(key, text, exc.reason) from None
    if urlsplit(text).username is not None:
        raise InvalidInput(key, text, "holds a user name or password; give the URL without")
    return text


def _number(values: dict[str, Any], key: str) -> Any:
    """The option's value as its type, within its range; InvalidInput naming the key
    otherwise (typed text such as "abc", "7.5" for a count, "nan" or "inf" included)."""
    option = OPTIONS_BY_KEY[key]
    value = values.get(key, option.default)
    text = value.strip() if isinstance(value, str) else value
    if text == "":
        raise InvalidInput(key, value, "is empty")
    if option.type is int:
        try:
            number: Any = int(text)
        except (TypeError, ValueError):
            raise InvalidInput(key, value, "is not a whole number") from None
    else:
        try:
            number = float(text)
        except (TypeError, ValueError):
            raise InvalidInput(key, value, "is not a number") from None
        if not math.isfinite(number):
            raise InvalidInput(key, value, "is not a finite number")
    if isinstance(value, str) and "_" in value:
        # Python reads "1_000" as 1000; a person typing it meant something else.
        raise InvalidInput(key, value, "is not a number")
    if option.minimum is not None and number < option.minimum:
        raise InvalidInput(key, value, f"must be at least {option.minimum:g}")
    if option.maximum is not None and number > option.maximum:
        raise InvalidInput(key, value, f"must be at most {option.maximum:g}")
    return number


def lookup_settings(values: dict[str, Any] | None = None) -> LookupSettings:
    """`LookupSettings` from stored option values (`read_options()` when not given)."""
    values = values if values is not None else read_options()

    def get(key: str) -> Any:
        return values.get(key, OPTIONS_BY_KEY[key].default)

    whois_server = str(get("lookups/whois_server")).strip()
    rdap = _url(str(get("lookups/rdap_base_url")), "lookups/rdap_base_url")
    rdap_ip = _url(str(get("lookups/rdap_ip_base_url")), "lookups/rdap_ip_base_url")
    return LookupSettings(
        whois_server=_server(whois_server, 43, "lookups/whois_server") if whois_server else None,
        whois_overrides=_overrides(str(get("lookups/whois_overrides")), "lookups/whois_overrides"),
        whois_follow_referral=bool(get("lookups/whois_follow_referral")),
        rdap_base_url=rdap,
        rdap_ip_base_url=rdap_ip or rdap,
        dns_server=_server(str(get("lookups/dns_server")), 53, "lookups/dns_server"),
        timeout_s=_number(values, "lookups/timeout_s"),
        dns_lifetime_s=_number(values, "lookups/dns_lifetime_s"),
        max_response_bytes=_number(values, "lookups/max_response_bytes"),
        concurrency=_number(values, "lookups/concurrency"),
        per_server_concurrency=_number(values, "lookups/per_server_concurrency"),
        per_server_interval_s=_number(values, "lookups/per_server_interval_s"),
        rate_limit_backoff_s=_number(values, "lookups/rate_limit_backoff_s"),
        allow_private_addresses=bool(get("lookups/allow_private_addresses")),
        offline=bool(get("lookups/offline")),
    )


def lookup_plan(values: dict[str, Any] | None = None) -> LookupPlan:
    values = values if values is not None else read_options()

    def get(key: str) -> bool:
        return bool(values.get(key, OPTIONS_BY_KEY[key].default))

    return LookupPlan(
        whois=get("lookups/plan_whois"),
        rdap=get("lookups/plan_rdap"),
        dns=get("lookups/plan_dns"),
        ip_rdap=get("lookups/plan_ip_rdap"),
    )


def store_key(store_path: Path) -> str:
    """A short stable key for a store file, for settings kept per store (graph layouts)."""
    return hashlib.sha256(str(Path(store_path).resolve()).encode("utf-8")).hexdigest()[:16]


def load_graph_layout(store_path: Path, case_id: int) -> dict[int, tuple[float, float]]:
    """Where the investigator put each node of a case's graph (entity id -> x, y)."""
    raw = app_settings().value(f"graph_layout/{store_key(store_path)}/{case_id}", "")
    try:
        data = json.loads(raw) if raw else {}
        return {int(k): (float(v[0]), float(v[1])) for k, v in data.items()}
    except (ValueError, TypeError, KeyError, IndexError):
        return {}


def save_graph_layout(
    store_path: Path, case_id: int, positions: dict[int, tuple[float, float]]
) -> None:
    data = {str(k): [round(x, 1), round(y, 1)] for k, (x, y) in positions.items()}
    settings = app_settings()
    settings.setValue(f"graph_layout/{store_key(store_path)}/{case_id}", json.dumps(data))
    settings.sync()
