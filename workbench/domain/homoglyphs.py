"""Names that look like other names: mixed scripts, lookalike letters, invisible characters.

`pаypal.com` with a Cyrillic `а` is a valid, registrable domain and a different one from
`paypal.com`; a storefront operator may use one on purpose. The workbench records such a
name as given (it is the evidence) but says plainly that it is not what it looks like.

A label is flagged when it mixes scripts in a way Unicode's "highly restrictive" profile
(UTS 39, section 5.2) does not allow: one script, or Latin with Han and the Japanese kana,
or Latin with Han and Bopomofo, or Latin with Han and Hangul. A label written wholly in
Cyrillic, Greek or Armenian letters that all have Latin twins (`раура` in a `.com` name)
is flagged too, as are invisible characters that IDNA silently drops (`e\u200bvil.com`
becomes `evil.com`). Only `unicodedata` is used: the script is the first word of a
letter's Unicode name, which is exact for the scripts domain names use.
"""

from __future__ import annotations

import contextlib
import unicodedata
from urllib.parse import urlsplit

import idna

# Scripts that may share a label (UTS 39 highly restrictive); Common and Inherited
# characters (digits, hyphen, combining marks) go with any script.
_ALLOWED_MIXES = (
    frozenset({"Latin", "Han", "Hiragana", "Katakana"}),
    frozenset({"Latin", "Han", "Bopomofo"}),
    frozenset({"Latin", "Han", "Hangul"}),
)
# The first word of a Unicode character name, where it is not the script's own name.
_NAME_SCRIPTS = {
    "CJK": "Han",
    "IDEOGRAPHIC": "Han",
    "KATAKANA-HIRAGANA": "Common",  # the prolonged sound mark, used by both kana
    "MODIFIER": "Common",
    "FULLWIDTH": "Common",
    "HALFWIDTH": "Common",
}
# Lower-case letters of other scripts that render like a Latin letter in common fonts
# (a small subset of Unicode's confusables.txt: the ones seen in phishing domains).
LATIN_TWINS = {
    # Cyrillic
    "а": "a",
    "с": "c",
    "ԁ": "d",
    "е": "e",
    "ё": "e",
    "һ": "h",
    "і": "i",
    "ї": "i",
    "ј": "j",
    "ӏ": "l",
    "о": "o",
    "р": "p",
    "ԛ": "q",
    "ѕ": "s",
    "ѵ": "v",
    "ԝ": "w",
    "х": "x",
    "у": "y",
    # Greek
    "α": "a",
    "ε": "e",
    "η": "n",
    "ι": "i",
    "κ": "k",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "υ": "u",
    "χ": "x",
    "γ": "y",
    # Armenian
    "հ": "h",
    "ո": "n",
    "օ": "o",
    "ս": "u",
    "ց": "g",
    "ք": "p",
}
_LOOKALIKE_SCRIPTS = frozenset({"Cyrillic", "Greek", "Armenian"})


def char_script(ch: str) -> str:
    """The script of one character: "Latin", "Cyrillic", "Han"..., "Common" for digits,
    punctuation and symbols, "Inherited" for combining marks, "Unknown" if unnamed."""
    category = unicodedata.category(ch)
    if category.startswith("M"):
        return "Inherited"
    if not category.startswith("L"):
        return "Common"
    name = unicodedata.name(ch, "")
    if not name:
        return "Unknown"
    first = name.split(" ", 1)[0]
    return _NAME_SCRIPTS.get(first, first.capitalize())


def label_scripts(label: str) -> frozenset[str]:
    """The scripts of the letters in `label` (Common and Inherited left out)."""
    return frozenset(
        script for script in map(char_script, label) if script not in ("Common", "Inherited")
    )


def _unicode_labels(name: str) -> list[str]:
    """The labels of a name in Unicode form, whether it was given as A-labels or not."""
    labels = []
    for label in name.strip().rstrip(".").split("."):
        if label.lower().startswith("xn--"):
            # Not valid punycode: shown as it is.
            with contextlib.suppress(idna.IDNAError, UnicodeError):
                label = idna.decode(label)
        labels.append(label.lower())
    return labels


def _lookalike(label: str) -> str:
    return "".join(LATIN_TWINS.get(ch, ch) for ch in label)


def mixed_script_labels(name: str) -> list[tuple[str, tuple[str, ...]]]:
    """The labels of `name` that mix scripts beyond what UTS 39's highly restrictive
    profile allows, each with its scripts sorted: `[("pаypal", ("Cyrillic", "Latin"))]`."""
    found = []
    for label in _unicode_labels(name):
        scripts = label_scripts(label)
        if len(scripts) > 1 and not any(scripts <= mix for mix in _ALLOWED_MIXES):
            found.append((label, tuple(sorted(scripts))))
    return found


def lookalike_warnings(name: str) -> list[str]:
    """One sentence per reason `name` (a domain or host name, Unicode or A-labels) may not
    be what it looks like; [] for an ordinary name. Never raises."""
    if not isinstance(name, str) or not name.strip():
        return []
    warnings = []
    labels = _unicode_labels(name)
    shown = repr(name)
    try:  # the A-label form tells the two names apart where fonts do not
        ascii_form = idna.encode(".".join(labels), uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        ascii_form = None
    if ascii_form and ascii_form != name.strip().rstrip(".").lower():
        shown += f" ({ascii_form})"
    name_scripts = set().union(*(label_scripts(label) for label in labels))
    for label, scripts in mixed_script_labels(name):
        twin = _lookalike(label)
        reads = ""
        if twin != label and label_scripts(twin) == {"Latin"}:
            reads = f" and reads like {twin!r}"
        warnings.append(
            f"{shown} mixes {' and '.join(scripts)} letters in the label {label!r}{reads}: "
            "it is not the name it looks like"
        )
    if "Latin" in name_scripts:
        for label in labels:
            scripts = label_scripts(label)
            if (
                len(scripts) == 1
                and scripts <= _LOOKALIKE_SCRIPTS
                and all(ch in LATIN_TWINS for ch in label if char_script(ch) in scripts)
            ):
                warnings.append(
                    f"{shown} has the label {label!r} written in {next(iter(scripts))} "
                    f"letters that all look Latin (it reads like {_lookalike(label)!r}): "
                    "it is not the name it looks like"
                )
    return warnings


# Characters IDNA's mapping removes without a trace: a name typed or pasted with them
# looks the same and is stored without them.
def invisible_characters(text: str) -> list[str]:
    """The invisible format characters in `text` (zero-width space, soft hyphen, joiners,
    bidirectional controls) as U+XXXX codes, in order, each once."""
    if not isinstance(text, str):
        return []
    codes = [f"U+{ord(ch):04X}" for ch in text if unicodedata.category(ch) == "Cf"]
    return list(dict.fromkeys(codes))


def _host_in(kind: str, value: str) -> str | None:
    if kind in ("domain", "host", "nameserver"):
        return value
    if kind == "email":
        return value.rpartition("@")[2] or None
    if kind == "url":
        try:
            return urlsplit(value if "://" in value else "https://" + value).hostname
        except ValueError:
            return None
    return None


def value_warnings(kind: str, value: str, typed: str | None = None) -> list[str]:
    """Warnings about an entity value that was accepted but may mislead: lookalike host
    names in domains, hosts, name servers, email addresses and URLs; a URL whose user-name
    part reads like a host (`https://paypal.com@evil.test/`); invisible characters in what
    was `typed` that the stored value no longer shows. [] when there is nothing to say."""
    if not isinstance(value, str):
        return []
    warnings = []
    host = _host_in(str(kind), value)
    if host:
        warnings.extend(lookalike_warnings(host))
    if kind == "url":
        try:
            parts = urlsplit(value if "://" in value else "https://" + value)
        except ValueError:
            parts = None
        if parts is not None and parts.username is not None:
            warnings.append(
                f"{value!r} has {parts.username!r} before an '@': the site is "
                f"{parts.hostname!r}, not {parts.username!r}"
            )
    invisible = invisible_characters(typed if typed is not None else value)
    if invisible:
        warnings.append(
            f"{(typed if typed is not None else value)!r} holds invisible characters "
            f"({', '.join(invisible)}) that the stored name does not keep"
        )
    return warnings
